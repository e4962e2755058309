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
