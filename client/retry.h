// RetryPolicy: the one way adaline's clients treat a shard that does not
// answer. Each attempt has a deadline (call_timeout). Failures a restarted
// or reachable-again shard can cure (unavailable, deadline, aborted) are
// retried with exponential backoff, saying every report_every what is
// awaited,
// until the shard has been unreachable for retry_timeout. Refusals (a bad
// request, a missing permission, a full store) are never retried.
//
// A RetryPolicy is a plain value; Retry is safe from any thread as long as
// `attempt` is.
#ifndef ADALINE_CLIENT_RETRY_H_
#define ADALINE_CLIENT_RETRY_H_

#include <cstdio>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace adaline {

struct RetryPolicy {
  absl::Duration call_timeout = absl::Seconds(30);
  // How long a shard may stay unreachable before calls fail.
  absl::Duration retry_timeout = absl::Minutes(10);
  // Where "waiting for ..." and "... is back" go; null for nowhere.
  std::FILE* log = stderr;
  // How often a wait is reported there.
  absl::Duration report_every = absl::Seconds(10);
};

// Whether a failure may pass by itself.
bool IsTransient(const absl::Status& status);

// Runs `attempt` until it succeeds, fails for good, or `shard` (a name for
// messages) has been unreachable for policy.retry_timeout. `what` names the
// call in messages.
absl::Status Retry(const RetryPolicy& policy, absl::string_view shard,
                   absl::string_view what,
                   absl::FunctionRef<absl::Status()> attempt);

}  // namespace adaline

#endif  // ADALINE_CLIENT_RETRY_H_
