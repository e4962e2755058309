// The parameter service over gRPC's in-process transport: every RPC, every
// refusal, checkpoints, and training through RemoteParameters.
#include "server/parameter_service.h"

#include <grpcpp/grpcpp.h>

#include <cmath>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "core/feature_key.h"
#include "data/synthetic.h"
#include "gtest/gtest.h"
#include "server/auth.h"
#include "server/remote_parameters.h"
#include "tests/test_files.h"
#include "trainer/local_trainer.h"

namespace adaline {
namespace {

using adaline::v1::ParameterServer;

Model NewModel(OptimizerKind kind = OptimizerKind::kAdagrad,
               size_t max_keys = WeightStore::kNoKeyLimit) {
  Model model;
  model.config.optimizer = OptimizerOptions::Defaults(kind);
  model.store = std::make_unique<WeightStore>(model.config.optimizer, max_keys);
  return model;
}

// One shard served in process.
class Shard {
 public:
  explicit Shard(ServiceOptions options, Model model = NewModel())
      : service_(std::move(model), std::move(options)) {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
    stub_ = ParameterServer::NewStub(channel_);
  }
  ~Shard() { server_->Shutdown(); }

  ParameterServer::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  ParameterService& service() { return service_; }
  const WeightStore& store() { return *service_.model().store; }

  adaline::v1::StatsResponse Stats() {
    grpc::ClientContext context;
    adaline::v1::StatsResponse stats;
    EXPECT_TRUE(
        stub_->Stats(&context, adaline::v1::StatsRequest(), &stats).ok());
    return stats;
  }

  // Pushes `batches` on one stream; returns the stream's status.
  grpc::Status Push(const std::vector<adaline::v1::PushRequest>& batches,
                    adaline::v1::PushResponse* response) {
    grpc::ClientContext context;
    auto stream = stub_->Push(&context, response);
    for (const auto& batch : batches) {
      if (!stream->Write(batch)) break;
    }
    stream->WritesDone();
    return stream->Finish();
  }

