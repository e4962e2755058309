#include "trainer/predictor.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "core/minibatch.h"
#include "data/example_stream.h"
#include "trainer/json_line.h"

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

absl::StatusOr<PredictionFormat> ParsePredictionFormat(absl::string_view name) {
  if (name == "text") return PredictionFormat::kText;
  if (name == "csv") return PredictionFormat::kCsv;
  if (name == "jsonl") return PredictionFormat::kJsonLines;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown prediction format '", name, "': text, csv or jsonl"));
}

namespace {

// Appends a CSV field, quoted when it holds a separator, quote or line
// break.
void AppendCsvField(absl::string_view text, std::string* out) {
  if (text.find_first_of(",\"\r\n") == absl::string_view::npos) {
    out->append(text.data(), text.size());
    return;
  }
  out->push_back('"');
  for (const char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// Writes one prediction; `line` and `json` are reused, so once warm an
// example costs no allocation.
void WritePrediction(const PredictionOutput& out, float value,
                     absl::string_view tag, std::string* line, JsonLine* json) {
  line->clear();
  switch (out.format) {
    case PredictionFormat::kText:
      absl::StrAppendFormat(line, "%.9g", value);
      if (!tag.empty()) absl::StrAppend(line, " ", tag);
      break;
    case PredictionFormat::kCsv:
      absl::StrAppendFormat(line, "%.9g,", value);
      AppendCsvField(tag, line);
      break;
    case PredictionFormat::kJsonLines:
      json->Clear();
      json->Number("prediction", value);
      if (!tag.empty()) json->Text("tag", tag);
      json->AppendTo(line);
      break;
  }
  line->push_back('\n');
  std::fwrite(line->data(), 1, line->size(), out.file);
}

}  // namespace

absl::StatusOr<PredictResult> Predict(const ReaderOptions& data, Loss loss,
                                      const MarginSource& source,
                                      const PredictionOutput& out) {
  PredictResult result(loss);
  const absl::Time start = absl::Now();
  ExampleStream stream(data);
  std::vector<float> margins;
  std::string line;
  JsonLine json;
  if (out.format == PredictionFormat::kCsv) {
    std::fputs("prediction,tag\n", out.file);
  }
  while (const ExampleBlock* block = stream.Next()) {
    if (absl::Status s = source(*block, &margins); !s.ok()) return s;
    for (size_t i = 0; i < block->size(); ++i) {
      const Example example = block->example(i);
      WritePrediction(out, out.raw ? margins[i] : Prediction(loss, margins[i]),
                      example.tag, &line, &json);
      if (example.has_label) {
        result.metrics.Add(margins[i], example.label, example.importance);
      }
    }
    result.examples += block->size();
    if (std::fflush(out.file) != 0) break;
  }
  if (absl::Status s = stream.status(); !s.ok()) return s;
  if (std::fflush(out.file) != 0 || std::ferror(out.file)) {
    return absl::InternalError(
        absl::StrCat("cannot write the predictions: ", std::strerror(errno)));
  }
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return result;
}

absl::StatusOr<PredictResult> Predict(const ReaderOptions& data, Model* model,
                                      std::FILE* out, bool raw) {
  PredictionOutput output;
  output.file = out;
  output.raw = raw;
  return Predict(data, model->config.loss, ModelMargins(model), output);
}

}  // namespace adaline
