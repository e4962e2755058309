// Checks of what a client sends, before anything changes: a request that
// fails them is refused whole. Separate from the service so that the
// checks can be fuzzed without a server.
//
// Pure functions; safe from any thread.
#ifndef ADALINE_SERVER_REQUEST_VALIDATION_H_
#define ADALINE_SERVER_REQUEST_VALIDATION_H_

#include <cstddef>

#include "absl/status/status.h"
#include "proto/adaline.pb.h"
#include "rpc/sharding.h"

namespace adaline {

// At most `max_keys` keys, all owned by `shard`.
absl::Status ValidateKeys(const google::protobuf::RepeatedField<uint64_t>& keys,
                          const ShardSpec& shard, size_t max_keys);

// ValidateKeys, plus one finite gradient per key, step sizes that add up to
// the keys (at most max_keys steps), no key twice in one step, and names
// (no more than keys) of keys this shard owns.
absl::Status ValidatePush(const adaline::v1::PushRequest& request,
                          const ShardSpec& shard, size_t max_keys);

// A Predict request's hashed examples: one value per key, sizes that add up
// to the keys (at most max_keys), finite values and bases, one base per
// example or none.
absl::Status ValidateHashedPredict(const adaline::v1::PredictRequest& request,
                                   size_t max_keys);

// Calls visit(begin, end) for each optimizer step of a push whose step
// sizes add up (ValidatePush checks it), in order: its keys and gradients
// [begin, end). A push without step_sizes is one step. Stops at the first
// error `visit` returns, and returns it.
template <typename Visit>
absl::Status ForEachStep(const adaline::v1::PushRequest& request, Visit visit) {
  if (request.step_sizes_size() == 0) return visit(0, request.keys_size());
  int begin = 0;
  for (const uint32_t size : request.step_sizes()) {
    const int end = begin + static_cast<int>(size);
    if (absl::Status s = visit(begin, end); !s.ok()) return s;
    begin = end;
  }
  return absl::OkStatus();
}

}  // namespace adaline

#endif  // ADALINE_SERVER_REQUEST_VALIDATION_H_
