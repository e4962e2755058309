#include "data/example_cache.h"

#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace adaline {
namespace {

constexpr char kMagic[8] = {'A', 'D', 'L', 'C', 'A', 'C', 'H', 'E'};
constexpr uint32_t kVersion = 1;
// Blocks are preceded by their size; a size of 0 starts the trailer.
constexpr uint32_t kEndOfBlocks = 0;
// The trailer: the end marker, blocks, examples, checksum.
constexpr long kTrailerBytes = 4 + 8 + 8 + 8;

std::string ErrnoText() { return std::strerror(errno); }

}  // namespace

struct CacheWriter::Hash {
  Hash() : state(XXH3_createState()) { XXH3_64bits_reset(state); }
  ~Hash() { XXH3_freeState(state); }
  XXH3_state_t* state;
};

absl::StatusOr<std::string> CacheFingerprint(const ReaderOptions& options) {
  std::string fingerprint = absl::StrCat("format version ", kVersion, "\n");
  for (const std::string& file : options.files) {
    if (file == "-") {
      return absl::InvalidArgumentError(
          "standard input cannot be cached: name a file");
    }
    struct stat info;
    if (::stat(file.c_str(), &info) != 0) {
      return absl::NotFoundError(
          absl::StrCat("cannot open ", file, ": ", ErrnoText()));
    }
    absl::StrAppend(&fingerprint, "file ", file, " bytes ", info.st_size,
                    " modified ", info.st_mtim.tv_sec, ".",
                    info.st_mtim.tv_nsec, "\n");
  }
  const ParseOptions& parse = options.parse;
  absl::StrAppend(
      &fingerprint, "format ",
      options.format.has_value() ? static_cast<int>(*options.format) : -1,
      " part ", options.part_index, "/", options.part_count, " bias ",
      parse.bias, " binary labels ", parse.binary_labels, " require label ",
      parse.require_label, " crosses ",
      absl::StrJoin(parse.interactions.Spellings(), ","), "\n");
  return fingerprint;
}

absl::StatusOr<std::unique_ptr<CacheWriter>> CacheWriter::Create(
    const std::string& path, const std::string& fingerprint) {
  const std::string temporary = absl::StrCat(path, ".tmp.", ::getpid());
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create ", temporary, ": ", ErrnoText()));
  }
  std::unique_ptr<CacheWriter> writer(new CacheWriter(path, temporary, file));
  const uint32_t size = static_cast<uint32_t>(fingerprint.size());
  absl::Status s = writer->Write(kMagic, sizeof kMagic);
  if (s.ok()) s = writer->Write(&kVersion, sizeof kVersion);
  if (s.ok()) s = writer->Write(&size, sizeof size);
  if (s.ok()) s = writer->Write(fingerprint.data(), fingerprint.size());
  if (!s.ok()) return s;
  return writer;
}

CacheWriter::CacheWriter(std::string path, std::string temporary,
                         std::FILE* file)
    : path_(std::move(path)),
      temporary_(std::move(temporary)),
      file_(file),
      hash_(std::make_unique<Hash>()) {}

CacheWriter::~CacheWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!finished_) ::unlink(temporary_.c_str());
}

absl::Status CacheWriter::Write(const void* data, size_t size) {
  XXH3_64bits_update(hash_->state, data, size);
  if (std::fwrite(data, 1, size, file_) != size) {
    return absl::InternalError(
        absl::StrCat("writing ", temporary_, ": ", ErrnoText()));
  }
  return absl::OkStatus();
}

absl::Status CacheWriter::Append(const ExampleBlock& block) {
  buffer_.clear();
  block.EncodeTo(&buffer_);
  const uint32_t size = static_cast<uint32_t>(buffer_.size());
  if (absl::Status s = Write(&size, sizeof size); !s.ok()) return s;
  if (absl::Status s = Write(buffer_.data(), buffer_.size()); !s.ok()) {
    return s;
  }
  ++blocks_;
  examples_ += block.size();
  return absl::OkStatus();
}

absl::Status CacheWriter::Finish() {
  absl::Status s = Write(&kEndOfBlocks, sizeof kEndOfBlocks);
  if (s.ok()) s = Write(&blocks_, sizeof blocks_);
  if (s.ok()) s = Write(&examples_, sizeof examples_);
  const uint64_t checksum = XXH3_64bits_digest(hash_->state);
  if (s.ok() &&
      std::fwrite(&checksum, 1, sizeof checksum, file_) != sizeof checksum) {
    s = absl::InternalError(
        absl::StrCat("writing ", temporary_, ": ", ErrnoText()));
  }
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (s.ok() && !closed) {
    s = absl::InternalError(
        absl::StrCat("writing ", temporary_, ": ", ErrnoText()));
  }
  if (s.ok() && std::rename(temporary_.c_str(), path_.c_str()) != 0) {
    s = absl::InternalError(absl::StrCat("cannot rename ", temporary_, " to ",
                                         path_, ": ", ErrnoText()));
  }
  finished_ = s.ok();
  return s;
}

