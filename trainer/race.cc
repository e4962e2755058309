#include "trainer/race.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/time/clock.h"
#include "core/minibatch.h"
#include "core/parameters.h"
#include "data/example_stream.h"

namespace adaline {
namespace {

// One entrant's learner: its parameters, its reused minibatch and its
// running loss.
struct Runner {
  explicit Runner(Model& model)
      : model(model),
        parameters(model.store.get()),
        shared(model.store->shared_between_threads()) {
    // The race's thread is the only one that touches its models.
    model.store->SetSharedBetweenThreads(false);
  }
  ~Runner() { model.store->SetSharedBetweenThreads(shared); }

  absl::Status Learn(const Example& example) {
    batch.Add(example, /*learn=*/true);
    if (absl::Status s = parameters.Pull(batch.keys(), batch.weights());
        !s.ok()) {
      return s;
    }
    batch.Compute(model.config.loss, parameters.wants_scales());
    const double importance = batch.importance(0);
    loss_sum += importance *
                LossValue(model.config.loss, batch.margin(0), batch.label(0));
    weight_sum += importance;
    absl::Status pushed = parameters.Push(
        batch.push_keys(), batch.push_gradients(), batch.push_scales());
    batch.Clear();
    return pushed;
  }

  float WeightOf(uint64_t key) const {
    std::optional<Entry> entry = model.store->Lookup(key);
    return entry.has_value() ? model.store->CaughtUp(*entry).weight : 0.0f;
  }

  Model& model;
  StoreParameters parameters;
  const bool shared;
  Minibatch batch;
  double loss_sum = 0, weight_sum = 0;
  double last_loss_sum = 0, last_weight_sum = 0;
};

}  // namespace

absl::StatusOr<RaceStanding> Race(const RaceOptions& options,
                                  std::vector<RaceEntrant>& entrants,
                                  const RaceObserver& observe) {
  if (entrants.empty()) {
    return absl::InvalidArgumentError("a race needs at least one optimizer");
  }
  if (options.standings_per_doubling < 1) {
    return absl::InvalidArgumentError("standings_per_doubling must be >= 1");
  }
  std::vector<std::unique_ptr<Runner>> runners;
  for (RaceEntrant& entrant : entrants) {
    runners.push_back(std::make_unique<Runner>(entrant.model));
  }
  const absl::Time start = absl::Now();
  RaceStanding standing;
  auto take_standing = [&](bool last) {
    standing.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    standing.average_loss.clear();
    standing.since_last.clear();
    standing.weights.clear();
    for (auto& runner : runners) {
      standing.average_loss.push_back(
          runner->weight_sum > 0 ? runner->loss_sum / runner->weight_sum : 0);
      const double since_weight = runner->weight_sum - runner->last_weight_sum;
      standing.since_last.push_back(
          since_weight > 0
              ? (runner->loss_sum - runner->last_loss_sum) / since_weight
              : 0);
      runner->last_loss_sum = runner->loss_sum;
      runner->last_weight_sum = runner->weight_sum;
      std::vector<float> weights;
      for (uint64_t key : options.watched_keys) {
        weights.push_back(runner->WeightOf(key));
      }
      standing.weights.push_back(std::move(weights));
    }
    if (observe) observe(standing, last);
  };

  ExampleStream stream(options.data);
  uint64_t next_standing = 1;
  uint64_t last_standing = 0;
  int standing_index = 0;
  while (const ExampleBlock* block = stream.Next()) {
    for (size_t i = 0; i < block->size(); ++i) {
      const Example example = block->example(i);
      if (!example.has_label) continue;
      for (auto& runner : runners) {
        if (absl::Status s = runner->Learn(example); !s.ok()) return s;
      }
      if (++standing.examples == next_standing) {
        take_standing(/*last=*/false);
        last_standing = standing.examples;
        while (next_standing <= standing.examples) {
          next_standing = static_cast<uint64_t>(
              std::llround(std::exp2(static_cast<double>(++standing_index) /
                                     options.standings_per_doubling)));
        }
      }
    }
  }
  if (absl::Status s = stream.status(); !s.ok()) return s;
  if (standing.examples == 0) {
    return absl::InvalidArgumentError(
        "the data has no labeled example: there is nothing to race on");
  }
  if (last_standing == standing.examples) {
    // The last standing is the one just taken: told again, as the last.
    if (observe) observe(standing, /*last=*/true);
  } else {
    take_standing(/*last=*/true);
  }
  return standing;
}

}  // namespace adaline
