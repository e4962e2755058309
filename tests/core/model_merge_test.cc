// Merging shard models: every entry and name once, the latest step, and
// refusals for parts that cannot be one model.
#include "core/model_merge.h"

#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace adaline {
namespace {

// A model of `kind` that took one step on each of `keys`.
Model Part(std::vector<uint64_t> keys, int extra_steps = 0,
           OptimizerKind kind = OptimizerKind::kAdagrad) {
  Model model;
  model.config.optimizer = OptimizerOptions::Defaults(kind);
  model.store = std::make_unique<WeightStore>(model.config.optimizer);
  for (uint64_t key : keys) {
    const uint64_t one[] = {key};
    const float gradient[] = {0.5f};
    EXPECT_TRUE(model.store->Push(one, gradient).ok());
    model.names.Add(key, absl::StrCat("f^", key));
  }
  for (int i = 0; i < extra_steps; ++i) {
    EXPECT_TRUE(model.store->Push({}, {}).ok());
  }
  return model;
}

std::vector<Model> Parts(Model a, Model b) {
  std::vector<Model> parts;
  parts.push_back(std::move(a));
  parts.push_back(std::move(b));
  return parts;
}

// Part() as shard `index` of `count`.
Model Shard(std::vector<uint64_t> keys, uint32_t index, uint32_t count) {
  Model model = Part(std::move(keys));
  model.shard_index = index;
  model.shard_count = count;
  return model;
}

TEST(MergeModelsTest, ShardCheckpointsMustBeEveryShardOnce) {
  std::vector<Model> whole;
  whole.push_back(Shard({1}, 0, 3));
  whole.push_back(Shard({2}, 1, 3));
  whole.push_back(Shard({3}, 2, 3));
  EXPECT_TRUE(MergeModels(std::move(whole), {"a", "b", "c"}).ok());

  EXPECT_THAT(
      MergeModels(Parts(Shard({1}, 0, 3), Shard({3}, 2, 3)), {"a", "c"}),
      HasMessage("shard 1 of 3 missing"));
  EXPECT_THAT(
      MergeModels(Parts(Shard({1}, 1, 2), Shard({3}, 1, 2)), {"a", "b"}),
      HasMessage("b and a are both shard 1 of 2"));
  EXPECT_THAT(
      MergeModels(Parts(Shard({1}, 0, 2), Shard({3}, 1, 3)), {"a", "b"}),
      HasMessage("b is shard 1 of 3 but a is one of 2"));
  EXPECT_THAT(MergeModels(Parts(Shard({1}, 0, 2), Part({3})), {"a", "b"}),
              HasMessage("some files are shard checkpoints and some are not"));
}

TEST(MergeModelsTest, KeepsEveryEntryAndNameAtTheLatestStep) {
  Model a = Part({2, 4});
  Model b = Part({1}, /*extra_steps=*/3);
  const float weight_of_4 = a.store->Lookup(4)->weight;
  absl::StatusOr<Model> merged =
      MergeModels(Parts(std::move(a), std::move(b)), {"a", "b"});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->store->size(), 3u);
  EXPECT_EQ(merged->store->step(), 4u);
  EXPECT_EQ(merged->store->Lookup(4)->weight, weight_of_4);
  EXPECT_EQ(merged->names.size(), 3u);
}

TEST(MergeModelsTest, RefusesAKeyHeldTwice) {
  absl::StatusOr<Model> merged =
      MergeModels(Parts(Part({1, 2}), Part({2})), {"a.model", "b.model"});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged,
              HasMessage("key 2 of b.model is also in an earlier file"));
}

TEST(MergeModelsTest, RefusesPartsOfOtherSettings) {
  absl::StatusOr<Model> merged = MergeModels(
      Parts(Part({1}), Part({2}, 0, OptimizerKind::kSgd)), {"a", "b"});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(
      merged,
      HasMessage("b was trained with other settings than a: --optimizer"));
}

TEST(MergeModelsTest, RefusesShardsAtStepsTooFarApart) {
  // One shard restarted empty: a few steps against a thousand.
  absl::StatusOr<Model> merged = MergeModels(
      Parts(Part({1}, /*extra_steps=*/1000), Part({2}, /*extra_steps=*/5)),
      {"a", "b"});
  EXPECT_THAT(merged, HasMessage("a at step 1001, b at step 6"));
  EXPECT_THAT(merged, HasMessage("--allow-shard-reset"));
  MergeOptions allow;
  allow.allow_step_mismatch = true;
  EXPECT_TRUE(
      MergeModels(Parts(Part({1}, 1000), Part({2}, 5)), {"a", "b"}, allow)
          .ok());
  // A few batches that a crash cut off are fine.
  EXPECT_TRUE(CheckShardSteps({100000, 99500}, {"a", "b"}).ok());
  EXPECT_FALSE(CheckShardSteps({100000, 98000}, {"a", "b"}).ok());
}

TEST(MergeModelsTest, RefusesNothing) {
  EXPECT_FALSE(MergeModels({}, {}).ok());
  EXPECT_FALSE(MergeModelFiles({}).ok());
}

TEST(MergeModelFilesTest, NamesTheFileThatCannotBeRead) {
  absl::StatusOr<Model> merged = MergeModelFiles({"/nonexistent/a.model"});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged, HasMessage("/nonexistent/a.model"));
}

}  // namespace
}  // namespace adaline
