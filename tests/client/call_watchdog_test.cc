#include "client/call_watchdog.h"

#include <atomic>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace adaline {
namespace {

TEST(CallWatchdogTest, ARoundPastItsDeadlineIsCancelled) {
  std::atomic<int> expired{0};
  CallWatchdog watchdog([&] { expired.fetch_add(1); }, absl::Milliseconds(5));
  watchdog.Arm(absl::Now() + absl::Milliseconds(20));
  while (expired.load() == 0) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_TRUE(watchdog.Disarm());
  // Once: a cut round is not cut again.
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(expired.load(), 1);
}

TEST(CallWatchdogTest, ARoundEndedInTimeIsLeftAlone) {
  std::atomic<int> expired{0};
  CallWatchdog watchdog([&] { expired.fetch_add(1); }, absl::Milliseconds(5));
  for (int round = 0; round < 100; ++round) {
    watchdog.Arm(absl::Now() + absl::Milliseconds(20));
    EXPECT_FALSE(watchdog.Disarm());
  }
  // Disarmed rounds whose deadlines have passed do not expire later.
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(expired.load(), 0);
}

TEST(CallWatchdogTest, ARoundThatWaitsIsReportedWhileItWaits) {
  // A shard that hangs (stopped, not dead) must not leave a worker silent
  // until the deadline.
  std::atomic<int> expired{0}, reports{0};
  std::atomic<int64_t> last_waited_ms{0};
  CallWatchdog watchdog(
      [&] { expired.fetch_add(1); }, absl::Milliseconds(2),
      [&](absl::Duration waited) {
        reports.fetch_add(1);
        last_waited_ms.store(absl::ToInt64Milliseconds(waited));
      },
      absl::Milliseconds(20));
  watchdog.Arm(absl::Now() + absl::Seconds(30));
  while (reports.load() < 3) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_FALSE(watchdog.Disarm());
  EXPECT_GE(last_waited_ms.load(), 60);
  EXPECT_EQ(expired.load(), 0);
  const int after = reports.load();
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(reports.load(), after);  // disarmed: quiet
}

}  // namespace
}  // namespace adaline
