// Soak benchmark: several workers pull and push against running servers for
// a long while. Every interval it prints throughput, step latency (pull and
// push of one batch) percentiles, errors, the servers' key count and the
// resident memory of a server process; at the end a summary with the memory
// growth after the key set stopped growing. Run it through bench/soak.sh.
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/percentile.h"
#include "client/cluster_client.h"
#include "client/remote_parameters.h"

ABSL_FLAG(std::vector<std::string>, servers, {}, "server addresses");
ABSL_FLAG(int, server_pid, 0, "pid of the server whose memory is reported");
ABSL_FLAG(int, workers, 4, "concurrent workers, each with its own streams");
ABSL_FLAG(double, seconds, 90, "how long to run");
ABSL_FLAG(double, interval, 10, "seconds per report line");
ABSL_FLAG(uint64_t, universe, 200000, "distinct keys the workers draw from");
ABSL_FLAG(int, batch_keys, 2048, "key draws per batch (skewed; repeats merge)");

namespace adaline {
namespace {

// Latencies of finished steps, in microseconds, swapped out per interval.
class LatencyLog {
 public:
  void Add(double micros) {
    std::lock_guard<std::mutex> lock(mutex_);
    current_.push_back(micros);
  }
  std::vector<double> Take() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<double> taken;
    taken.swap(current_);
    return taken;
  }

 private:
  std::mutex mutex_;
  std::vector<double> current_;
};

// VmRSS of `pid` in MiB, or -1.
double ResidentMiB(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  }
  return -1;
}

// Distinct keys of one batch: popular keys often, rare ones seldom.
void DrawBatch(std::mt19937_64& random, uint64_t universe, int draws,
               std::vector<uint64_t>* keys) {
  std::uniform_real_distribution<double> uniform(0, 1);
  keys->clear();
  for (int i = 0; i < draws; ++i) {
    const double r = uniform(random);
    const uint64_t index = static_cast<uint64_t>(r * r * r * universe);
    keys->push_back(index * 0x9E3779B97F4A7C15ull + 1);  // spread the bits
  }
  std::sort(keys->begin(), keys->end());
  keys->erase(std::unique(keys->begin(), keys->end()), keys->end());
}

int Run() {
  const std::vector<std::string> servers = absl::GetFlag(FLAGS_servers);
  if (servers.empty()) {
    std::fprintf(stderr, "soak: --servers names no server\n");
    return 2;
  }
  const int workers = absl::GetFlag(FLAGS_workers);
  const absl::Duration length = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  const absl::Duration interval = absl::Seconds(absl::GetFlag(FLAGS_interval));
  const uint64_t universe = absl::GetFlag(FLAGS_universe);
  const int draws = absl::GetFlag(FLAGS_batch_keys);
  const int pid = absl::GetFlag(FLAGS_server_pid);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> steps{0}, key_updates{0}, errors{0};
  LatencyLog latencies;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      ClientOptions options;
      options.retry.retry_timeout = absl::Seconds(5);
      RemoteParameters remote(servers, options);
      std::mt19937_64 random(w + 1);
      std::normal_distribution<float> noise(0, 0.01f);
      std::vector<uint64_t> keys;
      std::vector<float> weights, gradients;
      while (!stop.load(std::memory_order_relaxed)) {
        DrawBatch(random, universe, draws, &keys);
        weights.resize(keys.size());
        gradients.resize(keys.size());
        const absl::Time start = absl::Now();
        absl::Status status = remote.Pull(keys, absl::MakeSpan(weights));
        for (size_t i = 0; i < keys.size(); ++i) {
          gradients[i] = 0.01f * weights[i] + noise(random);
        }
        if (status.ok()) status = remote.Push(keys, gradients);
        if (!status.ok()) {
          errors.fetch_add(1);
          std::fprintf(stderr, "soak: worker %d: %s\n", w,
                       std::string(status.message()).c_str());
          return;
        }
        latencies.Add(absl::ToDoubleMicroseconds(absl::Now() - start));
        steps.fetch_add(1, std::memory_order_relaxed);
        key_updates.fetch_add(keys.size(), std::memory_order_relaxed);
      }
      if (absl::Status s = remote.Finish(); !s.ok()) errors.fetch_add(1);
    });
  }

  ClusterClient observer(servers, ClientOptions());
  std::printf("%6s %10s %14s %9s %9s %9s %7s %10s %9s\n", "t(s)", "steps/s",
              "key-updates/s", "p50(ms)", "p99(ms)", "max(ms)", "errors",
              "keys", "RSS(MiB)");
  const absl::Time begin = absl::Now();
  std::vector<double> all;
  uint64_t last_steps = 0, last_updates = 0;
  double stable_rss = -1, final_rss = -1;
  double stable_at = -1;
  for (absl::Time next = begin + interval;
       next <= begin + length + absl::Milliseconds(1); next += interval) {
    absl::SleepFor(next - absl::Now());
    std::vector<double> window = latencies.Take();
    all.insert(all.end(), window.begin(), window.end());
    const uint64_t now_steps = steps.load(), now_updates = key_updates.load();
    const double seconds = absl::ToDoubleSeconds(interval);
    uint64_t keys = 0;
    if (auto stats = observer.Stats(); stats.ok()) {
      for (const auto& s : *stats) keys += s.unique_keys();
    } else {
      errors.fetch_add(1);
    }
    const double rss = pid > 0 ? ResidentMiB(pid) : -1;
    const double t = absl::ToDoubleSeconds(absl::Now() - begin);
    std::printf("%6.0f %10.0f %14.0f %9.2f %9.2f %9.2f %7" PRIu64 " %10" PRIu64
                " %9.1f\n",
                t, (now_steps - last_steps) / seconds,
                (now_updates - last_updates) / seconds,
                Percentile(window, 0.5) / 1000, Percentile(window, 0.99) / 1000,
                window.empty()
                    ? 0.0
                    : *std::max_element(window.begin(), window.end()) / 1000,
                errors.load(), keys, rss);
    std::fflush(stdout);
    // Growth is judged over the second half, well after the key set and
    // the allocator's pools have settled.
    if (stable_rss < 0 && t >= absl::ToDoubleSeconds(length) / 2) {
      stable_rss = rss;
      stable_at = t;
    }
    final_rss = rss;
    last_steps = now_steps;
    last_updates = now_updates;
  }
  stop.store(true);
  for (std::thread& thread : threads) thread.join();

  const double total = absl::ToDoubleSeconds(absl::Now() - begin);
  std::printf("\nworkers %d, %.0f s: %" PRIu64 " steps (%.0f/s), %" PRIu64
              " key updates (%.0f/s)\n",
              workers, total, steps.load(), steps.load() / total,
              key_updates.load(), key_updates.load() / total);
  std::printf("step latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
              Percentile(all, 0.5) / 1000, Percentile(all, 0.99) / 1000,
              Percentile(all, 0.999) / 1000);
  std::printf("errors: %" PRIu64 "\n", errors.load());
  if (stable_rss > 0) {
    std::printf(
        "server RSS: %.1f MiB at t=%.0f s (half way), %.1f MiB at the end: "
        "%+.1f%%\n",
        stable_rss, stable_at, final_rss,
        100 * (final_rss - stable_rss) / stable_rss);
  }
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace adaline

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return adaline::Run();
}
