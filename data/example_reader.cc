#include "data/example_reader.h"

#include "absl/strings/str_cat.h"

namespace adaline {

ExampleReader::ExampleReader(ReaderOptions options)
    : options_(std::move(options)) {}

bool ExampleReader::OpenNext() {
  reader_.reset();
  if (next_file_ == options_.files.size()) return false;
  const std::string& path = options_.files[next_file_++];
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  if (!reader.ok()) {
    status_ = reader.status();
    return false;
  }
  reader_ = *std::move(reader);
  format_ = options_.format.has_value() ? *options_.format : GuessFormat(path);
  return true;
}

bool ExampleReader::Fill(ExampleBlock* block, size_t max_examples) {
  block->Clear();
  block->first_index = examples_kept_;
  if (done_) return false;
  absl::string_view line;
  while (block->size() < max_examples) {
    if (reader_ == nullptr || !reader_->Next(&line)) {
      if (reader_ != nullptr && !reader_->status().ok()) {
        status_ = reader_->status();
      }
      if (!status_.ok() || !OpenNext()) {
        done_ = true;
        break;
      }
      continue;
    }
    const size_t before = block->size();
    // Lines of other parts are counted without parsing them.
    if (IsBlankLine(line)) continue;
    const uint64_t index = examples_seen_++;
    if (options_.part_count > 1 &&
        index % options_.part_count != options_.part_index) {
      continue;
    }
    absl::Status parsed = ParseLine(format_, line, options_.parse, block);
    if (parsed.ok()) {
      examples_kept_ += block->size() - before;
      continue;
    }
    const std::string where = absl::StrCat(
        options_.files[next_file_ - 1] == "-" ? "<stdin>"
                                              : options_.files[next_file_ - 1],
        ":", reader_->line_number(), ": ", parsed.message());
    if (++bad_lines_ > options_.max_bad_lines) {
      status_ = absl::InvalidArgumentError(
          options_.max_bad_lines == 0
              ? where
              : absl::StrCat(where, " (more than --max-bad-lines=",
                             options_.max_bad_lines, " bad lines)"));
      done_ = true;
      break;
    }
    if (first_bad_line_.empty()) first_bad_line_ = where;
  }
  return block->size() > 0 && status_.ok();
}

}  // namespace adaline
