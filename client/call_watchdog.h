// CallWatchdog: a deadline for each round of a long-lived stream. gRPC's
// synchronous streams have one deadline for the whole call, which a worker's
// stream, open for hours, cannot use; a thread that looks a few times a
// second can cancel a round that waits too long.
#ifndef ADALINE_CLIENT_CALL_WATCHDOG_H_
#define ADALINE_CLIENT_CALL_WATCHDOG_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/time.h"

namespace adaline {

class CallWatchdog {
 public:
  // `expire` runs on the watchdog's thread when an armed deadline passes; it
  // cancels whatever the round waits for (grpc::ClientContext::TryCancel is
  // safe from any thread). Deadlines are noticed within `resolution`.
  CallWatchdog(std::function<void()> expire, absl::Duration resolution);
  // Also calls `slow` on its thread every `report_every` that a round has
  // been waiting, with how long, so a caller can say what it waits for.
  CallWatchdog(std::function<void()> expire, absl::Duration resolution,
               std::function<void(absl::Duration waited)> slow,
               absl::Duration report_every);
  ~CallWatchdog();
  CallWatchdog(const CallWatchdog&) = delete;
  CallWatchdog& operator=(const CallWatchdog&) = delete;

  // Starts a round that must end before `deadline`.
  void Arm(absl::Time deadline);
  // Ends the round; true if its deadline passed and `expire` ran. While
  // disarmed, `expire` does not run, so the caller may change what it
  // cancels.
  bool Disarm();

 private:
  void Watch();

  const std::function<void()> expire_;
  const absl::Duration resolution_;
  const std::function<void(absl::Duration)> slow_;
  const absl::Duration report_every_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  bool armed_ = false;
  bool expired_ = false;
  absl::Time deadline_;
  absl::Time armed_at_;
  absl::Time next_report_;
  std::thread thread_;  // last: it starts once the rest is ready
};

}  // namespace adaline

#endif  // ADALINE_CLIENT_CALL_WATCHDOG_H_
