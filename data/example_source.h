// Where a training run's passes get their examples: ExampleSource is one
// pass in blocks; ExamplePasses hands out the passes of a run. The first pass
// parses the files and, when there will be more passes (or --cache names a
// file), writes the binary cache as it goes; later passes read the cache
// instead of parsing. A cache named with --cache that is whole and made from
// the same files and settings serves every pass; any other is rebuilt.
//
// Not thread-safe: one thread runs the passes, one at a time.
#ifndef ADALINE_DATA_EXAMPLE_SOURCE_H_
#define ADALINE_DATA_EXAMPLE_SOURCE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "data/example_block.h"
#include "data/example_reader.h"

namespace adaline {

class ExampleSource {
 public:
  virtual ~ExampleSource() = default;
  // The next block, or nullptr at the end of the pass (then see status()).
  // The block returned before is no longer valid.
  virtual const ExampleBlock* Next() = 0;
  virtual const absl::Status& status() const = 0;
  // Lines skipped under --max-bad-lines, and the first of them.
  virtual uint64_t bad_lines() const { return 0; }
  virtual std::string first_bad_line() const { return ""; }
};

class ExamplePasses {
 public:
  // `cache` is the cache file to use or make; empty for a temporary one
  // when passes > 1, removed with this object. Notes (cache used, rebuilt,
  // not writable) go to `log` unless it is null.
  ExamplePasses(ReaderOptions options, uint64_t passes, std::string cache,
                std::FILE* log);
  ~ExamplePasses();
  ExamplePasses(const ExamplePasses&) = delete;
  ExamplePasses& operator=(const ExamplePasses&) = delete;

  // Pass `pass` (from 0), begun once the one before has ended.
  std::unique_ptr<ExampleSource> Begin(uint64_t pass);

  // Whether the cache will be (or was) written, read, or neither.
  bool caching() const { return !cache_.empty(); }

 private:
  class WritingSource;
  class CachedSource;

  void Note(const std::string& text) const;
  // Notes that the cache cannot be written, and why.
  void NoteUnwritable(const absl::Status& why) const;

  const ReaderOptions options_;
  std::string cache_;
  const bool temporary_;
  std::FILE* const log_;
  std::string fingerprint_;
  // Set once the cache is whole: written by this run, or found whole.
  bool cache_whole_ = false;
  bool cache_checked_ = false;
};

}  // namespace adaline

#endif  // ADALINE_DATA_EXAMPLE_SOURCE_H_
