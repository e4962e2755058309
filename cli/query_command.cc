// adaline query: weights and state of features, or stats, from running
// parameter servers.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/feature_line.h"
#include "cli/flags.h"
#include "core/feature_key.h"
#include "server/auth.h"
#include "server/remote_parameters.h"
#include "server/sharding.h"

namespace adaline {

int RunQuery(const std::vector<std::string>& names) {
  const std::vector<std::string> servers = absl::GetFlag(FLAGS_servers);
  if (servers.empty()) return Fail("query", "--servers names no server");
  const bool stats = absl::GetFlag(FLAGS_stats);
  const bool checkpoint = absl::GetFlag(FLAGS_checkpoint);
  if (names.empty() && !stats && !checkpoint) {
    return Fail("query",
                "name features (namespace^name ...) or pass --stats or "
                "--checkpoint");
  }
  const absl::Duration timeout =
      absl::Seconds(absl::GetFlag(FLAGS_retry_timeout));
  absl::StatusOr<std::string> token =
      ReadClientToken(absl::GetFlag(FLAGS_auth_token_file));
  if (!token.ok()) {
    return Fail("query", std::string(token.status().message()).c_str());
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(TlsFilesFromFlags());
  if (!credentials.ok()) {
    return Fail("query", std::string(credentials.status().message()).c_str());
  }
  // Every call waits for its shard up to the timeout, with the token.
  auto prepare = [&](grpc::ClientContext& context) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    context.set_wait_for_ready(true);
    Authenticate(context, *token);
  };
  if (checkpoint) {
    int failures = 0;
    for (size_t s = 0; s < servers.size(); ++s) {
      auto stub = adaline::v1::ParameterServer::NewStub(
          MakeChannel(servers[s], *credentials));
      grpc::ClientContext context;
      prepare(context);
      adaline::v1::CheckpointResponse written;
      const grpc::Status status = stub->Checkpoint(
          &context, adaline::v1::CheckpointRequest(), &written);
      if (!status.ok()) {
        std::fprintf(stderr,
                     "adaline query: checkpoint of shard %zu at %s: %s\n", s,
                     servers[s].c_str(), status.error_message().c_str());
        ++failures;
        continue;
      }
      std::printf("shard %zu at %s: checkpoint %s at step %llu\n", s,
                  servers[s].c_str(), written.path().c_str(),
                  static_cast<unsigned long long>(written.step()));
    }
    if (failures > 0) return 1;
  }
  if (stats) {
    ClientOptions options;
    options.retry_timeout = timeout;
    options.token = *token;
    options.credentials = *credentials;
    RemoteParameters remote(servers, options);
    absl::StatusOr<std::vector<adaline::v1::StatsResponse>> all =
        remote.Stats();
    if (!all.ok())
      return Fail("query", std::string(all.status().message()).c_str());
    for (size_t i = 0; i < all->size(); ++i) {
      const adaline::v1::StatsResponse& s = (*all)[i];
      // "keys N" or, with a limit, "keys N/MAX (D new keys dropped)".
      std::string keys = absl::StrCat(s.unique_keys());
      if (s.max_keys() > 0) {
        absl::StrAppend(&keys, "/", s.max_keys(), " (", s.dropped_new_keys(),
                        " new keys dropped)");
      }
      std::printf(
          "shard %u/%u at %s: step %llu  keys %s  bytes %llu  updates/s %.0f  "
          "workers %u  optimizer %s  checkpoints %llu (failed %llu)%s%s\n",
          s.shard_index(), s.shard_count(), servers[i].c_str(),
          static_cast<unsigned long long>(s.step()), keys.c_str(),
          static_cast<unsigned long long>(s.bytes()), s.updates_per_second(),
          s.connected_workers(), s.optimizer().name().c_str(),
          static_cast<unsigned long long>(s.checkpoints_written()),
          static_cast<unsigned long long>(s.checkpoints_failed()),
          s.last_checkpoint_error().empty() ? "" : "  last checkpoint error: ",
          s.last_checkpoint_error().c_str());
    }
  }
  if (names.empty()) return 0;
  const uint32_t count = static_cast<uint32_t>(servers.size());
  std::vector<adaline::v1::QueryRequest> requests(count);
  for (const std::string& name : names) {
    requests[ShardOf(FeatureKeyForName(name), count)].add_names(name);
  }
  std::vector<std::string> lines(names.size());
  int failures = 0;
  for (uint32_t s = 0; s < count; ++s) {
    if (requests[s].names_size() == 0) continue;
    auto stub = adaline::v1::ParameterServer::NewStub(
        MakeChannel(servers[s], *credentials));
    grpc::ClientContext context;
    prepare(context);
    adaline::v1::QueryResponse response;
    adaline::v1::StatsResponse info;
    grpc::Status status = stub->Query(&context, requests[s], &response);
    grpc::ClientContext stats_context;
    prepare(stats_context);
    if (status.ok()) {
      status = stub->Stats(&stats_context, adaline::v1::StatsRequest(), &info);
    }
    if (!status.ok()) {
      std::fprintf(stderr, "adaline query: shard %u at %s: %s\n", s,
                   servers[s].c_str(), status.error_message().c_str());
      ++failures;
      continue;
    }
    const std::vector<std::string> state_names(info.state_names().begin(),
                                               info.state_names().end());
    for (const adaline::v1::FeatureState& f : response.features()) {
      std::printf("%s\n", FeatureLine(f.name(), f.present(), f.weight(),
                                      absl::MakeConstSpan(state_names),
                                      absl::MakeConstSpan(f.state().data(),
                                                          f.state_size()),
                                      f.last_step())
                              .c_str());
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace adaline
