// adaline merge: shard checkpoints to one model file.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/model_merge.h"
#include "server/checkpointer.h"

namespace adaline {
namespace {

// The newest checkpoint in `directory` that loads (a damaged one is
// reported and passed over), or an error naming the directory.
absl::StatusOr<std::string> NewestValidCheckpoint(
    const std::string& directory) {
  const std::vector<std::string> found = Checkpointer(directory).List();
  for (const std::string& path : found) {
    absl::StatusOr<Model> model = LoadModel(path);
    if (model.ok()) return path;
    std::fprintf(stderr, "adaline merge: passing over %s\n",
                 std::string(model.status().message()).c_str());
  }
  return absl::NotFoundError(
      absl::StrCat(directory, " holds no checkpoint that loads"));
}

}  // namespace

int RunMerge(const std::vector<std::string>& arguments) {
  const std::string out = absl::GetFlag(FLAGS_model_out);
  if (out.empty()) return Fail("merge", "--model-out is required");
  // A directory stands for its newest valid checkpoint.
  std::vector<std::string> paths;
  for (const std::string& argument : arguments) {
    std::error_code error;
    if (!std::filesystem::is_directory(argument, error)) {
      paths.push_back(argument);
      continue;
    }
    absl::StatusOr<std::string> newest = NewestValidCheckpoint(argument);
    if (!newest.ok()) return Fail("merge", newest.status());
    paths.push_back(*newest);
  }
  MergeOptions options;
  options.allow_step_mismatch = absl::GetFlag(FLAGS_allow_shard_reset);
  std::vector<uint64_t> steps;
  absl::StatusOr<Model> merged = MergeModelFiles(paths, options, &steps);
  if (!merged.ok()) return Fail("merge", merged.status());
  absl::Status saved =
      SaveModel(out, merged->config, *merged->store,
                merged->names.size() > 0 ? &merged->names : nullptr);
  if (!saved.ok()) return Fail("merge", saved);
  absl::Status weights =
      SaveWeightsIfAsked(merged->config, *merged->store,
                         merged->names.size() > 0 ? &merged->names : nullptr);
  if (!weights.ok()) return Fail("merge", weights);
  Report("merged %zu files: %zu keys at step %llu into %s (steps %s)\n",
         paths.size(), merged->store->size(),
         static_cast<unsigned long long>(merged->store->step()), out.c_str(),
         absl::StrJoin(steps, ", ").c_str());
  return 0;
}

}  // namespace adaline
