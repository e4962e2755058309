#include "core/model_merge.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

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

absl::StatusOr<Model> MergeModels(std::vector<Model> parts,
                                  const std::vector<std::string>& labels) {
  if (parts.empty()) {
    return absl::InvalidArgumentError("no model files to merge");
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

absl::StatusOr<Model> MergeModelFiles(const std::vector<std::string>& paths) {
  if (paths.empty()) {
    return absl::InvalidArgumentError("no model files to merge");
  }
  // One part in memory at a time, besides the merged model.
  Model merged;
  for (const std::string& path : paths) {
    absl::StatusOr<Model> part = LoadModel(path);
    if (!part.ok()) return part.status();
    if (absl::Status s = AddPart(*part, path, paths[0], merged); !s.ok()) {
      return s;
    }
  }
  return merged;
}

}  // namespace adaline
