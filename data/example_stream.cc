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
    absl::MutexLock lock(&mutex_);
    cancelled_ = true;
  }
  thread_.join();
}

void ExampleStream::Produce() {
  while (true) {
    ExampleBlock* block;
    {
      absl::MutexLock lock(&mutex_);
      mutex_.Await(absl::Condition(
          +[](ExampleStream* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !s->free_.empty() || s->cancelled_;
          },
          this));
      if (cancelled_) break;
      block = free_.front();
      free_.pop_front();
    }
    const bool more = reader_.Fill(block, block_examples_);
    absl::MutexLock lock(&mutex_);
    if (block->size() > 0 && reader_.status().ok()) {
      filled_.push_back(block);
    } else {
      free_.push_back(block);
    }
    if (!more) break;
  }
  absl::MutexLock lock(&mutex_);
  finished_ = true;
}

const ExampleBlock* ExampleStream::Next() {
  absl::MutexLock lock(&mutex_);
  if (in_use_ != nullptr) {
    free_.push_back(in_use_);
    in_use_ = nullptr;
  }
  mutex_.Await(absl::Condition(
      +[](ExampleStream* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !s->filled_.empty() || s->finished_;
      },
      this));
  if (filled_.empty()) return nullptr;
  in_use_ = filled_.front();
  filled_.pop_front();
  return in_use_;
}

absl::Status ExampleStream::status() const {
  absl::MutexLock lock(&mutex_);
  return finished_ ? reader_.status() : absl::OkStatus();
}

uint64_t ExampleStream::bad_lines() const {
  absl::MutexLock lock(&mutex_);
  return reader_.bad_lines();
}

std::string ExampleStream::first_bad_line() const {
  absl::MutexLock lock(&mutex_);
  return reader_.first_bad_line();
}

}  // namespace adaline
