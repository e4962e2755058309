// adaline work: a distributed worker that trains its part of the data
// against parameter servers.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "client/cluster_client.h"
#include "client/remote_parameters.h"
#include "metrics/exporter.h"
#include "trainer/local_trainer.h"
#include "trainer/training_report.h"

namespace adaline {
namespace {

// The servers hold the model: they must take training, and a worker's loss
// and bias must be theirs.
absl::Status CheckLossAndBias(
    const ModelConfig& config,
    const std::vector<adaline::v1::StatsResponse>& stats,
    const std::vector<std::string>& servers) {
  for (size_t i = 0; i < stats.size(); ++i) {
    const adaline::v1::StatsResponse& s = stats[i];
    if (s.read_only()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the server at ", servers[i],
          " is a read-only replica (serve --follow), which takes no "
          "training: list the shards it follows"));
    }
    if (s.loss() != LossName(config.loss) || s.bias() != config.bias) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--loss ", LossName(config.loss), config.bias ? "" : " --no-bias",
          " does not match the server at ", servers[i], " (loss ", s.loss(),
          s.bias() ? "" : ", no bias", ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int RunWork() {
  const std::vector<std::string> servers = absl::GetFlag(FLAGS_servers);
  if (servers.empty()) return Fail("work", "--servers names no server");
  absl::StatusOr<ShardSpec> part = WorkerPartFromFlags();
  if (!part.ok()) return Fail("work", part.status());
  absl::StatusOr<Loss> loss = ParseLoss(absl::GetFlag(FLAGS_loss));
  if (!loss.ok()) return Fail("work", loss.status());
  ModelConfig config;
  config.loss = *loss;
  config.bias = !absl::GetFlag(FLAGS_no_bias);
  absl::StatusOr<TrainOptions> options =
      TrainOptionsFromFlags(config, /*local=*/false);
  if (!options.ok()) return Fail("work", options.status());
  options->data.part_index = part->index;
  options->data.part_count = part->count;
  absl::StatusOr<std::unique_ptr<RunLog>> log = RunLogFromFlags();
  if (!log.ok()) return Fail("work", log.status());
  options->progress = ReportsFromFlags();
  options->log = log->get();
  // Metrics are checked first: a port in use fails before any work.
  const auto progress_metrics = std::make_shared<ProgressMetrics>();
  std::unique_ptr<MetricsExporter> exporter;
  if (const std::string listen = absl::GetFlag(FLAGS_metrics_listen);
      !listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsExporter>> started =
        MetricsExporter::Start(listen);
    if (!started.ok()) return Fail("work", started.status());
    exporter = *std::move(started);
    exporter->Register(progress_metrics);
    options->metrics = progress_metrics.get();
  }
  absl::StatusOr<ClientOptions> client_options = ClientOptionsFromFlags();
  if (!client_options.ok()) return Fail("work", client_options.status());
  ClusterClient cluster(servers, *client_options);
  RemoteParameters remote(cluster.channels(), servers, *client_options);

  absl::StatusOr<std::vector<adaline::v1::StatsResponse>> stats =
      cluster.Stats();
  if (!stats.ok()) return Fail("work", stats.status());
  absl::Status agrees = cluster.CheckLayout(*stats);
  if (agrees.ok()) agrees = CheckLossAndBias(config, *stats, servers);
  if (!agrees.ok()) return Fail("work", agrees);
  // The servers' optimizer, for the steps taken on the worker's own copy,
  // and their crosses, for its parser.
  absl::StatusOr<ModelConfig> servers_config = cluster.ModelConfigOf(*stats);
  if (!servers_config.ok()) return Fail("work", servers_config.status());
  remote.UseRounds(absl::GetFlag(FLAGS_round_steps), servers_config->optimizer);
  options->data.parse.interactions = servers_config->interactions;
  Report("adaline work: part %s of %s, %zu shard%s (%s), optimizer %s\n",
         part->ToString().c_str(),
         absl::StrJoin(options->data.files, ",").c_str(), servers.size(),
         servers.size() == 1 ? "" : "s", absl::StrJoin(servers, ",").c_str(),
         (*stats)[0].optimizer().name().c_str());
  absl::StatusOr<TrainResult> result =
      Train(*options, config.loss, remote, nullptr);
  if (!result.ok()) return Fail("work", result.status());
  if (absl::Status s = remote.Finish(); !s.ok()) return Fail("work", s);
  stats = cluster.Stats();
  if (!stats.ok()) return Fail("work", stats.status());
  ModelSummary summary;
  for (const adaline::v1::StatsResponse& s : *stats) {
    summary.unique_features += s.unique_keys();
    summary.bytes += s.bytes();
    summary.steps = std::max<uint64_t>(summary.steps, s.step());
    summary.admitted_keys += s.admitted_keys();
    summary.not_admitted_updates += s.not_admitted_updates();
    summary.evicted_keys += s.evicted_keys();
    summary.longest_eviction_pause =
        std::max(summary.longest_eviction_pause,
                 absl::Seconds(s.longest_eviction_pause_seconds()));
  }
  PrintTrainingReport(ReportsFromFlags(), *options, config.loss, *result,
                      summary);
  if (*log != nullptr) {
    (*log)->Write(TrainingReportJson(*options, config.loss, *result, summary));
    if (absl::Status s = (*log)->Close(); !s.ok()) return Fail("work", s);
  }
  if (options->keep_names) {
    uint64_t kept = 0, dropped = 0;
    for (const adaline::v1::StatsResponse& s : *stats) {
      kept += s.names();
      dropped += s.names_dropped();
    }
    Report(
        "names sent             %zu (the shards keep %llu; %llu dropped "
        "at --max-name-bytes)\n",
        remote.names_sent(), static_cast<unsigned long long>(kept),
        static_cast<unsigned long long>(dropped));
  }
  for (const adaline::v1::StatsResponse& s : *stats) {
    if (s.dropped_new_keys() == 0) continue;
    Report(
        "warning: shard %u is full (%llu keys, --max-keys %llu): %llu new keys "
        "were dropped there, while known keys went on training\n",
        s.shard_index(), static_cast<unsigned long long>(s.unique_keys()),
        static_cast<unsigned long long>(s.max_keys()),
        static_cast<unsigned long long>(s.dropped_new_keys()));
  }
  return 0;
}

}  // namespace adaline
