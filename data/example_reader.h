// ExampleReader: one pass over a list of data files, parsed into blocks.
//
// Files are read in order; each may be VW or LIBSVM, plain or gzip, or "-"
// for standard input. A malformed line stops the pass with "FILE:LINE: what
// is wrong", unless --max-bad-lines allows skipping it (then it is counted).
//
// Not thread-safe: one thread reads a pass (ExampleStream's parser thread).
// bad_lines() counts the malformed lines skipped so far in this pass,
// first_bad_line() names the first of them.
#ifndef ADALINE_DATA_EXAMPLE_READER_H_
#define ADALINE_DATA_EXAMPLE_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "data/example_block.h"
#include "data/line_reader.h"
#include "data/parser.h"

namespace adaline {

struct ReaderOptions {
  std::vector<std::string> files;
  // The format of every file; guessed from each name when unset.
  std::optional<Format> format;
  ParseOptions parse;
  uint64_t max_bad_lines = 0;
  // Keep only examples whose index i (over all files, from 0) has
  // i % part_count == part_index: a worker's share of the data.
  uint64_t part_index = 0;
  uint64_t part_count = 1;
};

class ExampleReader {
 public:
  explicit ExampleReader(ReaderOptions options);

  // Replaces `block`'s contents with up to `max_examples` examples. Returns
  // false when the pass is over or failed; status() tells which.
  bool Fill(ExampleBlock* block, size_t max_examples);

  const absl::Status& status() const { return status_; }
  uint64_t bad_lines() const { return bad_lines_; }
  // "FILE:LINE: message" of the first skipped line, if any.
  const std::string& first_bad_line() const { return first_bad_line_; }

 private:
  // Opens the next file; false when there is none or it cannot be opened.
  bool OpenNext();

  ReaderOptions options_;
  size_t next_file_ = 0;
  std::unique_ptr<LineReader> reader_;
  Format format_ = Format::kVw;
  uint64_t examples_seen_ = 0;  // before part selection
  uint64_t examples_kept_ = 0;
  uint64_t bad_lines_ = 0;
  std::string first_bad_line_;
  absl::Status status_;
  bool done_ = false;
};

}  // namespace adaline

#endif  // ADALINE_DATA_EXAMPLE_READER_H_
