// How many passes `adaline train` makes when --passes is left at its
// default, 0: the size of the data decides. One pass leaves small data
// underfit (its coordinates have seen few steps when the pass ends), and on
// small data more passes cost little, so small data gets many, with a
// holdout to stop them once they no longer help. Large data gets one pass,
// as in VW, so that its time does not grow.
//
// Stateless functions: safe from any thread.
#ifndef ADALINE_TRAINER_AUTO_PASSES_H_
#define ADALINE_TRAINER_AUTO_PASSES_H_

#include <cstdint>

#include "trainer/local_trainer.h"

namespace adaline {

// The value of TrainOptions::passes that asks ChoosePasses for a count.
inline constexpr uint64_t kAutoPasses = 0;

struct AutoPassRule {
  // Bytes of data the passes may read in all: over all files, on disk or,
  // for a gzip file, as its trailer records them uncompressed.
  uint64_t budget_bytes = uint64_t{256} << 20;
  // Data that would get fewer passes than this gets one: it is large enough
  // that one pass learns most of what it can, and several would be slow.
  uint64_t min_passes = 16;
  uint64_t max_passes = 100;
  // The holdout and patience of several passes, where the options set none.
  uint64_t holdout_every = 10;
  uint64_t early_stop = 3;
};

// Replaces options->passes == kAutoPasses by a count: one pass for large
// data, standard input (read once), data whose size is unknown, or a
// learner that cannot keep its best pass (`can_stop_early` false: a worker);
// else budget_bytes / size passes, at most max_passes, holding out every
// rule.holdout_every-th example and stopping after rule.early_stop passes
// without improvement, unless options->holdout_every or early_stop are set.
// Other pass counts are left as they are.
void ChoosePasses(TrainOptions* options, bool can_stop_early,
                  const AutoPassRule& rule = AutoPassRule());

}  // namespace adaline

#endif  // ADALINE_TRAINER_AUTO_PASSES_H_
