// Conventions both ends of a connection share: the default message limit
// and the conversion between gRPC's and Abseil's status (their codes are the
// same numbers). Stateless; safe from any thread.
#ifndef ADALINE_RPC_WIRE_H_
#define ADALINE_RPC_WIRE_H_

#include <grpcpp/support/status.h>
#include <grpcpp/support/string_ref.h>

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace adaline {

// Bytes of one request or response, unless a server or client is told
// otherwise (--max-message-bytes): a batch of a million keys fits.
inline constexpr int kDefaultMaxMessageBytes = 256 << 20;

// Trailing metadata with which a shard ends a worker stream: how many of
// its pushes were applied, so the worker knows whether its last one was.
inline constexpr char kAppliedTrailer[] = "adaline-applied";

// Initial metadata a shard sends as it starts serving a worker stream, before
// it reads a push. A stream that ends without it (refused by a server that
// is shutting down, say) applied nothing, so its push may be sent again.
inline constexpr char kStreamOpenedHeader[] = "adaline-stream-opened";

// A call's "authorization" metadata, as a server sees its metadata; nullopt
// when the call has none.
inline std::optional<absl::string_view> AuthorizationOf(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  const auto found = metadata.find("authorization");
  if (found == metadata.end()) return std::nullopt;
  return absl::string_view(found->second.data(), found->second.size());
}

inline absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

inline grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace adaline

#endif  // ADALINE_RPC_WIRE_H_
