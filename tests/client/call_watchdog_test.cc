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

}  // namespace
}  // namespace adaline
