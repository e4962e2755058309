// The learning loop of `adaline train` and `adaline work`: a parsing thread
// feeds blocks of examples; this thread gathers minibatches, pulls their
// weights, scores them, and pushes each minibatch's gradient as one
// optimizer step, to a local WeightStore or to parameter servers.
//
// Train runs on the calling thread (plus the parsing thread it starts) and
// is safe to call from several threads on different Parameters.
#ifndef ADALINE_TRAINER_LOCAL_TRAINER_H_
#define ADALINE_TRAINER_LOCAL_TRAINER_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "core/metrics.h"
#include "core/model_file.h"
#include "core/parameters.h"
#include "data/example_reader.h"
#include "trainer/progress_metrics.h"
#include "trainer/run_log.h"

namespace adaline {

struct TrainOptions {
  ReaderOptions data;
  uint64_t passes = 1;
  // Examples per optimizer step; see core/minibatch.h.
  uint64_t batch_size = 1;
  // Every K-th example of a pass (K, 2K, ...) is held out; 0 holds none.
  uint64_t holdout_every = 0;
  bool keep_names = false;
  // The example cache to use or write (--cache); with passes > 1 and none
  // named, a temporary one. See data/example_source.h.
  std::string cache;
  // With a holdout: stop once the holdout loss has not improved for this
  // many passes, and keep the best pass's model (local training only, which
  // holds a copy of the model at its best); 0 never stops early.
  uint64_t early_stop = 0;
  // Where the progress table goes; nullptr for none (--quiet).
  std::FILE* progress = stderr;
  // Where progress rows go as JSON lines (--metrics-out); nullptr for none.
  RunLog* log = nullptr;
  // Told the progress after each block of examples; nullptr for none.
  ProgressMetrics* metrics = nullptr;
};

struct TrainResult {
  uint64_t examples = 0;  // learned from, over all passes
  uint64_t features = 0;  // feature occurrences in those examples
  double seconds = 0;
  uint64_t bad_lines = 0;
  std::string first_bad_line;
  // Examples without a label, skipped (over all passes).
  uint64_t unlabeled = 0;
  // Held-out examples of the last pass, each scored when it was read.
  Metrics holdout;
  // Every pass's holdout loss, in order.
  std::vector<double> holdout_loss_per_pass;
  // With early stopping: the pass (from 1) whose model was kept, and
  // whether training ended before its last pass.
  uint64_t best_pass = 0;
  bool stopped_early = false;
  // Gradients that overflowed (absurd values in the data) and were skipped.
  uint64_t non_finite_gradients = 0;
  // Gradients clipped to +-kMaxGradient (absurd values in the data).
  uint64_t clipped_gradients = 0;
  // Namespace letters of --interactions that no example had, as VW warns.
  std::vector<uint8_t> letters_never_seen;

  explicit TrainResult(Loss loss) : holdout(loss) {}
};

// Refuses a loop that cannot run: no passes, empty batches, a holdout of
// every example, several passes over standard input. Train checks it first;
// commands call it before they connect or load anything.
absl::Status ValidateTrainOptions(const TrainOptions& options);

// Called after each pass that has a holdout, with the pass (from 0) and its
// holdout metrics; returning false ends training there.
using PassEnd = std::function<bool(uint64_t pass, const Metrics& holdout)>;

// Trains through `parameters` on options.data. With options.keep_names the
// features' names are added to `names`. Early stopping needs a model to
// copy: this form refuses options.early_stop.
absl::StatusOr<TrainResult> Train(const TrainOptions& options, Loss loss,
                                  Parameters& parameters, FeatureNames* names,
                                  const PassEnd& pass_end = nullptr);

// Trains a local model: its store, config and names.
absl::StatusOr<TrainResult> Train(const TrainOptions& options, Model* model);

}  // namespace adaline

#endif  // ADALINE_TRAINER_LOCAL_TRAINER_H_
