// adaline predict: a prediction per example, and metrics on labeled data,
// from a model file or from the live model on parameter servers.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "client/cluster_client.h"
#include "trainer/predictor.h"

namespace adaline {

namespace {

// The live model's margins: examples parsed here with the servers' settings,
// each feature sent to the shard that owns it.
MarginSource ServerMargins(ClusterClient* cluster) {
  auto examples = std::make_shared<std::vector<Example>>();
  return [cluster, examples](const ExampleBlock& block,
                             std::vector<float>* margins) -> absl::Status {
    examples->clear();
    for (size_t i = 0; i < block.size(); ++i) {
      examples->push_back(block.example(i));
    }
    absl::StatusOr<ClusterClient::Margins> answer =
        cluster->Predict(absl::MakeConstSpan(*examples));
    if (!answer.ok()) return answer.status();
    *margins = std::move(answer->margins);
    return absl::OkStatus();
  };
}

// --out-format, or what --out's name says (.csv, .jsonl), or text.
std::string PredictionFormatName(const std::string& flag,
                                 const std::string& out_path) {
  if (!flag.empty()) return flag;
  if (absl::EndsWith(out_path, ".csv")) return "csv";
  if (absl::EndsWith(out_path, ".jsonl")) return "jsonl";
  return "text";
}

}  // namespace

int RunPredict() {
  const std::string model_path = absl::GetFlag(FLAGS_model);
  const std::vector<std::string> servers = absl::GetFlag(FLAGS_servers);
  if (model_path.empty() == servers.empty()) {
    return Fail("predict",
                "give --model FILE for a model file or --servers A,B,... for "
                "the live model (one of them)");
  }
  // Flags are checked before a model loads or a server is asked.
  const std::string out_path = absl::GetFlag(FLAGS_out);
  absl::StatusOr<PredictionFormat> format = ParsePredictionFormat(
      PredictionFormatName(absl::GetFlag(FLAGS_out_format), out_path));
  if (!format.ok()) return Fail("predict", format.status());
  ModelConfig config;
  std::optional<Model> model;
  std::unique_ptr<ClusterClient> cluster;
  if (!model_path.empty()) {
    absl::StatusOr<Model> loaded = LoadModel(model_path);
    if (!loaded.ok()) return Fail("predict", loaded.status());
    model = *std::move(loaded);
    config = model->config;
  } else {
    absl::StatusOr<ClientOptions> options =
        ClientOptionsFromFlags(/*one_shot=*/true);
    if (!options.ok()) return Fail("predict", options.status());
    cluster = std::make_unique<ClusterClient>(servers, *options);
    absl::StatusOr<std::vector<adaline::v1::StatsResponse>> stats =
        cluster->Stats();
    if (!stats.ok()) return Fail("predict", stats.status());
    if (absl::Status s = cluster->CheckLayout(*stats); !s.ok()) {
      return Fail("predict", s);
    }
    absl::StatusOr<ModelConfig> servers_config = cluster->ModelConfigOf(*stats);
    if (!servers_config.ok()) return Fail("predict", servers_config.status());
    config = *servers_config;
  }
  absl::StatusOr<ReaderOptions> data =
      ReaderOptionsFromFlags(config, /*require_label=*/false);
  if (!data.ok()) return Fail("predict", data.status());

  PredictionOutput out;
  out.format = *format;
  out.raw = absl::GetFlag(FLAGS_raw);
  out.file = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "w");
  if (out.file == nullptr) {
    return Fail("predict", ("cannot create " + out_path).c_str());
  }
  const MarginSource margins =
      model ? ModelMargins(&*model) : ServerMargins(cluster.get());
  absl::StatusOr<PredictResult> result =
      Predict(*data, config.loss, margins, out);
  if (out.file != stdout) std::fclose(out.file);
  if (!result.ok()) return Fail("predict", result.status());
  std::FILE* report = ReportsFromFlags();
  if (report == nullptr) return 0;
  const Metrics& m = result->metrics;
  std::fprintf(report, "examples               %llu\n",
               static_cast<unsigned long long>(result->examples));
  if (m.count() > 0) {
    if (config.loss == Loss::kSquared) {
      std::fprintf(report, "RMSE                   %.6f\n", m.Rmse());
    } else {
      std::fprintf(report, "%-22s %.6f\n",
                   config.loss == Loss::kLogistic ? "log loss" : "hinge loss",
                   m.MeanLoss());
      std::fprintf(report, "AUC                    %.6f\n", m.Auc());
      std::fprintf(report, "accuracy               %.6f\n", m.Accuracy());
    }
  }
  return 0;
}

}  // namespace adaline
