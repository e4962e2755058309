// ParameterService over the in-process transport of a ShardServer: every
// RPC, every refusal, roles, and checkpoints on request.
#include "server/parameter_service.h"

#include <grpcpp/grpcpp.h>

#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "core/feature_key.h"
#include "gtest/gtest.h"
#include "tests/shard_fixture.h"
#include "tests/test_files.h"

namespace adaline {
namespace {

TEST(ParameterServiceTest, PullOfUnknownKeysReadsZeroAndCreatesNothing) {
  InProcessShard shard{ServiceOptions{}};
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

// A local store after `steps`, one optimizer step each: what a shard holds
// after the same steps.
std::unique_ptr<WeightStore> AfterSteps(
    OptimizerKind kind, const std::vector<adaline::v1::PushRequest>& steps) {
  auto store = std::make_unique<WeightStore>(OptimizerOptions::Defaults(kind));
  for (const adaline::v1::PushRequest& step : steps) {
    EXPECT_TRUE(
        store
            ->Push(absl::MakeConstSpan(step.keys().data(), step.keys_size()),
                   absl::MakeConstSpan(step.gradients().data(),
                                       step.gradients_size()))
            .ok());
  }
  return store;
}

TEST(ParameterServiceTest, EachPushedBatchIsOneOptimizerStep) {
  InProcessShard shard{ServiceOptions{}};
  const std::vector<adaline::v1::PushRequest> batches = {
      Batch({1, 2}, {0.5f, -0.5f}), Batch({1}, {0.5f}), Batch({}, {})};
  adaline::v1::PushResponse response;
  ASSERT_TRUE(shard.Push(batches, &response).ok());
  EXPECT_EQ(response.batches_applied(), 3u);
  EXPECT_EQ(response.step(), 3u);
  // The same steps on a local store give the same weights.
  const auto local = AfterSteps(OptimizerKind::kAdagrad, batches);
  grpc::ClientContext context;
  adaline::v1::PullRequest pull;
  pull.add_keys(1);
  pull.add_keys(2);
  adaline::v1::PullResponse pulled;
  ASSERT_TRUE(shard.stub().Pull(&context, pull, &pulled).ok());
  EXPECT_EQ(pulled.step(), 3u);
  EXPECT_EQ(pulled.weights(0), local->Lookup(1)->weight);
  EXPECT_EQ(pulled.weights(1), local->Lookup(2)->weight);
}

TEST(ParameterServiceTest, ABatchWithStepSizesIsThatManySteps) {
  InProcessShard shard{ServiceOptions{}, NewModel(OptimizerKind::kAdam)};
  // Steps {1, 2}, {} and {1}: a key may come back in a later step.
  adaline::v1::PushRequest batch = Batch({1, 2, 1}, {0.5f, -0.5f, 0.25f});
  for (uint32_t size : {2u, 0u, 1u}) batch.add_step_sizes(size);
  adaline::v1::PushResponse response;
  ASSERT_TRUE(shard.Push({batch}, &response).ok());
  EXPECT_EQ(response.batches_applied(), 1u);
  EXPECT_EQ(response.step(), 3u);
  const auto local = AfterSteps(
      OptimizerKind::kAdam,
      {Batch({1, 2}, {0.5f, -0.5f}), Batch({}, {}), Batch({1}, {0.25f})});
  for (uint64_t key : {1, 2}) {
    EXPECT_EQ(shard.store().Lookup(key)->weight, local->Lookup(key)->weight);
  }
}

TEST(ParameterServiceTest, APullWithStateSendsWhatAStepOnACopyNeeds) {
  InProcessShard shard{ServiceOptions{}, NewModel(OptimizerKind::kAdam)};
  adaline::v1::PushResponse pushed;
  ASSERT_TRUE(shard.Push({Batch({1}, {0.5f}), Batch({}, {})}, &pushed).ok());
  grpc::ClientContext context;
  adaline::v1::PullRequest request;
  request.add_keys(1);
  request.add_keys(7);  // unknown
  request.set_with_state(true);
  adaline::v1::PullResponse response;
  ASSERT_TRUE(shard.stub().Pull(&context, request, &response).ok());
  ASSERT_EQ(response.states_size(), 4);         // m and v of two keys
  const Entry held = *shard.store().Lookup(1);  // caught up to step 2
  EXPECT_EQ(response.step(), 2u);
  EXPECT_EQ(response.weights(0), held.weight);
  EXPECT_EQ(response.states(0), held.state[0]);
  EXPECT_EQ(response.states(1), held.state[1]);
  EXPECT_EQ(response.weights(1), 0);
  EXPECT_EQ(response.states(2), 0);
  EXPECT_EQ(response.states(3), 0);
  // Without with_state, no state.
  grpc::ClientContext plain_context;
  request.set_with_state(false);
  ASSERT_TRUE(shard.stub().Pull(&plain_context, request, &response).ok());
  EXPECT_EQ(response.states_size(), 0);
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
  InProcessShard shard{options};
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
  InProcessShard shard{ServiceOptions{}};
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
  InProcessShard shard{ServiceOptions{}};
  shard.service().StopPushes();
  adaline::v1::PushResponse response;
  EXPECT_EQ(shard.Push({Batch({1}, {1})}, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(shard.store().step(), 0u);
}

TEST(ParameterServiceTest, ReadersCannotTakeTheTrainersStreams) {
  ServiceOptions options = WithTestTokens();
  options.max_push_streams = 1;
  InProcessShard shard{options};
  // A reader holds a pull-only stream open...
  grpc::ClientContext reader_context;
  Authenticate(reader_context, "reader-token-0123456789");
  auto reader = shard.stub().Exchange(&reader_context);
  adaline::v1::ExchangeRequest pull;
  pull.mutable_pull()->add_keys(1);
  adaline::v1::ExchangeResponse answer;
  ASSERT_TRUE(reader->Write(pull) && reader->Read(&answer));
  // ...and a second reader is refused, but a trainer still gets its slot.
  std::vector<adaline::v1::ExchangeResponse> answers;
  grpc::Status second_reader =
      ExchangeAs(shard, "reader-token-0123456789", {pull}, &answers);
  EXPECT_EQ(second_reader.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(second_reader.error_message().find("reader-only"),
            std::string::npos);
  EXPECT_TRUE(ExchangeAs(shard, "trainer-token-0123456789",
                         {PushThenPull(Batch({2}, {1}), {2})}, &answers)
                  .ok());
  EXPECT_TRUE(shard.store().Lookup(2).has_value());
  reader->WritesDone();
  EXPECT_TRUE(reader->Finish().ok());
}

TEST(ParameterServiceTest, IdleReaderStreamsAreEndedAndTheirSlotsFreed) {
  ServiceOptions options = WithTestTokens();
  options.max_push_streams = 1;
  options.reader_stream_idle_timeout = absl::Milliseconds(100);
  InProcessShard shard{options};
  adaline::v1::ExchangeRequest pull;
  pull.mutable_pull()->add_keys(1);
  adaline::v1::ExchangeResponse answer;
  grpc::ClientContext reader_context;
  Authenticate(reader_context, "reader-token-0123456789");
  auto reader = shard.stub().Exchange(&reader_context);
  ASSERT_TRUE(reader->Write(pull) && reader->Read(&answer));
  // A trainer's stream idles as long and is kept.
  grpc::ClientContext trainer_context;
  Authenticate(trainer_context, "trainer-token-0123456789");
  auto trainer = shard.stub().Exchange(&trainer_context);
  ASSERT_TRUE(trainer->Write(pull) && trainer->Read(&answer));

  absl::SleepFor(absl::Milliseconds(150));
  shard.service().CloseIdleReaderStreams();
  EXPECT_FALSE(reader->Read(&answer));  // the server ended it
  EXPECT_FALSE(reader->Finish().ok());
  // Its slot is free for another reader.
  std::vector<adaline::v1::ExchangeResponse> answers;
  EXPECT_TRUE(
      ExchangeAs(shard, "reader-token-0123456789", {pull}, &answers).ok());
  EXPECT_TRUE(trainer->Write(pull) && trainer->Read(&answer));
  trainer->WritesDone();
  EXPECT_TRUE(trainer->Finish().ok());
}

TEST(ParameterServiceTest, PushStreamsPastTheLimitAreRefused) {
  ServiceOptions options;
  options.max_push_streams = 1;
  InProcessShard shard{options};
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
  InProcessShard shard{ServiceOptions{}};
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
  InProcessShard shard{options};
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
  InProcessShard shard{ServiceOptions{},
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
  InProcessShard shard{ServiceOptions{},
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
  InProcessShard shard{ServiceOptions{}};
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
  // The default AdaGrad, normalized: -lr g / |g| with lr 0.5 (a push
  // without scales leaves the scale unknown, 0, and the rate 1).
  EXPECT_FLOAT_EQ(found.weight(), 0.5f);
  ASSERT_EQ(found.state_size(), 2);
  EXPECT_FLOAT_EQ(found.state(0), 0.25f);
  EXPECT_FLOAT_EQ(found.state(1), 0.0f);
  EXPECT_EQ(found.last_step(), 1u);
  EXPECT_FALSE(answer.features(1).present());
}

TEST(ParameterServiceTest, StatsDescribeTheShard) {
  ServiceOptions options;
  options.shard = ShardSpec{1, 3};
  InProcessShard shard{options};
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
  ASSERT_EQ(stats.state_names_size(), 2);
  EXPECT_EQ(stats.state_names(0), "accumulator");
  EXPECT_EQ(stats.state_names(1), "scale");
}

TEST(ParameterServiceTest, CheckpointIsAModelFileOfWholeBatches) {
  TemporaryDirectory dir;
  ServiceOptions options;
  options.checkpoint_dir = dir.File("checkpoints");
  InProcessShard shard{options};
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

  InProcessShard without{ServiceOptions{}};
  grpc::ClientContext other;
  EXPECT_EQ(without.stub()
                .Checkpoint(&other, adaline::v1::CheckpointRequest(), &written)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

// work --keep-names: names ride with pushes, the shard keeps them within
// max_name_bytes, and its checkpoints carry them.
TEST(ParameterServiceTest, PushedNamesAreKeptBoundedAndCheckpointed) {
  TemporaryDirectory dir;
  ServiceOptions options;
  options.checkpoint_dir = dir.File("checkpoints");
  options.max_name_bytes = 12;  // "movie^nolan" fits, a second name not
  InProcessShard shard{options};
  adaline::v1::PushRequest batch = Batch({1, 2}, {1, -1});
  for (const auto& [key, name] :
       {std::pair<uint64_t, const char*>{1, "movie^nolan"}, {2, "user^u7"}}) {
    adaline::v1::FeatureName* named = batch.add_names();
    named->set_key(key);
    named->set_name(name);
  }
  adaline::v1::PushResponse response;
  ASSERT_TRUE(shard.Push({batch}, &response).ok());
  const adaline::v1::StatsResponse stats = shard.Stats();
  EXPECT_EQ(stats.names(), 1u);
  EXPECT_EQ(stats.name_bytes(), 11u);
  EXPECT_EQ(stats.names_dropped(), 1u);
  absl::StatusOr<ParameterService::WrittenCheckpoint> written =
      shard.service().WriteCheckpoint();
  ASSERT_TRUE(written.ok()) << written.status();
  absl::StatusOr<Model> model = LoadModel(written->path);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_NE(model->names.Find(1), nullptr);
  EXPECT_EQ(*model->names.Find(1), "movie^nolan");
  EXPECT_EQ(model->names.Find(2), nullptr);
}

TEST(ParameterServiceTest, NamesOfOtherShardsKeysAreRefused) {
  ServiceOptions options;
  options.shard = ShardSpec{0, 2};
  InProcessShard shard{options};
  adaline::v1::PushRequest batch = Batch({2}, {1});
  adaline::v1::FeatureName* named = batch.add_names();
  named->set_key(3);  // shard 1's
  named->set_name("a^b");
  adaline::v1::PushResponse response;
  const grpc::Status status = shard.Push({batch}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("belongs to shard 1"),
            std::string::npos)
      << status.error_message();
  EXPECT_EQ(shard.store().size(), 0u);
}

grpc::Status PushAs(InProcessShard& shard, const std::string& token) {
  grpc::ClientContext context;
  Authenticate(context, token);
  adaline::v1::PushResponse response;
  auto stream = shard.stub().Push(&context, &response);
  stream->Write(Batch({1}, {1}));
  stream->WritesDone();
  return stream->Finish();
}

grpc::Status PullAs(InProcessShard& shard, const std::string& token) {
  grpc::ClientContext context;
  Authenticate(context, token);
  adaline::v1::PullRequest request;
  request.add_keys(1);
  adaline::v1::PullResponse response;
  return shard.stub().Pull(&context, request, &response);
}

TEST(AuthTest, TrainersPushReadersOnlyReadStrangersNothing) {
  InProcessShard shard{WithTestTokens()};
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

TEST(AuthTest, ReadersRequestsAreCappedTrainersAreNot) {
  ServiceOptions options = WithTestTokens();
  options.max_reader_message_bytes = 1000;
  InProcessShard shard{options};
  adaline::v1::PullRequest big;
  for (uint64_t key = 0; key < 500; ++key) big.add_keys(key);  // 4,000 bytes
  auto pull_as = [&](const std::string& token,
                     const adaline::v1::PullRequest& request) {
    grpc::ClientContext context;
    Authenticate(context, token);
    adaline::v1::PullResponse response;
    return shard.stub().Pull(&context, request, &response);
  };
  const grpc::Status refused = pull_as("reader-token-0123456789", big);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("--max-reader-message-bytes"),
            std::string::npos);
  EXPECT_TRUE(pull_as("trainer-token-0123456789", big).ok());
  adaline::v1::PullRequest small;
  small.add_keys(1);
  EXPECT_TRUE(pull_as("reader-token-0123456789", small).ok());
  // The same on a reader's exchange stream.
  std::vector<adaline::v1::ExchangeResponse> answers;
  adaline::v1::ExchangeRequest exchange;
  *exchange.mutable_pull() = big;
  EXPECT_EQ(ExchangeAs(shard, "reader-token-0123456789", {exchange}, &answers)
                .error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST(AuthTest, ReadersMayPredictStrangersMayNot) {
  InProcessShard shard{WithTestTokens()};
  auto predict_as = [&](const std::string& token) {
    grpc::ClientContext context;
    Authenticate(context, token);
    adaline::v1::PredictRequest request;
    request.add_lines("|user id_1");
    adaline::v1::PredictResponse response;
    return shard.stub().Predict(&context, request, &response);
  };
  EXPECT_EQ(predict_as("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(predict_as("reader-token-01234567xx").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(predict_as("reader-token-0123456789").ok());
  EXPECT_TRUE(predict_as("trainer-token-0123456789").ok());
}

}  // namespace
}  // namespace adaline
