#include "data/line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace adaline {
namespace {

constexpr size_t kChunkBytes = 1 << 20;
constexpr size_t kCompressedChunkBytes = 1 << 18;

// read(2) past interruptions.
ssize_t ReadSome(int fd, char* to, size_t size) {
  while (true) {
    const ssize_t got = ::read(fd, to, size);
    if (got >= 0 || errno != EINTR) return got;
  }
}

// What ISA-L's error codes mean, for messages.
const char* InflateError(int code) {
  switch (code) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "checksum mismatch";
    default:
      return "inflate";
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<LineReader>> LineReader::Open(
    const std::string& path) {
  const int fd =
      path == "-" ? ::dup(STDIN_FILENO) : ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  struct stat info;
  const bool is_stream = ::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode);
  auto reader = std::unique_ptr<LineReader>(
      new LineReader(path == "-" ? "<stdin>" : path, fd, is_stream));
  // The first two bytes tell gzip (1f 8b) from text.
  char* start = reader->buffer_.data();
  size_t got = 0;
  while (got < 2) {
    const ssize_t more = ReadSome(fd, start + got, kChunkBytes - got);
    if (more < 0) {
      return absl::DataLossError(
          absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
    }
    if (more == 0) break;
    got += static_cast<size_t>(more);
  }
  if (got >= 2 && static_cast<unsigned char>(start[0]) == 0x1f &&
      static_cast<unsigned char>(start[1]) == 0x8b) {
    reader->gzip_ = true;
    reader->compressed_.assign(start, start + got);
    reader->inflater_ = std::make_unique<inflate_state>();
    reader->StartMember(reinterpret_cast<uint8_t*>(reader->compressed_.data()),
                        static_cast<uint32_t>(got));
  } else {
    reader->end_ = got;
    reader->eof_ = got == 0;
  }
  return reader;
}

LineReader::LineReader(std::string path, int fd, bool is_stream)
    : path_(std::move(path)),
      fd_(fd),
      is_stream_(is_stream),
      buffer_(kChunkBytes) {}

LineReader::~LineReader() { ::close(fd_); }

void LineReader::StartMember(uint8_t* input, uint32_t size) {
  isal_inflate_init(inflater_.get());
  // The gzip header and trailer are read and the data's CRC checked.
  inflater_->crc_flag = ISAL_GZIP;
  inflater_->next_in = input;
  inflater_->avail_in = size;
}

bool LineReader::HasBufferedLine() const {
  return std::memchr(buffer_.data() + begin_, '\n', end_ - begin_) != nullptr;
}

ssize_t LineReader::Inflate(char* to, size_t size) {
  inflate_state& inflater = *inflater_;
  inflater.next_out = reinterpret_cast<uint8_t*>(to);
  inflater.avail_out = static_cast<uint32_t>(size);
  while (inflater.avail_out == size) {
    if (inflater.avail_in == 0) {
      compressed_.resize(kCompressedChunkBytes);
      const ssize_t got = ReadSome(fd_, compressed_.data(), compressed_.size());
      if (got < 0) {
        status_ = absl::DataLossError(
            absl::StrCat(path_, ": cannot read: ", std::strerror(errno)));
        return -1;
      }
      if (got == 0) {
        if (member_ended_) return 0;
        status_ = absl::DataLossError(absl::StrCat(
            path_, ": the gzip data ends early (a truncated file?)"));
        return -1;
      }
      inflater.next_in = reinterpret_cast<uint8_t*>(compressed_.data());
      inflater.avail_in = static_cast<uint32_t>(got);
    }
    if (member_ended_) {
      // Concatenated gzip files are one stream, as gzip -d reads them.
      StartMember(inflater.next_in, inflater.avail_in);
      inflater.next_out = reinterpret_cast<uint8_t*>(to);
      inflater.avail_out = static_cast<uint32_t>(size);
      member_ended_ = false;
    }
    const int code = isal_inflate(&inflater);
    if (code < 0) {
      status_ = absl::DataLossError(absl::StrCat(path_, ": corrupt gzip data (",
                                                 InflateError(code), ")"));
      return -1;
    }
    if (inflater.block_state == ISAL_BLOCK_FINISH) member_ended_ = true;
  }
  return static_cast<ssize_t>(size - inflater.avail_out);
}

ssize_t LineReader::ReadFile(char* to, size_t size) {
  if (gzip_) return Inflate(to, size);
  const ssize_t got = ReadSome(fd_, to, size);
  if (got < 0) {
    status_ = absl::DataLossError(
        absl::StrCat(path_, ": cannot read: ", std::strerror(errno)));
  }
  return got;
}

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
  const ssize_t got = ReadFile(buffer_.data() + end_, buffer_.size() - end_);
  if (got < 0) return false;
  if (got == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<size_t>(got);
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
