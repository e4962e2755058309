// ExampleReader: one pass over a list of data files, in two halves so that
// parsing can run on several threads while reading stays in order.
//
// ReadLines() is the serial half: it reads the next lines of the files into
// a LineChunk, dropping blank lines and the lines of other workers' parts.
// ParseChunk() is the parallel half: it turns a chunk into examples and
// names the bad lines. BadLineBudget applies --max-bad-lines to the chunks'
// bad lines in their original order, so a pass fails or succeeds the same
// way however many threads parsed it. Fill() chains the three on one thread.
//
// Files are read in order; each may be VW or LIBSVM, plain or gzip, or "-"
// for standard input. A malformed line stops the pass with "FILE:LINE: what
// is wrong", unless --max-bad-lines allows skipping it (then it is counted).
//
// Not thread-safe: one thread at a time calls ReadLines or Fill. ParseChunk
// is a pure function of its arguments and may run on any number of threads.
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
  // Threads that parse (ExampleStream); 0 for one per core but the
  // learner's. The examples and their order do not depend on it.
  int threads = 0;
};

// The parsing threads `threads` asks for on this machine: itself, or for 0
// every core but one (the learner's), and at least one.
int ParsingThreads(int threads);

// Consecutive kept lines of one file, copied out of the file's buffer so that
// another thread can parse them.
class LineChunk {
 public:
  void Clear();
  size_t size() const { return ends_.size(); }
  absl::string_view line(size_t i) const {
    const uint32_t begin = i == 0 ? 0 : ends_[i - 1];
    return absl::string_view(text_.data() + begin, ends_[i] - begin);
  }
  uint64_t line_number(size_t i) const { return line_numbers_[i]; }
  size_t text_bytes() const { return text_.size(); }
  void Add(absl::string_view line, uint64_t line_number);

  // The file the lines come from, as named on the command line.
  const std::string* file = nullptr;
  Format format = Format::kVw;
  // A read error met after these lines; the pass ends with it.
  absl::Status status;

 private:
  std::string text_;
  std::vector<uint32_t> ends_;
  std::vector<uint64_t> line_numbers_;
};

// Replaces `block`'s contents with the examples of `chunk`'s lines, and
// `bad`'s with "FILE:LINE: what is wrong" for each line that is none.
void ParseChunk(const LineChunk& chunk, const ParseOptions& options,
                ExampleBlock* block, std::vector<std::string>* bad);

// Counts bad lines against --max-bad-lines, in the order they are met.
class BadLineBudget {
 public:
  explicit BadLineBudget(uint64_t max_bad_lines)
      : max_bad_lines_(max_bad_lines) {}

  // Counts a parsed chunk's bad lines in order, then takes the read error
  // that ended the chunk, if any: the first error, once the budget is spent.
  absl::Status Settle(const std::vector<std::string>& bad,
                      const absl::Status& read_status);

  uint64_t bad_lines() const { return bad_lines_; }
  // "FILE:LINE: message" of the first skipped line, if any.
  const std::string& first_bad_line() const { return first_bad_line_; }

 private:
  uint64_t max_bad_lines_;
  uint64_t bad_lines_ = 0;
  std::string first_bad_line_;
};

class ExampleReader {
 public:
  // Lines and bytes a chunk holds at most; a line longer than the byte
  // limit still goes in a chunk of its own.
  static constexpr size_t kChunkBytes = size_t{4} << 20;

  explicit ExampleReader(ReaderOptions options);

  // Replaces `chunk`'s contents with up to `max_lines` lines of one file.
  // Returns false, with the chunk empty, once the pass is over; a read error
  // ends the pass and comes in chunk->status after the lines before it.
  bool ReadLines(LineChunk* chunk, size_t max_lines);

  // Reads, parses and budgets up to `max_examples` examples into `block`.
  // Returns false when the pass is over or failed; status() tells which.
  bool Fill(ExampleBlock* block, size_t max_examples);
  const absl::Status& status() const { return status_; }
  uint64_t bad_lines() const { return budget_.bad_lines(); }
  const std::string& first_bad_line() const { return budget_.first_bad_line(); }

 private:
  // Opens the next file; false when there is none or, with `error` set, when
  // it cannot be opened.
  bool OpenNext(absl::Status* error);

  ReaderOptions options_;
  size_t next_file_ = 0;
  std::unique_ptr<LineReader> reader_;
  Format format_ = Format::kVw;
  uint64_t examples_seen_ = 0;  // before part selection
  bool done_ = false;
  // Fill's own state.
  LineChunk chunk_;
  std::vector<std::string> bad_;
  BadLineBudget budget_;
  uint64_t examples_kept_ = 0;
  absl::Status status_;
};

}  // namespace adaline

#endif  // ADALINE_DATA_EXAMPLE_READER_H_
