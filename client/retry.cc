#include "client/retry.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace adaline {

bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsAborted(status) || absl::IsCancelled(status) ||
         (absl::IsUnknown(status) && !status.message().empty());
}

namespace {

// A failed TLS handshake is a configuration error (a certificate that does
// not chain to --tls-ca, a client certificate the server refuses), not an
// outage: waiting cannot mend it. gRPC reports it as a connection failure.
absl::Status HandshakeFailure(const absl::Status& status,
                              absl::string_view shard) {
  if (status.ok() || !absl::StrContains(absl::AsciiStrToLower(status.message()),
                                        "handshake failed")) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the TLS handshake with ", shard,
      " failed, a configuration error: check that its certificate chains to "
      "--tls-ca, and that --tls-cert and --tls-key are a pair it accepts (",
      status.message(), ")"));
}

}  // namespace

absl::Status Retry(const RetryPolicy& policy, absl::string_view shard,
                   absl::string_view what,
                   absl::FunctionRef<absl::Status()> attempt) {
  absl::Status status = attempt();
  if (absl::Status s = HandshakeFailure(status, shard); !s.ok()) return s;
  if (status.ok() || !IsTransient(status)) return status;
  const absl::Time give_up = absl::Now() + policy.retry_timeout;
  absl::Duration backoff = absl::Milliseconds(100);
  absl::Time next_report = absl::Now();
  while (!status.ok() && IsTransient(status)) {
    if (absl::Now() >= give_up) {
      return absl::UnavailableError(
          absl::StrCat(shard, " was unreachable for ",
                       absl::FormatDuration(policy.retry_timeout), " (", what,
                       "): ", status.message()));
    }
    if (policy.log != nullptr && absl::Now() >= next_report) {
      std::fprintf(policy.log, "adaline: waiting for %s (%s): %s\n",
                   std::string(shard).c_str(), std::string(what).c_str(),
                   std::string(status.message()).c_str());
      std::fflush(policy.log);
      next_report = absl::Now() + policy.report_every;
    }
    absl::SleepFor(backoff);
    // Short: a shard that is back should get its workers back at once.
    backoff = std::min(backoff * 2, absl::Milliseconds(500));
    status = attempt();
    if (absl::Status s = HandshakeFailure(status, shard); !s.ok()) return s;
  }
  if (status.ok() && policy.log != nullptr) {
    std::fprintf(policy.log, "adaline: %s is back\n",
                 std::string(shard).c_str());
  }
  return status;
}

}  // namespace adaline
