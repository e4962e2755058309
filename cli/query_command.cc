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
#include "client/cluster_client.h"

namespace adaline {
namespace {

// One line per shard: "shard I/N at ADDRESS: step ... keys ...".
void PrintStats(const adaline::v1::StatsResponse& s,
                const std::string& address) {
  // "keys N" or, with a limit, "keys N/MAX (D new keys dropped)".
  std::string keys = absl::StrCat(s.unique_keys());
  if (s.max_keys() > 0) {
    absl::StrAppend(&keys, "/", s.max_keys(), " (", s.dropped_new_keys(),
                    " new keys dropped)");
  }
  const std::string names =
      s.names() > 0 || s.names_dropped() > 0
          ? absl::StrCat("  names ", s.names(), " (", s.name_bytes(),
                         " bytes, dropped ", s.names_dropped(), ")")
          : "";
  const std::string replica =
      s.read_only()
          ? absl::StrCat("  read-only replica serving ", s.model_path())
          : "";
  std::printf(
      "shard %u/%u at %s: step %llu  keys %s  bytes %llu  updates/s %.0f  "
      "workers %u  optimizer %s  checkpoints %llu (failed %llu)%s%s%s%s\n",
      s.shard_index(), s.shard_count(), address.c_str(),
      static_cast<unsigned long long>(s.step()), keys.c_str(),
      static_cast<unsigned long long>(s.bytes()), s.updates_per_second(),
      s.connected_workers(), s.optimizer().name().c_str(),
      static_cast<unsigned long long>(s.checkpoints_written()),
      static_cast<unsigned long long>(s.checkpoints_failed()),
      s.last_checkpoint_error().empty() ? "" : "  last checkpoint error: ",
      s.last_checkpoint_error().c_str(), names.c_str(), replica.c_str());
}

}  // namespace

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
  absl::StatusOr<ClientOptions> options =
      ClientOptionsFromFlags(/*one_shot=*/true);
  if (!options.ok()) return Fail("query", options.status());
  ClusterClient cluster(servers, *options);
  int failures = 0;
  if (checkpoint) {
    const auto outcomes = cluster.Checkpoint();
    for (size_t s = 0; s < outcomes.size(); ++s) {
      if (!outcomes[s].ok()) {
        std::fprintf(stderr,
                     "adaline query: checkpoint of shard %zu at %s: %s\n", s,
                     servers[s].c_str(),
                     std::string(outcomes[s].status().message()).c_str());
        ++failures;
        continue;
      }
      std::printf("shard %zu at %s: checkpoint %s at step %llu\n", s,
                  servers[s].c_str(), outcomes[s]->path().c_str(),
                  static_cast<unsigned long long>(outcomes[s]->step()));
    }
    if (failures > 0) return 1;
  }
  if (!stats && names.empty()) return 0;
  absl::StatusOr<std::vector<adaline::v1::StatsResponse>> all = cluster.Stats();
  if (!all.ok()) return Fail("query", all.status());
  if (stats) {
    for (size_t i = 0; i < all->size(); ++i) PrintStats((*all)[i], servers[i]);
  }
  if (names.empty()) return 0;
  // A name is asked of the shard that owns its key, so the list must be the
  // cluster's, in order: else a held feature would read as absent.
  if (absl::Status s = cluster.CheckLayout(*all); !s.ok()) {
    return Fail("query", s);
  }
  for (const ClusterClient::QueryAnswer& answer : cluster.Query(names, *all)) {
    if (!answer.status.ok()) {
      std::fprintf(stderr, "adaline query: shard %zu at %s: %s\n", answer.shard,
                   servers[answer.shard].c_str(),
                   std::string(answer.status.message()).c_str());
      ++failures;
      continue;
    }
    for (const adaline::v1::FeatureState& f : answer.response.features()) {
      std::printf("%s\n", FeatureLine(f.name(), f.present(), f.weight(),
                                      absl::MakeConstSpan(answer.state_names),
                                      absl::MakeConstSpan(f.state().data(),
                                                          f.state_size()),
                                      f.last_step())
                              .c_str());
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace adaline
