#include "data/example_stream.h"

namespace adaline {

ExampleStream::ExampleStream(ReaderOptions options, size_t block_examples)
    : block_examples_(block_examples),
      parse_options_(options.parse),
      reader_(options),
      budget_(options.max_bad_lines) {
  const int threads = ParsingThreads(options.threads);
  // Each thread can hold one block while the caller holds another and the
  // rest wait their turn, so no parser idles for want of a free block.
  const size_t pool_size = 2 * static_cast<size_t>(threads) + 2;
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < pool_size; ++i) {
    pool_.push_back(std::make_unique<Work>());
    free_.push_back(pool_.back().get());
  }
  parsed_.assign(pool_size, nullptr);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { Parse(); });
  }
}

ExampleStream::~ExampleStream() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
  }
  changed_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void ExampleStream::Parse() {
  while (true) {
    Work* work;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return !free_.empty() || cancelled_; });
      if (cancelled_) return;
      work = free_.back();
      free_.pop_back();
    }
    bool more;
    uint64_t chunks;
    {
      std::lock_guard<std::mutex> lock(read_mutex_);
      more = reader_.ReadLines(&work->lines, block_examples_);
      if (more) work->sequence = next_sequence_++;
      chunks = next_sequence_;
    }
    if (!more) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        free_.push_back(work);
        chunk_count_ = chunks;
      }
      changed_.notify_all();
      return;
    }
    ParseChunk(work->lines, parse_options_, &work->block, &work->bad);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      parsed_[work->sequence % parsed_.size()] = work;
    }
    changed_.notify_all();
  }
}

const ExampleBlock* ExampleStream::Next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (in_use_ != nullptr) {
    free_.push_back(in_use_);
    in_use_ = nullptr;
    changed_.notify_all();
  }
  while (!finished_) {
    const size_t slot = next_to_deliver_ % parsed_.size();
    changed_.wait(lock, [&] {
      return parsed_[slot] != nullptr || next_to_deliver_ >= chunk_count_;
    });
    Work* work = parsed_[slot];
    if (work == nullptr) {
      finished_ = true;
      break;
    }
    parsed_[slot] = nullptr;
    ++next_to_deliver_;
    status_ = budget_.Settle(work->bad, work->lines.status);
    if (!status_.ok()) finished_ = true;
    if (finished_ || work->block.size() == 0) {
      free_.push_back(work);
      changed_.notify_all();
      continue;
    }
    work->block.first_index = examples_delivered_;
    examples_delivered_ += work->block.size();
    in_use_ = work;
    return &work->block;
  }
  return nullptr;
}

}  // namespace adaline
