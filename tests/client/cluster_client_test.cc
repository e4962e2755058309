// ClusterClient against two in-process shards: stats in shard order, the
// layout check, names routed to their owners, checkpoints on every shard.
#include "client/cluster_client.h"

#include "core/feature_key.h"
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
