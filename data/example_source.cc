#include "data/example_source.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "data/example_cache.h"
#include "data/example_stream.h"
#include "data/read_ahead.h"

namespace adaline {

// The first pass: parsed from the files, each block also appended to the
// cache. A cache that cannot be written is given up with a note; training
// goes on, and later passes parse again.
class ExamplePasses::WritingSource final : public ExampleSource {
 public:
  WritingSource(ExamplePasses* passes, std::unique_ptr<CacheWriter> writer)
      : passes_(passes),
        stream_(passes->options_),
        writer_(std::move(writer)) {}

  const ExampleBlock* Next() override {
    const ExampleBlock* block = stream_.Next();
    if (writer_ == nullptr) return block;
    absl::Status written;
    if (block != nullptr) {
      written = writer_->Append(*block);
    } else if (stream_.status().ok()) {
      written = writer_->Finish();
      if (written.ok()) passes_->cache_whole_ = true;
    }
    if (!written.ok()) passes_->NoteUnwritable(written);
    if (!written.ok() || block == nullptr) writer_.reset();
    return block;
  }
  const absl::Status& status() const override { return stream_.status(); }
  uint64_t bad_lines() const override { return stream_.bad_lines(); }
  std::string first_bad_line() const override {
    return stream_.first_bad_line();
  }

 private:
  ExamplePasses* passes_;
  ExampleStream stream_;
  std::unique_ptr<CacheWriter> writer_;
};

// Reads and decodes the cache on its own thread, ahead of the learner.
class ExamplePasses::CachedSource final : public ExampleSource {
 public:
  explicit CachedSource(std::unique_ptr<CacheReader> reader)
      : reader_(std::move(reader)),
        blocks_([reader = reader_.get()](ExampleBlock* block) {
          return reader->Next(block);
        }) {}

  const ExampleBlock* Next() override { return blocks_.Next(); }
  // Read once Next() has returned nullptr, when the reading thread is done.
  const absl::Status& status() const override { return reader_->status(); }

 private:
  std::unique_ptr<CacheReader> reader_;
  ReadAhead blocks_;  // after reader_: stops before it goes
};

namespace {

std::string TemporaryCachePath() {
  static std::atomic<int> counter{0};
  const char* directory = std::getenv("TMPDIR");
  return absl::StrCat(
      directory != nullptr && *directory != '\0' ? directory : "/tmp",
      "/adaline-cache-", ::getpid(), "-", counter++);
}

}  // namespace

ExamplePasses::ExamplePasses(ReaderOptions options, uint64_t passes,
                             std::string cache, std::FILE* log)
    : options_(std::move(options)),
      cache_(std::move(cache)),
      temporary_(cache_.empty() && passes > 1),
      log_(log) {
  if (temporary_) cache_ = TemporaryCachePath();
  if (cache_.empty()) return;
  absl::StatusOr<std::string> fingerprint = CacheFingerprint(options_);
  if (!fingerprint.ok()) {
    // Unreadable files fail the first pass with their own message.
    cache_.clear();
    return;
  }
  fingerprint_ = *std::move(fingerprint);
}

ExamplePasses::~ExamplePasses() {
  if (temporary_ && !cache_.empty()) ::unlink(cache_.c_str());
}

void ExamplePasses::Note(const std::string& text) const {
  if (log_ == nullptr) return;
  std::fprintf(log_, "%s\n", text.c_str());
  std::fflush(log_);
}

void ExamplePasses::NoteUnwritable(const absl::Status& why) const {
  Note(absl::StrCat("cannot write the example cache (", why.message(),
                    "); later passes parse the files again"));
}

std::unique_ptr<ExampleSource> ExamplePasses::Begin(uint64_t pass) {
  if (cache_.empty()) return std::make_unique<WritingSource>(this, nullptr);
  // A cache from an earlier run: used only if whole and made from the same
  // files and settings, and not when names are kept (it has none).
  if (!cache_whole_ && !cache_checked_ && !temporary_ &&
      !options_.parse.keep_names) {
    cache_checked_ = true;
    absl::StatusOr<std::unique_ptr<CacheReader>> found =
        CacheReader::Open(cache_, fingerprint_);
    if (found.ok()) {
      cache_whole_ = true;
      Note(absl::StrCat("reading examples from the cache ", cache_));
      return std::make_unique<CachedSource>(*std::move(found));
    }
    if (!absl::IsNotFound(found.status())) {
      Note(absl::StrCat(found.status().message(), ": rebuilding it"));
    }
  }
  if (cache_whole_) {
    absl::StatusOr<std::unique_ptr<CacheReader>> reader =
        CacheReader::Open(cache_, fingerprint_, /*verify=*/false);
    if (reader.ok()) return std::make_unique<CachedSource>(*std::move(reader));
    Note(absl::StrCat(reader.status().message(), "; parsing the files again"));
    cache_whole_ = false;
  }
  if (pass > 0) {
    // The first pass could not write it: parse, as without a cache.
    return std::make_unique<WritingSource>(this, nullptr);
  }
  absl::StatusOr<std::unique_ptr<CacheWriter>> writer =
      CacheWriter::Create(cache_, fingerprint_);
  if (!writer.ok()) {
    NoteUnwritable(writer.status());
    return std::make_unique<WritingSource>(this, nullptr);
  }
  return std::make_unique<WritingSource>(this, *std::move(writer));
}

}  // namespace adaline
