// Merging models of disjoint keys, such as the checkpoints of a cluster's
// shards, into one model. Pure function of its inputs; safe from any
// thread.
#ifndef ADALINE_CORE_MODEL_MERGE_H_
#define ADALINE_CORE_MODEL_MERGE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model_file.h"

namespace adaline {

struct MergeOptions {
  // The shards of one job count the same steps, give or take the batches a
  // crash cut off. Parts whose steps differ by more than that (a shard that
  // restarted empty, or from an old checkpoint) are refused unless allowed.
  bool allow_step_mismatch = false;
};

// One model holding every entry and name of `parts`, at the latest step of
// any of them. Refuses parts trained with other settings than the first, a
// key held by two parts (they are not shards of one model), and parts at
// steps too far apart. `labels` name the parts in messages (file paths).
absl::StatusOr<Model> MergeModels(std::vector<Model> parts,
                                  const std::vector<std::string>& labels,
                                  MergeOptions options = {});

// Loads each file and merges them; `steps`, if not null, gets each file's
// step.
absl::StatusOr<Model> MergeModelFiles(const std::vector<std::string>& paths,
                                      MergeOptions options = {},
                                      std::vector<uint64_t>* steps = nullptr);

// Refuses steps of shards that cannot be one model: apart by more than 1%
// of the largest and 100 steps.
absl::Status CheckShardSteps(const std::vector<uint64_t>& steps,
                             const std::vector<std::string>& labels);

}  // namespace adaline

#endif  // ADALINE_CORE_MODEL_MERGE_H_
