// Prediction with a trained model: one line per example, a probability for
// logistic loss and the margin otherwise (or the margin always, `raw`),
// followed by the example's tag if it has one (as VW's -p writes them),
// plus metrics when labels exist.
//
// Predict reads the model without changing it: several threads may predict
// with one model, each writing to its own output.
#ifndef ADALINE_TRAINER_PREDICTOR_H_
#define ADALINE_TRAINER_PREDICTOR_H_

#include <cstdio>

#include "absl/status/statusor.h"
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

// Writes a prediction per example of `data` to `out`.
absl::StatusOr<PredictResult> Predict(const ReaderOptions& data, Model* model,
                                      std::FILE* out, bool raw = false);

}  // namespace adaline

#endif  // ADALINE_TRAINER_PREDICTOR_H_
