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

// ValidateKeys, plus one finite gradient per key and no key twice.
absl::Status ValidatePush(const adaline::v1::PushRequest& request,
                          const ShardSpec& shard, size_t max_keys);

}  // namespace adaline

#endif  // ADALINE_SERVER_REQUEST_VALIDATION_H_
