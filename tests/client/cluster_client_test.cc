// ClusterClient against two in-process shards: stats in shard order, the
// layout check, names routed to their owners, checkpoints on every shard.
#include "client/cluster_client.h"

#include <map>

#include "core/feature_key.h"
#include "data/parser.h"
#include "gtest/gtest.h"
#include "tests/shard_fixture.h"
#include "tests/status_matchers.h"
#include "tests/test_files.h"

namespace adaline {
namespace {

TEST(ClusterClientTest, StatsComeInShardOrderAndTheLayoutIsChecked) {
  InProcessShard shard0{ShardOptions(0, 2)}, shard1{ShardOptions(1, 2)};
  ClusterClient cluster({shard0.channel(), shard1.channel()}, {"a", "b"},
                        QuietClient(absl::Seconds(2)));
  absl::StatusOr<std::vector<adaline::v1::StatsResponse>> stats =
      cluster.Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->size(), 2u);
  EXPECT_EQ((*stats)[0].shard_index(), 0u);
  EXPECT_EQ((*stats)[1].shard_index(), 1u);
  EXPECT_TRUE(cluster.CheckLayout(*stats).ok());

  ClusterClient swapped({shard1.channel(), shard0.channel()}, {"b", "a"},
                        QuietClient(absl::Seconds(2)));
  absl::Status wrong = swapped.CheckLayout(*swapped.Stats());
  EXPECT_FALSE(wrong.ok());
  EXPECT_THAT(
      wrong,
      HasMessage("the server at b is shard 1/2 but is listed at position 0"));
}

TEST(ClusterClientTest, NamesAreAskedOfTheShardThatOwnsThem) {
  InProcessShard shard0{ShardOptions(0, 2)}, shard1{ShardOptions(1, 2)};
  InProcessShard* shards[] = {&shard0, &shard1};
  // Two names, found until each lives on another shard.
  std::vector<std::string> names;
  for (int i = 0; names.size() < 2; ++i) {
    const std::string name = absl::StrCat("user^id_", i);
    if (ShardOf(FeatureKeyForName(name), 2) == names.size())
      names.push_back(name);
  }
  for (size_t s = 0; s < 2; ++s) {
    adaline::v1::PushResponse response;
    ASSERT_TRUE(
        shards[s]
            ->Push({Batch({FeatureKeyForName(names[s])}, {-1})}, &response)
            .ok());
  }
  ClusterClient cluster({shard0.channel(), shard1.channel()}, {"a", "b"},
                        QuietClient(absl::Seconds(2)));
  const absl::StatusOr<std::vector<adaline::v1::StatsResponse>> stats =
      cluster.Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  const std::vector<ClusterClient::QueryAnswer> answers =
      cluster.Query(names, *stats);
  ASSERT_EQ(answers.size(), 2u);
  for (size_t s = 0; s < 2; ++s) {
    EXPECT_EQ(answers[s].shard, s);
    ASSERT_TRUE(answers[s].status.ok()) << answers[s].status;
    ASSERT_EQ(answers[s].response.features_size(), 1);
    EXPECT_EQ(answers[s].response.features(0).name(), names[s]);
    EXPECT_TRUE(answers[s].response.features(0).present());
    EXPECT_EQ(answers[s].state_names,
              (std::vector<std::string>{"accumulator", "scale"}));
  }
  // A shard asked nothing gives no answer.
  EXPECT_EQ(cluster.Query({names[1]}, *stats).size(), 1u);
}

TEST(ClusterClientTest, CheckpointsEveryShardAndSaysWhichFailed) {
  TemporaryDirectory dir;
  InProcessShard shard0{ShardOptions(0, 2, dir.File("s0"))};
  InProcessShard shard1{ShardOptions(1, 2)};  // no checkpoint directory
  ClusterClient cluster({shard0.channel(), shard1.channel()}, {"a", "b"},
                        QuietClient(absl::Seconds(2)));
  const auto outcomes = cluster.Checkpoint();
  ASSERT_EQ(outcomes.size(), 2u);
  ASSERT_TRUE(outcomes[0].ok()) << outcomes[0].status();
  EXPECT_NE(outcomes[0]->path().find(dir.File("s0")), std::string::npos);
  EXPECT_TRUE(absl::IsFailedPrecondition(outcomes[1].status()))
      << outcomes[1].status();
}

TEST(ClusterClientTest, PredictionsAddUpEveryShardsPart) {
  InProcessShard shard0{ShardOptions(0, 2)}, shard1{ShardOptions(1, 2)};
  InProcessShard* shards[] = {&shard0, &shard1};
  const std::vector<std::string> lines = {"1 |user id_1 |movie id_7",
                                          "-1 1 0.5 |movie id_7 genre_2:2"};
  ParseOptions parse;
  parse.require_label = false;
  ExampleBlock block;
  for (const std::string& line : lines) {
    ASSERT_TRUE(ParseLine(Format::kVw, line, parse, &block).ok());
  }
  // Every key gets a weight on the shard that owns it.
  std::map<uint64_t, float> weights;
  for (size_t i = 0; i < block.size(); ++i) {
    for (const Feature& feature : block.example(i).features) {
      weights[feature.key] = 0;
    }
  }
  std::vector<uint64_t> owned[2];
  for (const auto& [key, weight] : weights)
    owned[ShardOf(key, 2)].push_back(key);
  ASSERT_FALSE(owned[0].empty());
  ASSERT_FALSE(owned[1].empty());
  for (size_t s = 0; s < 2; ++s) {
    adaline::v1::PushResponse pushed;
    ASSERT_TRUE(shards[s]
                    ->Push({Batch(owned[s],
                                  std::vector<float>(owned[s].size(), -1.0f))},
                           &pushed)
                    .ok());
    for (uint64_t key : owned[s]) {
      weights[key] = shards[s]->store().Lookup(key)->weight;
      EXPECT_NE(weights[key], 0);
    }
  }
  ClusterClient cluster({shard0.channel(), shard1.channel()}, {"a", "b"},
                        QuietClient(absl::Seconds(2)));
  absl::StatusOr<ClusterClient::Margins> from_lines = cluster.Predict(lines);
  ASSERT_TRUE(from_lines.ok()) << from_lines.status();
  std::vector<Example> examples;
  for (size_t i = 0; i < block.size(); ++i)
    examples.push_back(block.example(i));
  absl::StatusOr<ClusterClient::Margins> from_keys = cluster.Predict(examples);
  ASSERT_TRUE(from_keys.ok()) << from_keys.status();
  EXPECT_EQ(from_lines->loss, "logistic");
  ASSERT_EQ(from_lines->margins.size(), 2u);
  ASSERT_EQ(from_keys->margins.size(), 2u);
  for (size_t i = 0; i < block.size(); ++i) {
    const Example example = block.example(i);
    float expected = example.base;
    for (const Feature& feature : example.features) {
      expected += weights[feature.key] * feature.value;
    }
    EXPECT_NEAR(from_lines->margins[i], expected, 1e-6) << i;
    EXPECT_NEAR(from_keys->margins[i], expected, 1e-6) << i;
  }
}

TEST(ClusterClientTest, AnUnreachableShardIsNamed) {
  const ClientOptions options = QuietClient(absl::Milliseconds(200));
  ClusterClient cluster(std::vector<std::string>{"127.0.0.1:1"}, options);
  absl::StatusOr<std::vector<adaline::v1::StatsResponse>> stats =
      cluster.Stats();
  ASSERT_FALSE(stats.ok());
  EXPECT_THAT(stats, HasMessage("shard 0 at 127.0.0.1:1"));
}

}  // namespace
}  // namespace adaline
