#include "core/weight_store.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace adaline {
namespace {

// Plain AdaGrad at lr 0.1, whose steps are easy to check by hand.
OptimizerOptions Adagrad() {
  OptimizerOptions options =
      OptimizerOptions::Defaults(OptimizerKind::kAdagrad);
  options.normalized = false;
  options.learning_rate = 0.1;
  return options;
}

TEST(WeightStoreTest, UnknownKeysReadZeroAndCreateNothing) {
  WeightStore store(Adagrad());
  const uint64_t keys[] = {1, 2, 3};
  float weights[] = {7, 7, 7};
  EXPECT_EQ(store.Pull(keys, absl::MakeSpan(weights)), 3u);  // none held
  EXPECT_EQ(weights[0], 0);
  EXPECT_EQ(weights[2], 0);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(store.Lookup(2).has_value());
}

// A store one thread owns skips its locks and learns exactly the same.
TEST(WeightStoreTest, AStoreNotSharedLearnsWhatASharedOneLearns) {
  WeightStore shared(OptimizerOptions::Defaults(OptimizerKind::kAdam));
  WeightStore owned(OptimizerOptions::Defaults(OptimizerKind::kAdam));
  EXPECT_TRUE(shared.shared_between_threads());
  owned.SetSharedBetweenThreads(false);
  EXPECT_FALSE(owned.shared_between_threads());
  for (int step = 0; step < 200; ++step) {
    const std::vector<uint64_t> keys = {1, static_cast<uint64_t>(2 + step % 7),
                                        static_cast<uint64_t>(100 + step)};
    const std::vector<float> gradients = {0.5f, -0.25f * (step % 3), 1.0f};
    ASSERT_TRUE(shared.Push(keys, gradients).ok());
    ASSERT_TRUE(owned.Push(keys, gradients).ok());
  }
  std::vector<uint64_t> keys;
  for (uint64_t key = 0; key < 320; ++key) keys.push_back(key);
  std::vector<float> from_shared(keys.size()), from_owned(keys.size());
  shared.Pull(keys, absl::MakeSpan(from_shared));
  owned.Pull(keys, absl::MakeSpan(from_owned));
  EXPECT_EQ(from_shared, from_owned);
  EXPECT_EQ(owned.size(), shared.size());
}

// A shard holds part of each step's keys and sometimes none of them; the
// norm a worker sends with the step counts all the same, alone or in a
// batch, so that every shard's steps have the same rates.
TEST(WeightStoreTest, AStepNormCountsOnAShardWithoutTheStepsKeys) {
  OptimizerOptions options =
      OptimizerOptions::Defaults(OptimizerKind::kAdagrad);
  options.normalized = true;
  WeightStore alone(options);
  ASSERT_TRUE(alone.Push({}, {}, {}, {}, 1.5).ok());
  ASSERT_TRUE(alone.Push({}, {}, {}, {}, 0.5).ok());
  EXPECT_EQ(alone.norm_sum(), 2.0);

  WeightStore batched(options);
  const uint64_t keys[] = {3};
  const float gradients[] = {0.5f};
  const float scales[] = {2.0f};
  const uint32_t sizes[] = {0, 1, 0};
  const double norms[] = {1.5, 0.5, 0.25};
  ASSERT_TRUE(batched.PushSteps(keys, gradients, scales, sizes, norms).ok());
  EXPECT_EQ(batched.norm_sum(), 2.25);
  const uint32_t no_keys[] = {0, 0};
  const double two_norms[] = {1.0, 0.75};
  ASSERT_TRUE(batched.PushSteps({}, {}, {}, no_keys, two_norms).ok());
  EXPECT_EQ(batched.norm_sum(), 4.0);
  EXPECT_EQ(batched.step(), 5u);
}

// A server applies a worker's batch of steps part by part of the store;
// every coordinate, the step count and the norm sum must come out exactly as
// from a Push per step. Keys recur across steps, some sit idle for most of
// the batch, and the batch crosses a catch-up sweep.
TEST(WeightStoreTest, PushStepsEqualsAPushPerStep) {
  for (OptimizerKind kind :
       {OptimizerKind::kAdagrad, OptimizerKind::kAdam, OptimizerKind::kFtrl}) {
    OptimizerOptions options = OptimizerOptions::Defaults(kind);
    options.normalized = kind == OptimizerKind::kAdagrad;
    options.l2 = kind == OptimizerKind::kAdam ? 0.01 : 0;
    WeightStore batched(options, WeightStore::kNoKeyLimit, 64);
    WeightStore stepwise(options, WeightStore::kNoKeyLimit, 64);
    std::vector<uint64_t> keys;
    std::vector<float> gradients, scales;
    std::vector<uint32_t> sizes;
    std::vector<double> norms;
    for (int batch = 0; batch < 3; ++batch) {
      keys.clear();
      gradients.clear();
      scales.clear();
      sizes.clear();
      norms.clear();
      for (int step = 0; step < 50; ++step) {
        const size_t begin = keys.size();
        keys.push_back(1);  // every step
        if (step % 3 == 0) keys.push_back(2 + step % 5);
        if (step % 17 == 0) keys.push_back(1000 + batch);  // rare
        keys.push_back(100 + 50 * batch + step);           // once
        for (size_t i = begin; i < keys.size(); ++i) {
          gradients.push_back(0.3f * static_cast<float>((i * 7) % 5) - 0.6f);
          scales.push_back(0.5f + static_cast<float>(i % 4));
        }
        sizes.push_back(static_cast<uint32_t>(keys.size() - begin));
        norms.push_back(0.5 + 0.25 * (step % 3));
        ASSERT_TRUE(stepwise
                        .Push(absl::MakeConstSpan(keys).subspan(begin),
                              absl::MakeConstSpan(gradients).subspan(begin), {},
                              absl::MakeConstSpan(scales).subspan(begin),
                              norms.back())
                        .ok());
      }
      EXPECT_EQ(*batched.PushSteps(keys, gradients, scales, sizes, norms),
                stepwise.step());
    }
    EXPECT_EQ(batched.step(), 150u);
    EXPECT_EQ(batched.norm_sum(), stepwise.norm_sum());
    ASSERT_EQ(batched.size(), stepwise.size());
    std::vector<uint64_t> held;
    stepwise.ForEach([&](const Entry& entry) { held.push_back(entry.key); });
    for (const uint64_t key : held) {
      const std::optional<Entry> expected = stepwise.Lookup(key);
      const std::optional<Entry> twin = batched.Lookup(key);
      ASSERT_TRUE(twin.has_value()) << key;
      EXPECT_EQ(twin->weight, expected->weight) << OptimizerName(kind);
      for (int s = 0; s < kMaxStateWidth; ++s) {
        EXPECT_EQ(twin->state[s], expected->state[s]) << OptimizerName(kind);
      }
    }
  }
}

TEST(WeightStoreTest, PushStepsRefusesABatchWhoseStepsDoNotAddUp) {
  WeightStore store(Adagrad());
  const uint64_t keys[] = {1, 2, 3};
  const float gradients[] = {0.5f, 0.5f, 0.5f};
  const uint32_t sizes[] = {1, 1};
  const absl::StatusOr<uint64_t> step =
      store.PushSteps(keys, gradients, {}, sizes, {});
  EXPECT_FALSE(step.ok());
  EXPECT_NE(step.status().message().find("3 keys"), std::string::npos);
  const float infinite[] = {0.5f, std::numeric_limits<float>::infinity(), 0};
  const uint32_t three[] = {3};
  EXPECT_FALSE(store.PushSteps(keys, infinite, {}, three, {}).ok());
  EXPECT_EQ(store.step(), 0u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(WeightStoreTest, PushCreatesStateAndAdvancesTheStep) {
  WeightStore store(Adagrad());
  const uint64_t keys[] = {10, 20};
  const float gradients[] = {0.2f, -0.1f};
  EXPECT_EQ(*store.Push(keys, gradients), 1u);
  EXPECT_EQ(store.size(), 2u);
  std::optional<Entry> entry = store.Lookup(10);
  ASSERT_TRUE(entry.has_value());
  EXPECT_NEAR(entry->weight, -0.1f, 1e-6);  // -lr * g / |g|
  EXPECT_NEAR(entry->state[0], 0.04f, 1e-7);
  EXPECT_EQ(entry->last_step, 1u);
  // A push with no keys is still one optimizer step.
  EXPECT_EQ(*store.Push({}, {}), 2u);
  EXPECT_EQ(store.step(), 2u);
}

TEST(WeightStoreTest, AbsurdGradientsAreRefusedWhole) {
  WeightStore store(Adagrad());
  const uint64_t keys[] = {10, 20};
  const float absurd[] = {0.5f, 1e19f};  // would set G to 1e38 for good
  absl::StatusOr<uint64_t> refused = store.Push(keys, absurd);
  EXPECT_TRUE(absl::IsInvalidArgument(refused.status()));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.step(), 0u);
  const float largest[] = {0.5f, -kMaxGradient};
  EXPECT_TRUE(store.Push(keys, largest).ok());
}

TEST(WeightStoreTest, PullWithStateGivesUnknownKeysTheStartingState) {
  OptimizerOptions options = Adagrad();
  options.initial_accumulator = 0.5;
  WeightStore store(options);
  const uint64_t pushed[] = {10};
  const float gradients[] = {2};
  ASSERT_TRUE(store.Push(pushed, gradients).ok());
  const uint64_t keys[] = {10, 11};
  float weights[2], states[2];
  EXPECT_EQ(store.Pull(keys, absl::MakeSpan(weights), absl::MakeSpan(states)),
            1u);
  EXPECT_EQ(weights[0], store.Lookup(10)->weight);
  EXPECT_EQ(states[0], 4.5f);  // 0.5 + 2^2
  EXPECT_EQ(weights[1], 0);
  EXPECT_EQ(states[1], 0.5f);
}

TEST(WeightStoreTest, ClearEmptiesTheStoreAndItLearnsAnew) {
  WeightStore store(Adagrad());
  std::vector<uint64_t> keys(1000);
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = i * 7919;
  const std::vector<float> gradients(keys.size(), 1.0f);
  ASSERT_TRUE(store.Push(keys, gradients).ok());
  const size_t bytes = store.bytes();
  store.Clear();
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.step(), 0u);
  EXPECT_EQ(store.bytes(), bytes);  // the memory stays for reuse
  EXPECT_FALSE(store.Lookup(keys[3]).has_value());
  ASSERT_TRUE(store.Push(keys, gradients).ok());
  WeightStore fresh(Adagrad());
  ASSERT_TRUE(fresh.Push(keys, gradients).ok());
  EXPECT_EQ(store.Lookup(keys[3])->weight, fresh.Lookup(keys[3])->weight);
  EXPECT_EQ(store.size(), keys.size());
}

TEST(WeightStoreTest, SlotHintsSkipTheLookupAndStaleOnesAreIgnored) {
  WeightStore hinted(Adagrad()), plain(Adagrad());
  const uint64_t keys[] = {10, 20};
  const float gradients[] = {1, -1};
  ASSERT_TRUE(hinted.Push(keys, gradients).ok());
  ASSERT_TRUE(plain.Push(keys, gradients).ok());
  float weights[2];
  WeightStore::SlotHint hints[2];
  hinted.Pull(keys, absl::MakeSpan(weights), {}, absl::MakeSpan(hints));
  EXPECT_NE(hints[0].slot, nullptr);
  // Thousands of new keys move every slot: the hints go stale.
  std::vector<uint64_t> many(5000);
  for (size_t i = 0; i < many.size(); ++i) many[i] = 1000 + i;
  const std::vector<float> ones(many.size(), 1.0f);
  ASSERT_TRUE(hinted.Push(many, ones).ok());
  ASSERT_TRUE(plain.Push(many, ones).ok());
  ASSERT_TRUE(hinted.Push(keys, gradients, hints).ok());
  ASSERT_TRUE(plain.Push(keys, gradients).ok());
  EXPECT_EQ(hinted.Lookup(10)->weight, plain.Lookup(10)->weight);
  EXPECT_EQ(hinted.Lookup(20)->state[0], plain.Lookup(20)->state[0]);
  // Fresh hints lead to the same result as lookups.
  hinted.Pull(keys, absl::MakeSpan(weights), {}, absl::MakeSpan(hints));
  ASSERT_TRUE(hinted.Push(keys, gradients, hints).ok());
  ASSERT_TRUE(plain.Push(keys, gradients).ok());
  EXPECT_EQ(hinted.Lookup(10)->weight, plain.Lookup(10)->weight);
  EXPECT_EQ(hinted.size(), plain.size());
}

TEST(WeightStoreTest, EveryKeyIsUsableIncludingZeroAndAllOnes) {
  WeightStore store(Adagrad());
  const uint64_t keys[] = {0, std::numeric_limits<uint64_t>::max()};
  const float gradients[] = {1, 1};
  ASSERT_TRUE(store.Push(keys, gradients).ok());
  EXPECT_TRUE(store.Lookup(0).has_value());
  EXPECT_TRUE(store.Lookup(keys[1]).has_value());
  EXPECT_EQ(store.size(), 2u);
}

TEST(WeightStoreTest, GrowingKeepsEveryEntry) {
  WeightStore store(Adagrad());
  constexpr uint64_t kKeys = 200000;
  std::vector<uint64_t> keys;
  std::vector<float> gradients;
  for (uint64_t k = 0; k < kKeys; ++k) {
    keys.push_back(k * 7919);  // sequential-ish keys must still spread
    gradients.push_back(1.0f + static_cast<float>(k % 3));
  }
  ASSERT_TRUE(store.Push(keys, gradients).ok());
  EXPECT_EQ(store.size(), kKeys);
  for (uint64_t k = 0; k < kKeys; k += 997) {
    std::optional<Entry> entry = store.Lookup(k * 7919);
    ASSERT_TRUE(entry.has_value()) << k;
    EXPECT_FLOAT_EQ(entry->state[0], gradients[k] * gradients[k]);
  }
  size_t visited = 0;
  store.ForEach([&](const Entry&) { ++visited; });
  EXPECT_EQ(visited, kKeys);
  // Adagrad's slot is key 8 + step 4 + weight 4 + accumulator 4 bytes.
  const double bytes_per_key = static_cast<double>(store.bytes()) / kKeys;
  EXPECT_GE(bytes_per_key, 20.0);
  EXPECT_LE(bytes_per_key, 20.0 / 0.5);
}

TEST(WeightStoreTest, NonFiniteGradientChangesNothing) {
  WeightStore store(Adagrad());
  const uint64_t keys[] = {1, 2};
  const float good[] = {0.5f, 0.5f};
  ASSERT_TRUE(store.Push(keys, good).ok());
  const Entry before = *store.Lookup(1);
  for (float bad : {std::nanf(""), std::numeric_limits<float>::infinity()}) {
    const float gradients[] = {0.5f, bad};
    absl::StatusOr<uint64_t> step = store.Push(keys, gradients);
    ASSERT_FALSE(step.ok());
    EXPECT_EQ(step.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(step.status().message().find("not finite"),
              absl::string_view::npos);
  }
  EXPECT_EQ(store.step(), 1u);
  EXPECT_EQ(store.Lookup(1)->weight, before.weight);
  EXPECT_EQ(store.Lookup(1)->state[0], before.state[0]);
}

TEST(WeightStoreTest, MismatchedLengthsAreRefused) {
  WeightStore store(Adagrad());
  const uint64_t keys[] = {1, 2};
  const float gradients[] = {0.5f};
  EXPECT_FALSE(store.Push(keys, gradients).ok());
  EXPECT_EQ(store.step(), 0u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(WeightStoreTest, DivergingUpdateKeepsTheOldValue) {
  // Normalized SGD divides by the square of a feature's scale: a |value| of
  // 1e-30 overflows the step.
  OptimizerOptions sgd = OptimizerOptions::Defaults(OptimizerKind::kSgd);
  sgd.normalized = true;
  WeightStore store(sgd);
  const uint64_t key[] = {5};
  const float gradient[] = {1};
  const float tiny[] = {1e-30f};
  ASSERT_TRUE(store.Push(key, gradient, {}, tiny).ok());
  EXPECT_EQ(store.non_finite_updates(), 1u);
  EXPECT_EQ(store.Lookup(5)->weight, 0.0f);
}

// Found by fuzzing the model loader: an Adam entry with a huge first moment
// and no second moment overflows while it catches up. The weight stays as
// it was instead of turning into inf, for pulls, lookups and pushes alike.
TEST(WeightStoreTest, DivergingCatchUpKeepsTheOldValue) {
  WeightStore store(OptimizerOptions::Defaults(OptimizerKind::kAdam));
  store.SetStep(10);
  Entry entry;
  entry.key = 9;
  entry.last_step = 4;
  entry.weight = 0.25f;
  entry.state[0] = -1e37f;  // m
  entry.state[1] = 0;       // v
  ASSERT_TRUE(store.Insert(entry).ok());
  EXPECT_EQ(store.Lookup(9)->weight, 0.25f);
  const uint64_t key[] = {9};
  float weight[1];
  store.Pull(key, weight);
  EXPECT_EQ(weight[0], 0.25f);
  EXPECT_GE(store.non_finite_updates(), 2u);
  const float gradient[] = {0.5f};
  ASSERT_TRUE(store.Push(key, gradient).ok());
  EXPECT_TRUE(std::isfinite(store.Lookup(9)->weight));
}

TEST(WeightStoreTest, KeyLimitRefusesNewKeysButExistingOnesLearn) {
  WeightStore store(Adagrad(), /*max_keys=*/2);
  const uint64_t first[] = {1, 2};
  const float ones[] = {1, 1, 1};
  ASSERT_TRUE(store.Push(first, absl::MakeConstSpan(ones, 2)).ok());
  const uint64_t more[] = {1, 2, 3};
  ASSERT_TRUE(store.Push(more, ones).ok());
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.dropped_new_keys(), 1u);
  EXPECT_FALSE(store.Lookup(3).has_value());
  EXPECT_FLOAT_EQ(store.Lookup(1)->state[0], 2.0f);
  const uint64_t asked[] = {2, 3, 4, 1};
  EXPECT_EQ(store.CountAbsent(asked), 2u);
  Entry entry;
  entry.key = 4;
  EXPECT_EQ(store.Insert(entry).code(), absl::StatusCode::kResourceExhausted);
}

// The weight of a key whose one and only update is `gradient`.
float FirstUpdate(float gradient) {
  WeightStore fresh(Adagrad());
  const uint64_t key = 1;
  EXPECT_TRUE(fresh.Push({&key, 1}, {&gradient, 1}).ok());
  return fresh.Lookup(key)->weight;
}

TEST(WeightStoreTest, AKeyIsAdmittedInItsKthPushedStep) {
  WeightStore store(Adagrad());
  MemoryBounds bounds;
  bounds.admit_after = 3;
  bounds.admission_filter_bytes = 1 << 16;
  store.SetMemoryBounds(bounds);
  const uint64_t key = 42;
  for (float gradient : {0.5f, -2.0f}) {
    ASSERT_TRUE(store.Push({&key, 1}, {&gradient, 1}).ok());
    EXPECT_FALSE(store.Lookup(key).has_value());  // reads 0, holds nothing
  }
  const float third = 0.25f;
  ASSERT_TRUE(store.Push({&key, 1}, {&third, 1}).ok());
  ASSERT_TRUE(store.Lookup(key).has_value());
  // Only the admitting step's gradient counts: the earlier ones were dropped.
  EXPECT_EQ(store.Lookup(key)->weight, FirstUpdate(third));
  EXPECT_EQ(store.not_admitted_updates(), 2u);
  EXPECT_EQ(store.admitted_keys(), 1u);
  // Loading a model bypasses admission.
  Entry loaded;
  loaded.key = 7;
  loaded.weight = 1;
  EXPECT_TRUE(store.Insert(loaded).ok());
  EXPECT_TRUE(store.Lookup(7).has_value());
}

TEST(WeightStoreTest, IdleKeysAreEvictedAndComeBackFresh) {
  WeightStore store(Adagrad());
  MemoryBounds bounds;
  bounds.evict_idle_steps = 8;
  store.SetMemoryBounds(bounds);
  const uint64_t idle = 1, busy = 2;
  const float gradient = 1;
  ASSERT_TRUE(store.Push({&idle, 1}, {&gradient, 1}).ok());
  for (int step = 0; step < 20; ++step) {
    ASSERT_TRUE(store.Push({&busy, 1}, {&gradient, 1}).ok());
  }
  EXPECT_FALSE(store.Lookup(idle).has_value());
  EXPECT_TRUE(store.Lookup(busy).has_value());
  EXPECT_EQ(store.evicted_keys(), 1u);
  EXPECT_EQ(store.size(), 1u);
  // As if never seen: its next update is a first one.
  const float again = -0.5f;
  ASSERT_TRUE(store.Push({&idle, 1}, {&again, 1}).ok());
  EXPECT_EQ(store.Lookup(idle)->weight, FirstUpdate(again));
}

TEST(WeightStoreTest, AFullStoreCanEvictTheLeastRecentlyUpdatedKeys) {
  constexpr size_t kLimit = 256;
  WeightStore store(Adagrad(), kLimit);
  MemoryBounds bounds;
  bounds.evict_when_full = true;
  store.SetMemoryBounds(bounds);
  const float gradient = 1;
  for (uint64_t key = 0; key < 5000; ++key) {
    ASSERT_TRUE(store.Push({&key, 1}, {&gradient, 1}).ok());
    ASSERT_LE(store.size(), kLimit);
    ASSERT_TRUE(store.Lookup(key).has_value()) << key;  // the new key is in
  }
  EXPECT_EQ(store.dropped_new_keys(), 0u);
  EXPECT_EQ(store.evicted_keys(), 5000u - store.size());
  EXPECT_GT(store.longest_eviction_pause(), absl::ZeroDuration());
  // The oldest keys went first.
  EXPECT_FALSE(store.Lookup(0).has_value());
  EXPECT_TRUE(store.Lookup(4998).has_value());
}

TEST(WeightStoreTest, ConcurrentPushesLoseNoUpdate) {
  // SGD with lr 1 and gradient -1 adds exactly 1 per push: the final weight
  // counts the pushes that reached each key.
  OptimizerOptions sgd = OptimizerOptions::Defaults(OptimizerKind::kSgd);
  sgd.learning_rate = 1;
  WeightStore store(sgd);
  constexpr int kThreads = 4, kPushes = 2000, kKeys = 64;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      std::vector<uint64_t> keys;
      std::vector<float> gradients(kKeys / 2, -1.0f);
      for (int p = 0; p < kPushes; ++p) {
        keys.clear();
        for (int k = (p + t) % 2; k < kKeys; k += 2) keys.push_back(k);
        ASSERT_TRUE(store.Push(keys, gradients).ok());
        std::vector<float> weights(keys.size());
        store.Pull(keys, absl::MakeSpan(weights));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(store.step(), static_cast<uint64_t>(kThreads * kPushes));
  double total = 0;
  store.ForEach([&](const Entry& entry) { total += entry.weight; });
  EXPECT_EQ(total, static_cast<double>(kThreads) * kPushes * kKeys / 2);
}

// Shards apply batches from several workers at once: none of a batch's
// updates may be lost, and keys new to the store grow it safely meanwhile.
TEST(WeightStoreTest, ConcurrentBatchesLoseNoUpdate) {
  OptimizerOptions sgd = OptimizerOptions::Defaults(OptimizerKind::kSgd);
  sgd.learning_rate = 1;
  WeightStore store(sgd);
  constexpr int kThreads = 4, kBatches = 200, kSteps = 16, kKeys = 32;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      std::vector<uint64_t> keys;
      std::vector<float> gradients;
      const std::vector<uint32_t> sizes(kSteps, kKeys);
      for (int b = 0; b < kBatches; ++b) {
        keys.clear();
        for (int step = 0; step < kSteps; ++step) {
          // Keys shared by every thread, and each thread's own new ones.
          for (int k = 0; k < kKeys / 2; ++k) keys.push_back(k);
          for (int k = 0; k < kKeys / 2; ++k) {
            keys.push_back(1000000 * (t + 1) + 1000 * b + 50 * step + k);
          }
        }
        gradients.assign(keys.size(), -1.0f);
        ASSERT_TRUE(store.PushSteps(keys, gradients, {}, sizes, {}).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(store.step(), static_cast<uint64_t>(kThreads * kBatches * kSteps));
  EXPECT_EQ(store.size(),
            kKeys / 2 + size_t{kThreads} * kBatches * kSteps * kKeys / 2);
  double total = 0;
  store.ForEach([&](const Entry& entry) { total += entry.weight; });
  EXPECT_EQ(total, static_cast<double>(kThreads) * kBatches * kSteps * kKeys);
}

}  // namespace
}  // namespace adaline
