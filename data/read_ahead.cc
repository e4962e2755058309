#include "data/read_ahead.h"

#include <utility>

namespace adaline {

ReadAhead::ReadAhead(Fill fill, size_t blocks)
    : fill_(std::move(fill)),
      pool_(blocks < 2 ? 2 : blocks),
      thread_([this] { Run(); }) {}

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
      changed_.wait(lock, [this] {
        return stopping_ || filled_ - returned_ < pool_.size();
      });
      if (stopping_) return;
      block = &pool_[filled_ % pool_.size()];
    }
    // Unlocked: the caller learns from earlier blocks meanwhile.
    const bool filled = fill_(block);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (filled) {
        ++filled_;
      } else {
        ended_ = true;
      }
    }
    changed_.notify_all();
    if (!filled) return;
  }
}

const ExampleBlock* ReadAhead::Next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (returned_ < handed_out_) {
    returned_ = handed_out_;  // the block returned before is done with
    changed_.notify_all();
  }
  changed_.wait(lock, [this] { return ended_ || filled_ > handed_out_; });
  if (filled_ == handed_out_) return nullptr;
  return &pool_[handed_out_++ % pool_.size()];
}

}  // namespace adaline
