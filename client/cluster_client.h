// ClusterClient: the shards of one parameter server, spoken to as one for
// everything but training: stats, layout checks, queries by feature name,
// predictions, checkpoints. Every call goes through the one RetryPolicy;
// names and hashed features are routed to the shard that owns their key,
// and each prediction is the sum of every shard's part.
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
#include "absl/types/span.h"
#include "client/client_options.h"
#include "core/example.h"
#include "core/model_file.h"
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

  // The model the shards hold, as their stats describe it; refused, naming
  // the setting, if two shards were started with other settings and so are
  // not shards of one model.
  absl::StatusOr<ModelConfig> ModelConfigOf(
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

  // Margins from the live model, whole: every shard's part added up.
  struct Margins {
    std::vector<float> margins;  // one per example
    // The model's loss (its name), which turns a margin into a prediction.
    std::string loss;
    // Shard 0's optimizer step when it answered.
    uint64_t step = 0;
  };
  // Examples as VW text lines, parsed by each shard with the model's own
  // settings (bias, crosses): a caller need not know them. Every shard gets
  // every line.
  absl::StatusOr<Margins> Predict(absl::Span<const std::string> lines);
  // Examples parsed by the caller with the model's settings (Stats() names
  // them): each shard gets only the features it owns.
  absl::StatusOr<Margins> Predict(absl::Span<const Example> examples);

  // Asks every shard to write a checkpoint now; one outcome per shard.
  std::vector<absl::StatusOr<adaline::v1::CheckpointResponse>> Checkpoint();

 private:
  // Runs one unary call on `shard` under the retry policy.
  template <typename Call>
  absl::Status Unary(size_t shard, absl::string_view what, Call call);
  // Sends requests[s] to each shard s and adds up the margins of `count`
  // examples.
  absl::StatusOr<Margins> SumMargins(
      const std::vector<adaline::v1::PredictRequest>& requests, size_t count);

  ClientOptions options_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<adaline::v1::ParameterServer::Stub>> stubs_;
};

}  // namespace adaline

#endif  // ADALINE_CLIENT_CLUSTER_CLIENT_H_
