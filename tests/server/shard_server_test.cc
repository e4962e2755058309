// ShardServer: the one way a shard runs. It listens, restores the newest
// checkpoint that matches its settings, writes checkpoints, and shuts down
// with a final one.
#include "server/shard_server.h"

#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "client/channel.h"
#include "core/feature_key.h"
#include "gtest/gtest.h"
#include "server/checkpointer.h"
#include "server/directory_lock.h"
#include "tests/shard_fixture.h"
#include "tests/status_matchers.h"
#include "tests/test_files.h"

namespace adaline {
namespace {

ShardServerOptions Options(const std::string& checkpoint_dir = "") {
  ShardServerOptions options;
  options.config.optimizer =
      OptimizerOptions::Defaults(OptimizerKind::kAdagrad);
  options.service.checkpoint_dir = checkpoint_dir;
  options.log = nullptr;
  return options;
}

adaline::v1::StatsResponse StatsOver(std::shared_ptr<grpc::Channel> channel) {
  auto stub = adaline::v1::ParameterServer::NewStub(channel);
  grpc::ClientContext context;
  adaline::v1::StatsResponse stats;
  EXPECT_TRUE(stub->Stats(&context, adaline::v1::StatsRequest(), &stats).ok());
  return stats;
}

void PushOneBatch(std::shared_ptr<grpc::Channel> channel, uint64_t key) {
  auto stub = adaline::v1::ParameterServer::NewStub(channel);
  grpc::ClientContext context;
  adaline::v1::PushResponse response;
  auto stream = stub->Push(&context, &response);
  ASSERT_TRUE(stream->Write(Batch({key}, {1})));
  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());
}

TEST(ShardServerTest, ListensOnAPickedPortOfLoopback) {
  absl::StatusOr<std::unique_ptr<ShardServer>> server =
      ShardServer::Start(Options());
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->port(), 0);
  EXPECT_EQ((*server)->address(),
            absl::StrCat("127.0.0.1:", (*server)->port()));
  const adaline::v1::StatsResponse stats =
      StatsOver(MakeChannel((*server)->address(), ChannelOptions()));
  EXPECT_EQ(stats.optimizer().name(), "adagrad");
  EXPECT_EQ(stats.shard_count(), 1u);
}

TEST(ShardServerTest, RefusesToListenBeyondLoopbackWithoutTokens) {
  ShardServerOptions options = Options();
  options.listen = "0.0.0.0:0";
  absl::StatusOr<std::unique_ptr<ShardServer>> refused =
      ShardServer::Start(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused, HasMessage("--insecure-listen-anywhere"));
  options.service = WithTestTokens();
  EXPECT_TRUE(ShardServer::Start(options).ok());
}

TEST(ShardServerTest, RefusesLimitsThatCannotServe) {
  ShardServerOptions options = Options();
  options.service.max_push_streams = 0;
  EXPECT_FALSE(ShardServer::Start(options).ok());
  options = Options();
  options.max_message_bytes = 0;
  EXPECT_FALSE(ShardServer::Start(options).ok());
  options = Options();
  options.checkpoint_every = absl::Seconds(-1);
  EXPECT_FALSE(ShardServer::Start(options).ok());
}

TEST(ShardServerTest, ShutdownWritesAFinalCheckpointThatTheNextStartRestores) {
  TemporaryDirectory dir;
  const std::string checkpoints = dir.File("shard");
  {
    absl::StatusOr<std::unique_ptr<ShardServer>> server =
        ShardServer::Start(Options(checkpoints));
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_FALSE((*server)->restored_from().has_value());
    PushOneBatch((*server)->InProcessChannel(), 7);
    PushOneBatch((*server)->InProcessChannel(), 8);
    auto written = (*server)->Shutdown();
    ASSERT_TRUE(written.ok()) << written.status();
    ASSERT_TRUE(written->has_value());
    EXPECT_EQ((*written)->step, 2u);
  }
  absl::StatusOr<std::unique_ptr<ShardServer>> restarted =
      ShardServer::Start(Options(checkpoints));
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ASSERT_TRUE((*restarted)->restored_from().has_value());
  const WeightStore& store = *(*restarted)->service().model()->store;
  EXPECT_EQ(store.step(), 2u);
  EXPECT_TRUE(store.Lookup(7).has_value());
  EXPECT_TRUE(store.Lookup(8).has_value());
}

TEST(ShardServerTest, RefusesACheckpointOfOtherSettings) {
  TemporaryDirectory dir;
  const std::string checkpoints = dir.File("shard");
  {
    auto server = ShardServer::Start(Options(checkpoints));
    ASSERT_TRUE(server.ok());
    PushOneBatch((*server)->InProcessChannel(), 1);
    ASSERT_TRUE((*server)->Shutdown().ok());
  }
  ShardServerOptions other = Options(checkpoints);
  other.config.optimizer.learning_rate = 0.25;
  absl::StatusOr<std::unique_ptr<ShardServer>> refused =
      ShardServer::Start(other);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused, HasMessage("--lr is 0.25"));
}

