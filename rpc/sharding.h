// How keys are split among parameter-server shards: key k belongs to shard
// k mod N. Keys are hashes, so every shard gets an even share. Plain values
// and pure functions; safe from any thread.
#ifndef ADALINE_RPC_SHARDING_H_
#define ADALINE_RPC_SHARDING_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace adaline {

// A 64-bit division costs tens of cycles and runs for every key of every
// message; one shard, the common case, needs none.
inline uint32_t ShardOf(uint64_t key, uint32_t count) {
  return count == 1 ? 0 : static_cast<uint32_t>(key % count);
}

struct ShardSpec {
  uint32_t index = 0;
  uint32_t count = 1;

  bool Owns(uint64_t key) const { return ShardOf(key, count) == index; }
  std::string ToString() const;
};

// "I/N" with 0 <= I < N.
absl::StatusOr<ShardSpec> ParseShardSpec(absl::string_view text,
                                         absl::string_view flag);

}  // namespace adaline

#endif  // ADALINE_RPC_SHARDING_H_
