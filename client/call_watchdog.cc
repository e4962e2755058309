#include "client/call_watchdog.h"

#include <utility>

#include "absl/time/clock.h"

namespace adaline {

CallWatchdog::CallWatchdog(std::function<void()> expire,
                           absl::Duration resolution)
    : CallWatchdog(std::move(expire), resolution, nullptr,
                   absl::InfiniteDuration()) {}

CallWatchdog::CallWatchdog(std::function<void()> expire,
                           absl::Duration resolution,
                           std::function<void(absl::Duration waited)> slow,
                           absl::Duration report_every)
    : expire_(std::move(expire)),
      resolution_(resolution),
      slow_(std::move(slow)),
      report_every_(report_every),
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
  armed_at_ = absl::Now();
  next_report_ = armed_at_ + report_every_;
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
    if (!armed_) continue;
    const absl::Time now = absl::Now();
    if (now >= deadline_) {
      expire_();
      armed_ = false;
      expired_ = true;
    } else if (slow_ != nullptr && now >= next_report_) {
      slow_(now - armed_at_);
      next_report_ += report_every_;
    }
  }
}

}  // namespace adaline
