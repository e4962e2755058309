// Parameter-server figures over loopback TCP against a shard started by
// ShardServer, as `adaline serve` starts it: the apply rate of pushed
// batches against the same batches on an in-process WeightStore, Pull
// latency percentiles at a few batch sizes, a worker's rounds through
// RemoteParameters, and protobuf bytes per key.
//   bazel run //bench:server_bench
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "absl/time/clock.h"
#include "client/channel.h"
#include "client/remote_parameters.h"
#include "server/shard_server.h"

namespace adaline {
namespace {

// Batches of distinct keys, popular keys far more often than rare ones.
std::vector<std::vector<uint64_t>> MakeBatches(size_t count, size_t size) {
  std::mt19937_64 random(1);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<std::vector<uint64_t>> batches(count);
  for (auto& batch : batches) {
    while (batch.size() < size) {
      const uint64_t rank =
          static_cast<uint64_t>(std::pow(1 << 20, unit(random)));
      const uint64_t key = rank * 0x9e3779b97f4a7c15ULL;
      if (std::find(batch.begin(), batch.end(), key) == batch.end())
        batch.push_back(key);
    }
  }
  return batches;
}

// Seconds to stream `requests` to the shard on one Push stream.
double StreamSeconds(adaline::v1::ParameterServer::Stub& stub,
                     const std::vector<adaline::v1::PushRequest>& requests) {
  grpc::ClientContext context;
  adaline::v1::PushResponse response;
  const absl::Time start = absl::Now();
  auto stream = stub.Push(&context, &response);
  for (const auto& request : requests) stream->Write(request);
  stream->WritesDone();
  stream->Finish();
  return absl::ToDoubleSeconds(absl::Now() - start);
}

// Seconds for an in-process store to take the same steps.
double StoreSeconds(const std::vector<std::vector<uint64_t>>& steps,
                    const std::vector<float>& gradients) {
  WeightStore local(OptimizerOptions::Defaults(OptimizerKind::kAdagrad));
  const absl::Time start = absl::Now();
  for (const auto& step : steps) (void)local.Push(step, gradients);
  return absl::ToDoubleSeconds(absl::Now() - start);
}

int Main() {
  ShardServerOptions options;
  options.config.optimizer =
      OptimizerOptions::Defaults(OptimizerKind::kAdagrad);
  absl::StatusOr<std::unique_ptr<ShardServer>> server =
      ShardServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "server_bench: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  const std::string address = (*server)->address();
  auto stub = adaline::v1::ParameterServer::NewStub(
      MakeChannel(address, ChannelOptions()));

  std::printf("%-34s %14s %14s %8s\n", "push (adagrad)", "server keys/s",
              "store keys/s", "ratio");
  for (size_t size : {22, 256, 4096}) {
    const auto batches = MakeBatches(size == 4096 ? 500 : 4000, size);
    std::vector<float> gradients(size, 0.01f);
    std::vector<adaline::v1::PushRequest> requests(batches.size());
    for (size_t b = 0; b < batches.size(); ++b) {
      for (uint64_t k : batches[b]) requests[b].add_keys(k);
      for (float g : gradients) requests[b].add_gradients(g);
    }
    const double server_seconds = StreamSeconds(*stub, requests);
    const double store_seconds = StoreSeconds(batches, gradients);
    const double keys = static_cast<double>(batches.size() * size);
    std::printf("  %5zu keys a batch %19.0f %14.0f %8.3f\n", size,
                keys / server_seconds, keys / store_seconds,
                store_seconds / server_seconds);
  }

  // A worker's rounds as `adaline work` sends them at its defaults: one
  // message of kRoundSteps steps of 22 keys (one example each).
  constexpr size_t kRoundSteps = RemoteParameters::kDefaultRoundSteps;
  {
    const auto steps = MakeBatches(40 * kRoundSteps, 22);
    std::vector<adaline::v1::PushRequest> rounds(steps.size() / kRoundSteps);
    size_t distinct = 0;
    for (size_t r = 0; r < rounds.size(); ++r) {
      std::vector<uint64_t> seen;
      for (size_t s = r * kRoundSteps; s < (r + 1) * kRoundSteps; ++s) {
        for (uint64_t k : steps[s]) {
          rounds[r].add_keys(k);
          rounds[r].add_gradients(0.01f);
          seen.push_back(k);
        }
        rounds[r].add_step_sizes(22);
      }
      std::sort(seen.begin(), seen.end());
      distinct += std::unique(seen.begin(), seen.end()) - seen.begin();
    }
    const double server_seconds = StreamSeconds(*stub, rounds);
    const double store_seconds =
        StoreSeconds(steps, std::vector<float>(22, 0.01f));
    const double keys = static_cast<double>(steps.size() * 22);
    std::printf("  %5zu steps of 22 keys %13.0f %14.0f %8.3f\n", kRoundSteps,
                keys / server_seconds, keys / store_seconds,
                store_seconds / server_seconds);
    // On the wire per key update: the push (key, gradient, step sizes) and
    // the round's pull with state (key; weight and AdaGrad's accumulator)
    // of each distinct key.
    const double push_bytes =
        static_cast<double>(rounds[0].ByteSizeLong()) / (kRoundSteps * 22);
    const double pull_bytes =
        static_cast<double>(distinct) * (8 + 4 + 4) / static_cast<double>(keys);
    std::printf(
        "  wire bytes per key update in rounds: push %.2f + pull %.2f "
        "(%.2f distinct keys per update)\n",
        push_bytes, pull_bytes, static_cast<double>(distinct) / keys);
  }

  std::printf("\n%-22s %10s %10s %10s\n", "pull latency", "p50 us", "p99 us",
              "keys/s");
  for (size_t size : {22, 256, 4096}) {
    const auto batches = MakeBatches(size == 4096 ? 300 : 2000, size);
    std::vector<double> micros;
    absl::Time all = absl::Now();
    for (const auto& batch : batches) {
      adaline::v1::PullRequest request;
      for (uint64_t k : batch) request.add_keys(k);
      adaline::v1::PullResponse response;
      grpc::ClientContext context;
      const absl::Time start = absl::Now();
      stub->Pull(&context, request, &response);
      micros.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
    }
    const double seconds = absl::ToDoubleSeconds(absl::Now() - all);
    std::sort(micros.begin(), micros.end());
    std::printf("  %5zu keys %19.0f %10.0f %10.0f\n", size,
                micros[micros.size() / 2], micros[micros.size() * 99 / 100],
                static_cast<double>(batches.size() * size) / seconds);
  }

  // A worker's round through RemoteParameters: pull a batch's keys, then
  // push its gradient. The push is only staged; it travels with the next
  // pull, so "pull us" is the whole network round.
  std::printf("\n%-22s %10s %10s %10s\n", "worker round", "pull us", "push us",
              "rounds/s");
  for (size_t size : {256, 2500}) {
    const auto batches = MakeBatches(300, size);
    RemoteParameters remote(std::vector<std::string>{address}, ClientOptions{});
    std::vector<float> weights(size), gradients(size, 0.01f);
    double pull_seconds = 0, push_seconds = 0;
    const absl::Time all = absl::Now();
    for (const auto& batch : batches) {
      absl::Time start = absl::Now();
      (void)remote.Pull(batch, absl::MakeSpan(weights));
      pull_seconds += absl::ToDoubleSeconds(absl::Now() - start);
      start = absl::Now();
      (void)remote.Push(batch, gradients);
      push_seconds += absl::ToDoubleSeconds(absl::Now() - start);
    }
    (void)remote.Finish();
    const double n = static_cast<double>(batches.size());
    std::printf("  %5zu keys %19.0f %10.0f %10.0f\n", size,
                1e6 * pull_seconds / n, 1e6 * push_seconds / n,
                n / absl::ToDoubleSeconds(absl::Now() - all));
  }

  adaline::v1::PushRequest push;
  adaline::v1::PullRequest pull;
  adaline::v1::PullResponse pulled;
  const std::vector<std::vector<uint64_t>> sample = MakeBatches(1, 256);
  for (uint64_t k : sample[0]) {
    push.add_keys(k);
    push.add_gradients(0.5f);
    pull.add_keys(k);
    pulled.add_weights(0.5f);
  }
  std::printf(
      "\nprotobuf bytes per key (256 keys a message): push %.2f, pull %.2f "
      "request + "
      "%.2f response\n(gRPC adds 5 bytes and HTTP/2 9 bytes of framing per "
      "message)\n",
      push.ByteSizeLong() / 256.0, pull.ByteSizeLong() / 256.0,
      pulled.ByteSizeLong() / 256.0);
  (void)(*server)->Shutdown();
  return 0;
}

}  // namespace
}  // namespace adaline

int main() { return adaline::Main(); }
