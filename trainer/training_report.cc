#include "trainer/training_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace adaline {

std::vector<ReportField> TrainingReportFields(const TrainOptions& options,
                                              Loss loss,
                                              const TrainResult& result,
                                              const ModelSummary& model) {
  std::vector<ReportField> fields;
  auto count = [&](const char* key, const char* label, uint64_t value,
                   std::string note = "") {
    fields.push_back({key, label, static_cast<double>(value), 0, note});
  };
  auto number = [&](const char* key, const char* label, double value,
                    int decimals) {
    fields.push_back({key, label, value, decimals, ""});
  };
  if (result.bad_lines > 0) {
    count("skipped_lines", "skipped lines", result.bad_lines,
          absl::StrCat("(first: ", result.first_bad_line, ")"));
  }
  if (result.unlabeled > 0) {
    count("unlabeled_examples", "unlabeled examples", result.unlabeled,
          "(skipped: no label)");
  }
  if (options.holdout_every > 0) {
    const Metrics& holdout = result.holdout;
    count("holdout_examples", "holdout examples", holdout.count());
    // No example held out (tiny data): no figure to give.
    const bool figures = holdout.count() > 0;
    if (figures && loss == Loss::kSquared) {
      number("holdout_rmse", "holdout RMSE", holdout.Rmse(), 6);
    } else if (figures) {
      if (loss == Loss::kLogistic) {
        number("holdout_log_loss", "holdout log loss", holdout.MeanLoss(), 6);
      } else {
        number("holdout_hinge_loss", "holdout hinge loss", holdout.MeanLoss(),
               6);
      }
      number("holdout_auc", "holdout AUC", holdout.Auc(), 6);
      number("holdout_accuracy", "holdout accuracy", holdout.Accuracy(), 6);
    }
  }
  if (result.best_pass > 0) {
    const size_t passes = result.holdout_loss_per_pass.size();
    count("best_pass", "best pass", result.best_pass,
          absl::StrCat("of ", passes, " (",
                       result.stopped_early ? "stopped early; its model is kept"
                       : result.best_pass < passes ? "its model is kept"
                                                   : "the last",
                       ")"));
  }
  const double seconds = std::max(result.seconds, 1e-9);
  count("examples", "examples", result.examples);
  number("seconds", "seconds", result.seconds, 3);
  number("examples_per_second", "examples/s", result.examples / seconds, -1);
  number("features_per_second", "features/s", result.features / seconds, -1);
  count("unique_features", "unique features", model.unique_features);
  count("store_bytes", "store bytes", model.bytes);
  number("bytes_per_feature", "bytes per feature",
         model.unique_features > 0
             ? static_cast<double>(model.bytes) / model.unique_features
             : 0.0,
         1);
  if (model.non_zero_weights.has_value()) {
    count("non_zero_weights", "non-zero weights", *model.non_zero_weights);
  }
  count("optimizer_steps", "optimizer steps", model.steps);
  if (model.admitted_keys > 0 || model.not_admitted_updates > 0) {
    count("admitted_keys", "admitted keys", model.admitted_keys);
    count("updates_not_admitted", "updates not admitted",
          model.not_admitted_updates);
  }
  if (model.evicted_keys > 0) {
    count("evicted_keys", "evicted keys", model.evicted_keys,
          absl::StrFormat(
              "(longest pause %.3f ms)",
              absl::ToDoubleMilliseconds(model.longest_eviction_pause)));
  }
  return fields;
}

std::vector<std::string> TrainingWarnings(const TrainResult& result,
                                          const ModelSummary& model) {
  std::vector<std::string> warnings;
  if (result.non_finite_gradients > 0) {
    warnings.push_back(
        absl::StrCat(result.non_finite_gradients,
                     " gradients were not finite (values in the data too "
                     "large?) and were not applied"));
  }
  for (uint8_t letter : result.letters_never_seen) {
    warnings.push_back(
        absl::StrCat("no namespace starting with '", SpellLetter(letter),
                     "' occurred in the data: the crosses with it are empty"));
  }
  if (result.clipped_gradients > 0) {
    warnings.push_back(absl::StrCat(
        result.clipped_gradients, " gradients were beyond +-",
        static_cast<double>(kMaxGradient),
        " (values in the data too large?) and were clipped to it"));
  }
  if (model.non_finite_updates > 0) {
    warnings.push_back(absl::StrCat(model.non_finite_updates,
                                    " updates were not finite and were not "
                                    "applied; lower --lr"));
  }
  return warnings;
}

void PrintTrainingReport(std::FILE* out, const TrainOptions& options, Loss loss,
                         const TrainResult& result, const ModelSummary& model) {
  if (out == nullptr) return;
  std::fprintf(out, "\n");
  for (const ReportField& field :
       TrainingReportFields(options, loss, result, model)) {
    std::string value =
        field.decimals > 0
            ? absl::StrFormat("%.*f", field.decimals, field.value)
            : absl::StrFormat("%.0f", field.value);
    if (!field.note.empty()) absl::StrAppend(&value, " ", field.note);
    std::fprintf(out, "%-22s %s\n", field.label.c_str(), value.c_str());
  }
  for (const std::string& warning : TrainingWarnings(result, model)) {
    std::fprintf(out, "warning: %s\n", warning.c_str());
  }
  std::fflush(out);
}

JsonLine TrainingReportJson(const TrainOptions& options, Loss loss,
                            const TrainResult& result,
                            const ModelSummary& model) {
  JsonLine line;
  line.Text("event", "report");
  for (const ReportField& field :
       TrainingReportFields(options, loss, result, model)) {
    if (field.decimals == 0) {
      line.Count(field.key, static_cast<uint64_t>(field.value));
    } else {
      line.Number(field.key, field.value);
    }
  }
  if (result.bad_lines > 0) line.Text("first_bad_line", result.first_bad_line);
  line.Texts("warnings", TrainingWarnings(result, model));
  return line;
}

}  // namespace adaline