namespace {

// XXH3 of the file's bytes but its last 8, and those 8: what a whole cache's
// checksum covers, and the checksum. False if the file cannot be read.
bool ChecksumOf(std::FILE* file, uint64_t* computed, uint64_t* stored,
                uint64_t* total) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  std::string buffer(size_t{1} << 20, '\0');
  std::string pending;  // read but not yet hashed: the last 8 may be stored
  size_t got;
  *total = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), file)) > 0) {
    pending.append(buffer.data(), got);
    *total += got;
    if (pending.size() > 8) {
      XXH3_64bits_update(state, pending.data(), pending.size() - 8);
      pending.erase(0, pending.size() - 8);
    }
  }
  *computed = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  *stored = 0;
  if (pending.size() == 8) std::memcpy(stored, pending.data(), 8);
  return !std::ferror(file);
}

}  // namespace

absl::StatusOr<std::unique_ptr<CacheReader>> CacheReader::Open(
    const std::string& path, const std::string& fingerprint, bool verify) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot open ", path, ": ", ErrnoText()));
  }
  auto refuse = [&](absl::string_view why) {
    std::fclose(file);
    return absl::DataLossError(absl::StrCat("cache ", path, " ", why));
  };
  char magic[sizeof kMagic];
  uint32_t version = 0, size = 0;
  if (std::fread(magic, 1, sizeof magic, file) != sizeof magic ||
      std::memcmp(magic, kMagic, sizeof magic) != 0) {
    return refuse("is not an adaline example cache");
  }
  if (std::fread(&version, sizeof version, 1, file) != 1 ||
      std::fread(&size, sizeof size, 1, file) != 1) {
    return refuse("is truncated");
  }
  if (version != kVersion) {
    return refuse(
        absl::StrCat("has format version ", version, ", not ", kVersion));
  }
  if (verify) {
    // A cache is trusted only whole: every byte is checked first.
    uint64_t computed, stored, total;
    if (std::fseek(file, 0, SEEK_SET) != 0 ||
        !ChecksumOf(file, &computed, &stored, &total)) {
      return refuse("cannot be read");
    }
    if (total < 16 + size + kTrailerBytes) return refuse("is truncated");
    if (computed != stored) return refuse("is corrupt or truncated");
  }
  std::string stored_fingerprint(size, '\0');
  uint64_t blocks = 0, examples = 0;
  if (std::fseek(file, -kTrailerBytes + 4, SEEK_END) != 0 ||
      std::fread(&blocks, sizeof blocks, 1, file) != 1 ||
      std::fread(&examples, sizeof examples, 1, file) != 1 ||
      std::fseek(file, 16, SEEK_SET) != 0 ||
      std::fread(stored_fingerprint.data(), 1, size, file) != size) {
    return refuse("is truncated");
  }
  if (stored_fingerprint != fingerprint) {
    return refuse("was made from other data or settings");
  }
  return std::unique_ptr<CacheReader>(
      new CacheReader(path, file, blocks, examples));
}

CacheReader::CacheReader(std::string path, std::FILE* file, uint64_t blocks,
                         uint64_t examples)
    : path_(std::move(path)),
      file_(file),
      blocks_(blocks),
      examples_(examples) {}

CacheReader::~CacheReader() { std::fclose(file_); }

bool CacheReader::Next(ExampleBlock* block) {
  if (!status_.ok()) return false;
  uint32_t size;
  if (std::fread(&size, sizeof size, 1, file_) != 1) {
    status_ =
        absl::DataLossError(absl::StrCat("cache ", path_, " ended early"));
    return false;
  }
  if (size == kEndOfBlocks) {
    if (blocks_read_ != blocks_) {
      status_ = absl::DataLossError(absl::StrCat("cache ", path_, " holds ",
                                                 blocks_read_,
                                                 " blocks but says ", blocks_));
    }
    return false;
  }
  buffer_.resize(size);
  if (std::fread(buffer_.data(), 1, size, file_) != size ||
      !block->DecodeFrom(buffer_)) {
    status_ = absl::DataLossError(
        absl::StrCat("cache ", path_, ": block ", blocks_read_, " is corrupt"));
    return false;
  }
  ++blocks_read_;
  return true;
}

}  // namespace adaline
