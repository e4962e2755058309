#include "trainer/predictor.h"

#include "absl/time/clock.h"
#include "core/minibatch.h"
#include "data/example_stream.h"

namespace adaline {

absl::StatusOr<PredictResult> Predict(const ReaderOptions& data, Model* model,
                                      std::FILE* out) {
  const Loss loss = model->config.loss;
  PredictResult result(loss);
  const absl::Time start = absl::Now();
  ExampleStream stream(data);
  Minibatch batch;
  char text[32];
  while (const ExampleBlock* block = stream.Next()) {
    batch.Clear();
    for (size_t i = 0; i < block->size(); ++i) {
      batch.Add(block->example(i), /*learn=*/false);
    }
    model->store->Pull(batch.keys(), batch.weights());
    batch.Compute(loss);
    for (size_t i = 0; i < block->size(); ++i) {
      const int size = std::snprintf(text, sizeof text, "%.9g\n",
                                     Prediction(loss, batch.margin(i)));
      std::fwrite(text, 1, static_cast<size_t>(size), out);
      if (block->example(i).has_label) {
        result.metrics.Add(batch.margin(i), batch.label(i),
                           batch.importance(i));
      }
    }
    result.examples += block->size();
  }
  if (absl::Status s = stream.status(); !s.ok()) return s;
  if (std::fflush(out) != 0 || std::ferror(out)) {
    return absl::InternalError("cannot write the predictions");
  }
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return result;
}

}  // namespace adaline