TEST(ShardServerTest, WritesCheckpointsPeriodically) {
  TemporaryDirectory dir;
  ShardServerOptions options = Options(dir.File("shard"));
  options.checkpoint_every = absl::Milliseconds(20);
  auto server = ShardServer::Start(options);
  ASSERT_TRUE(server.ok());
  PushOneBatch((*server)->InProcessChannel(), 3);
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (StatsOver((*server)->InProcessChannel()).checkpoints_written() == 0 &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GT(StatsOver((*server)->InProcessChannel()).checkpoints_written(), 0u);
  EXPECT_FALSE(Checkpointer(dir.File("shard")).List().empty());
}

TEST(ShardServerTest, AnswersNothingOnceShutDown) {
  auto server = ShardServer::Start(Options());
  ASSERT_TRUE(server.ok());
  auto stub = adaline::v1::ParameterServer::NewStub(
      MakeChannel((*server)->address(), ChannelOptions()));
  auto written = (*server)->Shutdown();
  ASSERT_TRUE(written.ok());
  EXPECT_FALSE(written->has_value());  // no checkpoint directory
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  adaline::v1::StatsResponse stats;
  EXPECT_FALSE(stub->Stats(&context, adaline::v1::StatsRequest(), &stats).ok());
}

TEST(IsLoopbackAddressTest, KnowsTheLocalNames) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:7070"));
  EXPECT_TRUE(IsLoopbackAddress("127.1.2.3:1"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:7070"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:7070"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:7070"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1:7070"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:7070"));
}

TEST(ShardServerTest, OneServerPerCheckpointDirectory) {
  TemporaryDirectory dir;
  const std::string checkpoints = dir.File("shard");
  auto first = ShardServer::Start(Options(checkpoints));
  ASSERT_TRUE(first.ok()) << first.status();
  // A restart while the old server lives: refused before it reads anything.
  auto second = ShardServer::Start(Options(checkpoints));
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status()));
  EXPECT_THAT(second,
              HasMessage(absl::StrCat("is in use by another server (pid ",
                                      ::getpid(), ")")));
  ASSERT_TRUE((*first)->Shutdown().ok());
  first->reset();
  EXPECT_TRUE(ShardServer::Start(Options(checkpoints)).ok());
}

TEST(ShardServerTest, APortInUseIsRefused) {
  ShardServerOptions options = Options("");
  options.listen = "127.0.0.1:0";
  auto first = ShardServer::Start(options);
  ASSERT_TRUE(first.ok()) << first.status();
  options.listen = (*first)->address();
  auto second = ShardServer::Start(options);
  ASSERT_FALSE(second.ok()) << "two servers share " << options.listen;
  EXPECT_THAT(second, HasMessage("cannot listen on " + options.listen));
}

TEST(ShardServerTest, AnUnchangedModelIsNotCheckpointedAgainAndKeepsItsNames) {
  TemporaryDirectory dir;
  const std::string checkpoints = dir.File("shard");
  // A model with names, put where the server restores from.
  Model named;
  named.config = Options().config;
  named.store = std::make_unique<WeightStore>(named.config.optimizer);
  named.names.Add(FeatureKeyForName("movie^is_director_nolan"),
                  "movie^is_director_nolan");
  const uint64_t keys[] = {FeatureKeyForName("movie^is_director_nolan")};
  const float gradients[] = {-1};
  ASSERT_TRUE(named.store->Push(keys, gradients).ok());
  ASSERT_TRUE(MakeDirectories(checkpoints).ok());
  const std::string restored =
      checkpoints + "/checkpoint-00000000000000000001.model";
  ASSERT_TRUE(
      SaveModel(restored, named.config, *named.store, &named.names).ok());
  {
    auto server = ShardServer::Start(Options(checkpoints));
    ASSERT_TRUE(server.ok()) << server.status();
    auto written = (*server)->Shutdown();
    ASSERT_TRUE(written.ok());
    EXPECT_EQ((*written)->path, restored);  // nothing trained: not rewritten
  }
  EXPECT_EQ(Checkpointer(checkpoints).List().size(), 1u);
  auto server = ShardServer::Start(Options(checkpoints));
  ASSERT_TRUE(server.ok());
  PushOneBatch((*server)->InProcessChannel(), 2);
  auto written = (*server)->Shutdown();
  ASSERT_TRUE(written.ok());
  EXPECT_EQ((*written)->step, 2u);
  absl::StatusOr<Model> after = LoadModel((*written)->path);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->names.Find(keys[0]), nullptr);
}

}  // namespace
}  // namespace adaline
