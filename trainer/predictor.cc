#include "trainer/predictor.h"

#include "absl/time/clock.h"
#include "core/minibatch.h"
#include "data/example_stream.h"

namespace adaline {

absl::StatusOr<PredictResult> Predict(const ReaderOptions& data, Model* model,
                                      std::FILE* out, bool raw) {
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
      const Example example = block->example(i);
      const int size = std::snprintf(
          text, sizeof text, "%.9g",
          raw ? batch.margin(i) : Prediction(loss, batch.margin(i)));
      std::fwrite(text, 1, static_cast<size_t>(size), out);
      if (!example.tag.empty()) {
        std::fputc(' ', out);
        std::fwrite(example.tag.data(), 1, example.tag.size(), out);
      }
      std::fputc('\n', out);
      if (example.has_label) {
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
