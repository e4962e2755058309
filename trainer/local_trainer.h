// Local training: one process, no server. A parsing thread feeds blocks of
// examples; this thread scores them, sums each minibatch's gradient and
// applies it to the model's WeightStore, the same store and optimizers the
// parameter server uses.
#ifndef ADALINE_TRAINER_LOCAL_TRAINER_H_
#define ADALINE_TRAINER_LOCAL_TRAINER_H_

#include <cstdint>
#include <cstdio>

#include "absl/status/statusor.h"
#include "core/metrics.h"
#include "core/model_file.h"
#include "data/example_reader.h"

namespace adaline {

struct TrainOptions {
  ReaderOptions data;
  uint64_t passes = 1;
  // Examples per optimizer step; see core/minibatch.h.
  uint64_t batch_size = 1;
  // Every K-th example of a pass (K, 2K, ...) is held out; 0 holds none.
  uint64_t holdout_every = 0;
  bool keep_names = false;
  // Where the progress table goes; nullptr for none.
  std::FILE* progress = stdout;
};

struct TrainResult {
  uint64_t examples = 0;  // learned from, over all passes
  uint64_t features = 0;  // feature occurrences in those examples
  double seconds = 0;
  uint64_t bad_lines = 0;
  std::string first_bad_line;
  // Held-out examples of the last pass, each scored when it was read.
  Metrics holdout;
  // Every pass's holdout loss, in order.
  std::vector<double> holdout_loss_per_pass;

  explicit TrainResult(Loss loss) : holdout(loss) {}
};

// Trains `model` (its store, config and names) on options.data.
absl::StatusOr<TrainResult> Train(const TrainOptions& options, Model* model);

}  // namespace adaline

#endif  // ADALINE_TRAINER_LOCAL_TRAINER_H_
