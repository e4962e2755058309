// The end-of-training report of `train`, `work` and `cluster`: holdout
// metrics, speed and memory, as the table people read and as the JSON line
// of --metrics-out. Both come from one list of fields, so they agree.
//
// Functions of their arguments; thread-compatible.
#ifndef ADALINE_TRAINER_TRAINING_REPORT_H_
#define ADALINE_TRAINER_TRAINING_REPORT_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/loss.h"
#include "trainer/json_line.h"
#include "trainer/local_trainer.h"

namespace adaline {

// What the report says about the model.
struct ModelSummary {
  uint64_t unique_features = 0;
  uint64_t bytes = 0;
  uint64_t steps = 0;
  uint64_t non_finite_updates = 0;
  // Known where the model is at hand (not to a worker).
  std::optional<uint64_t> non_zero_weights;
  // Memory bounds at work (core/weight_store.h, MemoryBounds).
  uint64_t admitted_keys = 0;
  uint64_t not_admitted_updates = 0;
  uint64_t evicted_keys = 0;
  absl::Duration longest_eviction_pause;
};

// One line of the report.
struct ReportField {
  std::string key;    // in JSON: holdout_log_loss
  std::string label;  // in the table: holdout log loss
  double value = 0;
  int decimals = 0;  // in the table; 0 prints a count
  std::string note;  // in the table, after the value
};

std::vector<ReportField> TrainingReportFields(const TrainOptions& options,
                                              Loss loss,
                                              const TrainResult& result,
                                              const ModelSummary& model);

// What in the run deserves a second look (absurd values, crosses that never
// fired), as sentences.
std::vector<std::string> TrainingWarnings(const TrainResult& result,
                                          const ModelSummary& model);

// The table, then each warning; nothing when `out` is null (--quiet).
void PrintTrainingReport(std::FILE* out, const TrainOptions& options, Loss loss,
                         const TrainResult& result, const ModelSummary& model);

// {"event":"report", each field, "warnings":[...]}.
JsonLine TrainingReportJson(const TrainOptions& options, Loss loss,
                            const TrainResult& result,
                            const ModelSummary& model);

}  // namespace adaline

#endif  // ADALINE_TRAINER_TRAINING_REPORT_H_
