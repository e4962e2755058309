#include "client/cluster_client.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/feature_key.h"
#include "rpc/sharding.h"
#include "rpc/wire.h"

namespace adaline {

ClusterClient::ClusterClient(const std::vector<std::string>& addresses,
                             ClientOptions options)
    : ClusterClient(MakeChannels(addresses, options.channel), addresses,
                    options) {}

ClusterClient::ClusterClient(
    std::vector<std::shared_ptr<grpc::Channel>> channels,
    std::vector<std::string> names, ClientOptions options)
    : options_(std::move(options)),
      channels_(std::move(channels)),
      names_(std::move(names)) {
  for (const auto& channel : channels_) {
    stubs_.push_back(adaline::v1::ParameterServer::NewStub(channel));
  }
}

std::string ClusterClient::ShardName(size_t shard) const {
  return absl::StrCat("shard ", shard, " at ", names_[shard]);
}

template <typename Call>
absl::Status ClusterClient::Unary(size_t shard, absl::string_view what,
                                  Call call) {
  return Retry(options_.retry, ShardName(shard), what, [&] {
    grpc::ClientContext context;
    context.set_deadline(
        absl::ToChronoTime(absl::Now() + options_.retry.call_timeout));
    Authenticate(context, options_.channel.token);
    return FromGrpc(call(*stubs_[shard], context));
  });
}

absl::StatusOr<std::vector<adaline::v1::StatsResponse>> ClusterClient::Stats() {
  std::vector<adaline::v1::StatsResponse> all(shard_count());
  for (size_t s = 0; s < shard_count(); ++s) {
    absl::Status status =
        Unary(s, "stats", [&](auto& stub, grpc::ClientContext& context) {
          return stub.Stats(&context, adaline::v1::StatsRequest(), &all[s]);
        });
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat(ShardName(s), ": ", status.message()));
    }
  }
  return all;
}

absl::Status ClusterClient::CheckLayout(
    const std::vector<adaline::v1::StatsResponse>& stats) const {
  for (size_t i = 0; i < stats.size(); ++i) {
    const adaline::v1::StatsResponse& s = stats[i];
    if (s.shard_count() != shard_count() || s.shard_index() != i) {
      return absl::FailedPreconditionError(
          absl::StrCat("the server at ", names_[i], " is shard ",
                       s.shard_index(), "/", s.shard_count(),
                       " but is listed at position ", i, " of ", shard_count(),
                       ": list every shard of the cluster, shard I at "
                       "position I"));
    }
  }
  return absl::OkStatus();
}

namespace {

// The model configuration one shard reports in its Stats.
absl::StatusOr<ModelConfig> ConfigOfShard(
    const adaline::v1::StatsResponse& stats) {
  ModelConfig config;
  absl::StatusOr<OptimizerOptions> optimizer = FromProto(stats.optimizer());
  if (!optimizer.ok()) return optimizer.status();
  config.optimizer = *optimizer;
  absl::StatusOr<Loss> loss = ParseLoss(stats.loss());
  if (!loss.ok()) return loss.status();
  config.loss = *loss;
  config.bias = stats.bias();
  absl::StatusOr<Interactions> interactions =
      Interactions::Parse(std::vector<std::string>(stats.interactions().begin(),
                                                   stats.interactions().end()));
  if (!interactions.ok()) return interactions.status();
  config.interactions = *std::move(interactions);
  return config;
}

}  // namespace

absl::StatusOr<ModelConfig> ClusterClient::ModelConfigOf(
    const std::vector<adaline::v1::StatsResponse>& stats) const {
  if (stats.empty()) return absl::InvalidArgumentError("no shard stats");
  absl::StatusOr<ModelConfig> first = ConfigOfShard(stats[0]);
  if (!first.ok()) return first.status();
  for (size_t i = 1; i < stats.size(); ++i) {
    absl::StatusOr<ModelConfig> this_one = ConfigOfShard(stats[i]);
    if (!this_one.ok()) return this_one.status();
    // Shards of one model: the same loss, bias, optimizer with the same
    // hyperparameters, and the same crosses.
    const std::string difference = ConfigDifference(*this_one, *first);
    if (!difference.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the servers at ", names_[0], " and ", names_[i],
          " were started with other settings, so they are not shards of one "
          "model: on ",
          names_[i], " ", difference));
    }
  }
  return first;
}

