#include "core/model_merge.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace adaline {
namespace {

// Adds `part` to `merged` (which takes the first part's configuration).
absl::Status AddPart(const Model& part, const std::string& label,
                     const std::string& first_label, Model& merged) {
  if (merged.store == nullptr) {
    merged.config = part.config;
    merged.store = std::make_unique<WeightStore>(part.config.optimizer);
  } else if (std::string difference =
                 ConfigDifference(part.config, merged.config);
             !difference.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, " was trained with other settings than ",
                     first_label, ": ", difference));
  }
  // Entries go in at their own steps, so the step first.
  merged.store->SetStep(std::max(merged.store->step(), part.store->step()));
  absl::Status status;
  part.store->ForEach([&](const Entry& entry) {
    if (!status.ok()) return;
    if (merged.store->Lookup(entry.key).has_value()) {
      status = absl::InvalidArgumentError(
          absl::StrCat("key ", entry.key, " of ", label,
                       " is also in an earlier file: these are "
                       "not shards of one model"));
      return;
    }
    status = merged.store->Insert(entry);
  });
  if (!status.ok()) return status;
  for (const auto& [key, name] : part.names.all()) merged.names.Add(key, name);
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckShardSteps(const std::vector<uint64_t>& steps,
                             const std::vector<std::string>& labels) {
  if (steps.empty()) return absl::OkStatus();
  const auto [low, high] = std::minmax_element(steps.begin(), steps.end());
  if (*high - *low <= std::max<uint64_t>(100, *high / 100)) {
    return absl::OkStatus();
  }
  std::vector<std::string> each;
  for (size_t i = 0; i < steps.size(); ++i) {
    each.push_back(absl::StrCat(labels[i], " at step ", steps[i]));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the shards are at steps too far apart to be one model (",
      absl::StrJoin(each, ", "),
      "): one lost training, as a shard restarted empty or from an old "
      "checkpoint does; pass --allow-shard-reset to merge them anyway"));
}

absl::StatusOr<Model> MergeModels(std::vector<Model> parts,
                                  const std::vector<std::string>& labels,
                                  MergeOptions options) {
  if (parts.empty()) {
    return absl::InvalidArgumentError("no model files to merge");
  }
  if (!options.allow_step_mismatch) {
    std::vector<uint64_t> steps;
    for (const Model& part : parts) steps.push_back(part.store->step());
    if (absl::Status s = CheckShardSteps(steps, labels); !s.ok()) return s;
  }
  Model merged;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (absl::Status s = AddPart(parts[i], labels[i], labels[0], merged);
        !s.ok()) {
      return s;
    }
  }
  return merged;
}

absl::StatusOr<Model> MergeModelFiles(const std::vector<std::string>& paths,
                                      MergeOptions options,
                                      std::vector<uint64_t>* steps) {
  if (paths.empty()) {
    return absl::InvalidArgumentError("no model files to merge");
  }
  // One part in memory at a time, besides the merged model.
  Model merged;
  std::vector<uint64_t> part_steps;
  for (const std::string& path : paths) {
    absl::StatusOr<Model> part = LoadModel(path);
    if (!part.ok()) return part.status();
    part_steps.push_back(part->store->step());
    if (absl::Status s = AddPart(*part, path, paths[0], merged); !s.ok()) {
      return s;
    }
  }
  if (!options.allow_step_mismatch) {
    if (absl::Status s = CheckShardSteps(part_steps, paths); !s.ok()) return s;
  }
  if (steps != nullptr) *steps = std::move(part_steps);
  return merged;
}

}  // namespace adaline
