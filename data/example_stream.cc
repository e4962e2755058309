#include "data/example_stream.h"

namespace adaline {

ExampleStream::ExampleStream(ReaderOptions options, size_t block_examples,
                             int block_count)
    : reader_(std::move(options)), block_examples_(block_examples) {
  for (int i = 0; i < block_count; ++i) {
    pool_.push_back(std::make_unique<ExampleBlock>());
    free_.push_back(pool_.back().get());
  }
  thread_ = std::thread([this] { Produce(); });
}

ExampleStream::~ExampleStream() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void ExampleStream::Produce() {
  while (true) {
    ExampleBlock* block;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return !free_.empty() || cancelled_; });
      if (cancelled_) break;
      block = free_.front();
      free_.pop_front();
    }
    const bool more = reader_.Fill(block, block_examples_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (block->size() > 0 && reader_.status().ok()) {
        filled_.push_back(block);
      } else {
        free_.push_back(block);
      }
    }
    changed_.notify_all();
    if (!more) break;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
  }
  changed_.notify_all();
}

const ExampleBlock* ExampleStream::Next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (in_use_ != nullptr) {
    free_.push_back(in_use_);
    in_use_ = nullptr;
    changed_.notify_all();
  }
  changed_.wait(lock, [this] { return !filled_.empty() || finished_; });
  if (filled_.empty()) return nullptr;
  in_use_ = filled_.front();
  filled_.pop_front();
  return in_use_;
}

absl::Status ExampleStream::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_ ? reader_.status() : absl::OkStatus();
}

uint64_t ExampleStream::bad_lines() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reader_.bad_lines();
}

std::string ExampleStream::first_bad_line() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reader_.first_bad_line();
}

}  // namespace adaline
