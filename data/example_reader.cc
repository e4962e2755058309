#include "data/example_reader.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"

namespace adaline {

int ParsingThreads(int threads) {
  if (threads > 0) return threads;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores - 1);
}

void LineChunk::Clear() {
  file = nullptr;
  status = absl::OkStatus();
  text_.clear();
  ends_.clear();
  line_numbers_.clear();
}

void LineChunk::Add(absl::string_view line, uint64_t line_number) {
  text_.append(line.data(), line.size());
  ends_.push_back(static_cast<uint32_t>(text_.size()));
  line_numbers_.push_back(line_number);
}

void ParseChunk(const LineChunk& chunk, const ParseOptions& options,
                ExampleBlock* block, std::vector<std::string>* bad) {
  block->Clear();
  bad->clear();
  for (size_t i = 0; i < chunk.size(); ++i) {
    const absl::Status parsed =
        ParseLine(chunk.format, chunk.line(i), options, block);
    if (parsed.ok()) continue;
    bad->push_back(absl::StrCat(*chunk.file == "-" ? "<stdin>" : *chunk.file,
                                ":", chunk.line_number(i), ": ",
                                parsed.message()));
  }
}

absl::Status BadLineBudget::Settle(const std::vector<std::string>& bad,
                                   const absl::Status& read_status) {
  for (const std::string& where : bad) {
    if (++bad_lines_ > max_bad_lines_) {
      return absl::InvalidArgumentError(
          max_bad_lines_ == 0
              ? where
              : absl::StrCat(where, " (more than --max-bad-lines=",
                             max_bad_lines_, " bad lines)"));
    }
    if (first_bad_line_.empty()) first_bad_line_ = where;
  }
  return read_status;
}

ExampleReader::ExampleReader(ReaderOptions options)
    : options_(std::move(options)), budget_(options_.max_bad_lines) {}

bool ExampleReader::OpenNext(absl::Status* error) {
  reader_.reset();
  if (next_file_ == options_.files.size()) return false;
  const std::string& path = options_.files[next_file_++];
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  if (!reader.ok()) {
    *error = reader.status();
    return false;
  }
  reader_ = *std::move(reader);
  format_ = options_.format.has_value() ? *options_.format : GuessFormat(path);
  return true;
}

bool ExampleReader::ReadLines(LineChunk* chunk, size_t max_lines) {
  chunk->Clear();
  if (done_) return false;
  absl::string_view line;
  while (chunk->size() < max_lines && chunk->text_bytes() < kChunkBytes) {
    if (reader_ == nullptr) {
      if (!OpenNext(&chunk->status)) {
        done_ = true;
        break;
      }
      continue;
    }
    if (!reader_->Next(&line)) {
      if (!reader_->status().ok()) {
        chunk->status = reader_->status();
        done_ = true;
        break;
      }
      reader_.reset();
      // A chunk holds the lines of one file.
      if (chunk->size() > 0) break;
      continue;
    }
    // Lines of other parts are counted without parsing them.
    if (IsBlankLine(line)) continue;
    const uint64_t index = examples_seen_++;
    if (options_.part_count > 1 &&
        index % options_.part_count != options_.part_index) {
      continue;
    }
    if (chunk->size() == 0) {
      chunk->file = &options_.files[next_file_ - 1];
      chunk->format = format_;
    }
    chunk->Add(line, reader_->line_number());
    // A stream's lines go out as they come: a pipe's writer may wait for
    // the answer to this line before it writes the next.
    if (reader_->is_stream() && !reader_->HasBufferedLine()) break;
  }
  return chunk->size() > 0 || !chunk->status.ok();
}

bool ExampleReader::Fill(ExampleBlock* block, size_t max_examples) {
  block->Clear();
  if (!status_.ok() || !ReadLines(&chunk_, max_examples)) return false;
  ParseChunk(chunk_, options_.parse, block, &bad_);
  status_ = budget_.Settle(bad_, chunk_.status);
  if (!status_.ok()) {
    block->Clear();
    return false;
  }
  block->first_index = examples_kept_;
  examples_kept_ += block->size();
  return true;
}

}  // namespace adaline
