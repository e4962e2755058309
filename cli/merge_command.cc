// adaline merge: shard checkpoints to one model file.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/model_merge.h"

namespace adaline {

int RunMerge(const std::vector<std::string>& paths) {
  const std::string out = absl::GetFlag(FLAGS_model_out);
  if (out.empty()) return Fail("merge", "--model-out is required");
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
  std::printf("merged %zu files: %zu keys at step %llu into %s (steps %s)\n",
              paths.size(), merged->store->size(),
              static_cast<unsigned long long>(merged->store->step()),
              out.c_str(), absl::StrJoin(steps, ", ").c_str());
  return 0;
}

}  // namespace adaline
