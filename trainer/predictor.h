// Prediction with a trained model: one line per example, a probability for
// logistic loss and the margin otherwise (or the margin always, `raw`),
// followed by the example's tag if it has one (as VW's -p writes them),
// plus metrics when labels exist. The margins come from a model in this
// process or from a live one on parameter servers; the output is written
// the same way.
//
// Predict reads the model without changing it: several threads may predict
// with one model, each writing to its own output.
#ifndef ADALINE_TRAINER_PREDICTOR_H_
#define ADALINE_TRAINER_PREDICTOR_H_

#include <cstdio>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/metrics.h"
#include "core/model_file.h"
#include "data/example_reader.h"

namespace adaline {

struct PredictResult {
  uint64_t examples = 0;
  double seconds = 0;
  // Over the labeled examples.
  Metrics metrics;

  explicit PredictResult(Loss loss) : metrics(loss) {}
};

// Sets `margins` to the margin of each example of `block`, in order.
using MarginSource = std::function<absl::Status(const ExampleBlock& block,
                                                std::vector<float>* margins)>;

// The margins of `model`, which must outlive the source.
MarginSource ModelMargins(Model* model);

// How predictions are written: VW's "0.6788 row_a" lines, CSV with a
// header (prediction,tag), or JSON lines ({"prediction":0.6788,"tag":...}).
enum class PredictionFormat { kText, kCsv, kJsonLines };

// "text", "csv" or "jsonl"; unknown names are an error that lists these.
absl::StatusOr<PredictionFormat> ParsePredictionFormat(absl::string_view name);

struct PredictionOutput {
  std::FILE* file = stdout;
  PredictionFormat format = PredictionFormat::kText;
  // Margins rather than the loss's link applied to them.
  bool raw = false;
};

// Writes a prediction per example of `data`, with `loss`'s link. Each block
// is flushed as it is written, so a reader of a pipe gets its answers as
// the lines arrive.
absl::StatusOr<PredictResult> Predict(const ReaderOptions& data, Loss loss,
                                      const MarginSource& margins,
                                      const PredictionOutput& out);

// The same with a model in this process, as text.
absl::StatusOr<PredictResult> Predict(const ReaderOptions& data, Model* model,
                                      std::FILE* out, bool raw = false);

}  // namespace adaline

#endif  // ADALINE_TRAINER_PREDICTOR_H_
