// adaline cluster: shards and workers as child processes on loopback, their
// output prefixed, stopped cleanly, and one merged model at the end.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/child_processes.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "server/checkpointer.h"
#include "trainer/json_line.h"
#include "trainer/run_log.h"

namespace adaline {
namespace {

std::vector<std::string> Concat(std::vector<std::string> head,
                                const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// SIGINT or SIGTERM sent to the cluster, 0 for none.
volatile sig_atomic_t interrupted_by = 0;
void NoteInterruption(int signal_number) { interrupted_by = signal_number; }

// Waits for every child. When the workers are done the shards are told to
// stop (they write final checkpoints); when any child fails, or the cluster
// is interrupted, all are stopped. Returns what failed, or an empty string.
std::string Supervise(ChildProcesses& children, uint64_t workers) {
  std::string failure;
  uint64_t workers_done = 0;
  bool stopping_servers = false;
  bool interruption_handled = false;
  while (true) {
    ChildProcesses::Child* child = children.WaitAny();
    if (child == nullptr) {
      if (interrupted_by != 0 && !interruption_handled) {
        interruption_handled = true;
        failure = absl::StrCat("interrupted by ", strsignal(interrupted_by));
        children.SignalAll(SIGTERM);
        stopping_servers = true;
      }
      if (!children.AnyRunning()) break;
      continue;
    }
    const bool is_worker = child->name.rfind("worker", 0) == 0;
    if (!child->Succeeded() && failure.empty() &&
        !(stopping_servers && !is_worker && WIFEXITED(child->status))) {
      failure = absl::StrCat(child->name, " ", child->Describe());
      children.SignalAll(SIGTERM);
      stopping_servers = true;
    }
    if (is_worker && ++workers_done == workers && failure.empty()) {
      children.SignalAll(SIGTERM);
      stopping_servers = true;
    }
  }
  return failure;
}

// Worker j's JSON lines, which the cluster reads for its summary.
std::string WorkerLogPath(const std::string& directory, uint64_t worker) {
  return absl::StrCat(directory, "/worker-", worker, ".jsonl");
}

// The lines of worker logs, each tagged with its worker, and one report over
// all of them: examples per second of the whole run, and the holdout loss
// of every worker's held-out examples together.
struct ClusterSummary {
  std::vector<std::string> lines;
  uint64_t examples = 0;
  uint64_t holdout_examples = 0;
  double holdout_loss_sum = 0;  // each worker's mean times its examples
  std::string holdout_key;      // holdout_log_loss, holdout_rmse, ...
};

ClusterSummary ReadWorkerLogs(const std::string& directory, uint64_t workers) {
  ClusterSummary summary;
  for (uint64_t j = 0; j < workers; ++j) {
    std::ifstream in(WorkerLogPath(directory, j));
    std::string line;
    while (std::getline(in, line)) {
      if (line.size() < 2 || line.front() != '{') continue;
      summary.lines.push_back(
          absl::StrCat("{\"worker\":", j, ",", line.substr(1)));
      if (line.find("\"event\":\"report\"") == std::string::npos) continue;
      summary.examples += JsonNumberField(line, "examples").value_or(0);
      const double held_out =
          JsonNumberField(line, "holdout_examples").value_or(0);
      for (const char* key :
           {"holdout_log_loss", "holdout_hinge_loss", "holdout_rmse"}) {
        std::optional<double> value = JsonNumberField(line, key);
        if (!value.has_value()) continue;
        summary.holdout_key = key;
        // RMSE adds up as mean squares.
        summary.holdout_loss_sum +=
            held_out *
            (summary.holdout_key == "holdout_rmse" ? *value * *value : *value);
        summary.holdout_examples += held_out;
      }
    }
  }
  return summary;
}

// Prints and logs the summary over all workers.
void ReportCluster(const ClusterSummary& summary, double seconds,
                   uint64_t shards, uint64_t workers, RunLog* log) {
  JsonLine report;
  report.Text("event", "cluster_report")
      .Count("shards", shards)
      .Count("workers", workers)
      .Count("examples", summary.examples)
      .Number("seconds", seconds)
      .Number("examples_per_second", summary.examples / seconds);
  std::string holdout;
  if (summary.holdout_examples > 0) {
    double loss = summary.holdout_loss_sum / summary.holdout_examples;
    if (summary.holdout_key == "holdout_rmse") loss = std::sqrt(loss);
    report.Count("holdout_examples", summary.holdout_examples)
        .Number(summary.holdout_key, loss);
    std::string name = summary.holdout_key.substr(strlen("holdout_"));
    std::replace(name.begin(), name.end(), '_', ' ');
    holdout = absl::StrFormat(
        "; holdout %s %.6f over %llu examples", name, loss,
        static_cast<unsigned long long>(summary.holdout_examples));
  }
  Report(
      "adaline cluster: %llu examples in %.2f s by %llu workers: %.0f "
      "examples/s%s\n",
      static_cast<unsigned long long>(summary.examples), seconds,
      static_cast<unsigned long long>(workers), summary.examples / seconds,
      holdout.c_str());
  if (log == nullptr) return;
  for (const std::string& line : summary.lines) {
    log->Write(line);
  }
  log->Write(report);
}

// The newest checkpoint of each shard, or an error naming one without.
absl::StatusOr<std::vector<std::string>> FinalCheckpoints(
    const std::string& directory, uint64_t shards) {
  std::vector<std::string> checkpoints;
  for (uint64_t i = 0; i < shards; ++i) {
    const std::vector<std::string> found =
        Checkpointer(absl::StrCat(directory, "/shard-", i)).List();
    if (found.empty()) {
      return absl::NotFoundError(
          absl::StrCat("shard ", i, " left no checkpoint"));
    }
    checkpoints.push_back(found[0]);
  }
  return checkpoints;
}

}  // namespace

int RunCluster() {
  const uint64_t shards = absl::GetFlag(FLAGS_shards);
  const uint64_t workers = absl::GetFlag(FLAGS_workers);
  if (shards == 0 || workers == 0) {
    return Fail("cluster", "--shards and --workers must be at least 1");
  }
  if (absl::GetFlag(FLAGS_model_out).empty()) {
    return Fail("cluster", "--model-out is required");
  }
  if (absl::GetFlag(FLAGS_data).empty())
    return Fail("cluster", "--data names no file");
  if (absl::StatusOr<ModelConfig> config = ModelConfigFromFlags();
      !config.ok()) {
    return Fail("cluster", config.status());
  }
  const uint64_t listen_base = absl::GetFlag(FLAGS_listen_base);
  if (listen_base > 0 && listen_base + shards - 1 > 65535) {
    return Fail("cluster", absl::StrCat("--listen-base ", listen_base,
                                        " leaves no port for ", shards,
                                        " shards (ports end at 65535)")
                               .c_str());
  }
  absl::StatusOr<std::unique_ptr<RunLog>> log = RunLogFromFlags();
  if (!log.ok()) return Fail("cluster", log.status());
  std::string directory = absl::GetFlag(FLAGS_checkpoint_dir);
  const bool temporary = directory.empty();
  if (temporary) {
    std::string pattern = "/tmp/adaline-cluster.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      return Fail("cluster", "cannot make a temporary directory");
    directory = pattern;
  }

  // The servers take the model's flags; the workers the data's and the
  // loop's.
  const std::vector<std::string> serve_flags = ForwardedFlags(
      "serve",
      {"--listen", "--shard", "--checkpoint-dir", "--checkpoint-every"});
  const std::vector<std::string> work_flags = ForwardedFlags(
      "work", {"--servers", "--part", "--cache", "--metrics-out"});
  // Ctrl-C or SIGTERM: stop the children, keep what they trained.
  struct sigaction on_signal = {};
  on_signal.sa_handler = NoteInterruption;  // no SA_RESTART: waits return
  sigaction(SIGINT, &on_signal, nullptr);
  sigaction(SIGTERM, &on_signal, nullptr);
  ChildProcesses children;
  std::vector<std::string> addresses;
  std::vector<int> ports;
  for (uint64_t i = 0; i < shards; ++i) {
    ports.push_back(listen_base > 0 ? static_cast<int>(listen_base + i)
                                    : FreeLoopbackPort());
    addresses.push_back(absl::StrCat("127.0.0.1:", ports.back()));
    children.Start(
        absl::StrCat("shard ", i),
        Concat({"adaline", "serve", absl::StrCat("--listen=", addresses[i]),
                absl::StrCat("--shard=", i, "/", shards),
                absl::StrCat("--checkpoint-dir=", directory, "/shard-", i),
                "--checkpoint-every=0"},
               serve_flags));
  }
  // Workers would wait for the shards themselves, but a first failed call
  // puts them into seconds of reconnect backoff.
  for (uint64_t i = 0; i < shards; ++i) {
    if (!WaitForListener(ports[i], absl::Seconds(30))) {
      return Fail("cluster",
                  absl::StrCat("shard ", i, " did not start listening on ",
                               addresses[i])
                      .c_str());
    }
  }
  const std::string servers = absl::StrJoin(addresses, ",");
  Report(
      "adaline cluster: %llu shard%s at %s; query it with: adaline query "
      "--servers %s FEATURE...\n",
      static_cast<unsigned long long>(shards), shards == 1 ? "" : "s",
      servers.c_str(), servers.c_str());
  const absl::Time start = absl::Now();
  for (uint64_t j = 0; j < workers; ++j) {
    children.Start(
        absl::StrCat("worker ", j),
        Concat({"adaline", "work", absl::StrCat("--servers=", servers),
                absl::StrCat("--part=", j, "/", workers),
                absl::StrCat("--metrics-out=", WorkerLogPath(directory, j))},
               work_flags));
  }
  const std::string failure = Supervise(children, workers);
  if (failure.empty()) {
    ReportCluster(ReadWorkerLogs(directory, workers),
                  std::max(1e-9, absl::ToDoubleSeconds(absl::Now() - start)),
                  shards, workers, log->get());
    if (*log != nullptr) {
      if (absl::Status s = (*log)->Close(); !s.ok()) return Fail("cluster", s);
    }
  }
  if (interrupted_by != 0) {
    // What was trained is not thrown away: the shards' final checkpoints
    // become the model, and the command says so.
    absl::StatusOr<std::vector<std::string>> checkpoints =
        FinalCheckpoints(directory, shards);
    if (checkpoints.ok() && RunMerge(*checkpoints) == 0) {
      // Said even with --quiet: the run did not end as asked.
      std::fprintf(stderr,
                   "adaline cluster: %s; the shards' final checkpoints were "
                   "merged into %s (checkpoints in %s)\n",
                   failure.c_str(), absl::GetFlag(FLAGS_model_out).c_str(),
                   directory.c_str());
    } else {
      Fail("cluster",
           absl::StrCat(failure, "; no model was written (",
                        checkpoints.ok() ? "the merge failed"
                                         : checkpoints.status().message(),
                        "); checkpoints in ", directory)
               .c_str());
    }
    return 128 + interrupted_by;
  }
  if (!failure.empty()) {
    return Fail("cluster", absl::StrCat(failure,
                                        "; the cluster was stopped; "
                                        "checkpoints in ",
                                        directory)
                               .c_str());
  }
  absl::StatusOr<std::vector<std::string>> checkpoints =
      FinalCheckpoints(directory, shards);
  if (!checkpoints.ok()) return Fail("cluster", checkpoints.status());
  const int merged = RunMerge(*checkpoints);
  // A temporary directory of ours goes once its work is merged.
  if (merged == 0 && temporary) {
    std::error_code ignored;
    std::filesystem::remove_all(directory, ignored);
  }
  return merged;
}

}  // namespace adaline
