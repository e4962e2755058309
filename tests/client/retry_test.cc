// The one retry policy: transient failures wait and retry until the shard
// is back or the patience runs out; refusals fail at once.
#include "client/retry.h"

#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace adaline {
namespace {

RetryPolicy Quiet(absl::Duration retry_timeout) {
  RetryPolicy policy;
  policy.retry_timeout = retry_timeout;
  policy.log = nullptr;
  return policy;
}

TEST(RetryTest, TransientFailuresAreRetriedUntilTheShardIsBack) {
  int attempts = 0;
  absl::Status status =
      Retry(Quiet(absl::Seconds(30)), "shard 0 at here", "stats", [&] {
        return ++attempts < 3 ? absl::UnavailableError("connection refused")
                              : absl::OkStatus();
      });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(attempts, 3);
}

TEST(RetryTest, RefusalsAreNotRetried) {
  int attempts = 0;
  absl::Status status =
      Retry(Quiet(absl::Seconds(30)), "shard 0 at here", "push", [&] {
        ++attempts;
        return absl::PermissionDeniedError("needs a trainer token");
      });
  EXPECT_TRUE(absl::IsPermissionDenied(status));
  EXPECT_EQ(attempts, 1);
}

TEST(RetryTest, GivesUpAfterTheRetryTimeoutNamingShardAndCall) {
  absl::Status status =
      Retry(Quiet(absl::Milliseconds(250)), "shard 1 at 127.0.0.1:1", "query",
            [] { return absl::DeadlineExceededError("no answer"); });
  EXPECT_TRUE(absl::IsUnavailable(status));
  EXPECT_THAT(status, HasMessage("shard 1 at 127.0.0.1:1 was unreachable"));
  EXPECT_THAT(status, HasMessage("(query)"));
}

TEST(RetryTest, SaysWhatItWaitsFor) {
  std::FILE* log = std::tmpfile();
  RetryPolicy policy = Quiet(absl::Seconds(30));
  policy.log = log;
  int attempts = 0;
  ASSERT_TRUE(Retry(policy, "shard 0 at here", "stats", [&] {
                return ++attempts < 2 ? absl::UnavailableError("down")
                                      : absl::OkStatus();
              }).ok());
  std::rewind(log);
  char text[512] = {0};
  const size_t read = std::fread(text, 1, sizeof text - 1, log);
  std::fclose(log);
  const std::string said(text, read);
  EXPECT_NE(said.find("waiting for shard 0 at here (stats): down"),
            std::string::npos)
      << said;
  EXPECT_NE(said.find("shard 0 at here is back"), std::string::npos) << said;
}

TEST(IsTransientTest, OnlyWhatMayPassByItself) {
  EXPECT_TRUE(IsTransient(absl::UnavailableError("x")));
  EXPECT_TRUE(IsTransient(absl::DeadlineExceededError("x")));
  EXPECT_TRUE(IsTransient(absl::AbortedError("x")));
  EXPECT_FALSE(IsTransient(absl::InvalidArgumentError("x")));
  EXPECT_FALSE(IsTransient(absl::ResourceExhaustedError("x")));
  EXPECT_FALSE(IsTransient(absl::UnauthenticatedError("x")));
  EXPECT_FALSE(IsTransient(absl::OkStatus()));
}

}  // namespace
}  // namespace adaline
