#include "trainer/local_trainer.h"

#include "absl/strings/str_cat.h"
#include "core/minibatch.h"
#include "data/example_stream.h"
#include "trainer/progress.h"

namespace adaline {
namespace {

// Pulls, scores, pushes one minibatch and records its losses.
absl::Status Step(Loss loss, Minibatch& batch, WeightStore& store,
                  ProgressTable& progress, Metrics& holdout) {
  store.Pull(batch.keys(), batch.weights());
  batch.Compute(loss);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch.learns(i)) {
      progress.Add(LossValue(loss, batch.margin(i), batch.label(i)),
                   batch.importance(i));
    } else {
      holdout.Add(batch.margin(i), batch.label(i), batch.importance(i));
    }
  }
  // An all-zero gradient is still a step: momentum moves on, as in dense
  // training.
  absl::StatusOr<uint64_t> step =
      store.Push(batch.push_keys(), batch.push_gradients());
  if (!step.ok()) return step.status();
  batch.Clear();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainOptions& options, Model* model) {
  const Loss loss = model->config.loss;
  WeightStore& store = *model->store;
  TrainResult result(loss);
  if (options.passes > 1) {
    for (const std::string& file : options.data.files) {
      if (file == "-") {
        return absl::InvalidArgumentError(
            "standard input can be read only once; use --passes 1 or a file");
      }
    }
  }
  ProgressTable progress(options.progress);
  progress.PrintHeader();
  Minibatch batch;
  for (uint64_t pass = 0; pass < options.passes; ++pass) {
    Metrics holdout(loss);
    ExampleStream stream(options.data);
    while (const ExampleBlock* block = stream.Next()) {
      for (size_t i = 0; i < block->size(); ++i) {
        const uint64_t index = block->first_index + i + 1;
        const bool held_out =
            options.holdout_every > 0 && index % options.holdout_every == 0;
        const Example example = block->example(i);
        batch.Add(example, !held_out);
        if (!held_out) {
          result.features += example.features.size();
          if (options.keep_names) {
            for (const ExampleBlock::Name& name : block->names(i)) {
              model->names.Add(name.key, block->name_text(name));
            }
          }
        }
        if (batch.learning_examples() == options.batch_size) {
          if (absl::Status s = Step(loss, batch, store, progress, holdout);
              !s.ok()) {
            return s;
          }
        }
      }
    }
    if (batch.size() > 0) {
      if (absl::Status s = Step(loss, batch, store, progress, holdout);
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
      if (options.progress != nullptr) {
        std::fprintf(options.progress,
                     "pass %llu: holdout loss %.6f over %llu examples\n",
                     static_cast<unsigned long long>(pass + 1),
                     holdout.MeanLoss(),
                     static_cast<unsigned long long>(holdout.count()));
      }
    }
    result.holdout = std::move(holdout);
  }
  result.examples = progress.examples();
  result.seconds = progress.seconds();
  return result;
}

}  // namespace adaline
