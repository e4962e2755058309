#include "core/model_merge.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace adaline {
namespace {

// Merges parts one at a time, so that a caller reading files holds one part
// in memory besides the merged model.
class ModelMerger {
 public:
  // Adds `part`, named `label` in messages, to the merged model (which
  // takes the first part's configuration).
  absl::Status Add(const Model& part, const std::string& label) {
    if (part.weights_only) {
      return absl::InvalidArgumentError(
          absl::StrCat(label,
                       " holds weights only (--weights-out): merge the shards' "
                       "checkpoints, which keep their optimizer state"));
    }
    if (merged_.store == nullptr) {
      merged_.config = part.config;
      merged_.store = std::make_unique<WeightStore>(part.config.optimizer);
    } else if (std::string difference =
                   ConfigDifference(part.config, merged_.config);
               !difference.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, " was trained with other settings than ",
                       labels_[0], ": ", difference));
    }
    labels_.push_back(label);
    steps_.push_back(part.store->step());
    if (part.shard_count > 0) {
      shards_.push_back({part.shard_index, part.shard_count, label});
    }
    // Entries go in at their own steps, so the step first.
    merged_.store->SetStep(std::max(merged_.store->step(), part.store->step()));
    // Every shard sums the same steps' norms, as the workers send them.
    merged_.store->SetNormSum(
        std::max(merged_.store->norm_sum(), part.store->norm_sum()));
    // Room for the part up front: growing while inserting is most of a
    // merge's time otherwise.
    merged_.store->Reserve(merged_.store->size() + part.store->size());
    absl::Status status;
    part.store->ForEach([&](const Entry& entry) {
      if (!status.ok()) return;
      const size_t before = merged_.store->size();
      status = merged_.store->Insert(entry);
      // A key that was already there was replaced, not added (the merged
      // model is then dropped with the error).
      if (status.ok() && merged_.store->size() == before) {
        status = absl::InvalidArgumentError(
            absl::StrCat("key ", entry.key, " of ", label,
                         " is also in an earlier file: these are "
                         "not shards of one model"));
      }
    });
    if (!status.ok()) return status;
    for (const auto& [key, name] : part.names.all()) {
      merged_.names.Add(key, name);
    }
    return absl::OkStatus();
  }

  // The merged model, once the parts' steps are found to be one model's.
  absl::StatusOr<Model> Finish(const MergeOptions& options) {
    if (merged_.store == nullptr) {
      return absl::InvalidArgumentError("no model files to merge");
    }
    if (!options.allow_step_mismatch) {
      if (absl::Status s = CheckShardSteps(steps_, labels_); !s.ok()) return s;
    }
    if (absl::Status s = CheckShardSet(); !s.ok()) return s;
    return std::move(merged_);
  }

  const std::vector<uint64_t>& steps() const { return steps_; }

 private:
  struct ShardOfPart {
    uint32_t index, count;
    std::string label;
  };

  // Checkpoints that say which shard they are must be every shard of one
  // cluster, once each: half a model merged looks whole but predicts wrong.
  absl::Status CheckShardSet() const {
    if (shards_.empty()) return absl::OkStatus();
    if (shards_.size() != labels_.size()) {
      return absl::InvalidArgumentError(
          "some files are shard checkpoints and some are not: merge the "
          "checkpoints of one cluster's shards");
    }
    const uint32_t count = shards_[0].count;
    std::vector<const ShardOfPart*> seen(count, nullptr);
    for (const ShardOfPart& shard : shards_) {
      if (shard.count != count || shard.index >= count) {
        return absl::InvalidArgumentError(
            absl::StrCat(shard.label, " is shard ", shard.index, " of ",
                         shard.count, " but ", shards_[0].label, " is one of ",
                         count, ": these are not one cluster's shards"));
      }
      if (seen[shard.index] != nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(shard.label, " and ", seen[shard.index]->label,
                         " are both shard ", shard.index, " of ", count));
      }
      seen[shard.index] = &shard;
    }
    std::vector<uint32_t> missing;
    for (uint32_t i = 0; i < count; ++i) {
      if (seen[i] == nullptr) missing.push_back(i);
    }
    if (!missing.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shard", missing.size() == 1 ? " " : "s ",
          absl::StrJoin(missing, ", "), " of ", count,
          " missing: a merge of part of the shards would be part of the "
          "model"));
    }
    return absl::OkStatus();
  }

  Model merged_;
  std::vector<std::string> labels_;
  std::vector<uint64_t> steps_;
  std::vector<ShardOfPart> shards_;
};

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
  ModelMerger merger;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (absl::Status s = merger.Add(parts[i], labels[i]); !s.ok()) return s;
  }
  return merger.Finish(options);
}

absl::StatusOr<Model> MergeModelFiles(const std::vector<std::string>& paths,
                                      MergeOptions options,
                                      std::vector<uint64_t>* steps) {
  ModelMerger merger;
  for (const std::string& path : paths) {
    absl::StatusOr<Model> part = LoadModel(path);
    if (!part.ok()) return part.status();
    if (absl::Status s = merger.Add(*part, path); !s.ok()) return s;
  }
  if (steps != nullptr) *steps = merger.steps();
  return merger.Finish(options);
}

}  // namespace adaline
