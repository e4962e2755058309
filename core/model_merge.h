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

// One model holding every entry and name of `parts`, at the latest step of
// any of them. Refuses parts trained with other settings than the first,
// and a key held by two parts (they are not shards of one model). `labels`
// name the parts in messages (file paths, say).
absl::StatusOr<Model> MergeModels(std::vector<Model> parts,
                                  const std::vector<std::string>& labels);

// Loads each file and merges them.
absl::StatusOr<Model> MergeModelFiles(const std::vector<std::string>& paths);

}  // namespace adaline

#endif  // ADALINE_CORE_MODEL_MERGE_H_
