#include "trainer/predictor.h"

#include <memory>

#include "absl/time/clock.h"
#include "core/minibatch.h"
#include "data/example_stream.h"

namespace adaline {

MarginSource ModelMargins(Model* model) {
  // One batch per block, reused: no allocation once warm.
  auto batch = std::make_shared<Minibatch>();
  return
      [model, batch](const ExampleBlock& block, std::vector<float>* margins) {
        batch->Clear();
        for (size_t i = 0; i < block.size(); ++i) {
          batch->Add(block.example(i), /*learn=*/false);
        }
        model->store->Pull(batch->keys(), batch->weights());
        batch->Compute(model->config.loss);
        margins->resize(block.size());
        for (size_t i = 0; i < block.size(); ++i)
          (*margins)[i] = batch->margin(i);
        return absl::OkStatus();
      };
}

absl::StatusOr<PredictResult> Predict(const ReaderOptions& data, Loss loss,
                                      const MarginSource& source,
                                      std::FILE* out, bool raw) {
  PredictResult result(loss);
  const absl::Time start = absl::Now();
  ExampleStream stream(data);
  std::vector<float> margins;
  char text[32];
  while (const ExampleBlock* block = stream.Next()) {
    if (absl::Status s = source(*block, &margins); !s.ok()) return s;
    for (size_t i = 0; i < block->size(); ++i) {
      const Example example = block->example(i);
      const int size =
          std::snprintf(text, sizeof text, "%.9g",
                        raw ? margins[i] : Prediction(loss, margins[i]));
      std::fwrite(text, 1, static_cast<size_t>(size), out);
      if (!example.tag.empty()) {
        std::fputc(' ', out);
        std::fwrite(example.tag.data(), 1, example.tag.size(), out);
      }
      std::fputc('\n', out);
      if (example.has_label) {
        result.metrics.Add(margins[i], example.label, example.importance);
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

absl::StatusOr<PredictResult> Predict(const ReaderOptions& data, Model* model,
                                      std::FILE* out, bool raw) {
  return Predict(data, model->config.loss, ModelMargins(model), out, raw);
}

}  // namespace adaline
