#include "core/minibatch.h"

#include <vector>

#include "gtest/gtest.h"

namespace adaline {
namespace {

Example Make(float label, const std::vector<Feature>& features,
             float base = 0) {
  Example example;
  example.label = label;
  example.base = base;
  example.features = features;
  return example;
}

TEST(MinibatchTest, CollectsEachKeyOnceAndSumsTheMeanGradient) {
  Minibatch batch;
  const std::vector<Feature> a = {{7, 1}, {9, 2}, {7, 1}};  // 7 twice
  const std::vector<Feature> b = {{9, 1}};
  batch.Add(Make(1, a), true);
  batch.Add(Make(0, b), true);
  ASSERT_EQ(batch.keys().size(), 2u);
  EXPECT_EQ(batch.keys()[0], 7u);
  EXPECT_EQ(batch.keys()[1], 9u);
  batch.weights()[0] = 0.5f;    // key 7
  batch.weights()[1] = -0.25f;  // key 9
  batch.Compute(Loss::kSquared);
  EXPECT_FLOAT_EQ(batch.margin(0), 0.5f * 2 - 0.25f * 2);
  EXPECT_FLOAT_EQ(batch.margin(1), -0.25f);
  // Squared loss: d = margin - label; the gradient is the batch mean.
  const float d0 = 0.5f - 1, d1 = -0.25f - 0;
  ASSERT_EQ(batch.push_keys().size(), 2u);
  EXPECT_FLOAT_EQ(batch.push_gradients()[0], d0 * 2 / 2);
  EXPECT_FLOAT_EQ(batch.push_gradients()[1], (d0 * 2 + d1 * 1) / 2);
}

TEST(MinibatchTest, AnExampleKnownDistinctIsTakenAsItIs) {
  // The first example's keys are taken without lookups; a later example
  // still finds them.
  std::vector<Feature> a = {{7, 1}, {9, 2}};
  Example first = Make(1, a);
  first.distinct_keys = true;
  Minibatch batch;
  batch.Add(first, true);
  batch.Add(Make(0, {{9, 1}, {5, 1}}), true);
  ASSERT_EQ(batch.keys().size(), 3u);
  EXPECT_EQ(batch.keys()[0], 7u);
  EXPECT_EQ(batch.keys()[1], 9u);
  EXPECT_EQ(batch.keys()[2], 5u);
  batch.weights()[0] = 1;
  batch.weights()[1] = 2;
  batch.weights()[2] = 4;
  batch.Compute(Loss::kSquared);
  EXPECT_FLOAT_EQ(batch.margin(0), 1 + 2 * 2);
  EXPECT_FLOAT_EQ(batch.margin(1), 2 + 4);
}

TEST(MinibatchTest, TheBaseStartsTheMargin) {
  Minibatch batch;
  const std::vector<Feature> features = {{7, 2}};
  batch.Add(Make(1, features, /*base=*/0.75f), /*learn=*/true);
  batch.weights()[0] = 0.5f;
  batch.Compute(Loss::kSquared);
  EXPECT_FLOAT_EQ(batch.margin(0), 0.75f + 0.5f * 2);
  // The gradient is of the loss at that margin.
  EXPECT_FLOAT_EQ(batch.push_gradients()[0], (0.75f + 1 - 1) * 2);
}

TEST(MinibatchTest, OverflowingGradientsSitTheStepOutAndAreCounted) {
  Minibatch batch;
  const std::vector<Feature> absurd = {{3, 3e38f}, {4, 1}};
  batch.Add(Make(-1e30f, absurd), true);
  batch.weights()[0] = 0;
  batch.weights()[1] = 0;
  batch.Compute(Loss::kSquared);
  // d = 0 - (-1e30): key 3's gradient 1e30 * 3e38 overflows; key 4's,
  // 1e30, is finite but beyond kMaxGradient, and is clipped to it.
  ASSERT_EQ(batch.push_keys().size(), 1u);
  EXPECT_EQ(batch.push_keys()[0], 4u);
  EXPECT_FLOAT_EQ(batch.push_gradients()[0], kMaxGradient);
  EXPECT_EQ(batch.non_finite_gradients(), 1u);
  EXPECT_EQ(batch.clipped_gradients(), 1u);
}

TEST(MinibatchTest, HeldOutExamplesAreScoredButNotLearned) {
  Minibatch batch;
  const std::vector<Feature> a = {{1, 1}};
  const std::vector<Feature> b = {{2, 1}};
  batch.Add(Make(1, a), true);
  batch.Add(Make(1, b), false);
  EXPECT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.learning_examples(), 1u);
  batch.weights()[0] = 0;
  batch.weights()[1] = 3;
  batch.Compute(Loss::kSquared);
  EXPECT_FLOAT_EQ(batch.margin(1), 3);
  ASSERT_EQ(batch.push_keys().size(), 1u);
  EXPECT_EQ(batch.push_keys()[0], 1u);
}

TEST(MinibatchTest, ImportanceScalesTheGradientAndZeroGradientsAreNotPushed) {
  Minibatch batch;
  const std::vector<Feature> a = {{1, 1}};
  Example heavy = Make(1, a);
  heavy.importance = 4;
  batch.Add(heavy, true);
  batch.weights()[0] = 1;  // squared loss, margin == label: gradient 0
  batch.Compute(Loss::kSquared);
  EXPECT_TRUE(batch.push_keys().empty());
  batch.Clear();
  batch.Add(heavy, true);
  batch.weights()[0] = 0;
  batch.Compute(Loss::kSquared);
  ASSERT_EQ(batch.push_gradients().size(), 1u);
  EXPECT_FLOAT_EQ(batch.push_gradients()[0], -4);
}

TEST(MinibatchTest, ScalesStayBesideTheirKeysWhenKeysSitTheStepOut) {
  Minibatch batch;
  // Key 5 has value 0 (gradient 0), key 3 overflows, keys 8 and 9 learn.
  const std::vector<Feature> features = {
      {5, 0}, {3, 3e38f}, {8, -2}, {9, 0.5f}};
  batch.Add(Make(-1e30f, features), true);
  for (float& weight : batch.weights()) weight = 0;
  batch.Compute(Loss::kSquared, /*scales=*/true);
  ASSERT_EQ(batch.push_keys().size(), 2u);
  ASSERT_EQ(batch.push_scales().size(), 2u);
  EXPECT_EQ(batch.push_keys()[0], 8u);
  EXPECT_FLOAT_EQ(batch.push_scales()[0], 2);
  EXPECT_EQ(batch.push_keys()[1], 9u);
  EXPECT_FLOAT_EQ(batch.push_scales()[1], 0.5f);
  // A later batch with fewer keys leaves nothing of this one behind.
  batch.Clear();
  const std::vector<Feature> one = {{4, 1}};
  batch.Add(Make(1, one), true);
  batch.weights()[0] = 0;
  batch.Compute(Loss::kSquared, /*scales=*/true);
  ASSERT_EQ(batch.push_keys().size(), 1u);
  ASSERT_EQ(batch.push_gradients().size(), 1u);
  ASSERT_EQ(batch.push_scales().size(), 1u);
  EXPECT_EQ(batch.push_keys()[0], 4u);
  EXPECT_FLOAT_EQ(batch.push_gradients()[0], -1);
}

TEST(MinibatchTest, ClearingForgetsKeysEvenAfterManyBatches) {
  Minibatch batch;
  for (uint64_t round = 0; round < 1000; ++round) {
    batch.Clear();
    std::vector<Feature> features;
    for (uint64_t k = 0; k < 50; ++k) features.push_back({round * 100 + k, 1});
    batch.Add(Make(1, features), true);
    ASSERT_EQ(batch.keys().size(), 50u);
    EXPECT_EQ(batch.keys()[0], round * 100);
  }
}

}  // namespace
}  // namespace adaline
