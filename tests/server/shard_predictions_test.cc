// A shard's part of each margin: over the keys it owns, the base on shard 0
// only, lines parsed with the model's own settings, and bad requests refused
// with a message that names the problem.
#include "server/shard_predictions.h"

#include <string>
#include <vector>

#include "core/feature_key.h"
#include "data/example_block.h"
#include "data/parser.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace adaline {
namespace {

using adaline::v1::PredictRequest;
using adaline::v1::PredictResponse;

constexpr size_t kMaxKeys = 1000;

const std::vector<std::string> kLines = {
    "1 |user id_1 age_3 |movie id_7 genre_2:0.5",
    "-1 0.5 0.25 'tagged|user id_2 age_3 |movie id_8 genre_2",
    "|movie id_7 genre_9:2",
};

ModelConfig Config(const std::vector<std::string>& interactions = {}) {
  ModelConfig config;
  config.optimizer = OptimizerOptions::Defaults(OptimizerKind::kAdagrad);
  absl::StatusOr<Interactions> parsed = Interactions::Parse(interactions);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  config.interactions = *parsed;
  return config;
}

// The lines as the trainer parses them with `config`.
ExampleBlock Parse(const std::vector<std::string>& lines,
                   const ModelConfig& config) {
  ParseOptions options;
  options.binary_labels = false;
  options.require_label = false;
  options.bias = config.bias;
  options.interactions = config.interactions;
  ExampleBlock block;
  for (const std::string& line : lines) {
    EXPECT_TRUE(ParseLine(Format::kVw, line, options, &block).ok()) << line;
  }
  return block;
}

// A store in which every key of `block` has a weight of its own.
std::unique_ptr<WeightStore> StoreWithWeights(const ModelConfig& config,
                                              const ExampleBlock& block) {
  auto store = std::make_unique<WeightStore>(config.optimizer);
  float weight = 0.125f;
  for (size_t i = 0; i < block.size(); ++i) {
    for (const Feature& feature : block.example(i).features) {
      if (store->Lookup(feature.key).has_value()) continue;
      Entry entry;
      entry.key = feature.key;
      entry.weight = weight;
      entry.state[0] = 1;
      EXPECT_TRUE(store->Insert(entry).ok());
      weight = -weight * 1.5f;
    }
  }
  return store;
}

// The margin of example i: base plus weight x value, in feature order.
float LocalMargin(const ExampleBlock& block, size_t i,
                  const WeightStore& store) {
  const Example example = block.example(i);
  float margin = example.base;
  for (const Feature& feature : example.features) {
    margin += store.Lookup(feature.key)->weight * feature.value;
  }
  return margin;
}

PredictRequest LinesRequest(const std::vector<std::string>& lines) {
  PredictRequest request;
  for (const std::string& line : lines) request.add_lines(line);
  return request;
}

TEST(ShardPredictionsTest, OneShardGivesTheLocalMarginsExactly) {
  const ModelConfig config = Config();
  const ExampleBlock block = Parse(kLines, config);
  std::unique_ptr<WeightStore> store = StoreWithWeights(config, block);
  PredictResponse response;
  ASSERT_TRUE(AnswerPredict(LinesRequest(kLines), config, ShardSpec{0, 1},
                            kMaxKeys, *store, &response)
                  .ok());
  ASSERT_EQ(response.margins_size(), 3);
  for (size_t i = 0; i < kLines.size(); ++i) {
    EXPECT_EQ(response.margins(i), LocalMargin(block, i, *store)) << i;
  }
  EXPECT_EQ(response.loss(), "logistic");
  // The second line's base (0.25) is part of its margin.
  EXPECT_NE(block.example(1).base, 0);
}

TEST(ShardPredictionsTest, TheShardsPartsAddUpToTheMarginWithTheBaseOnce) {
  const ModelConfig config = Config();
  const ExampleBlock block = Parse(kLines, config);
  std::unique_ptr<WeightStore> store = StoreWithWeights(config, block);
  // Each shard reads only its own keys from the store, so one store that
  // holds every key stands in for three shards.
  std::vector<float> sums(kLines.size(), 0.0f);
  int shards_with_keys = 0;
  for (uint32_t s = 0; s < 3; ++s) {
    PredictResponse part;
    ASSERT_TRUE(AnswerPredict(LinesRequest(kLines), config, ShardSpec{s, 3},
                              kMaxKeys, *store, &part)
                    .ok());
    bool nonzero = false;
    for (size_t i = 0; i < kLines.size(); ++i) {
      sums[i] += part.margins(i);
      nonzero |= part.margins(i) != 0;
    }
    shards_with_keys += nonzero;
  }
  EXPECT_EQ(shards_with_keys, 3);
  for (size_t i = 0; i < kLines.size(); ++i) {
    EXPECT_NEAR(sums[i], LocalMargin(block, i, *store), 1e-6) << i;
  }
}

TEST(ShardPredictionsTest, LinesAreParsedWithTheModelsCrosses) {
  const ModelConfig crossed = Config({"um"});
  const ExampleBlock block = Parse(kLines, crossed);
  std::unique_ptr<WeightStore> store = StoreWithWeights(crossed, block);
  PredictResponse with_crosses, without;
  ASSERT_TRUE(AnswerPredict(LinesRequest(kLines), crossed, ShardSpec{0, 1},
                            kMaxKeys, *store, &with_crosses)
                  .ok());
  ASSERT_TRUE(AnswerPredict(LinesRequest(kLines), Config(), ShardSpec{0, 1},
                            kMaxKeys, *store, &without)
                  .ok());
  for (size_t i = 0; i < kLines.size(); ++i) {
    EXPECT_EQ(with_crosses.margins(i), LocalMargin(block, i, *store)) << i;
  }
  // The first two lines have user and movie features, so crosses.
  EXPECT_NE(with_crosses.margins(0), without.margins(0));
  EXPECT_NE(with_crosses.margins(1), without.margins(1));
  // The third has no user namespace: nothing to cross.
  EXPECT_EQ(with_crosses.margins(2), without.margins(2));
}

TEST(ShardPredictionsTest, HashedExamplesScoreLikeTheirLines) {
  const ModelConfig config = Config();
  const ExampleBlock block = Parse(kLines, config);
  std::unique_ptr<WeightStore> store = StoreWithWeights(config, block);
  PredictRequest hashed;
  for (size_t i = 0; i < block.size(); ++i) {
    const Example example = block.example(i);
    hashed.add_sizes(static_cast<uint32_t>(example.features.size()));
    hashed.add_bases(example.base);
    for (const Feature& feature : example.features) {
      hashed.add_keys(feature.key);
      hashed.add_values(feature.value);
    }
  }
  PredictResponse from_lines, from_keys;
  ASSERT_TRUE(AnswerPredict(LinesRequest(kLines), config, ShardSpec{0, 1},
                            kMaxKeys, *store, &from_lines)
                  .ok());
  ASSERT_TRUE(AnswerPredict(hashed, config, ShardSpec{0, 1}, kMaxKeys, *store,
                            &from_keys)
                  .ok());
  ASSERT_EQ(from_keys.margins_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(from_keys.margins(i), from_lines.margins(i)) << i;
  }
}

TEST(ShardPredictionsTest, UnknownKeysReadZeroAndAreNotCreated) {
  const ModelConfig config = Config();
  WeightStore store(config.optimizer);
  PredictResponse response;
  ASSERT_TRUE(AnswerPredict(LinesRequest(kLines), config, ShardSpec{0, 1},
                            kMaxKeys, store, &response)
                  .ok());
  EXPECT_EQ(response.margins(0), 0);
  EXPECT_EQ(response.margins(1), 0.25f);  // the base alone
  EXPECT_EQ(store.size(), 0u);
}

TEST(ShardPredictionsTest, BadRequestsAreRefusedNamingTheProblem) {
  const ModelConfig config = Config();
  WeightStore store(config.optimizer);
  PredictResponse response;
  auto answer = [&](const PredictRequest& request) {
    return AnswerPredict(request, config, ShardSpec{0, 1}, /*max_keys=*/8,
                         store, &response);
  };
  EXPECT_THAT(answer(LinesRequest({"1 |a x", "1 |a x:abc"})),
              HasMessage("line 1 of the request"));
  EXPECT_THAT(answer(LinesRequest({"1 |a x", "  "})),
              HasMessage("line 1 of the request is blank"));
  EXPECT_THAT(answer(LinesRequest({"1 |a b c d e f g h i j"})),
              HasMessage("at most 8 are allowed"));

  PredictRequest both = LinesRequest({"1 |a x"});
  both.add_keys(1);
  both.add_values(1);
  both.add_sizes(1);
  EXPECT_THAT(answer(both), HasMessage("both lines and hashed examples"));

  PredictRequest hashed;
  hashed.add_keys(1);
  hashed.add_keys(2);
  hashed.add_values(1);
  EXPECT_THAT(answer(hashed), HasMessage("2 keys but 1 values"));
  hashed.add_values(std::nanf(""));
  hashed.add_sizes(1);
  EXPECT_THAT(answer(hashed), HasMessage("sizes add up to 1 but it has 2"));
  hashed.set_sizes(0, 2);
  EXPECT_THAT(answer(hashed), HasMessage("values must be finite"));
  hashed.set_values(1, 1);
  hashed.add_bases(0);
  hashed.add_bases(0);
  EXPECT_THAT(answer(hashed), HasMessage("1 examples but 2 bases"));
  hashed.mutable_bases()->RemoveLast();
  EXPECT_TRUE(answer(hashed).ok());
}

}  // namespace
}  // namespace adaline
