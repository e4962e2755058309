// WeightStore throughput: key-updates per second of Push (one optimizer step
// over a batch of distinct keys) and Pull, per optimizer, on Zipf-like key
// popularity over a million keys. Also reports bytes per key, and one
// learning step by either of the learner's paths.
#include <cmath>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/minibatch.h"
#include "core/parameters.h"
#include "core/weight_store.h"

namespace adaline {
namespace {

constexpr size_t kUniverse = 1 << 20;
constexpr size_t kBatch = 22;  // features of one example

// Batches of distinct keys, popular keys far more often than rare ones.
std::vector<std::vector<uint64_t>> MakeBatches(size_t count) {
  std::mt19937_64 random(1);
  std::vector<std::vector<uint64_t>> batches(count);
  for (auto& batch : batches) {
    while (batch.size() < kBatch) {
      // Inverse-CDF of a 1/x law over [1, kUniverse].
      const double u = std::uniform_real_distribution<double>(0, 1)(random);
      const uint64_t rank = static_cast<uint64_t>(std::pow(kUniverse, u));
      const uint64_t key = rank * 0x9e3779b97f4a7c15ULL;
      bool seen = false;
      for (uint64_t k : batch) seen |= k == key;
      if (!seen) batch.push_back(key);
    }
  }
  return batches;
}

void BM_Push(benchmark::State& state) {
  const OptimizerKind kind = static_cast<OptimizerKind>(state.range(0));
  WeightStore store(OptimizerOptions::Defaults(kind));
  static const auto* batches =
      new std::vector<std::vector<uint64_t>>(MakeBatches(1 << 16));
  std::vector<float> gradients(kBatch, 0.01f);
  // Warm the store so growth is not measured.
  for (const auto& batch : *batches) (void)store.Push(batch, gradients);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(store.Push((*batches)[i], gradients));
    if (++i == batches->size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(std::string(OptimizerName(kind)));
  state.counters["bytes_per_key"] =
      static_cast<double>(store.bytes()) / static_cast<double>(store.size());
}

void BM_Pull(benchmark::State& state) {
  const OptimizerKind kind = static_cast<OptimizerKind>(state.range(0));
  WeightStore store(OptimizerOptions::Defaults(kind));
  static const auto* batches =
      new std::vector<std::vector<uint64_t>>(MakeBatches(1 << 16));
  std::vector<float> gradients(kBatch, 0.01f), weights(kBatch);
  for (const auto& batch : *batches) (void)store.Push(batch, gradients);
  size_t i = 0;
  for (auto _ : state) {
    store.Pull((*batches)[i], absl::MakeSpan(weights));
    benchmark::DoNotOptimize(weights.data());
    if (++i == batches->size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(std::string(OptimizerName(kind)));
}

// The catch-up sweep that runs once every 2^30 steps: its pause, over a
// store of range(1) keys, all idle long enough to need it (the worst case).
void BM_CatchUpSweep(benchmark::State& state) {
  const size_t keys = static_cast<size_t>(state.range(1));
  for (auto _ : state) {
    state.PauseTiming();
    WeightStore store(
        OptimizerOptions::Defaults(static_cast<OptimizerKind>(state.range(0))));
    std::vector<uint64_t> batch(1);
    const float gradient[] = {0.01f};
    for (size_t k = 0; k < keys; ++k) {
      batch[0] = k * 0x9e3779b97f4a7c15ULL;
      (void)store.Push(batch, gradient);
    }
    store.AdvanceIdleSteps(2 * kCatchUpInterval - store.step() - 1);
    state.ResumeTiming();
    store.AdvanceIdleSteps(1);  // reaches the sweep
  }
  state.SetItemsProcessed(state.iterations() * keys);
}

// One example learned with batches of one and the default optimizer
// (normalized AdaGrad), features per second: through Pull, Minibatch and
// Push (range(0) 0), as a worker's copy and batches do, or through
// WeightStore::LearnExample (1), as local training does.
void BM_LearnExample(benchmark::State& state) {
  const bool one_pass = state.range(0) == 1;
  OptimizerOptions options =
      OptimizerOptions::Defaults(OptimizerKind::kAdagrad);
  options.normalized = true;
  options.learning_rate = 0.5;
  WeightStore store(options);
  store.SetSharedBetweenThreads(false);
  static const auto* batches =
      new std::vector<std::vector<uint64_t>>(MakeBatches(1 << 16));
  std::vector<std::vector<Feature>> examples;
  for (const auto& batch : *batches) {
    std::vector<Feature>& features = examples.emplace_back();
    for (const uint64_t key : batch) features.push_back({key, 1.0f});
  }
  StoreParameters parameters(&store);
  Minibatch minibatch;
  Example example;
  example.distinct_keys = true;
  size_t i = 0;
  const auto learn = [&] {
    example.features = examples[i];
    example.label = (i & 1) != 0 ? 1.0f : -1.0f;
    if (one_pass) {
      benchmark::DoNotOptimize(store.LearnExample(
          example.features, 0, example.label, 1, Loss::kLogistic, true, true));
    } else {
      minibatch.Add(example, true);
      (void)parameters.Pull(minibatch.keys(), minibatch.weights());
      minibatch.Compute(Loss::kLogistic, true);
      (void)parameters.Push(minibatch.push_keys(), minibatch.push_gradients(),
                            minibatch.push_scales());
      minibatch.Clear();
    }
    if (++i == examples.size()) i = 0;
  };
  // Warm the store so growth is not measured.
  for (size_t n = 0; n < examples.size(); ++n) learn();
  for (auto _ : state) learn();
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(one_pass ? "LearnExample" : "Pull+Minibatch+Push");
}

void AllOptimizers(benchmark::internal::Benchmark* benchmark) {
  for (int kind = 0; kind <= static_cast<int>(OptimizerKind::kFtrl); ++kind) {
    benchmark->Arg(kind);
  }
}

BENCHMARK(BM_Push)->Apply(AllOptimizers);
BENCHMARK(BM_CatchUpSweep)
    ->Args({static_cast<int>(OptimizerKind::kAdam), 1 << 20})
    ->Args({static_cast<int>(OptimizerKind::kRmsprop), 1 << 20})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(BM_LearnExample)->Arg(0)->Arg(1);
BENCHMARK(BM_Pull)
    ->Arg(static_cast<int>(OptimizerKind::kAdagrad))
    ->Arg(static_cast<int>(OptimizerKind::kAdam));

}  // namespace
}  // namespace adaline

BENCHMARK_MAIN();
