#include "trainer/local_trainer.h"

#include <algorithm>
#include <bitset>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "core/minibatch.h"
#include "data/example_source.h"
#include "trainer/progress.h"

namespace adaline {
namespace {

// Pulls, scores, pushes one minibatch and records its losses.
absl::Status Step(Loss loss, Minibatch& batch, Parameters& parameters,
                  ProgressTable& progress, Metrics& holdout) {
  if (absl::Status s = parameters.Pull(batch.keys(), batch.weights());
      !s.ok()) {
    return s;
  }
  batch.Compute(loss, parameters.wants_scales());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch.learns(i)) {
      progress.Add(LossValue(loss, batch.margin(i), batch.label(i)),
                   batch.importance(i));
    } else {
      holdout.Add(batch.margin(i), batch.label(i), batch.importance(i));
    }
  }
  // An all-zero gradient is still a step: momentum moves on, as in dense
  // training. Held-out examples alone (the end of a pass) are no step.
  if (batch.learning_examples() > 0) {
    if (absl::Status s = parameters.Push(
            batch.push_keys(), batch.push_gradients(), batch.push_scales());
        !s.ok()) {
      return s;
    }
  }
  batch.Clear();
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTrainOptions(const TrainOptions& options) {
  if (options.passes == 0) {
    return absl::InvalidArgumentError("--passes must be at least 1");
  }
  if (options.batch_size == 0) {
    return absl::InvalidArgumentError("--batch-size must be at least 1");
  }
  if (options.early_stop > 0 && options.holdout_every == 0) {
    return absl::InvalidArgumentError(
        "--early-stop needs a holdout to watch: set --holdout-every");
  }
  if (options.holdout_every == 1) {
    return absl::InvalidArgumentError(
        "--holdout-every 1 would hold out every example");
  }
  for (const std::string& file : options.data.files) {
    if (file != "-") continue;
    if (options.passes > 1) {
      return absl::InvalidArgumentError(
          "standard input can be read only once; use --passes 1 or a file");
    }
    if (!options.cache.empty()) {
      return absl::InvalidArgumentError(
          "standard input cannot be cached (--cache): name a file");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainResult> Train(const TrainOptions& options, Model* model) {
  if (absl::Status s = ValidateTrainOptions(options); !s.ok()) return s;
  // While it trains, the learner is the only thread that touches the store
  // (early stopping may replace the store: the one there at the end gets
  // the caller's setting back).
  const bool shared = model->store->shared_between_threads();
  model->store->SetSharedBetweenThreads(false);
  const absl::Cleanup restore = [model, shared] {
    model->store->SetSharedBetweenThreads(shared);
  };
  if (options.early_stop == 0) {
    StoreParameters parameters(model->store.get());
    return Train(options, model->config.loss, parameters, &model->names);
  }
  // The model of the best pass so far, copied out of the store.
  std::optional<ModelSnapshot> best;
  std::optional<Metrics> best_holdout;
  uint64_t best_pass = 0;
  TrainOptions loop = options;
  loop.early_stop = 0;
  StoreParameters parameters(model->store.get());
  absl::StatusOr<TrainResult> result =
      Train(loop, model->config.loss, parameters, &model->names,
            [&](uint64_t pass, const Metrics& holdout) {
              // No example was held out (tiny data): nothing says a pass
              // is worse, so the last one stands.
              if (holdout.count() == 0) {
                best.reset();
                best_holdout.reset();
                best_pass = pass;
                return true;
              }
              if (!best.has_value() ||
                  holdout.MeanLoss() < best_holdout->MeanLoss()) {
                best = SnapshotModel(model->config, *model->store, nullptr);
                best_holdout = holdout;
                best_pass = pass;
              }
              return pass - best_pass < options.early_stop;
            });
  if (!result.ok()) return result;
  result->best_pass = best_pass + 1;
  result->stopped_early = result->holdout_loss_per_pass.size() < options.passes;
  if (best.has_value() &&
      best_pass + 1 < result->holdout_loss_per_pass.size()) {
    // The best pass goes back into the same store, which keeps its memory
    // bounds and its counts of keys admitted and evicted for the report.
    WeightStore& store = *model->store;
    store.Clear();
    store.SetStep(best->step);
    store.SetNormSum(best->norm_sum);
    store.Reserve(best->entries.size());
    for (const Entry& entry : best->entries) {
      if (absl::Status s = store.Insert(entry); !s.ok()) return s;
    }
    result->holdout = *std::move(best_holdout);
  }
  return result;
}

absl::StatusOr<TrainResult> Train(const TrainOptions& options, Loss loss,
                                  Parameters& parameters, FeatureNames* names,
                                  const PassEnd& pass_end) {
  if (absl::Status s = ValidateTrainOptions(options); !s.ok()) return s;
  if (options.early_stop > 0) {
    return absl::InvalidArgumentError(
        "--early-stop keeps the best pass's model, which only local "
        "training holds");
  }
  TrainResult result(loss);
  ProgressTable progress(options.progress, options.log);
  progress.PrintHeader();
  Minibatch batch;
  // Batches of one on a store in this process (a local model, a worker's
  // copy of its round) step example by example, finding each key once
  // (WeightStore::LearnExample).
  const bool one_by_one =
      options.batch_size == 1 && parameters.learns_examples();
  uint64_t non_finite_gradients = 0;
  uint64_t clipped_gradients = 0;
  // A learning example's features: counted, and named with --keep-names.
  const auto count_features = [&](const Example& example,
                                  const ExampleBlock& block, size_t i) {
    result.features += example.features.size();
    if (!options.keep_names) return;
    for (const ExampleBlock::Name& name : block.names(i)) {
      if (names != nullptr) names->Add(name.key, block.name_text(name));
      parameters.NoteName(name.key, block.name_text(name));
    }
  };
  std::bitset<256> letters_seen;
  ExamplePasses passes(options.data, options.passes, options.cache,
                       options.progress);
  for (uint64_t pass = 0; pass < options.passes; ++pass) {
    Metrics holdout(loss);
    const std::unique_ptr<ExampleSource> source = passes.Begin(pass);
    ExampleSource& stream = *source;
    while (const ExampleBlock* block = stream.Next()) {
      letters_seen |= block->letters();
      size_t announced = 0;  // examples of the block announced so far
      for (size_t i = 0; i < block->size(); ++i) {
        // Examples announced ahead of the one learned: the next one locally
        // (its weights load meanwhile), a round's worth for a worker.
        const size_t lookahead = std::max<size_t>(
            1, size_t{parameters.steps_per_round()} * options.batch_size);
        announced = std::max(announced, i + 1);
        for (const size_t until = std::min(block->size(), i + 1 + lookahead);
             announced < until; ++announced) {
          parameters.Prefetch(block->example(announced).features);
        }
        const uint64_t index = block->first_index + i + 1;
        const bool held_out =
            options.holdout_every > 0 && index % options.holdout_every == 0;
        const Example example = block->example(i);
        // Nothing to learn from or to score against, as in VW.
        if (!example.has_label) {
          ++result.unlabeled;
          continue;
        }
        if (one_by_one && example.distinct_keys) {
          // Names go with the push that holds their keys: noted first.
          if (!held_out) count_features(example, *block, i);
          // The batch is empty here: every example before this one stepped.
          absl::StatusOr<WeightStore::ExampleResult> learned =
              parameters.LearnExample(example, loss, !held_out);
          if (!learned.ok()) return learned.status();
          const WeightStore::ExampleResult& stepped = *learned;
          non_finite_gradients += stepped.non_finite_gradients;
          clipped_gradients += stepped.clipped_gradients;
          if (held_out) {
            holdout.Add(stepped.margin, example.label, example.importance);
          } else {
            progress.Add(LossValue(loss, stepped.margin, example.label),
                         example.importance);
          }
          continue;
        }
        batch.Add(example, !held_out);
        if (!held_out) count_features(example, *block, i);
        // With batches of one, an example with a repeated key steps at once
        // too, so that examples keep their order either way.
        if (batch.learning_examples() == options.batch_size ||
            (one_by_one && held_out)) {
          if (absl::Status s = Step(loss, batch, parameters, progress, holdout);
              !s.ok()) {
            return s;
          }
        }
      }
      if (options.metrics != nullptr) {
        options.metrics->Publish(progress.examples(), progress.loss_sum(),
                                 progress.weight_sum());
      }
    }
    if (batch.size() > 0) {
      if (absl::Status s = Step(loss, batch, parameters, progress, holdout);
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = stream.status(); !s.ok()) return s;
    progress.Finish();
    result.bad_lines += stream.bad_lines();
    if (result.first_bad_line.empty())
      result.first_bad_line = stream.first_bad_line();
    if (options.holdout_every > 0) {
      result.holdout_loss_per_pass.push_back(holdout.MeanLoss());
      if (options.progress != nullptr && holdout.count() == 0) {
        std::fprintf(options.progress,
                     "pass %llu: no example held out (too few examples)\n",
                     static_cast<unsigned long long>(pass + 1));
      } else if (options.progress != nullptr) {
        std::fprintf(options.progress,
                     "pass %llu: holdout loss %.6f over %llu examples\n",
                     static_cast<unsigned long long>(pass + 1),
                     holdout.MeanLoss(),
                     static_cast<unsigned long long>(holdout.count()));
      }
      if (options.log != nullptr) {
        options.log->Write(JsonLine()
                               .Text("event", "pass")
                               .Count("pass", pass + 1)
                               .Number("holdout_loss", holdout.MeanLoss())
                               .Count("holdout_examples", holdout.count()));
      }
    }
    result.holdout = std::move(holdout);
    if (options.holdout_every > 0 && pass_end != nullptr &&
        !pass_end(pass, result.holdout)) {
      break;
    }
  }
  result.examples = progress.examples();
  result.seconds = progress.seconds();
  if (result.examples == 0 && result.unlabeled > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("none of the ", result.unlabeled,
                     " examples has a label: there is nothing to learn from"));
  }
  result.non_finite_gradients =
      batch.non_finite_gradients() + non_finite_gradients;
  result.clipped_gradients = batch.clipped_gradients() + clipped_gradients;
  for (uint8_t letter : options.data.parse.interactions.Letters()) {
    if (!letters_seen.test(letter)) result.letters_never_seen.push_back(letter);
  }
  return result;
}

}  // namespace adaline
