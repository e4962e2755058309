// The binary example cache: parsed blocks written during a first pass and
// read back by later ones, so that --passes N parses the text once.
//
// A cache file starts with the fingerprint of what it was made from (every
// data file's path, size and modification time, and the parse options) and
// ends with the counts and an XXH3 checksum of all that precedes them.
// OpenExampleCache refuses a file made from anything else, a truncated one
// and a corrupt one, naming why, so a stale cache is rebuilt and never read.
//
// A CacheWriter or CacheReader belongs to one thread at a time.
#ifndef ADALINE_DATA_EXAMPLE_CACHE_H_
#define ADALINE_DATA_EXAMPLE_CACHE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/example_block.h"
#include "data/example_reader.h"

namespace adaline {

// What a cache must have been made from to stand for a pass over `options`;
// an error if a file cannot be examined (or is standard input).
absl::StatusOr<std::string> CacheFingerprint(const ReaderOptions& options);

class CacheWriter {
 public:
  // Writes to a temporary file next to `path`; Finish moves it into place.
  static absl::StatusOr<std::unique_ptr<CacheWriter>> Create(
      const std::string& path, const std::string& fingerprint);
  // Removes the temporary file unless Finish succeeded.
  ~CacheWriter();

  absl::Status Append(const ExampleBlock& block);
  // Writes the counts and checksum and renames the file into place.
  absl::Status Finish();

 private:
  CacheWriter(std::string path, std::string temporary, std::FILE* file);
  absl::Status Write(const void* data, size_t size);

  const std::string path_;
  const std::string temporary_;
  std::FILE* file_;
  struct Hash;
  std::unique_ptr<Hash> hash_;
  std::string buffer_;
  uint64_t blocks_ = 0;
  uint64_t examples_ = 0;
  bool finished_ = false;
};

class CacheReader {
 public:
  // Opens `path` if it was made from `fingerprint`, after checking that it
  // is whole (every byte against the checksum) when `verify`; otherwise an
  // error that says why (NotFound if there is no such file). A cache this
  // run wrote itself need not be verified again.
  static absl::StatusOr<std::unique_ptr<CacheReader>> Open(
      const std::string& path, const std::string& fingerprint,
      bool verify = true);
  ~CacheReader();

  // Fills `block` with the next block; false at the end (then see status()).
  bool Next(ExampleBlock* block);
  const absl::Status& status() const { return status_; }
  uint64_t examples() const { return examples_; }

 private:
  CacheReader(std::string path, std::FILE* file, uint64_t blocks,
              uint64_t examples);

  const std::string path_;
  std::FILE* file_;
  const uint64_t blocks_;
  const uint64_t examples_;
  uint64_t blocks_read_ = 0;
  std::string buffer_;
  absl::Status status_;
};

}  // namespace adaline

#endif  // ADALINE_DATA_EXAMPLE_CACHE_H_
