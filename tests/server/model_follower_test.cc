// Replicas that follow training: the newest model file of a directory is
// found and loaded once, a damaged one is reported once and skipped, and a
// replica swaps models whole while it answers a steady stream of calls.
#include "server/model_follower.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "server/shard_server.h"
#include "tests/shard_fixture.h"
#include "tests/status_matchers.h"
#include "tests/test_files.h"

namespace adaline {
namespace {

constexpr int kKeys = 10;

// A model whose keys 1..kKeys all weigh `weight`, at step `step`.
void WriteUniformModel(const std::string& path, float weight, uint64_t step) {
  ModelConfig config;
  config.optimizer = OptimizerOptions::Defaults(OptimizerKind::kAdagrad);
  WeightStore store(config.optimizer);
  store.SetStep(step);
  for (uint64_t key = 1; key <= kKeys; ++key) {
    Entry entry;
    entry.key = key;
    entry.last_step = step;
    entry.weight = weight;
    entry.state[0] = 1;
    ASSERT_TRUE(store.Insert(entry).ok());
  }
  ASSERT_TRUE(SaveModel(path, config, store, nullptr).ok());
}

TEST(ModelFollowerTest, TheNewestFileThatMayBeAModelIsFound) {
  TemporaryDirectory dir;
  EXPECT_FALSE(NewestModelFile(dir.File("missing")).ok());
  EXPECT_FALSE(NewestModelFile(dir.File("")).value().has_value());
  WriteUniformModel(dir.File("checkpoint-1.model"), 1, 1);
  WriteUniformModel(dir.File("merged"), 2, 2);
  // Newer, but never models: the lock, temporary and set-aside files.
  for (const char* name :
       {"LOCK", "merged.tmp.123", "old.model.damaged", ".hidden"}) {
    dir.Write(name, "ADALINE\n");
  }
  // Newer still, and no model at all: a log written beside the models.
  dir.Write("serve.log", "adaline serve: listening\n");
  struct timespec times[2] = {{0, UTIME_OMIT}, {1000, 0}};
  ASSERT_EQ(
      utimensat(AT_FDCWD, dir.File("checkpoint-1.model").c_str(), times, 0), 0);
  absl::StatusOr<std::optional<ModelFileVersion>> newest =
      NewestModelFile(dir.File(""));
  ASSERT_TRUE(newest.ok() && newest->has_value());
  EXPECT_EQ((*newest)->path, dir.File("") + "/merged");
}

TEST(ModelFollowerTest, EachVersionLoadsOnceAndADamagedOneIsReportedOnce) {
  TemporaryDirectory dir;
  ModelFollower follower(dir.File(""));
  EXPECT_FALSE(follower.LoadIfNewer().value().has_value());
  WriteUniformModel(dir.File("a.model"), 1, 10);
  absl::StatusOr<std::optional<ModelFollower::Loaded>> loaded =
      follower.LoadIfNewer();
  ASSERT_TRUE(loaded.ok() && loaded->has_value()) << loaded.status();
  EXPECT_EQ((*loaded)->model.store->step(), 10u);
  EXPECT_FALSE(follower.LoadIfNewer().value().has_value());

  dir.Write("b.model", "ADALINE\n but damaged");
  EXPECT_THAT(follower.LoadIfNewer(), HasMessage("b.model"));
  EXPECT_FALSE(follower.LoadIfNewer().value().has_value());
  WriteUniformModel(dir.File("b.model"), 2, 20);  // mended
  loaded = follower.LoadIfNewer();
  ASSERT_TRUE(loaded.ok() && loaded->has_value()) << loaded.status();
  EXPECT_EQ((*loaded)->model.store->step(), 20u);
}

TEST(ReplicaTest, AnswersEveryCallWithOneWholeModelWhileModelsLand) {
  TemporaryDirectory dir;
  WriteUniformModel(dir.File("model-1"), 1, 100);
  auto follower = std::make_shared<ModelFollower>(dir.File(""));
  absl::StatusOr<std::optional<ModelFollower::Loaded>> first =
      follower->LoadIfNewer();
  ASSERT_TRUE(first.ok() && first->has_value());
  ShardServerOptions options;
  options.listen = "";
  options.config = (*first)->model.config;
  options.follower = follower;
  options.follow_every = absl::Milliseconds(5);
  options.log = nullptr;
  absl::StatusOr<std::unique_ptr<ShardServer>> server = ShardServer::Start(
      options, RestoredModel{std::move((*first)->model), (*first)->path, {}});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub =
      adaline::v1::ParameterServer::NewStub((*server)->InProcessChannel());

  constexpr int kModels = 6;
  std::atomic<bool> stop{false};
  std::atomic<int> calls{0}, failures{0}, torn{0};
  std::atomic<bool> saw_last{false};
  std::set<float> seen;  // the caller's until it is joined
  std::thread caller([&] {
    adaline::v1::PredictRequest request;
    for (uint64_t key = 1; key <= kKeys; ++key) {
      request.add_keys(key);
      request.add_values(1);
    }
    request.add_sizes(kKeys);
    while (!stop.load()) {
      grpc::ClientContext context;
      adaline::v1::PredictResponse response;
      if (!stub->Predict(&context, request, &response).ok()) {
        ++failures;
        continue;
      }
      ++calls;
      // Every key of one model weighs the same: a torn read would not.
      const float margin = response.margins(0);
      const float weight = margin / kKeys;
      if (weight != static_cast<int>(weight) || weight < 1 ||
          weight > kModels) {
        ++torn;
      }
      seen.insert(weight);
      if (weight == kModels) {
        saw_last.store(true);
        return;
      }
    }
  });
  for (int m = 2; m <= kModels; ++m) {
    absl::SleepFor(absl::Milliseconds(30));
    WriteUniformModel(dir.File("model-" + std::to_string(m)),
                      static_cast<float>(m), 100 * m);
  }
  // The last model is served within a few polls.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (!saw_last.load() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  stop.store(true);
  caller.join();
  EXPECT_GT(calls.load(), kModels);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(seen.count(kModels), 1u);

  grpc::ClientContext context;
  adaline::v1::StatsResponse stats;
  ASSERT_TRUE(stub->Stats(&context, adaline::v1::StatsRequest(), &stats).ok());
  EXPECT_TRUE(stats.read_only());
  EXPECT_EQ(stats.step(), 100u * kModels);
  EXPECT_EQ(stats.model_path(), dir.File("") + "/model-6");
  EXPECT_GT(stats.model_loaded_unix_seconds(), 0);

  // A replica takes no pushes and writes no checkpoints.
  grpc::ClientContext push_context;
  adaline::v1::PushResponse pushed;
  auto stream = stub->Push(&push_context, &pushed);
  stream->Write(Batch({1}, {1.0f}));
  stream->WritesDone();
  grpc::Status refused = stream->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("read-only replica"),
            std::string::npos);
}

}  // namespace
}  // namespace adaline
