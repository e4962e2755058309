#include "server/request_validation.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/feature_names.h"
#include "core/key_index.h"
#include "core/loss.h"

namespace adaline {

absl::Status ValidateKeys(const google::protobuf::RepeatedField<uint64_t>& keys,
                          const ShardSpec& shard, size_t max_keys) {
  if (static_cast<size_t>(keys.size()) > max_keys) {
    return absl::ResourceExhaustedError(
        absl::StrCat("request has ", keys.size(), " keys; at most ", max_keys,
                     " are allowed"));
  }
  for (uint64_t key : keys) {
    if (!shard.Owns(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "key ", key, " belongs to shard ", ShardOf(key, shard.count),
          ", not to this shard ", shard.ToString()));
    }
  }
  return absl::OkStatus();
}

// Steps up to this many keys are checked for repeats pairwise.
constexpr int kPairwiseCheckKeys = 48;
// The filter that spares most steps the pairwise check: with 22 keys, two
// share a bit in about one step of twenty.
constexpr int kFilterBitsLog2 = 12;
constexpr int kFilterBits = 1 << kFilterBitsLog2;

absl::Status ValidatePush(const adaline::v1::PushRequest& request,
                          const ShardSpec& shard, size_t max_keys) {
  if (request.keys_size() != request.gradients_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("push has ", request.keys_size(), " keys but ",
                     request.gradients_size(), " gradients"));
  }
  if (absl::Status s = ValidateKeys(request.keys(), shard, max_keys); !s.ok())
    return s;
  for (int i = 0; i < request.gradients_size(); ++i) {
    if (!(std::abs(request.gradients(i)) <= kMaxGradient)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gradient of key ", request.keys(i), " is ", request.gradients(i),
          "; gradients must be finite and within +-", kMaxGradient,
          " (learners clip to it)"));
    }
  }
  if (request.scales_size() != 0 &&
      request.scales_size() != request.keys_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("push has ", request.keys_size(), " keys but ",
                     request.scales_size(), " scales"));
  }
  for (int i = 0; i < request.scales_size(); ++i) {
    if (!std::isfinite(request.scales(i)) || request.scales(i) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("scale of key ", request.keys(i), " is ",
                       request.scales(i), "; scales are finite |values|"));
    }
  }
  const int steps = std::max(request.step_sizes_size(), 1);
  if (request.step_norms_size() != 0 && request.step_norms_size() != steps) {
    return absl::InvalidArgumentError(
        absl::StrCat("push has ", steps, " steps but ",
                     request.step_norms_size(), " step norms"));
  }
  for (int i = 0; i < request.step_norms_size(); ++i) {
    if (!std::isfinite(request.step_norms(i)) || request.step_norms(i) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "step norm ", request.step_norms(i), " is not finite and positive"));
    }
  }
  if (static_cast<size_t>(request.step_sizes_size()) > max_keys) {
    return absl::ResourceExhaustedError(
        absl::StrCat("push has ", request.step_sizes_size(), " steps; at most ",
                     max_keys, " are allowed"));
  }
  uint64_t total = 0;
  for (const uint32_t size : request.step_sizes()) total += size;
  if (request.step_sizes_size() > 0 &&
      total != static_cast<uint64_t>(request.keys_size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("push has ", request.keys_size(), " keys but its ",
                     request.step_sizes_size(), " steps hold ", total));
  }
  if (request.names_size() > request.keys_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("push names ", request.names_size(), " features but has ",
                     request.keys_size(), " keys"));
  }
  for (const adaline::v1::FeatureName& name : request.names()) {
    if (ShardOf(name.key(), shard.count) != shard.index) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the name of key ", name.key(), " belongs to shard ",
          ShardOf(name.key(), shard.count), ", not ", shard.ToString()));
    }
    if (name.name().empty() || name.name().size() > kMaxFeatureNameBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the name of key ", name.key(), " has ", name.name().size(),
          " bytes; names have 1 to ", kMaxFeatureNameBytes));
    }
  }
  thread_local KeyIndex distinct;
  const uint64_t* keys = request.keys().data();
  return ForEachStep(request, [&](int begin, int end) {
    // A worker's step has a few dozen keys. Each sets one bit of a small
    // filter; only a step in which two keys meet on a bit is compared pair
    // by pair (a loop the compiler vectorises), which is still cheaper
    // than hashing.
    if (end - begin <= kPairwiseCheckKeys) {
      uint64_t filter[kFilterBits / 64] = {};
      uint64_t met = 0;
      for (int i = begin; i < end; ++i) {
        const uint64_t bit =
            (keys[i] * 0x9e3779b97f4a7c15ULL) >> (64 - kFilterBitsLog2);
        const uint64_t mask = uint64_t{1} << (bit & 63);
        met |= filter[bit >> 6] & mask;
        filter[bit >> 6] |= mask;
      }
      if (met == 0) return absl::OkStatus();
      for (int i = begin + 1; i < end; ++i) {
        bool repeated = false;
        for (int j = begin; j < i; ++j) repeated |= keys[j] == keys[i];
        if (repeated) {
          return absl::InvalidArgumentError(absl::StrCat(
              "key ", keys[i], " appears twice in one step of a push"));
        }
      }
      return absl::OkStatus();
    }
    distinct.Clear();
    for (int i = begin; i < end; ++i) {
      const size_t before = distinct.keys().size();
      distinct.IndexOf(request.keys(i));
      if (distinct.keys().size() == before) {
        return absl::InvalidArgumentError(absl::StrCat(
            "key ", request.keys(i), " appears twice in one step of a push"));
      }
    }
    return absl::OkStatus();
  });
}

absl::Status ValidateHashedPredict(const adaline::v1::PredictRequest& request,
                                   size_t max_keys) {
  if (request.keys_size() != request.values_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("predict has ", request.keys_size(), " keys but ",
                     request.values_size(), " values"));
  }
  if (static_cast<size_t>(request.keys_size()) > max_keys) {
    return absl::ResourceExhaustedError(
        absl::StrCat("predict has ", request.keys_size(), " features; at most ",
                     max_keys, " are allowed"));
  }
  uint64_t total = 0;
  for (const uint32_t size : request.sizes()) total += size;
  if (total != static_cast<uint64_t>(request.keys_size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("predict sizes add up to ", total, " but it has ",
                     request.keys_size(), " keys"));
  }
  if (request.bases_size() != 0 &&
      request.bases_size() != request.sizes_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("predict has ", request.sizes_size(), " examples but ",
                     request.bases_size(), " bases"));
  }
  for (int i = 0; i < request.values_size(); ++i) {
    if (!std::isfinite(request.values(i))) {
      return absl::InvalidArgumentError(
          absl::StrCat("value of key ", request.keys(i), " is ",
                       request.values(i), "; values must be finite"));
    }
  }
  for (const float base : request.bases()) {
    if (!std::isfinite(base)) {
      return absl::InvalidArgumentError(
          absl::StrCat("a base is ", base, "; bases must be finite"));
    }
  }
  return absl::OkStatus();
}

}  // namespace adaline