 private:
  ParameterService service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ParameterServer::Stub> stub_;
};

adaline::v1::PushRequest Batch(std::vector<uint64_t> keys,
                               std::vector<float> gradients) {
  adaline::v1::PushRequest request;
  for (uint64_t k : keys) request.add_keys(k);
  for (float g : gradients) request.add_gradients(g);
  return request;
}

adaline::v1::ExchangeRequest PullOnly(std::vector<uint64_t> keys) {
  adaline::v1::ExchangeRequest request;
  for (uint64_t k : keys) request.mutable_pull()->add_keys(k);
  return request;
}

adaline::v1::ExchangeRequest PushThenPull(adaline::v1::PushRequest push,
                                          std::vector<uint64_t> keys) {
  adaline::v1::ExchangeRequest request = PullOnly(std::move(keys));
  *request.mutable_push() = std::move(push);
  return request;
}

// Sends `requests` on one Exchange stream, one at a time, collecting the
// answers; returns the stream's status.
grpc::Status ExchangeAs(
    Shard& shard, const std::string& token,
    const std::vector<adaline::v1::ExchangeRequest>& requests,
    std::vector<adaline::v1::ExchangeResponse>* answers) {
  grpc::ClientContext context;
  Authenticate(context, token);
  auto stream = shard.stub().Exchange(&context);
  for (const auto& request : requests) {
    adaline::v1::ExchangeResponse answer;
    if (!stream->Write(request) || !stream->Read(&answer)) break;
    answers->push_back(answer);
  }
  stream->WritesDone();
  return stream->Finish();
}

TEST(ParameterServiceTest, PullOfUnknownKeysReadsZeroAndCreatesNothing) {
  Shard shard{ServiceOptions{}};
  grpc::ClientContext context;
  adaline::v1::PullRequest request;
  request.add_keys(1);
  request.add_keys(2);
  adaline::v1::PullResponse response;
  ASSERT_TRUE(shard.stub().Pull(&context, request, &response).ok());
  ASSERT_EQ(response.weights_size(), 2);
  EXPECT_EQ(response.weights(0), 0);
  EXPECT_EQ(shard.store().size(), 0u);
}

TEST(ParameterServiceTest, EachPushedBatchIsOneOptimizerStep) {
  Shard shard{ServiceOptions{}};
  adaline::v1::PushResponse response;
  ASSERT_TRUE(shard
                  .Push({Batch({1, 2}, {0.5f, -0.5f}), Batch({1}, {0.5f}),
                         Batch({}, {})},
                        &response)
                  .ok());
  EXPECT_EQ(response.batches_applied(), 3u);
  EXPECT_EQ(response.step(), 3u);
  // The same steps on a local store give the same weights.
  WeightStore local(OptimizerOptions::Defaults(OptimizerKind::kAdagrad));
  const uint64_t k12[] = {1, 2}, k1[] = {1};
  const float g12[] = {0.5f, -0.5f}, g1[] = {0.5f};
  ASSERT_TRUE(local.Push(k12, g12).ok());
  ASSERT_TRUE(local.Push(k1, g1).ok());
  ASSERT_TRUE(local.Push({}, {}).ok());
  grpc::ClientContext context;
  adaline::v1::PullRequest pull;
  pull.add_keys(1);
  pull.add_keys(2);
  adaline::v1::PullResponse pulled;
  ASSERT_TRUE(shard.stub().Pull(&context, pull, &pulled).ok());
  EXPECT_EQ(pulled.step(), 3u);
  EXPECT_EQ(pulled.weights(0), local.Lookup(1)->weight);
  EXPECT_EQ(pulled.weights(1), local.Lookup(2)->weight);
}

struct Refusal {
  const char* what;
  adaline::v1::PushRequest batch;
  grpc::StatusCode code;
  const char* message;
};

TEST(ParameterServiceTest, BadPushesAreRefusedAndChangeNothing) {
  ServiceOptions options;
  options.shard = ShardSpec{0, 2};
  options.max_request_keys = 4;
  Shard shard{options};
  adaline::v1::PushResponse response;
  ASSERT_TRUE(shard.Push({Batch({2, 4}, {1, 1})}, &response).ok());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<Refusal> refusals = {
      {"lengths differ", Batch({2, 4}, {1}), grpc::StatusCode::INVALID_ARGUMENT,
       "2 keys but 1 gradients"},
      {"NaN", Batch({2, 4}, {1, nan}), grpc::StatusCode::INVALID_ARGUMENT,
       "gradients must be finite"},
      {"infinite", Batch({6}, {inf}), grpc::StatusCode::INVALID_ARGUMENT,
       "gradients must be finite"},
      {"other shard", Batch({2, 3}, {1, 1}), grpc::StatusCode::INVALID_ARGUMENT,
       "key 3 belongs to shard 1"},
      {"duplicate", Batch({2, 2}, {1, 1}), grpc::StatusCode::INVALID_ARGUMENT,
       "appears twice"},
      {"oversized", Batch({2, 4, 6, 8, 10}, {1, 1, 1, 1, 1}),
       grpc::StatusCode::RESOURCE_EXHAUSTED, "at most 4"},
  };
  for (const Refusal& refusal : refusals) {
    const Entry before = *shard.store().Lookup(2);
    grpc::Status status = shard.Push({refusal.batch}, &response);
    EXPECT_EQ(status.error_code(), refusal.code) << refusal.what;
    EXPECT_NE(status.error_message().find(refusal.message), std::string::npos)
        << refusal.what << ": " << status.error_message();
    EXPECT_EQ(shard.store().step(), 1u) << refusal.what;
    EXPECT_EQ(shard.store().size(), 2u) << refusal.what;
    EXPECT_EQ(shard.store().Lookup(2)->weight, before.weight) << refusal.what;
  }
  // A pull of another shard's key is refused too.
  grpc::ClientContext context;
  adaline::v1::PullRequest pull;
  pull.add_keys(3);
  adaline::v1::PullResponse pulled;
  EXPECT_EQ(shard.stub().Pull(&context, pull, &pulled).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(ParameterServiceTest, ARefusedBatchKeepsTheEarlierOnesOfItsStream) {
  Shard shard{ServiceOptions{}};
  adaline::v1::PushResponse response;
  grpc::Status status = shard.Push(
      {Batch({1}, {1}), Batch({2}, {std::numeric_limits<float>::quiet_NaN()}),
       Batch({3}, {1})},
      &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("1 earlier batches"),
            std::string::npos);
  EXPECT_EQ(shard.store().step(), 1u);
  EXPECT_TRUE(shard.store().Lookup(1).has_value());
  EXPECT_FALSE(shard.store().Lookup(3).has_value());
}

TEST(ParameterServiceTest, PushesAfterStopAreRefusedAsUnavailable) {
  Shard shard{ServiceOptions{}};
  shard.service().StopPushes();
  adaline::v1::PushResponse response;
  EXPECT_EQ(shard.Push({Batch({1}, {1})}, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(shard.store().step(), 0u);
}

TEST(ParameterServiceTest, PushStreamsPastTheLimitAreRefused) {
  ServiceOptions options;
  options.max_push_streams = 1;
  Shard shard{options};
  grpc::ClientContext first_context;
  adaline::v1::PushResponse first_response;
  auto first = shard.stub().Push(&first_context, &first_response);
  ASSERT_TRUE(first->Write(Batch({1}, {1})));
  while (shard.store().step() < 1) std::this_thread::yield();

  adaline::v1::PushResponse response;
  grpc::Status refused = shard.Push({Batch({2}, {1})}, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("--max-concurrent-streams"),
            std::string::npos)
      << refused.error_message();
  EXPECT_FALSE(shard.store().Lookup(2).has_value());

  // Exchange streams count too.
  std::vector<adaline::v1::ExchangeResponse> answers;
  EXPECT_EQ(
      ExchangeAs(shard, "", {PushThenPull(Batch({2}, {1}), {2})}, &answers)
          .error_code(),
      grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_FALSE(shard.store().Lookup(2).has_value());

  // Once the first stream closes, there is room again.
  first->WritesDone();
  ASSERT_TRUE(first->Finish().ok());
  EXPECT_TRUE(shard.Push({Batch({2}, {1})}, &response).ok());
  EXPECT_EQ(shard.store().step(), 2u);
}

TEST(ParameterServiceTest, AnExchangePushesThenPullsWhatThePushMade) {
  Shard shard{ServiceOptions{}};
  std::vector<adaline::v1::ExchangeResponse> answers;
  ASSERT_TRUE(ExchangeAs(shard, "",
                         {PullOnly({1}), PushThenPull(Batch({1}, {1}), {1, 2}),
                          PushThenPull(Batch({}, {}), {})},
                         &answers)
                  .ok());
  ASSERT_EQ(answers.size(), 3u);
  // No push, no step: the first answer reads the empty store.
  EXPECT_EQ(answers[0].batches_applied(), 0u);
  EXPECT_EQ(answers[0].pull().step(), 0u);
  EXPECT_EQ(answers[0].pull().weights(0), 0.0f);
  // The second answer includes its own push.
  EXPECT_EQ(answers[1].batches_applied(), 1u);
  EXPECT_EQ(answers[1].pull().step(), 1u);
  ASSERT_EQ(answers[1].pull().weights_size(), 2);
  EXPECT_EQ(answers[1].pull().weights(0), shard.store().Lookup(1)->weight);
  EXPECT_NE(answers[1].pull().weights(0), 0.0f);
  EXPECT_EQ(answers[1].pull().weights(1), 0.0f);
  // An empty push is still a step.
  EXPECT_EQ(answers[2].batches_applied(), 2u);
  EXPECT_EQ(shard.store().step(), 2u);
}

TEST(ParameterServiceTest,
     ARefusedExchangeEndsTheStreamWithNothingOfItApplied) {
  ServiceOptions options;
  options.shard = ShardSpec{0, 2};
  Shard shard{options};
  std::vector<adaline::v1::ExchangeResponse> answers;
  grpc::Status refused = ExchangeAs(
      shard, "",
      {PushThenPull(Batch({2}, {1}), {}),
       PushThenPull(Batch({4}, {std::numeric_limits<float>::infinity()}), {}),
       PushThenPull(Batch({6}, {1}), {})},
      &answers);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("1 earlier batches"),
            std::string::npos)
      << refused.error_message();
  EXPECT_EQ(answers.size(), 1u);
  EXPECT_EQ(shard.store().step(), 1u);
  EXPECT_FALSE(shard.store().Lookup(4).has_value());
  EXPECT_FALSE(shard.store().Lookup(6).has_value());

  // A pull of another shard's key is refused the same way.
  answers.clear();
  refused = ExchangeAs(shard, "", {PullOnly({3})}, &answers);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(answers.empty());
}

TEST(ParameterServiceTest, AFullShardRefusesBatchesWithNewKeysWhole) {
  Shard shard{ServiceOptions{},
              NewModel(OptimizerKind::kAdagrad, /*max_keys=*/3)};
  adaline::v1::PushResponse response;
  ASSERT_TRUE(shard.Push({Batch({1, 2}, {1, 1})}, &response).ok());
  const float weight_of_1 = shard.store().Lookup(1)->weight;

  // Keys 3 and 4 would make four: the batch is refused, key 1 included.
  grpc::Status refused = shard.Push({Batch({1, 3, 4}, {1, 1, 1})}, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("brings 2 new keys"),
            std::string::npos)
      << refused.error_message();
  EXPECT_NE(refused.error_message().find("--max-keys"), std::string::npos);
  EXPECT_EQ(shard.store().step(), 1u);
  EXPECT_EQ(shard.store().size(), 2u);
  EXPECT_EQ(shard.store().Lookup(1)->weight, weight_of_1);

  // A batch that just fits is applied; then known keys go on training.
  ASSERT_TRUE(shard.Push({Batch({1, 3}, {1, 1})}, &response).ok());
  EXPECT_EQ(shard.store().size(), 3u);
  ASSERT_TRUE(shard.Push({Batch({2, 3}, {1, 1})}, &response).ok());
  EXPECT_EQ(shard.store().step(), 3u);
  EXPECT_EQ(shard.Push({Batch({5}, {1})}, &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(shard.store().dropped_new_keys(), 0u);
}

TEST(ParameterServiceTest, AFullShardCanDropNewKeysAndTrainTheRest) {
  Shard shard{ServiceOptions{},
              NewModel(OptimizerKind::kAdagrad, /*max_keys=*/2)};
  adaline::v1::PushResponse response;
  ASSERT_TRUE(shard.Push({Batch({1, 2}, {1, 1})}, &response).ok());
  const float weight_of_1 = shard.store().Lookup(1)->weight;
  adaline::v1::PushRequest batch = Batch({1, 3, 4}, {1, 1, 1});
  batch.set_drop_new_keys_if_full(true);
  ASSERT_TRUE(shard.Push({batch}, &response).ok());
  EXPECT_EQ(shard.store().step(), 2u);
  EXPECT_EQ(shard.store().size(), 2u);
  EXPECT_NE(shard.store().Lookup(1)->weight, weight_of_1);
  EXPECT_FALSE(shard.store().Lookup(3).has_value());

  const adaline::v1::StatsResponse stats = shard.Stats();
  EXPECT_EQ(stats.max_keys(), 2u);
  EXPECT_EQ(stats.unique_keys(), 2u);
  EXPECT_EQ(stats.dropped_new_keys(), 2u);
}

TEST(ParameterServiceTest, QueryHashesNamesLikeTheTrainer) {
  Shard shard{ServiceOptions{}};
  const uint64_t nolan = FeatureKeyForName("movie^is_director_nolan");
  adaline::v1::PushResponse response;
  ASSERT_TRUE(shard.Push({Batch({nolan}, {-0.5f})}, &response).ok());
  grpc::ClientContext context;
  adaline::v1::QueryRequest request;
  request.add_names("movie^is_director_nolan");
  request.add_names("movie^never_seen");
  adaline::v1::QueryResponse answer;
  ASSERT_TRUE(shard.stub().Query(&context, request, &answer).ok());
  ASSERT_EQ(answer.features_size(), 2);
  const auto& found = answer.features(0);
  EXPECT_TRUE(found.present());
  EXPECT_EQ(found.key(), nolan);
  EXPECT_FLOAT_EQ(found.weight(), 0.1f);  // adagrad: -lr * g / |g|
  ASSERT_EQ(found.state_size(), 1);
  EXPECT_FLOAT_EQ(found.state(0), 0.25f);
  EXPECT_EQ(found.last_step(), 1u);
  EXPECT_FALSE(answer.features(1).present());
}

TEST(ParameterServiceTest, StatsDescribeTheShard) {
  ServiceOptions options;
  options.shard = ShardSpec{1, 3};
  Shard shard{options};
  adaline::v1::PushResponse response;
  ASSERT_TRUE(shard.Push({Batch({1, 4}, {1, 1})}, &response).ok());
  const adaline::v1::StatsResponse stats = shard.Stats();
  EXPECT_EQ(stats.step(), 1u);
  EXPECT_EQ(stats.unique_keys(), 2u);
  EXPECT_GT(stats.bytes(), 0u);
  EXPECT_EQ(stats.shard_index(), 1u);
  EXPECT_EQ(stats.shard_count(), 3u);
  EXPECT_EQ(stats.optimizer().name(), "adagrad");
  EXPECT_EQ(stats.loss(), "logistic");
  EXPECT_EQ(stats.total_updates(), 2u);
  ASSERT_EQ(stats.state_names_size(), 1);
  EXPECT_EQ(stats.state_names(0), "accumulator");
}

TEST(ParameterServiceTest, CheckpointIsAModelFileOfWholeBatches) {
  TemporaryDirectory dir;
  ServiceOptions options;
  options.checkpoint_dir = dir.File("checkpoints");
  Shard shard{options};
  adaline::v1::PushResponse response;
  ASSERT_TRUE(shard.Push({Batch({1, 2}, {1, -1})}, &response).ok());
  grpc::ClientContext context;
  adaline::v1::CheckpointResponse written;
  ASSERT_TRUE(
      shard.stub()
          .Checkpoint(&context, adaline::v1::CheckpointRequest(), &written)
          .ok());
  EXPECT_EQ(written.step(), 1u);
  absl::StatusOr<Model> model = LoadModel(written.path());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->store->step(), 1u);
  EXPECT_EQ(model->store->Lookup(2)->weight, shard.store().Lookup(2)->weight);

  Shard without{ServiceOptions{}};
  grpc::ClientContext other;
  EXPECT_EQ(without.stub()
                .Checkpoint(&other, adaline::v1::CheckpointRequest(), &written)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(CheckpointerTest, KeepsTheNewestAndSkipsCorruptOnes) {
  TemporaryDirectory dir;
  std::FILE* log = std::tmpfile();
  Checkpointer checkpointer(dir.File("c"), /*keep=*/2, log);
  Model model = NewModel();
  ModelConfig config = model.config;
  for (int step = 1; step <= 4; ++step) {
    const uint64_t key[] = {static_cast<uint64_t>(step)};
    const float gradient[] = {1};
    ASSERT_TRUE(model.store->Push(key, gradient).ok());
    ASSERT_TRUE(
        checkpointer.Write(SnapshotModel(config, *model.store, nullptr)).ok());
  }
  const std::vector<std::string> kept = checkpointer.List();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_NE(kept[0].find("checkpoint-00000000000000000004.model"),
            std::string::npos);
  // Corrupt the newest: restoring falls back to step 3 and says so.
  std::FILE* file = std::fopen(kept[0].c_str(), "r+b");
  std::fseek(file, 30, SEEK_SET);
  std::fputc('!', file);
  std::fclose(file);
  absl::StatusOr<std::optional<Checkpointer::Restored>> restored =
      checkpointer.RestoreNewest(SIZE_MAX);
  ASSERT_TRUE(restored.ok());
  ASSERT_TRUE(restored->has_value());
  EXPECT_EQ((*restored)->model.store->step(), 3u);
  EXPECT_EQ((*restored)->path, kept[1]);
  std::rewind(log);
  char line[512] = {0};
  ASSERT_NE(std::fgets(line, sizeof line, log), nullptr);
  EXPECT_NE(std::string(line).find("skipping checkpoint"), std::string::npos);
  std::fclose(log);
}

TEST(CheckpointerTest, RestoringRemovesWritesThatACrashCutOff) {
  TemporaryDirectory dir;
  std::FILE* log = std::tmpfile();
  Checkpointer checkpointer(dir.File("c"), Checkpointer::kDefaultKeep, log);
  Model model = NewModel();
  const uint64_t key[] = {7};
  const float gradient[] = {1};
  ASSERT_TRUE(model.store->Push(key, gradient).ok());
  absl::StatusOr<std::string> good =
      checkpointer.Write(SnapshotModel(model.config, *model.store, nullptr));
  ASSERT_TRUE(good.ok());
  // What a kill -9 during the next write leaves: a newer, partial file.
  const std::string partial =
      dir.File("c/checkpoint-00000000000000000002.model.tmp.4242");
  std::FILE* file = std::fopen(partial.c_str(), "wb");
  std::fputs("ADALINE half a model", file);
  std::fclose(file);

  absl::StatusOr<std::optional<Checkpointer::Restored>> restored =
      checkpointer.RestoreNewest(SIZE_MAX);
  ASSERT_TRUE(restored.ok());
  ASSERT_TRUE(restored->has_value());
  EXPECT_EQ((*restored)->path, *good);
  EXPECT_EQ((*restored)->model.store->step(), 1u);
  EXPECT_EQ(std::fopen(partial.c_str(), "rb"), nullptr);
  std::rewind(log);
  char line[512] = {0};
  ASSERT_NE(std::fgets(line, sizeof line, log), nullptr);
  EXPECT_NE(std::string(line).find("whose writing was cut off"),
            std::string::npos)
      << line;
  std::fclose(log);
}

constexpr char kTokens[] =
    "# role token\n"
    "trainer trainer-token-0123456789\n"
    "reader  reader-token-0123456789\n";

ServiceOptions WithTokens() {
  ServiceOptions options;
  options.tokens =
      std::make_shared<const TokenTable>(*TokenTable::Parse(kTokens, "tokens"));
  return options;
}

grpc::Status PushAs(Shard& shard, const std::string& token) {
  grpc::ClientContext context;
  Authenticate(context, token);
  adaline::v1::PushResponse response;
  auto stream = shard.stub().Push(&context, &response);
  stream->Write(Batch({1}, {1}));
  stream->WritesDone();
  return stream->Finish();
}

grpc::Status PullAs(Shard& shard, const std::string& token) {
  grpc::ClientContext context;
  Authenticate(context, token);
  adaline::v1::PullRequest request;
  request.add_keys(1);
  adaline::v1::PullResponse response;
  return shard.stub().Pull(&context, request, &response);
}

TEST(AuthTest, TrainersPushReadersOnlyReadStrangersNothing) {
  Shard shard{WithTokens()};
  EXPECT_EQ(PushAs(shard, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(PushAs(shard, "trainer-token-01234567xx").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(PullAs(shard, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status denied = PushAs(shard, "reader-token-0123456789");
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(denied.error_message().find("trainer token"), std::string::npos);
  // None of that changed anything.
  EXPECT_EQ(shard.store().step(), 0u);
  EXPECT_EQ(shard.store().size(), 0u);
  // On an exchange stream a reader may pull but not push.
  std::vector<adaline::v1::ExchangeResponse> answers;
  EXPECT_EQ(ExchangeAs(shard, "", {PullOnly({1})}, &answers).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(
      ExchangeAs(shard, "reader-token-0123456789", {PullOnly({1})}, &answers)
          .ok());
  EXPECT_EQ(ExchangeAs(shard, "reader-token-0123456789",
                       {PushThenPull(Batch({1}, {1}), {1})}, &answers)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(answers.size(), 1u);
  EXPECT_EQ(shard.store().step(), 0u);
  EXPECT_TRUE(PullAs(shard, "reader-token-0123456789").ok());
  EXPECT_TRUE(PushAs(shard, "trainer-token-0123456789").ok());
  EXPECT_EQ(shard.store().step(), 1u);
  grpc::ClientContext context;
  Authenticate(context, "reader-token-0123456789");
  adaline::v1::CheckpointResponse written;
  EXPECT_EQ(
      shard.stub()
          .Checkpoint(&context, adaline::v1::CheckpointRequest(), &written)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

TEST(AuthTest, RemoteParametersSendTheirToken) {
  Shard shard{WithTokens()};
  ClientOptions options;
  options.token = "trainer-token-0123456789";
  RemoteParameters remote({shard.channel()}, {"in-process"}, options);
  const uint64_t keys[] = {4};
  const float gradients[] = {1};
  ASSERT_TRUE(remote.Push(keys, gradients).ok());
  ASSERT_TRUE(remote.Finish().ok());
  EXPECT_EQ(shard.store().step(), 1u);
  ClientOptions stranger;
  stranger.log = nullptr;
  RemoteParameters refused({shard.channel()}, {"in-process"}, stranger);
  float weights[1];
  absl::Status status = refused.Pull(keys, absl::MakeSpan(weights));
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
}

TEST(TokenTableTest, RefusesMalformedFiles) {
  EXPECT_NE(TokenTable::Parse("admin abcdefghijklmnopqrstuvwxyz\n", "t")
                .status()
                .message()
                .find("t:1: unknown role 'admin'"),
            absl::string_view::npos);
  EXPECT_NE(TokenTable::Parse("\ntrainer short\n", "t")
                .status()
                .message()
                .find("t:2: token is shorter than 16"),
            absl::string_view::npos);
  EXPECT_FALSE(TokenTable::Parse("trainer a b c\n", "t").ok());
  EXPECT_NE(
      TokenTable::Parse("# nothing\n", "t").status().message().find("no token"),
      absl::string_view::npos);
  absl::StatusOr<TokenTable> table = TokenTable::Parse(kTokens, "t");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->RoleOf("reader-token-0123456789"), Role::kReader);
  EXPECT_EQ(table->RoleOf("trainer-token-0123456789"), Role::kTrainer);
  EXPECT_FALSE(table->RoleOf("trainer-token-012345678").has_value());
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

  ServiceOptions first, second;
  first.shard = ShardSpec{0, 2};
  second.shard = ShardSpec{1, 2};
  Shard shard0{first}, shard1{second};
  RemoteParameters remote({shard0.channel(), shard1.channel()},
                          {"in-process 0", "in-process 1"}, ClientOptions{});
  absl::StatusOr<TrainResult> distributed =
      Train(options, Loss::kLogistic, remote, nullptr);
  ASSERT_TRUE(distributed.ok()) << distributed.status();
  ASSERT_TRUE(remote.Finish().ok());
  EXPECT_EQ(shard0.store().step(), local.store->step());
  EXPECT_EQ(shard1.store().step(), local.store->step());
  EXPECT_EQ(shard0.store().size() + shard1.store().size(), local.store->size());
  EXPECT_NEAR(distributed->holdout.MeanLoss(), alone->holdout.MeanLoss(),
              0.01 * alone->holdout.MeanLoss());
  absl::StatusOr<std::vector<adaline::v1::StatsResponse>> stats =
      remote.Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ((*stats)[1].shard_index(), 1u);
}

TEST(RemoteParametersTest, RefusalsAreNotRetried) {
  ServiceOptions options;
  options.max_request_keys = 1;
  Shard shard{options};
  RemoteParameters remote({shard.channel()}, {"in-process"}, ClientOptions{});
  const uint64_t keys[] = {1, 2};
  float weights[2];
  absl::Status status = remote.Pull(keys, absl::MakeSpan(weights));
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_NE(status.message().find("in-process"), absl::string_view::npos);
}

TEST(RemoteParametersTest, WorkersChooseWhatAFullShardDoes) {
  Shard shard{ServiceOptions{},
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
  ServiceOptions first, second;
  first.shard = ShardSpec{0, 2};
  second.shard = ShardSpec{1, 2};
  Shard shard0{first}, shard1{second};
  RemoteParameters remote({shard0.channel(), shard1.channel()},
                          {"in-process 0", "in-process 1"}, ClientOptions{});
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
      grpc::ServerContext* context,
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
  Shard healthy{options};
  SilentShard silent;
  grpc::ServerBuilder builder;
  builder.RegisterService(&silent);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ClientOptions client;
  client.call_timeout = absl::Milliseconds(200);
  client.retry_timeout = absl::Milliseconds(500);
  client.log = nullptr;
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
  // Only the silent shard's stream was cut; the healthy one is still open.
  const adaline::v1::StatsResponse stats = healthy.Stats();
  EXPECT_EQ(stats.connected_workers(), 1u);
  server->Shutdown();
}

TEST(RemoteParametersTest, AnUnreachableShardFailsAfterTheRetryTimeout) {
  ClientOptions options;
  options.retry_timeout = absl::Milliseconds(300);
  options.call_timeout = absl::Milliseconds(200);
  options.log = nullptr;
  RemoteParameters remote(std::vector<std::string>{"127.0.0.1:1"}, options);
  const uint64_t keys[] = {1};
  float weights[1];
  absl::Status status = remote.Pull(keys, absl::MakeSpan(weights));
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_NE(status.message().find("unreachable"), absl::string_view::npos)
      << status;
}

}  // namespace
}  // namespace adaline
