// RemoteParameters against in-process shards: training through the same
// loop as local training, staging, refusals, deadlines and retries.
#include "client/remote_parameters.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <thread>
#include <vector>

#include "data/synthetic.h"
#include "gtest/gtest.h"
#include "rpc/sharding.h"
#include "rpc/wire.h"
#include "tests/shard_fixture.h"
#include "tests/status_matchers.h"
#include "tests/test_files.h"
#include "trainer/local_trainer.h"

namespace adaline {
namespace {

using adaline::v1::ParameterServer;

// A worker's parameters held by two in-process shards.
RemoteParameters ParametersOf(InProcessShard& shard0, InProcessShard& shard1) {
  return RemoteParameters({shard0.channel(), shard1.channel()},
                          {"in-process 0", "in-process 1"}, ClientOptions{});
}

TEST(RemoteParametersTest, SendTheirToken) {
  InProcessShard shard{WithTestTokens()};
  ClientOptions options;
  options.channel.token = "trainer-token-0123456789";
  RemoteParameters remote({shard.channel()}, {"in-process"}, options);
  const uint64_t keys[] = {4};
  const float gradients[] = {1};
  ASSERT_TRUE(remote.Push(keys, gradients).ok());
  ASSERT_TRUE(remote.Finish().ok());
  EXPECT_EQ(shard.store().step(), 1u);
  ClientOptions stranger;
  stranger.retry.log = nullptr;
  RemoteParameters refused({shard.channel()}, {"in-process"}, stranger);
  float weights[1];
  absl::Status status = refused.Pull(keys, absl::MakeSpan(weights));
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
}

// Two shards in process, trained through the same loop as local training.

TEST(RemoteParametersTest, TwoShardsLearnAsWellAsOneLocalStore) {
  TemporaryDirectory dir;
  const std::string path = dir.File("data.vw");
  std::FILE* file = std::fopen(path.c_str(), "w");
  SyntheticOptions synthetic;
  synthetic.rows = 20000;
  ASSERT_TRUE(WriteSyntheticRatings(synthetic, file).ok());
  std::fclose(file);
  TrainOptions options;
  options.data.files = {path};
  options.holdout_every = 10;
  options.progress = nullptr;

  Model local = NewModel();
  absl::StatusOr<TrainResult> alone = Train(options, &local);
  ASSERT_TRUE(alone.ok());

  InProcessShard shard0{ShardOptions(0, 2)}, shard1{ShardOptions(1, 2)};
  RemoteParameters remote = ParametersOf(shard0, shard1);
  // One step per round trip, with the shards' optimizer, as `work` runs.
  remote.UseRounds(1, local.config.optimizer);
  absl::StatusOr<TrainResult> distributed =
      Train(options, Loss::kLogistic, remote, nullptr);
  ASSERT_TRUE(distributed.ok()) << distributed.status();
  ASSERT_TRUE(remote.Finish().ok());
  EXPECT_EQ(shard0.store().step(), local.store->step());
  EXPECT_EQ(shard1.store().step(), local.store->step());
  EXPECT_EQ(shard0.store().size() + shard1.store().size(), local.store->size());
  EXPECT_NEAR(distributed->holdout.MeanLoss(), alone->holdout.MeanLoss(),
              0.01 * alone->holdout.MeanLoss());
}

// A file of synthetic ratings in `dir`.
std::string SyntheticFile(TemporaryDirectory& dir, uint64_t rows) {
  const std::string path = dir.File("data.vw");
  std::FILE* file = std::fopen(path.c_str(), "w");
  SyntheticOptions synthetic;
  synthetic.rows = rows;
  EXPECT_TRUE(WriteSyntheticRatings(synthetic, file).ok());
  std::fclose(file);
  return path;
}

// With rounds, a lone worker's examples each see the updates of the ones
// before, as in local training, although it talks to its shards once per
// round: the servers end with the local model.
TEST(RemoteParametersTest, RoundsOfOneWorkerTrainTheLocalModel) {
  TemporaryDirectory dir;
  TrainOptions options;
  options.data.files = {SyntheticFile(dir, 5000)};
  options.holdout_every = 10;
  options.progress = nullptr;
  for (OptimizerKind kind : {OptimizerKind::kAdagrad, OptimizerKind::kAdam}) {
    Model local = NewModel(kind);
    absl::StatusOr<TrainResult> alone = Train(options, &local);
    ASSERT_TRUE(alone.ok());

    InProcessShard shard0{ShardOptions(0, 2), NewModel(kind)};
    InProcessShard shard1{ShardOptions(1, 2), NewModel(kind)};
    RemoteParameters remote = ParametersOf(shard0, shard1);
    remote.UseRounds(64, OptimizerOptions::Defaults(kind));
    EXPECT_EQ(remote.steps_per_round(), 1u);  // rounds start short
    absl::StatusOr<TrainResult> distributed =
        Train(options, Loss::kLogistic, remote, nullptr);
    ASSERT_TRUE(distributed.ok()) << distributed.status();
    ASSERT_TRUE(remote.Finish().ok());
    EXPECT_EQ(remote.steps_per_round(), 64u);  // and grow to the limit
    EXPECT_EQ(shard0.store().step(), local.store->step());
    EXPECT_EQ(shard1.store().step(), local.store->step());
    ASSERT_EQ(shard0.store().size() + shard1.store().size(),
              local.store->size());
    // Catching up in two pieces (to the round's start, then on) rounds
    // differently from catching up at once: equal to float32 rounding.
    const float tolerance = kind == OptimizerKind::kAdagrad ? 0 : 1e-5f;
    size_t compared = 0;
    local.store->ForEach([&](const Entry& entry) {
      const Entry expected = local.store->CaughtUp(entry);
      const WeightStore& owner =
          ShardOf(entry.key, 2) == 0 ? shard0.store() : shard1.store();
      std::optional<Entry> got = owner.Lookup(entry.key);
      ASSERT_TRUE(got.has_value());
      ASSERT_NEAR(got->weight, expected.weight,
                  tolerance * (1 + std::abs(expected.weight)))
          << OptimizerName(kind);
      ++compared;
    });
    EXPECT_EQ(compared, local.store->size());
    EXPECT_NEAR(distributed->holdout.MeanLoss(), alone->holdout.MeanLoss(),
                1e-4);
  }
}

// A worker learns example by example on its copy of the round's keys; an
// example with a key no round announced opens a round that fetches it. The
// servers end where a local store that learned the same examples ends.
TEST(RemoteParametersTest,
     ExamplesLearnOnTheRoundsCopyAndFetchUnannouncedKeys) {
  for (const bool normalized : {false, true}) {
    OptimizerOptions optimizer =
        OptimizerOptions::Defaults(OptimizerKind::kAdagrad);
    optimizer.normalized = normalized;
    InProcessShard shard0{ShardOptions(0, 2), NewModel(optimizer)};
    InProcessShard shard1{ShardOptions(1, 2), NewModel(optimizer)};
    RemoteParameters remote = ParametersOf(shard0, shard1);
    remote.UseRounds(4, optimizer);
    ASSERT_TRUE(remote.learns_examples());
    WeightStore local(optimizer);
    StoreParameters local_parameters(&local);
    // Every example brings a key never seen, and none is announced.
    for (uint64_t i = 0; i < 300; ++i) {
      const Feature features[] = {
          {1, 1.0f}, {100 + i, 2.0f}, {7 + i % 5, 0.5f}};
      Example example;
      example.features = features;
      example.label = i % 3 == 0 ? 0.0f : 1.0f;
      const bool learn = i % 10 != 9;  // and some are only scored
      absl::StatusOr<WeightStore::ExampleResult> got =
          remote.LearnExample(example, Loss::kLogistic, learn);
      ASSERT_TRUE(got.ok()) << got.status();
      absl::StatusOr<WeightStore::ExampleResult> want =
          local_parameters.LearnExample(example, Loss::kLogistic, learn);
      ASSERT_TRUE(want.ok());
      ASSERT_EQ(got->margin, want->margin) << "example " << i;
    }
    ASSERT_TRUE(remote.Finish().ok());
    EXPECT_EQ(shard0.store().step(), local.step());
    EXPECT_EQ(shard1.store().step(), local.step());
    EXPECT_EQ(shard0.store().size() + shard1.store().size(), local.size());
    // Both shards count every step's norm, one whose keys all live on the
    // other shard too.
    EXPECT_EQ(shard0.store().norm_sum(), local.norm_sum());
    EXPECT_EQ(shard1.store().norm_sum(), local.norm_sum());
    local.ForEach([&](const Entry& entry) {
      const WeightStore& owner =
          ShardOf(entry.key, 2) == 0 ? shard0.store() : shard1.store();
      const std::optional<Entry> got = owner.Lookup(entry.key);
      ASSERT_TRUE(got.has_value()) << entry.key;
      EXPECT_EQ(got->weight, entry.weight) << entry.key;
    });
  }
}

// Two workers' rounds interleave on the shard: each round's steps are
// applied together, and the shard counts every step of both.
TEST(RemoteParametersTest, RoundsOfTwoWorkersCountEveryStep) {
  TemporaryDirectory dir;
  const std::string path = SyntheticFile(dir, 4000);
  InProcessShard shard{ShardOptions(0, 1)};
  std::vector<absl::StatusOr<TrainResult>> results(2, absl::UnknownError(""));
  std::vector<std::thread> workers;
  for (int part = 0; part < 2; ++part) {
    workers.emplace_back([&, part] {
      TrainOptions options;
      options.data.files = {path};
      options.data.part_index = part;
      options.data.part_count = 2;
      options.progress = nullptr;
      RemoteParameters remote({shard.channel()}, {"in-process"},
                              ClientOptions{});
      remote.UseRounds(32, OptimizerOptions::Defaults(OptimizerKind::kAdagrad));
      results[part] = Train(options, Loss::kLogistic, remote, nullptr);
      if (results[part].ok()) {
        absl::Status finished = remote.Finish();
        if (!finished.ok()) results[part] = finished;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  EXPECT_EQ(shard.store().step(), 4000u);
}

// Under --normalized each step carries its norm to the shards, a step whose
// examples left no gradient too (a saturated logistic loss): the shards take
// one norm per step, and end where a local store ends.
TEST(RemoteParametersTest, NormalizedRoundsCarryANormForAStepWithoutGradients) {
  OptimizerOptions normalized =
      OptimizerOptions::Defaults(OptimizerKind::kAdagrad);
  normalized.normalized = true;
  InProcessShard shard{ShardOptions(0, 1), NewModel(normalized)};
  RemoteParameters remote({shard.channel()}, {"in-process"}, ClientOptions{});
  remote.UseRounds(8, normalized);
  WeightStore local(normalized);
  StoreParameters local_parameters(&local);
  const uint64_t keys[] = {4, 7};
  const float gradients[] = {0.5f, -0.25f};
  const float scales[] = {1.0f, 2.0f};
  // 200 steps: rounds of one step at first, then of several.
  for (int step = 0; step < 200; ++step) {
    for (Parameters* parameters :
         {static_cast<Parameters*>(&remote),
          static_cast<Parameters*>(&local_parameters)}) {
      float weights[2];
      const absl::Status pulled =
          parameters->Pull(keys, absl::MakeSpan(weights));
      ASSERT_TRUE(pulled.ok()) << "step " << step << ": " << pulled;
      const absl::Status pushed =
          step % 3 == 1 ? parameters->Push({}, {}, {})
                        : parameters->Push(keys, gradients, scales);
      ASSERT_TRUE(pushed.ok()) << "step " << step << ": " << pushed;
    }
  }
  const absl::Status finished = remote.Finish();
  ASSERT_TRUE(finished.ok()) << finished;
  EXPECT_EQ(shard.store().step(), 200u);
  EXPECT_EQ(shard.store().norm_sum(), local.norm_sum());
  for (const uint64_t key : keys) {
    EXPECT_EQ(shard.store().Lookup(key)->weight, local.Lookup(key)->weight)
        << "key " << key;
  }
}

TEST(RemoteParametersTest, RefusalsAreNotRetried) {
  ServiceOptions options;
  options.max_request_keys = 1;
  InProcessShard shard{options};
  RemoteParameters remote({shard.channel()}, {"in-process"}, ClientOptions{});
  const uint64_t keys[] = {1, 2};
  float weights[2];
  absl::Status status = remote.Pull(keys, absl::MakeSpan(weights));
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_NE(status.message().find("in-process"), absl::string_view::npos);
}

TEST(RemoteParametersTest, WorkersChooseWhatAFullShardDoes) {
  InProcessShard shard{ServiceOptions{},
                       NewModel(OptimizerKind::kAdagrad, /*max_keys=*/1)};
  const uint64_t keys[] = {1, 2};
  const float gradients[] = {1, 1};
  ClientOptions strict;
  strict.drop_new_keys_if_full = false;
  RemoteParameters refused({shard.channel()}, {"in-process"}, strict);
  ASSERT_TRUE(refused.Push(keys, gradients).ok());  // written, not yet read
  absl::Status status = refused.Finish();
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_EQ(shard.store().step(), 0u);

  RemoteParameters dropping({shard.channel()}, {"in-process"}, ClientOptions{});
  ASSERT_TRUE(dropping.Push(keys, gradients).ok());
  ASSERT_TRUE(dropping.Finish().ok());
  EXPECT_EQ(shard.store().step(), 1u);
  EXPECT_EQ(shard.store().size(), 1u);
  EXPECT_EQ(shard.store().dropped_new_keys(), 1u);
}

TEST(RemoteParametersTest, APushTravelsWithTheNextPull) {
  InProcessShard shard0{ShardOptions(0, 2)}, shard1{ShardOptions(1, 2)};
  RemoteParameters remote = ParametersOf(shard0, shard1);
  const uint64_t keys[] = {2};
  const float gradients[] = {1};
  ASSERT_TRUE(remote.Push(keys, gradients).ok());
  EXPECT_EQ(shard0.store().step(), 0u);  // staged, not sent
  float weights[1];
  ASSERT_TRUE(remote.Pull(keys, absl::MakeSpan(weights)).ok());
  // Both shards took the step; the pull saw it.
  EXPECT_EQ(shard0.store().step(), 1u);
  EXPECT_EQ(shard1.store().step(), 1u);
  EXPECT_EQ(weights[0], shard0.store().Lookup(2)->weight);
  EXPECT_NE(weights[0], 0.0f);
  // Two pushes in a row are two steps.
  ASSERT_TRUE(remote.Push(keys, gradients).ok());
  ASSERT_TRUE(remote.Push(keys, gradients).ok());
  ASSERT_TRUE(remote.Finish().ok());
  EXPECT_EQ(shard0.store().step(), 3u);
  EXPECT_EQ(shard1.store().step(), 3u);
}

// A shard that takes exchange streams and never answers.

class SilentShard final : public ParameterServer::Service {
 public:
  grpc::Status Exchange(
      grpc::ServerContext* /*context*/,
      grpc::ServerReaderWriter<adaline::v1::ExchangeResponse,
                               adaline::v1::ExchangeRequest>* stream) override {
    adaline::v1::ExchangeRequest request;
    while (stream->Read(&request)) {
    }
    return grpc::Status::CANCELLED;
  }
};

TEST(RemoteParametersTest, AShardThatDoesNotAnswerFailsAfterTheDeadline) {
  ServiceOptions options;
  options.shard = ShardSpec{0, 2};
  InProcessShard healthy{options};
  SilentShard silent;
  grpc::ServerBuilder builder;
  builder.RegisterService(&silent);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ClientOptions client;
  client.retry.call_timeout = absl::Milliseconds(200);
  client.retry.retry_timeout = absl::Milliseconds(500);
  client.retry.report_every = absl::Milliseconds(50);
  std::FILE* log = std::tmpfile();
  client.retry.log = log;
  RemoteParameters remote(
      {healthy.channel(), server->InProcessChannel(grpc::ChannelArguments())},
      {"healthy", "silent"}, client);
  const uint64_t keys[] = {2, 3};  // one for each shard
  float weights[2];
  const absl::Time start = absl::Now();
  absl::Status status = remote.Pull(keys, absl::MakeSpan(weights));
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_NE(status.message().find("silent"), absl::string_view::npos);
  EXPECT_NE(status.message().find("no answer in 200ms"),
            absl::string_view::npos)
      << status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  // While it waited it said for whom, before any deadline passed.
  std::rewind(log);
  char text[4096] = {0};
  const std::string said(text, std::fread(text, 1, sizeof text - 1, log));
  std::fclose(log);
  EXPECT_THAT(said, testing::HasSubstr("waiting for shard 1 at silent (no "
                                       "answer for"));
  EXPECT_THAT(said, testing::Not(testing::HasSubstr("shard 0 at healthy")));
  // Only the silent shard's stream was cut; the healthy one is still open.
  const adaline::v1::StatsResponse stats = healthy.Stats();
  EXPECT_EQ(stats.connected_workers(), 1u);
  server->Shutdown();
}

TEST(RemoteParametersTest, AnUnreachableShardFailsAfterTheRetryTimeout) {
  ClientOptions options;
  options.retry.retry_timeout = absl::Milliseconds(300);
  options.retry.call_timeout = absl::Milliseconds(200);
  options.retry.log = nullptr;
  RemoteParameters remote(std::vector<std::string>{"127.0.0.1:1"}, options);
  const uint64_t keys[] = {1};
  float weights[1];
  absl::Status status = remote.Pull(keys, absl::MakeSpan(weights));
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_NE(status.message().find("unreachable"), absl::string_view::npos)
      << status;
}

// A shard whose first stream reads a request and ends with UNAVAILABLE and
// no word of what it applied, either without having opened (as a stopping
// gRPC server refuses a call) or after applying its push (as when a shard
// dies). Later streams are served: pushes are applied, pulls get zeros.
class FirstStreamFails final : public ParameterServer::Service {
 public:
  explicit FirstStreamFails(bool opens) : opens_(opens) {}

  grpc::Status Exchange(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<adaline::v1::ExchangeResponse,
                               adaline::v1::ExchangeRequest>* stream) override {
    const bool first = streams_.fetch_add(1) == 0;
    adaline::v1::ExchangeRequest request;
    if (first && !opens_) {
      stream->Read(&request);
      return {grpc::StatusCode::UNAVAILABLE, "refused"};
    }
    context->AddInitialMetadata(kStreamOpenedHeader, "1");
    stream->SendInitialMetadata();
    adaline::v1::ExchangeResponse response;
    while (stream->Read(&request)) {
      if (request.has_push()) applied_.fetch_add(1);
      if (first) return {grpc::StatusCode::UNAVAILABLE, "connection lost"};
      response.mutable_pull()->mutable_weights()->Resize(
          request.pull().keys_size(), 0.0f);
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }

  int applied() const { return applied_.load(); }

 private:
  const bool opens_;
  std::atomic<int> streams_{0};
  std::atomic<int> applied_{0};
};

// Pushes one batch and pulls through a FirstStreamFails; how many times it
// applied the batch.
int TimesAppliedAfterAFailedFirstStream(bool opens) {
  FirstStreamFails service(opens);
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ClientOptions options;
  options.retry.log = nullptr;
  RemoteParameters remote({server->InProcessChannel(grpc::ChannelArguments())},
                          {"failing"}, options);
  const uint64_t keys[] = {1};
  const float gradients[] = {1};
  float weights[1];
  EXPECT_TRUE(remote.Push(keys, gradients).ok());
  const absl::Status pulled = remote.Pull(keys, absl::MakeSpan(weights));
  EXPECT_TRUE(pulled.ok()) << pulled;
  server->Shutdown();
  return service.applied();
}

TEST(RemoteParametersTest, APushAStreamNeverOpenedIsSentAgain) {
  EXPECT_EQ(TimesAppliedAfterAFailedFirstStream(/*opens=*/false), 1);
}

TEST(RemoteParametersTest, APushThatMayHaveBeenAppliedIsNotSentAgain) {
  EXPECT_EQ(TimesAppliedAfterAFailedFirstStream(/*opens=*/true), 1);
}

// A shard on a picked loopback port, as `adaline serve` runs one.
ShardServerOptions LoopbackShard(OptimizerKind kind,
                                 std::string checkpoint_dir = "") {
  ShardServerOptions options;
  options.config.optimizer = OptimizerOptions::Defaults(kind);
  options.service.checkpoint_dir = std::move(checkpoint_dir);
  options.log = nullptr;
  return options;
}

TEST(RemoteParametersTest, AShardWhoseStepGoesBackStopsTheWorker) {
  ShardServerOptions server_options = LoopbackShard(OptimizerKind::kAdagrad);
  auto first = ShardServer::Start(server_options);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string address = (*first)->address();
  RemoteParameters remote(std::vector<std::string>{address},
                          QuietClient(absl::Seconds(30)));
  const uint64_t keys[] = {5};
  const float gradients[] = {1};
  float weights[1];
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(remote.Push(keys, gradients).ok());
    ASSERT_TRUE(remote.Pull(keys, absl::MakeSpan(weights)).ok());
  }
  // The shard comes back on the same address with nothing: its volume lost.
  ASSERT_TRUE((*first)->Shutdown().ok());
  first->reset();
  server_options.listen = address;
  auto second = ShardServer::Start(server_options);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(remote.Push(keys, gradients).ok());
  absl::Status status = remote.Pull(keys, absl::MakeSpan(weights));
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status, HasMessage("went back from step 3 to step 1"));
}

TEST(RemoteParametersTest, ABatchRefusedByAStoppingShardIsSentAgain) {
  // A graceful restart loses nothing: the batch the stopping shard refused
  // (saying it applied none of it) goes to the restarted shard, once.
  TemporaryDirectory dir;
  ShardServerOptions server_options =
      LoopbackShard(OptimizerKind::kSgd, dir.File("shard"));
  auto first = ShardServer::Start(server_options);
  ASSERT_TRUE(first.ok()) << first.status();
  RemoteParameters remote(std::vector<std::string>{(*first)->address()},
                          QuietClient(absl::Seconds(30)));
  const std::string address = (*first)->address();
  const uint64_t early[] = {1}, late[] = {2};
  const float gradients[] = {1};
  float weights[1];
  ASSERT_TRUE(remote.Push(early, gradients).ok());
  ASSERT_TRUE(remote.Pull(early, absl::MakeSpan(weights)).ok());

  // The shard begins to stop; the next batch reaches it then.
  (*first)->service().StopPushes();
  ASSERT_TRUE(remote.Push(late, gradients).ok());
  absl::Status pulled;
  std::thread worker(
      [&] { pulled = remote.Pull(late, absl::MakeSpan(weights)); });
  absl::SleepFor(absl::Milliseconds(300));
  auto written = (*first)->Shutdown();
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_EQ((*written)->step, 1u);
  first->reset();
  server_options.listen = address;
  auto second = ShardServer::Start(server_options);  // restores step 1
  ASSERT_TRUE(second.ok()) << second.status();
  worker.join();
  ASSERT_TRUE(pulled.ok()) << pulled;
  const WeightStore& store = *(*second)->service().model()->store;
  EXPECT_EQ(store.step(), 2u);
  ASSERT_TRUE(store.Lookup(2).has_value());
  const float lr =
      static_cast<float>(server_options.config.optimizer.learning_rate);
  EXPECT_FLOAT_EQ(store.Lookup(2)->weight, -lr);  // applied once
  EXPECT_FLOAT_EQ(weights[0], -lr);
}

}  // namespace
}  // namespace adaline
