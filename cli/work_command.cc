// adaline work: a distributed worker that trains its part of the data
// against parameter servers.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "server/auth.h"
#include "server/remote_parameters.h"
#include "server/sharding.h"
#include "trainer/local_trainer.h"

namespace adaline {
namespace {

int FailWith(const absl::Status& status) {
  return Fail("work", std::string(status.message()).c_str());
}

}  // namespace

int RunWork() {
  const std::vector<std::string> servers = absl::GetFlag(FLAGS_servers);
  if (servers.empty()) return Fail("work", "--servers names no server");
  absl::StatusOr<ShardSpec> part =
      ParseShardSpec(absl::GetFlag(FLAGS_part), "part");
  if (!part.ok()) return FailWith(part.status());
  absl::StatusOr<Loss> loss = ParseLoss(absl::GetFlag(FLAGS_loss));
  if (!loss.ok()) return FailWith(loss.status());
  ModelConfig config;
  config.loss = *loss;
  config.bias = !absl::GetFlag(FLAGS_no_bias);
  TrainOptions options;
  absl::StatusOr<ReaderOptions> data = ReaderOptionsFromFlags(config, true);
  if (!data.ok()) return FailWith(data.status());
  options.data = *data;
  options.data.part_index = part->index;
  options.data.part_count = part->count;
  options.passes = absl::GetFlag(FLAGS_passes);
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.holdout_every = absl::GetFlag(FLAGS_holdout_every);
  if (options.passes == 0 || options.batch_size == 0) {
    return Fail("work", "--passes and --batch-size must be at least 1");
  }
  ClientOptions client;
  client.retry_timeout = absl::Seconds(absl::GetFlag(FLAGS_retry_timeout));
  absl::StatusOr<std::string> token =
      ReadClientToken(absl::GetFlag(FLAGS_auth_token_file));
  if (!token.ok()) return FailWith(token.status());
  client.token = *token;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(TlsFilesFromFlags());
  if (!credentials.ok()) return FailWith(credentials.status());
  client.credentials = *credentials;
  RemoteParameters remote(servers, client);

  // The servers hold the model: the worker must agree with them.
  absl::StatusOr<std::vector<adaline::v1::StatsResponse>> stats =
      remote.Stats();
  if (!stats.ok()) return FailWith(stats.status());
  for (size_t i = 0; i < stats->size(); ++i) {
    const adaline::v1::StatsResponse& s = (*stats)[i];
    if (s.shard_count() != servers.size() || s.shard_index() != i) {
      return Fail(
          "work",
          absl::StrCat("the server at ", servers[i], " is shard ",
                       s.shard_index(), "/", s.shard_count(),
                       " but is listed at position ", i, " of ", servers.size())
              .c_str());
    }
    if (s.loss() != LossName(config.loss) || s.bias() != config.bias) {
      return Fail("work", absl::StrCat("--loss ", LossName(config.loss),
                                       config.bias ? "" : " --no-bias",
                                       " does not match the server at ",
                                       servers[i], " (loss ", s.loss(),
                                       s.bias() ? "" : ", no bias", ")")
                              .c_str());
    }
  }
  std::printf("adaline work: part %s of %s, %zu shard%s (%s), optimizer %s\n",
              part->ToString().c_str(),
              absl::StrJoin(options.data.files, ",").c_str(), servers.size(),
              servers.size() == 1 ? "" : "s",
              absl::StrJoin(servers, ",").c_str(),
              (*stats)[0].optimizer().name().c_str());
  std::fflush(stdout);
  absl::StatusOr<TrainResult> result =
      Train(options, config.loss, remote, nullptr);
  if (!result.ok()) return FailWith(result.status());
  if (absl::Status s = remote.Finish(); !s.ok()) return FailWith(s);
  stats = remote.Stats();
  if (!stats.ok()) return FailWith(stats.status());
  ModelSummary summary;
  for (const adaline::v1::StatsResponse& s : *stats) {
    summary.unique_features += s.unique_keys();
    summary.bytes += s.bytes();
    summary.steps = std::max<uint64_t>(summary.steps, s.step());
  }
  PrintTrainingReport(stdout, options, config.loss, *result, summary);
  for (const adaline::v1::StatsResponse& s : *stats) {
    if (s.dropped_new_keys() == 0) continue;
    std::printf(
        "warning: shard %u is full (%llu keys, --max-keys %llu): %llu new keys "
        "were dropped there, while known keys went on training\n",
        s.shard_index(), static_cast<unsigned long long>(s.unique_keys()),
        static_cast<unsigned long long>(s.max_keys()),
        static_cast<unsigned long long>(s.dropped_new_keys()));
  }
  return 0;
}

}  // namespace adaline
