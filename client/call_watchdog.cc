#include "client/call_watchdog.h"

#include <utility>

#include "absl/time/clock.h"

namespace adaline {

CallWatchdog::CallWatchdog(std::function<void()> expire,
                           absl::Duration resolution)
    : expire_(std::move(expire)),
      resolution_(resolution),
      thread_([this] { Watch(); }) {}

CallWatchdog::~CallWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  thread_.join();
}

void CallWatchdog::Arm(absl::Time deadline) {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = true;
  expired_ = false;
  deadline_ = deadline;
}

bool CallWatchdog::Disarm() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = false;
  return expired_;
}

void CallWatchdog::Watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    // Arm and Disarm do not wake this thread: a round costs no switch to it.
    stop_.wait_for(lock, absl::ToChronoNanoseconds(resolution_));
    if (armed_ && absl::Now() >= deadline_) {
      expire_();
      armed_ = false;
      expired_ = true;
    }
  }
}

}  // namespace adaline
