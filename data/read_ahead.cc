#include "data/read_ahead.h"

#include <utility>

namespace adaline {

ReadAhead::ReadAhead(Fill fill, size_t blocks)
    : fill_(std::move(fill)), pool_(blocks < 2 ? 2 : blocks) {
  for (ExampleBlock& block : pool_) free_.push_back(&block);
  thread_ = std::thread([this] { Run(); });
}

ReadAhead::~ReadAhead() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void ReadAhead::Run() {
  while (true) {
    ExampleBlock* block;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return stopping_ || !free_.empty(); });
      if (stopping_) return;
      block = free_.back();
      free_.pop_back();
    }
    // Unlocked: the caller learns from earlier blocks meanwhile.
    const bool filled = fill_(block);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (filled) {
        filled_.push_back(block);
      } else {
        free_.push_back(block);
        ended_ = true;
      }
    }
    changed_.notify_all();
    if (!filled) return;
  }
}

const ExampleBlock* ReadAhead::Next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (handed_out_ != nullptr) {
    free_.push_back(handed_out_);
    handed_out_ = nullptr;
    changed_.notify_all();
  }
  changed_.wait(lock, [this] { return ended_ || !filled_.empty(); });
  if (filled_.empty()) return nullptr;
  handed_out_ = filled_.front();
  filled_.pop_front();
  return handed_out_;
}

}  // namespace adaline
