// LineReader: the lines of a plain or gzip-compressed file, or of standard
// input ("-"), read in large chunks. Compression is recognised by its magic
// bytes, not the name. A read returns what has arrived, so a pipe's lines
// can be answered as they come (see HasBufferedLine). gzip is inflated with
// ISA-L, about four times zlib's speed, so that a compressed file costs the
// reader little more than a plain one.
//
// Not thread-safe: one thread reads a file.
#ifndef ADALINE_DATA_LINE_READER_H_
#define ADALINE_DATA_LINE_READER_H_

#include <isa-l/igzip_lib.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace adaline {

class LineReader {
 public:
  // Lines longer than this are an error rather than unbounded memory.
  static constexpr size_t kMaxLineBytes = size_t{64} << 20;

  static absl::StatusOr<std::unique_ptr<LineReader>> Open(
      const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its '\n', valid until the next call; false at the
  // end of the file or on an error (see status()). May wait for input.
  bool Next(absl::string_view* line);
  const absl::Status& status() const { return status_; }
  // 1-based number of the line last returned.
  uint64_t line_number() const { return line_number_; }
  // Whether Next() may wait for a writer: a pipe or terminal, not a file.
  bool is_stream() const { return is_stream_; }
  // Whether Next() can return a line without reading.
  bool HasBufferedLine() const;

 private:
  LineReader(std::string path, int fd, bool is_stream);
  // Reads more bytes after the unconsumed ones; false when none came.
  bool Refill();
  // Bytes of the file (compressed or not) into `to`: 0 at its end, -1 on an
  // error (status_ says which).
  ssize_t ReadFile(char* to, size_t size);
  // Decompressed bytes into `to`, as ReadFile.
  ssize_t Inflate(char* to, size_t size);
  // Begins inflating a gzip member from `size` bytes at `input`.
  void StartMember(uint8_t* input, uint32_t size);

  std::string path_;
  int fd_;
  bool is_stream_;
  bool gzip_ = false;
  std::unique_ptr<inflate_state> inflater_;  // ~70 KB, so not inline
  std::vector<char> compressed_;             // gzip input not yet inflated
  bool member_ended_ = false;  // a gzip member ended; another may follow
  std::vector<char> buffer_;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last valid byte
  bool eof_ = false;
  uint64_t line_number_ = 0;
  absl::Status status_;
};

}  // namespace adaline

#endif  // ADALINE_DATA_LINE_READER_H_
