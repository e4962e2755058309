// adaline predict: a prediction per example, and metrics on labeled data.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "trainer/predictor.h"

namespace adaline {

int RunPredict() {
  const std::string model_path = absl::GetFlag(FLAGS_model);
  if (model_path.empty()) return Fail("predict", "--model is required");
  absl::StatusOr<Model> model = LoadModel(model_path);
  if (!model.ok()) return Fail("predict", model.status());
  absl::StatusOr<ReaderOptions> data =
      ReaderOptionsFromFlags(model->config, /*require_label=*/false);
  if (!data.ok()) return Fail("predict", data.status());

  const std::string out_path = absl::GetFlag(FLAGS_out);
  std::FILE* out = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "w");
  if (out == nullptr) {
    return Fail("predict", ("cannot create " + out_path).c_str());
  }
  absl::StatusOr<PredictResult> result =
      Predict(*data, &*model, out, absl::GetFlag(FLAGS_raw));
  if (out != stdout) std::fclose(out);
  if (!result.ok()) return Fail("predict", result.status());
  // With predictions on stdout the summary goes to stderr.
  std::FILE* report = out == stdout ? stderr : stdout;
  const Metrics& m = result->metrics;
  std::fprintf(report, "examples               %llu\n",
               static_cast<unsigned long long>(result->examples));
  if (m.count() > 0) {
    if (model->config.loss == Loss::kSquared) {
      std::fprintf(report, "RMSE                   %.6f\n", m.Rmse());
    } else {
      std::fprintf(
          report, "%-22s %.6f\n",
          model->config.loss == Loss::kLogistic ? "log loss" : "hinge loss",
          m.MeanLoss());
      std::fprintf(report, "AUC                    %.6f\n", m.Auc());
      std::fprintf(report, "accuracy               %.6f\n", m.Accuracy());
    }
  }
  return 0;
}

}  // namespace adaline