std::vector<ClusterClient::QueryAnswer> ClusterClient::Query(
    const std::vector<std::string>& names,
    const std::vector<adaline::v1::StatsResponse>& stats) {
  const uint32_t count = static_cast<uint32_t>(shard_count());
  std::vector<adaline::v1::QueryRequest> requests(count);
  for (const std::string& name : names) {
    requests[ShardOf(FeatureKeyForName(name), count)].add_names(name);
  }
  std::vector<QueryAnswer> answers;
  for (uint32_t s = 0; s < count; ++s) {
    if (requests[s].names_size() == 0) continue;
    QueryAnswer& answer = answers.emplace_back();
    answer.shard = s;
    answer.status =
        Unary(s, "query", [&](auto& stub, grpc::ClientContext& context) {
          return stub.Query(&context, requests[s], &answer.response);
        });
    answer.state_names.assign(stats[s].state_names().begin(),
                              stats[s].state_names().end());
  }
  return answers;
}

absl::StatusOr<ClusterClient::Margins> ClusterClient::SumMargins(
    const std::vector<adaline::v1::PredictRequest>& requests, size_t count) {
  Margins result;
  result.margins.assign(count, 0.0f);
  adaline::v1::PredictResponse response;
  for (size_t s = 0; s < shard_count(); ++s) {
    response.Clear();
    absl::Status status =
        Unary(s, "predict", [&](auto& stub, grpc::ClientContext& context) {
          return stub.Predict(&context, requests[s], &response);
        });
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat(ShardName(s), ": ", status.message()));
    }
    if (static_cast<size_t>(response.margins_size()) != count) {
      return absl::InternalError(
          absl::StrCat(ShardName(s), " answered ", response.margins_size(),
                       " margins for ", count, " examples"));
    }
    // In shard order, from shard 0's part: one shard gives its margins as
    // they are, the same floats as local prediction.
    for (size_t i = 0; i < count; ++i) {
      result.margins[i] += response.margins(static_cast<int>(i));
    }
    if (s == 0) {
      result.loss = response.loss();
      result.step = response.step();
    }
  }
  return result;
}

absl::StatusOr<ClusterClient::Margins> ClusterClient::Predict(
    absl::Span<const std::string> lines) {
  adaline::v1::PredictRequest request;
  for (const std::string& line : lines) request.add_lines(line);
  // Each shard needs every line: it scores the features it owns.
  std::vector<adaline::v1::PredictRequest> requests(shard_count(), request);
  return SumMargins(requests, lines.size());
}

absl::StatusOr<ClusterClient::Margins> ClusterClient::Predict(
    absl::Span<const Example> examples) {
  const uint32_t count = static_cast<uint32_t>(shard_count());
  std::vector<adaline::v1::PredictRequest> requests(count);
  for (const Example& example : examples) {
    for (adaline::v1::PredictRequest& request : requests) request.add_sizes(0);
    // Shard 0 adds the base; the others start from 0.
    requests[0].add_bases(example.base);
    for (uint32_t s = 1; s < count; ++s) requests[s].add_bases(0);
    for (const Feature& feature : example.features) {
      adaline::v1::PredictRequest& request =
          requests[ShardOf(feature.key, count)];
      request.add_keys(feature.key);
      request.add_values(feature.value);
      request.mutable_sizes()->Set(request.sizes_size() - 1,
                                   request.sizes(request.sizes_size() - 1) + 1);
    }
  }
  return SumMargins(requests, examples.size());
}

std::vector<absl::StatusOr<adaline::v1::CheckpointResponse>>
ClusterClient::Checkpoint() {
  std::vector<absl::StatusOr<adaline::v1::CheckpointResponse>> outcomes;
  for (size_t s = 0; s < shard_count(); ++s) {
    adaline::v1::CheckpointResponse written;
    absl::Status status =
        Unary(s, "checkpoint", [&](auto& stub, grpc::ClientContext& context) {
          return stub.Checkpoint(&context, adaline::v1::CheckpointRequest(),
                                 &written);
        });
    if (status.ok()) {
      outcomes.emplace_back(std::move(written));
    } else {
      outcomes.emplace_back(status);
    }
  }
  return outcomes;
}

}  // namespace adaline
