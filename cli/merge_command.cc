// adaline merge: shard checkpoints to one model file.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/model_file.h"

namespace adaline {

absl::StatusOr<Model> MergeModels(const std::vector<std::string>& paths) {
  Model merged;
  uint64_t step = 0;
  for (const std::string& path : paths) {
    absl::StatusOr<Model> part = LoadModel(path);
    if (!part.ok()) return part.status();
    if (merged.store == nullptr) {
      merged.config = part->config;
      merged.store = std::make_unique<WeightStore>(part->config.optimizer);
    } else if (std::string difference =
                   ConfigDifference(part->config, merged.config);
               !difference.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " was trained with other settings than ", paths[0],
                       ": ", difference));
    }
    step = std::max(step, part->store->step());
    absl::Status status;
    part->store->ForEach([&](const Entry& entry) {
      if (!status.ok()) return;
      if (merged.store->Lookup(entry.key).has_value()) {
        status = absl::InvalidArgumentError(
            absl::StrCat("key ", entry.key, " of ", path,
                         " is also in an earlier file: these are "
                         "not shards of one model"));
        return;
      }
      status = merged.store->Insert(entry);
    });
    if (!status.ok()) return status;
    for (const auto& [key, name] : part->names.all())
      merged.names.Add(key, name);
  }
  if (merged.store == nullptr)
    return absl::InvalidArgumentError("no model files to merge");
  merged.store->SetStep(step);
  return merged;
}

int RunMerge(const std::vector<std::string>& paths) {
  const std::string out = absl::GetFlag(FLAGS_model_out);
  if (out.empty()) return Fail("merge", "--model-out is required");
  absl::StatusOr<Model> merged = MergeModels(paths);
  if (!merged.ok())
    return Fail("merge", std::string(merged.status().message()).c_str());
  absl::Status saved =
      SaveModel(out, merged->config, *merged->store,
                merged->names.size() > 0 ? &merged->names : nullptr);
  if (!saved.ok()) return Fail("merge", std::string(saved.message()).c_str());
  std::printf("merged %zu files: %zu keys at step %llu into %s\n", paths.size(),
              merged->store->size(),
              static_cast<unsigned long long>(merged->store->step()),
              out.c_str());
  return 0;
}

}  // namespace adaline
