// ExampleStream: one pass of examples, parsed ahead on background threads
// while the caller learns, and handed out in the files' order.
//
// Parsing threads take turns reading the next chunk of lines (in order, under
// a lock), parse it on their own, and file the block under the chunk's
// sequence number. Next() hands blocks out strictly in sequence and applies
// --max-bad-lines there, so the examples, their indices and any error are
// the same whatever the number of threads: a model trained from the stream
// is bit-identical. Blocks go round a fixed pool, so once warm the stream
// allocates nothing.
//
// Not thread-safe for callers: one thread calls Next() and the accessors;
// the parsing threads are the stream's own.
#ifndef ADALINE_DATA_EXAMPLE_STREAM_H_
#define ADALINE_DATA_EXAMPLE_STREAM_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "data/example_block.h"
#include "data/example_reader.h"
#include "data/example_source.h"

namespace adaline {

class ExampleStream final : public ExampleSource {
 public:
  static constexpr size_t kDefaultBlockExamples = 1024;

  // Parses with ParsingThreads(options.threads) threads.
  explicit ExampleStream(ReaderOptions options,
                         size_t block_examples = kDefaultBlockExamples);
  // Stops the parsers early if the caller did not read to the end.
  ~ExampleStream();
  ExampleStream(const ExampleStream&) = delete;
  ExampleStream& operator=(const ExampleStream&) = delete;

  // The next block, or nullptr at the end of the pass (then see status()).
  // The block returned before is handed back to the parsers.
  const ExampleBlock* Next() override;

  // The pass's outcome, once Next() has returned nullptr.
  const absl::Status& status() const override { return status_; }
  // Lines skipped so far under --max-bad-lines, and the first of them.
  uint64_t bad_lines() const override { return budget_.bad_lines(); }
  std::string first_bad_line() const override {
    return budget_.first_bad_line();
  }

 private:
  // A chunk of lines and the block parsed from it.
  struct Work {
    LineChunk lines;
    ExampleBlock block;
    std::vector<std::string> bad;  // where each bad line is
    uint64_t sequence = 0;
  };

  // One parsing thread's loop.
  void Parse();

  const size_t block_examples_;
  const ParseOptions parse_options_;

  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks,
  // not those of Debian's uninstrumented Abseil.
  std::mutex read_mutex_;
  ExampleReader reader_ ABSL_GUARDED_BY(read_mutex_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(read_mutex_) = 0;

  std::vector<std::unique_ptr<Work>> pool_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Work*> free_ ABSL_GUARDED_BY(mutex_);
  // Parsed blocks waiting for their turn, at sequence % pool size: the
  // sequences in flight are consecutive and fewer than the pool.
  std::vector<Work*> parsed_ ABSL_GUARDED_BY(mutex_);
  // How many chunks the pass has, once the reader has reached its end.
  uint64_t chunk_count_ ABSL_GUARDED_BY(mutex_) = UINT64_MAX;
  bool cancelled_ ABSL_GUARDED_BY(mutex_) = false;
  std::vector<std::thread> threads_;

  // The caller's side.
  Work* in_use_ = nullptr;
  uint64_t next_to_deliver_ = 0;
  uint64_t examples_delivered_ = 0;
  BadLineBudget budget_;
  absl::Status status_;
  bool finished_ = false;
};

}  // namespace adaline

#endif  // ADALINE_DATA_EXAMPLE_STREAM_H_
