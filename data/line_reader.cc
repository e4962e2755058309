#include "data/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace adaline {
namespace {
constexpr size_t kChunkBytes = 1 << 20;
}  // namespace

absl::StatusOr<std::unique_ptr<LineReader>> LineReader::Open(
    const std::string& path) {
  int fd = path == "-" ? ::dup(STDIN_FILENO) : ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  gzFile file = gzdopen(fd, "rb");
  if (file == nullptr) {
    ::close(fd);
    return absl::InternalError(absl::StrCat("cannot read ", path));
  }
  gzbuffer(file, 1 << 18);
  return std::unique_ptr<LineReader>(
      new LineReader(path == "-" ? "<stdin>" : path, file));
}

LineReader::LineReader(std::string path, gzFile file)
    : path_(std::move(path)), file_(file), buffer_(kChunkBytes) {}

LineReader::~LineReader() { gzclose(file_); }

bool LineReader::Refill() {
  if (eof_) return false;
  // Keep the unconsumed tail at the front, then read after it.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < kChunkBytes / 2) {
    if (buffer_.size() >= kMaxLineBytes) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat(path_, ":", line_number_ + 1, ": line is longer than ",
                       kMaxLineBytes >> 20, " MiB"));
      return false;
    }
    buffer_.resize(buffer_.size() * 2);
  }
  const int read = gzread(file_, buffer_.data() + end_,
                          static_cast<unsigned>(buffer_.size() - end_));
  if (read < 0) {
    int code;
    const char* message = gzerror(file_, &code);
    status_ = absl::DataLossError(absl::StrCat(
        path_,
        ": cannot read: ", code == Z_ERRNO ? std::strerror(errno) : message));
    return false;
  }
  if (read == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<size_t>(read);
  return true;
}

bool LineReader::Next(absl::string_view* line) {
  size_t scanned = begin_;
  while (true) {
    const char* newline = static_cast<const char*>(
        std::memchr(buffer_.data() + scanned, '\n', end_ - scanned));
    if (newline != nullptr) {
      const size_t position = static_cast<size_t>(newline - buffer_.data());
      *line = absl::string_view(buffer_.data() + begin_, position - begin_);
      begin_ = position + 1;
      ++line_number_;
      return true;
    }
    const size_t scanned_length = end_ - begin_;
    if (!Refill()) {
      if (!status_.ok()) return false;
      if (begin_ == end_) return false;
      // The last line has no '\n'.
      *line = absl::string_view(buffer_.data() + begin_, end_ - begin_);
      begin_ = end_;
      ++line_number_;
      return true;
    }
    scanned = begin_ + scanned_length;
  }
}

}  // namespace adaline
