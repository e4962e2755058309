// ClusterClient: the shards of one parameter server, spoken to as one for
// everything but training: stats, layout checks, queries by feature name,
// checkpoints. Every call goes through the one RetryPolicy; names are
// routed to the shard that owns their key.
//
// Thread-compatible: calls from several threads need outside locking (the
// commands make one call at a time).
#ifndef ADALINE_CLIENT_CLUSTER_CLIENT_H_
#define ADALINE_CLIENT_CLUSTER_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/client_options.h"
#include "proto/adaline.grpc.pb.h"

namespace adaline {

class ClusterClient {
 public:
  // Shard i at addresses[i].
  ClusterClient(const std::vector<std::string>& addresses,
                ClientOptions options);
  // Over given channels (in-process ones in tests); `names` name them.
  ClusterClient(std::vector<std::shared_ptr<grpc::Channel>> channels,
                std::vector<std::string> names, ClientOptions options);

  size_t shard_count() const { return channels_.size(); }
  // The channels, for a RemoteParameters that shares the connections.
  const std::vector<std::shared_ptr<grpc::Channel>>& channels() const {
    return channels_;
  }
  const std::vector<std::string>& addresses() const { return names_; }
  // "shard I at ADDRESS", as messages name a shard.
  std::string ShardName(size_t shard) const;

  // Each shard's stats, in shard order; fails naming the first shard that
  // cannot answer.
  absl::StatusOr<std::vector<adaline::v1::StatsResponse>> Stats();

  // Checks that the shard at position i says it is shard i of
  // shard_count(): a list out of order would route keys to the wrong shard.
  absl::Status CheckLayout(
      const std::vector<adaline::v1::StatsResponse>& stats) const;

  // What one shard said of the features it was asked about.
  struct QueryAnswer {
    size_t shard = 0;
    absl::Status status;
    adaline::v1::QueryResponse response;
    // Names of the optimizer state floats of response.features().
    std::vector<std::string> state_names;
  };
  // Features by name ("namespace^name"): one answer per shard that owns at
  // least one of `names`, in shard order. `stats` are the shards' (from
  // Stats(), checked by CheckLayout): they name the optimizer state.
  std::vector<QueryAnswer> Query(
      const std::vector<std::string>& names,
      const std::vector<adaline::v1::StatsResponse>& stats);

  // Asks every shard to write a checkpoint now; one outcome per shard.
  std::vector<absl::StatusOr<adaline::v1::CheckpointResponse>> Checkpoint();

 private:
  // Runs one unary call on `shard` under the retry policy.
  template <typename Call>
  absl::Status Unary(size_t shard, absl::string_view what, Call call);

  ClientOptions options_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<adaline::v1::ParameterServer::Stub>> stubs_;
};

}  // namespace adaline

#endif  // ADALINE_CLIENT_CLUSTER_CLIENT_H_
