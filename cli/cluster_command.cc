// adaline cluster: shards and workers as child processes on loopback, their
// output prefixed, stopped cleanly, and one merged model at the end.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/child_processes.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "server/checkpointer.h"

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
  const std::vector<std::string> work_flags =
      ForwardedFlags("work", {"--servers", "--part", "--cache"});
  // Ctrl-C or SIGTERM: stop the children, keep what they trained.
  struct sigaction on_signal = {};
  on_signal.sa_handler = NoteInterruption;  // no SA_RESTART: waits return
  sigaction(SIGINT, &on_signal, nullptr);
  sigaction(SIGTERM, &on_signal, nullptr);
  ChildProcesses children;
  std::vector<std::string> addresses;
  std::vector<int> ports;
  for (uint64_t i = 0; i < shards; ++i) {
    ports.push_back(FreeLoopbackPort());
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
  for (uint64_t j = 0; j < workers; ++j) {
    children.Start(
        absl::StrCat("worker ", j),
        Concat({"adaline", "work",
                absl::StrCat("--servers=", absl::StrJoin(addresses, ",")),
                absl::StrCat("--part=", j, "/", workers)},
               work_flags));
  }
  const std::string failure = Supervise(children, workers);
  if (interrupted_by != 0) {
    // What was trained is not thrown away: the shards' final checkpoints
    // become the model, and the command says so.
    absl::StatusOr<std::vector<std::string>> checkpoints =
        FinalCheckpoints(directory, shards);
    if (checkpoints.ok() && RunMerge(*checkpoints) == 0) {
      std::printf(
          "adaline cluster: %s; the shards' final checkpoints were merged "
          "into %s (checkpoints in %s)\n",
          failure.c_str(), absl::GetFlag(FLAGS_model_out).c_str(),
          directory.c_str());
      std::fflush(stdout);
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
