// InProcessShard: a shard started through ShardServer, exactly as `adaline
// serve` starts one, but reached by an in-process channel; and the request
// builders the server and client tests share.
#ifndef ADALINE_TESTS_SHARD_FIXTURE_H_
#define ADALINE_TESTS_SHARD_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "client/channel.h"
#include "client/client_options.h"
#include "gtest/gtest.h"
#include "server/shard_server.h"

namespace adaline {

inline Model NewModel(const OptimizerOptions& optimizer,
                      size_t max_keys = WeightStore::kNoKeyLimit) {
  Model model;
  model.config.optimizer = optimizer;
  model.store = std::make_unique<WeightStore>(optimizer, max_keys);
  return model;
}

inline Model NewModel(OptimizerKind kind = OptimizerKind::kAdagrad,
                      size_t max_keys = WeightStore::kNoKeyLimit) {
  return NewModel(OptimizerOptions::Defaults(kind), max_keys);
}

// Shard `index` of `count`, checkpointing to `checkpoint_dir` if given.
inline ServiceOptions ShardOptions(uint32_t index, uint32_t count,
                                   std::string checkpoint_dir = "") {
  ServiceOptions options;
  options.shard = ShardSpec{index, count};
  options.checkpoint_dir = std::move(checkpoint_dir);
  return options;
}

// A client that prints nothing and waits up to `retry_timeout` for a shard.
inline ClientOptions QuietClient(absl::Duration retry_timeout) {
  ClientOptions options;
  options.retry.log = nullptr;
  options.retry.retry_timeout = retry_timeout;
  return options;
}

class InProcessShard {
 public:
  explicit InProcessShard(ServiceOptions options, Model model = NewModel()) {
    ShardServerOptions server_options;
    server_options.config = model.config;
    server_options.service = std::move(options);
    server_options.listen = "";
    absl::StatusOr<std::unique_ptr<ShardServer>> server =
        ShardServer::Start(std::move(server_options),
                           RestoredModel{std::move(model), std::nullopt, {}});
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = server_->InProcessChannel();
    stub_ = adaline::v1::ParameterServer::NewStub(channel_);
  }

  adaline::v1::ParameterServer::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  ParameterService& service() { return server_->service(); }
  ShardServer& server() { return *server_; }
  const WeightStore& store() { return *server_->service().model()->store; }

  adaline::v1::StatsResponse Stats() {
    grpc::ClientContext context;
    adaline::v1::StatsResponse stats;
    EXPECT_TRUE(
        stub_->Stats(&context, adaline::v1::StatsRequest(), &stats).ok());
    return stats;
  }

  // Pushes `batches` on one stream; returns the stream's status.
  grpc::Status Push(const std::vector<adaline::v1::PushRequest>& batches,
                    adaline::v1::PushResponse* response) {
    grpc::ClientContext context;
    auto stream = stub_->Push(&context, response);
    for (const auto& batch : batches) {
      if (!stream->Write(batch)) break;
    }
    stream->WritesDone();
    return stream->Finish();
  }

 private:
  std::unique_ptr<ShardServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<adaline::v1::ParameterServer::Stub> stub_;
};

inline adaline::v1::PushRequest Batch(std::vector<uint64_t> keys,
                                      std::vector<float> gradients) {
  adaline::v1::PushRequest request;
  for (uint64_t k : keys) request.add_keys(k);
  for (float g : gradients) request.add_gradients(g);
  return request;
}

inline adaline::v1::ExchangeRequest PullOnly(std::vector<uint64_t> keys) {
  adaline::v1::ExchangeRequest request;
  for (uint64_t k : keys) request.mutable_pull()->add_keys(k);
  return request;
}

inline adaline::v1::ExchangeRequest PushThenPull(adaline::v1::PushRequest push,
                                                 std::vector<uint64_t> keys) {
  adaline::v1::ExchangeRequest request = PullOnly(std::move(keys));
  *request.mutable_push() = std::move(push);
  return request;
}

// Sends `requests` on one Exchange stream, one at a time, collecting the
// answers; returns the stream's status.
inline grpc::Status ExchangeAs(
    InProcessShard& shard, const std::string& token,
    const std::vector<adaline::v1::ExchangeRequest>& requests,
    std::vector<adaline::v1::ExchangeResponse>* answers) {
  grpc::ClientContext context;
  Authenticate(context, token);
  auto stream = shard.stub().Exchange(&context);
  for (const auto& request : requests) {
    adaline::v1::ExchangeResponse answer;
    if (!stream->Write(request) || !stream->Read(&answer)) break;
    answers->push_back(answer);
  }
  stream->WritesDone();
  return stream->Finish();
}

constexpr char kTestTokens[] =
    "# role token\n"
    "trainer trainer-token-0123456789\n"
    "reader  reader-token-0123456789\n";

inline ServiceOptions WithTestTokens() {
  ServiceOptions options;
  options.tokens = std::make_shared<const TokenTable>(
      *TokenTable::Parse(kTestTokens, "tokens"));
  return options;
}

}  // namespace adaline

#endif  // ADALINE_TESTS_SHARD_FIXTURE_H_
