// WeightStore::LearnExample, the local learner's step for batches of one,
// is Pull + Minibatch + Push in one pass: the same margins, the same model
// bit for bit, the same counts, for every optimizer, with and without
// --normalized and regularisation, on examples with rare features, held-out
// ones and absurd values.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/minibatch.h"
#include "core/parameters.h"
#include "core/weight_store.h"
#include "gtest/gtest.h"

namespace adaline {
namespace {

struct Setting {
  std::string name;
  OptimizerOptions options;
  Loss loss;
};

std::vector<Setting> Settings() {
  std::vector<Setting> settings;
  const OptimizerKind kinds[] = {
      OptimizerKind::kSgd,      OptimizerKind::kMomentum,
      OptimizerKind::kAdagrad,  OptimizerKind::kRmsprop,
      OptimizerKind::kAdadelta, OptimizerKind::kAdam,
      OptimizerKind::kAmsgrad,  OptimizerKind::kNadam,
      OptimizerKind::kFtrl};
  for (const OptimizerKind kind : kinds) {
    const std::string name(OptimizerName(kind));
    OptimizerOptions plain = OptimizerOptions::Defaults(kind);
    settings.push_back({name, plain, Loss::kLogistic});
    OptimizerOptions regularised = plain;
    regularised.l1 = 1e-3;
    regularised.l2 = 1e-2;
    settings.push_back({name + "_l1_l2", regularised, Loss::kSquared});
    if (kind == OptimizerKind::kSgd || kind == OptimizerKind::kAdagrad) {
      OptimizerOptions normalized = plain;
      normalized.normalized = true;
      settings.push_back({name + "_normalized", normalized, Loss::kLogistic});
      normalized.l1 = 1e-3;
      settings.push_back(
          {name + "_normalized_l1_squared", normalized, Loss::kSquared});
    }
  }
  return settings;
}

// Examples with distinct keys: a few common features, rare ones that sit
// idle for thousands of steps, values of every scale, every seventh held
// out, now and then a value whose gradient overflows or is clipped, and now
// and then no feature at all.
struct TestExample {
  Example example;
  std::vector<Feature> features;
  bool learn;
};

std::vector<TestExample> MakeExamples(int count, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> unit(0, 1);
  std::vector<TestExample> examples(count);
  for (int n = 0; n < count; ++n) {
    TestExample& e = examples[n];
    std::map<uint64_t, float> features;
    for (int common = 0; common < 4; ++common) {
      features[1 + random() % 20] = unit(random) * 4 - 2;
    }
    if (unit(random) < 0.05f) features[1000 + random() % 50] = 1;
    if (unit(random) < 0.3f) features[100 + random() % 30] = unit(random) * 900;
    if (n % 97 == 0) features[7777] = 3e38f;  // its gradient overflows
    if (n % 89 == 0) features[8888] = 1e20f;  // clipped
    if (n % 53 == 0) features.clear();        // nothing but the base
    for (const auto& [key, value] : features)
      e.features.push_back({key, value});
    e.example.label = unit(random) < 0.5f ? -1.0f : 1.0f;
    e.example.importance = n % 5 == 0 ? 2.0f : 1.0f;
    e.example.base = n % 11 == 0 ? 0.25f : 0.0f;
    e.example.distinct_keys = true;
    e.learn = n % 7 != 3;
  }
  for (TestExample& e : examples) e.example.features = e.features;
  return examples;
}

// Every entry of a store, caught up to its step, by key.
std::map<uint64_t, Entry> Entries(const WeightStore& store) {
  std::map<uint64_t, Entry> entries;
  store.ForEach(
      [&](const Entry& entry) { entries[entry.key] = store.CaughtUp(entry); });
  return entries;
}

bool SameBits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(LearnExampleTest, EqualsPullMinibatchPushBitForBit) {
  const std::vector<TestExample> examples = MakeExamples(6000, 17);
  for (const Setting& setting : Settings()) {
    SCOPED_TRACE(setting.name);
    WeightStore general(setting.options);
    WeightStore fused(setting.options);
    general.SetSharedBetweenThreads(false);
    fused.SetSharedBetweenThreads(false);
    StoreParameters parameters(&general);
    const bool scales = parameters.wants_scales();
    Minibatch batch;
    uint64_t non_finite = 0, clipped = 0;
    for (size_t n = 0; n < examples.size(); ++n) {
      const TestExample& e = examples[n];
      batch.Add(e.example, e.learn);
      ASSERT_TRUE(parameters.Pull(batch.keys(), batch.weights()).ok());
      batch.Compute(setting.loss, scales);
      if (e.learn) {
        ASSERT_TRUE(parameters
                        .Push(batch.push_keys(), batch.push_gradients(),
                              batch.push_scales())
                        .ok());
      }
      const WeightStore::ExampleResult result = fused.LearnExample(
          e.example.features, e.example.base, e.example.label,
          e.example.importance, setting.loss, e.learn, scales);
      non_finite += result.non_finite_gradients;
      clipped += result.clipped_gradients;
      ASSERT_TRUE(SameBits(result.margin, batch.margin(0))) << "example " << n;
      if (e.learn) {
        ASSERT_EQ(result.step, general.step());
      }
      batch.Clear();
    }
    EXPECT_EQ(fused.step(), general.step());
    EXPECT_EQ(fused.norm_sum(), general.norm_sum());
    EXPECT_EQ(non_finite, batch.non_finite_gradients());
    EXPECT_EQ(clipped, batch.clipped_gradients());
    EXPECT_GT(non_finite, 0u);
    EXPECT_GT(clipped, 0u);
    const std::map<uint64_t, Entry> expected = Entries(general);
    const std::map<uint64_t, Entry> actual = Entries(fused);
    ASSERT_EQ(actual.size(), expected.size());
    const int width = general.optimizer().state_width();
    for (const auto& [key, entry] : expected) {
      const Entry& other = actual.at(key);
      EXPECT_TRUE(SameBits(other.weight, entry.weight)) << "key " << key;
      for (int s = 0; s < width; ++s) {
        EXPECT_TRUE(SameBits(other.state[s], entry.state[s]))
            << "key " << key << " state " << s;
      }
    }
  }
}

// A store with a key limit drops the same new keys either way.
TEST(LearnExampleTest, AKeyLimitDropsTheSameKeys) {
  const std::vector<TestExample> examples = MakeExamples(3000, 5);
  const OptimizerOptions options =
      OptimizerOptions::Defaults(OptimizerKind::kAdagrad);
  WeightStore general(options, /*max_keys=*/30);
  WeightStore fused(options, /*max_keys=*/30);
  StoreParameters parameters(&general);
  Minibatch batch;
  for (const TestExample& e : examples) {
    batch.Add(e.example, true);
    ASSERT_TRUE(parameters.Pull(batch.keys(), batch.weights()).ok());
    batch.Compute(Loss::kLogistic);
    ASSERT_TRUE(
        parameters.Push(batch.push_keys(), batch.push_gradients()).ok());
    batch.Clear();
    fused.LearnExample(e.example.features, e.example.base, e.example.label,
                       e.example.importance, Loss::kLogistic, true, false);
  }
  EXPECT_EQ(fused.size(), 30u);
  EXPECT_EQ(fused.dropped_new_keys(), general.dropped_new_keys());
  EXPECT_GT(fused.dropped_new_keys(), 0u);
  const std::map<uint64_t, Entry> expected = Entries(general);
  const std::map<uint64_t, Entry> actual = Entries(fused);
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto& [key, entry] : expected) {
    EXPECT_TRUE(SameBits(actual.at(key).weight, entry.weight)) << key;
  }
}

}  // namespace
}  // namespace adaline
