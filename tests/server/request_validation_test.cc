// What a shard refuses before anything changes: keys of other shards, too
// many keys, gradients that do not match or are not finite, a key twice.
#include "server/request_validation.h"

#include <algorithm>
#include <limits>
#include <random>
#include <vector>

#include "core/loss.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace adaline {
namespace {

adaline::v1::PushRequest Push(std::vector<uint64_t> keys,
                              std::vector<float> gradients) {
  adaline::v1::PushRequest request;
  for (uint64_t k : keys) request.add_keys(k);
  for (float g : gradients) request.add_gradients(g);
  return request;
}

TEST(ValidateKeysTest, TakesOwnKeysUpToTheLimit) {
  const ShardSpec shard{1, 3};
  EXPECT_TRUE(ValidateKeys(Push({1, 4, 7}, {}).keys(), shard, 3).ok());
  EXPECT_TRUE(ValidateKeys(Push({}, {}).keys(), shard, 3).ok());
  absl::Status other = ValidateKeys(Push({1, 2}, {}).keys(), shard, 3);
  EXPECT_TRUE(absl::IsInvalidArgument(other));
  EXPECT_THAT(other, HasMessage("key 2 belongs to shard 2"));
  absl::Status many = ValidateKeys(Push({1, 4, 7, 10}, {}).keys(), shard, 3);
  EXPECT_TRUE(absl::IsResourceExhausted(many)) << many;
}

TEST(ValidatePushTest, NeedsOneFiniteGradientPerDistinctKey) {
  const ShardSpec all{0, 1};
  EXPECT_TRUE(ValidatePush(Push({1, 2}, {0.5f, -1}), all, 8).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(ValidatePush(Push({1, 2}, {1}), all, 8)));
  EXPECT_TRUE(absl::IsInvalidArgument(ValidatePush(
      Push({1}, {std::numeric_limits<float>::quiet_NaN()}), all, 8)));
  EXPECT_TRUE(absl::IsInvalidArgument(ValidatePush(
      Push({1}, {-std::numeric_limits<float>::infinity()}), all, 8)));
  // A finite but absurd gradient would freeze its coordinate's state.
  EXPECT_TRUE(ValidatePush(Push({1}, {-kMaxGradient}), all, 8).ok());
  EXPECT_THAT(ValidatePush(Push({1}, {1e19f}), all, 8),
              HasMessage("within +-"));
  absl::Status twice = ValidatePush(Push({5, 6, 5}, {1, 1, 1}), all, 8);
  EXPECT_TRUE(absl::IsInvalidArgument(twice));
  EXPECT_THAT(twice, HasMessage("appears twice"));
  // Keys are checked too.
  EXPECT_TRUE(absl::IsInvalidArgument(
      ValidatePush(Push({1}, {1}), ShardSpec{0, 2}, 8)));
}

TEST(ValidatePushTest, StepSizesCoverTheKeysAndKeysAreDistinctPerStep) {
  const ShardSpec all{0, 1};
  auto with_steps = [](adaline::v1::PushRequest request,
                       std::vector<uint32_t> sizes) {
    for (uint32_t size : sizes) request.add_step_sizes(size);
    return request;
  };
  // A key may come back in a later step, and a step may be empty.
  EXPECT_TRUE(
      ValidatePush(with_steps(Push({5, 6, 5}, {1, 1, 1}), {2, 0, 1}), all, 8)
          .ok());
  absl::Status twice =
      ValidatePush(with_steps(Push({5, 6, 5}, {1, 1, 1}), {3}), all, 8);
  EXPECT_THAT(twice, HasMessage("appears twice in one step"));
  absl::Status short_steps =
      ValidatePush(with_steps(Push({5, 6, 7}, {1, 1, 1}), {1, 1}), all, 8);
  EXPECT_TRUE(absl::IsInvalidArgument(short_steps));
  EXPECT_THAT(short_steps, HasMessage("its 2 steps hold 2"));
  absl::Status long_steps =
      ValidatePush(with_steps(Push({5}, {1}), {1, 4}), all, 8);
  EXPECT_TRUE(absl::IsInvalidArgument(long_steps));
  // Steps cost work even when empty: as many as keys are allowed.
  absl::Status many = ValidatePush(
      with_steps(Push({}, {}), std::vector<uint32_t>(9, 0)), all, 8);
  EXPECT_TRUE(absl::IsResourceExhausted(many)) << many;
}

// Small steps are checked pairwise, large ones by hashing: a repeat is
// found either way, wherever it sits in the step.
TEST(ValidatePushTest, RepeatsAreFoundInStepsOfEverySize) {
  const ShardSpec all{0, 1};
  for (const int size : {2, 20, 48, 49, 300}) {
    for (const int repeat_at : {1, size / 2, size - 1}) {
      std::vector<uint64_t> keys;
      for (int i = 0; i < size; ++i) keys.push_back(1000 + 7 * i);
      const std::vector<float> gradients(size, 1);
      ASSERT_TRUE(ValidatePush(Push(keys, gradients), all, 1000).ok()) << size;
      keys[repeat_at] = keys[repeat_at - 1 - (repeat_at - 1) / 2];
      EXPECT_THAT(ValidatePush(Push(keys, gradients), all, 1000),
                  HasMessage("appears twice in one step"))
          << size << " keys, repeat at " << repeat_at;
    }
  }
}

// Distinct keys are never taken for repeats, however they happen to hash:
// many random steps of 48 keys, where some keys are bound to look alike to
// any quick filter.
TEST(ValidatePushTest, DistinctKeysAreAlwaysTaken) {
  const ShardSpec all{0, 1};
  std::mt19937_64 random(7);
  const std::vector<float> gradients(48, 1);
  for (int step = 0; step < 2000; ++step) {
    std::vector<uint64_t> keys;
    while (keys.size() < 48) {
      const uint64_t key = random() % 100000;
      if (std::find(keys.begin(), keys.end(), key) == keys.end())
        keys.push_back(key);
    }
    ASSERT_TRUE(ValidatePush(Push(keys, gradients), all, 1000).ok()) << step;
  }
}

}  // namespace
}  // namespace adaline
