// The parameter service's own concurrency, driven from plain threads (no
// gRPC, whose Debian build ThreadSanitizer cannot see into): batches applied
// from several threads while checkpoints are taken, so that `bazel test
// --config=tsan` checks the locking that keeps checkpoints whole.
#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/parameter_service.h"
#include "tests/test_files.h"

namespace adaline {
namespace {

constexpr int kKeysPerBatch = 16;

// Plain SGD with rate 1: after n batches that give every key gradient 1,
// every weight is exactly -n. A checkpoint with part of a batch would hold
// weights that differ.
Model SgdModel() {
  Model model;
  model.config.optimizer = OptimizerOptions::Defaults(OptimizerKind::kSgd);
  model.config.optimizer.learning_rate = 1;
  model.store = std::make_unique<WeightStore>(model.config.optimizer);
  return model;
}

struct StopAndJoin {
  StopAndJoin(std::atomic<bool>& done, std::vector<std::thread>& threads)
      : done(done), threads(threads) {}
  ~StopAndJoin() {
    done.store(true);
    for (std::thread& thread : threads) thread.join();
  }
  std::atomic<bool>& done;
  std::vector<std::thread>& threads;
};

adaline::v1::PushRequest EveryKeyGradientOne() {
  adaline::v1::PushRequest request;
  for (int k = 1; k <= kKeysPerBatch; ++k) {
    request.add_keys(k);
    request.add_gradients(1);
  }
  return request;
}

TEST(ServiceConcurrencyTest,
     CheckpointsTakenWhileBatchesApplyHoldWholeBatches) {
  TemporaryDirectory dir;
  ServiceOptions options;
  options.checkpoint_dir = dir.File("checkpoints");
  ParameterService service(SgdModel(), options);
  // Pushers run until the checkpoints are done, however fast either is.
  // Steps stay below 2^22, where float weights count them exactly.
  constexpr int kThreads = 4, kCheckpoints = 6;
  constexpr uint64_t kMaxSteps = uint64_t{1} << 22;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> applied{0};
  std::vector<std::thread> pushers;
  for (int t = 0; t < kThreads; ++t) {
    pushers.emplace_back([&] {
      const adaline::v1::PushRequest batch = EveryKeyGradientOne();
      while (!done.load() && applied.load() < kMaxSteps) {
        ASSERT_TRUE(service.ApplyBatch(batch).ok());
        applied.fetch_add(1);
      }
    });
  }
  // Stops and joins the pushers however the checks below end.
  std::optional<StopAndJoin> stop;
  stop.emplace(done, pushers);
  uint64_t last_step = 0;
  for (int c = 0; c < kCheckpoints; ++c) {
    // Let some batches land between checkpoints.
    while (service.model()->store->step() < last_step + 50 &&
           applied.load() < kMaxSteps) {
      std::this_thread::yield();
    }
    absl::StatusOr<ParameterService::WrittenCheckpoint> written =
        service.WriteCheckpoint();
    ASSERT_TRUE(written.ok()) << written.status();
    last_step = written->step;
    absl::StatusOr<Model> model = LoadModel(written->path);
    ASSERT_TRUE(model.ok()) << model.status();
    ASSERT_EQ(model->store->step(), written->step);
    for (uint64_t key = 1; key <= kKeysPerBatch; ++key) {
      const std::optional<Entry> entry = model->store->Lookup(key);
      ASSERT_TRUE(entry.has_value());
      ASSERT_EQ(entry->weight, -static_cast<float>(written->step))
          << "key " << key << " in the checkpoint at step " << written->step;
    }
  }
  stop.reset();
  EXPECT_EQ(service.model()->store->step(), applied.load());
  EXPECT_EQ(service.model()->store->Lookup(1)->weight,
            -static_cast<float>(applied.load()));
}

TEST(ServiceConcurrencyTest, AFullStoreTakesOrRefusesConcurrentBatchesWhole) {
  // Two batches of 20,000 new keys each race into a store with room for
  // 30,000: one is applied whole, the other refused whole, every round.
  constexpr size_t kBatch = 20000, kLimit = 30000;
  for (int round = 0; round < 20; ++round) {
    Model model = SgdModel();
    model.store = std::make_unique<WeightStore>(model.config.optimizer, kLimit);
    ParameterService service(std::move(model), ServiceOptions{});
    adaline::v1::PushRequest batches[2];
    for (int b = 0; b < 2; ++b) {
      for (size_t k = 0; k < kBatch; ++k) {
        batches[b].add_keys(1 + b * kBatch + k);
        batches[b].add_gradients(1);
      }
    }
    absl::Status outcomes[2];
    std::thread other(
        [&] { outcomes[1] = service.ApplyBatch(batches[1]).status(); });
    outcomes[0] = service.ApplyBatch(batches[0]).status();
    other.join();
    EXPECT_NE(outcomes[0].ok(), outcomes[1].ok())
        << outcomes[0] << " / " << outcomes[1];
    EXPECT_TRUE(absl::IsResourceExhausted(outcomes[0].ok() ? outcomes[1]
                                                           : outcomes[0]));
    const WeightStore& store = *service.model()->store;
    EXPECT_EQ(store.size(), kBatch);
    EXPECT_EQ(store.dropped_new_keys(), 0u);
    EXPECT_EQ(store.step(), 1u);
  }
}

}  // namespace
}  // namespace adaline
