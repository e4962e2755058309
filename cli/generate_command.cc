// adaline generate: synthetic movie-rating data with a known true model.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "data/synthetic.h"

namespace adaline {

int RunGenerate() {
  SyntheticOptions options;
  options.rows = absl::GetFlag(FLAGS_rows);
  options.seed = absl::GetFlag(FLAGS_seed);
  const std::string path = absl::GetFlag(FLAGS_out);
  std::FILE* out = path == "-" ? stdout : std::fopen(path.c_str(), "w");
  if (out == nullptr)
    return Fail("generate", ("cannot create " + path).c_str());
  absl::StatusOr<SyntheticSummary> summary =
      WriteSyntheticRatings(options, out);
  const bool closed =
      out == stdout ? std::fflush(out) == 0 : std::fclose(out) == 0;
  if (!summary.ok())
    return Fail("generate", std::string(summary.status().message()).c_str());
  if (!closed) return Fail("generate", ("cannot write " + path).c_str());
  std::fprintf(
      stderr,
      "rows %llu  positives %llu  features %llu  true-model log loss %.6f\n",
      static_cast<unsigned long long>(summary->rows),
      static_cast<unsigned long long>(summary->positives),
      static_cast<unsigned long long>(summary->features),
      summary->true_log_loss);
  return 0;
}

}  // namespace adaline
