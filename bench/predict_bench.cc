// Predictions from a live shard: predictions/s and per-call latency (p50,
// p99) for single examples and batches of 100, hashed or as VW lines, each
// example 50 features drawn with a 1/rank law from keys the shard holds,
// while a background trainer keeps pushing batches. With --server_pid the
// shard's CPU time gives predictions per shard CPU-second. Run it through
// bench/predict.sh, which pins the shard and this client to their own cores.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/percentile.h"
#include "client/channel.h"
#include "client/cluster_client.h"

ABSL_FLAG(std::string, server, "", "the shard's address");
ABSL_FLAG(int, server_pid, 0, "the shard's pid, for its CPU time");
ABSL_FLAG(double, seconds, 3, "seconds per measurement");
ABSL_FLAG(double, train_updates, 1e6,
          "key updates per second pushed while predicting (0: none)");

namespace adaline {
namespace {

constexpr uint64_t kUniverse = 1 << 20;
constexpr int kFeatures = 50;

uint64_t KeyOfRank(uint64_t rank) { return rank * 0x9e3779b97f4a7c15ULL; }

// A key rank drawn with a 1/rank law over the universe.
uint64_t DrawRank(std::mt19937_64& random) {
  std::uniform_real_distribution<double> unit(0, 1);
  return static_cast<uint64_t>(std::pow(double{kUniverse}, unit(random)));
}

// User and system CPU seconds of `pid` so far, or 0.
double CpuSeconds(int pid) {
  if (pid <= 0) return 0;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string field;
  double ticks = 0;
  // Fields 14 and 15 are utime and stime; the name (field 2) has no spaces.
  for (int i = 1; i <= 15 && stat >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Gives every key of the universe a weight, then keeps pushing 22-key
// batches, `updates_per_second` key updates a second, until told to stop.
void Train(adaline::v1::ParameterServer::Stub& stub,
           const std::atomic<bool>& stop, double updates_per_second) {
  grpc::ClientContext context;
  adaline::v1::PushResponse response;
  auto stream = stub.Push(&context, &response);
  adaline::v1::PushRequest request;
  for (uint64_t rank = 0; rank < kUniverse; ++rank) {
    request.add_keys(KeyOfRank(rank));
    request.add_gradients(0.01f * static_cast<float>(rank % 7) - 0.03f);
    if (request.keys_size() == 4096) {
      stream->Write(request);
      request.Clear();
    }
  }
  std::mt19937_64 random(7);
  const absl::Time start = absl::Now();
  double updates = 0;
  while (updates_per_second > 0 && !stop.load()) {
    const double due =
        absl::ToDoubleSeconds(absl::Now() - start) * updates_per_second;
    if (updates >= due) {
      absl::SleepFor(absl::Microseconds(200));
      continue;
    }
    updates += 22;
    request.Clear();
    std::vector<uint64_t> seen;
    while (request.keys_size() < 22) {
      const uint64_t key = KeyOfRank(DrawRank(random));
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
      seen.push_back(key);
      request.add_keys(key);
      request.add_gradients(0.1f);
    }
    if (!stream->Write(request)) break;
  }
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  if (!status.ok()) {
    std::fprintf(stderr, "predict_bench: training stream: %s\n",
                 status.error_message().c_str());
  }
}

struct Workload {
  std::vector<std::vector<Feature>> features;  // hashed examples
  std::vector<std::string> lines;              // the same as VW text
};

Workload MakeWorkload(size_t examples) {
  std::mt19937_64 random(3);
  Workload workload;
  for (size_t e = 0; e < examples; ++e) {
    std::vector<Feature>& features = workload.features.emplace_back();
    std::string line = "|f";
    for (int f = 0; f < kFeatures; ++f) {
      const uint64_t rank = DrawRank(random);
      features.push_back(Feature{KeyOfRank(rank), 1.0f});
      absl::StrAppend(&line, " r", rank);
    }
    workload.lines.push_back(std::move(line));
  }
  return workload;
}

void Measure(ClusterClient& cluster, const Workload& workload, size_t batch,
             bool as_lines, double seconds, int server_pid) {
  std::vector<Example> examples(batch);
  std::vector<double> latencies;
  size_t predictions = 0, next = 0;
  const double cpu_before = CpuSeconds(server_pid);
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  while (absl::Now() < end) {
    const size_t first = next % (workload.lines.size() - batch);
    next += batch;
    const absl::Time call = absl::Now();
    absl::StatusOr<ClusterClient::Margins> margins;
    if (as_lines) {
      margins = cluster.Predict(
          absl::MakeConstSpan(workload.lines.data() + first, batch));
    } else {
      for (size_t i = 0; i < batch; ++i) {
        examples[i].features = workload.features[first + i];
      }
      margins = cluster.Predict(absl::MakeConstSpan(examples));
    }
    latencies.push_back(absl::ToDoubleMicroseconds(absl::Now() - call));
    if (!margins.ok()) {
      std::fprintf(stderr, "predict_bench: %s\n",
                   std::string(margins.status().message()).c_str());
      return;
    }
    predictions += batch;
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  const double cpu = CpuSeconds(server_pid) - cpu_before;
  const std::string per_cpu =
      cpu > 0 ? absl::StrCat(static_cast<int64_t>(predictions / cpu)) : "-";
  std::printf("%-8s %6zu %14.0f %18s %10.0f %10.0f\n",
              as_lines ? "lines" : "hashed", batch, predictions / elapsed,
              per_cpu.c_str(), Percentile(latencies, 0.5),
              Percentile(latencies, 0.99));
  std::fflush(stdout);
}

int Main() {
  const std::string address = absl::GetFlag(FLAGS_server);
  if (address.empty()) {
    std::fprintf(stderr, "predict_bench: --server is required\n");
    return 1;
  }
  ClientOptions options;
  options.retry.log = nullptr;
  ClusterClient cluster(std::vector<std::string>{address}, options);
  auto stub = adaline::v1::ParameterServer::NewStub(
      MakeChannel(address, ChannelOptions()));
  // Waits for the shard to be up (the retry policy's patience).
  if (absl::StatusOr<std::vector<adaline::v1::StatsResponse>> stats =
          cluster.Stats();
      !stats.ok()) {
    std::fprintf(stderr, "predict_bench: %s\n",
                 std::string(stats.status().message()).c_str());
    return 1;
  }
  std::atomic<bool> stop{false};
  const double train_updates = absl::GetFlag(FLAGS_train_updates);
  std::thread trainer([&] { Train(*stub, stop, train_updates); });
  // Wait until the universe is in the store.
  while (true) {
    absl::StatusOr<std::vector<adaline::v1::StatsResponse>> stats =
        cluster.Stats();
    if (stats.ok() && (*stats)[0].unique_keys() >= kUniverse) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  const Workload workload = MakeWorkload(20000);
  std::printf("training: %.0f key updates/s in 22-key batches\n",
              train_updates);
  std::printf("%-8s %6s %14s %18s %10s %10s\n", "form", "batch",
              "predictions/s", "per shard CPU-s", "p50 us", "p99 us");
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const int pid = absl::GetFlag(FLAGS_server_pid);
  Measure(cluster, workload, 1, false, seconds, pid);
  Measure(cluster, workload, 100, false, seconds, pid);
  Measure(cluster, workload, 1, true, seconds, pid);
  Measure(cluster, workload, 100, true, seconds, pid);
  stop.store(true);
  trainer.join();
  absl::StatusOr<std::vector<adaline::v1::StatsResponse>> stats =
      cluster.Stats();
  if (stats.ok()) {
    std::printf("training went on: the shard is at step %llu\n",
                static_cast<unsigned long long>((*stats)[0].step()));
  }
  return 0;
}

}  // namespace
}  // namespace adaline

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return adaline::Main();
}
