// adaline cluster: shards and workers as child processes on loopback, their
// output prefixed, stopped cleanly, and one merged model at the end.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "server/checkpointer.h"

namespace adaline {
namespace {

struct Child {
  std::string name;  // "shard 0", "worker 1"
  pid_t pid = -1;
  int status = 0;
  bool exited = false;
  std::thread output;  // copies the child's output, prefixed
};

// A free TCP port on loopback (there is a small race until the child binds).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Whether something accepts TCP connections on loopback `port` in time.
bool WaitForListener(int port, absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address),
                                     sizeof address) == 0;
    ::close(fd);
    if (connected) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

// This binary with `arguments`, its stdout and stderr prefixed on ours.
void Start(Child& child, const std::vector<std::string>& arguments) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return;
  child.pid = ::fork();
  if (child.pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    std::vector<char*> argv;
    for (const std::string& a : arguments)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    std::_Exit(127);
  }
  ::close(pipe_fds[1]);
  const std::string prefix = absl::StrCat("[", child.name, "] ");
  child.output = std::thread([fd = pipe_fds[0], prefix] {
    std::FILE* in = ::fdopen(fd, "r");
    char line[4096];
    while (std::fgets(line, sizeof line, in) != nullptr) {
      std::printf("%s%s", prefix.c_str(), line);
      std::fflush(stdout);
    }
    std::fclose(in);
  });
}

std::string Describe(int status) {
  if (WIFEXITED(status))
    return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return "stopped";
}

bool Succeeded(const Child& child) {
  return child.exited && WIFEXITED(child.status) &&
         WEXITSTATUS(child.status) == 0;
}

// Waits for any child; marks it exited. Returns it, or nullptr if none left.
Child* WaitAny(std::vector<Child>& children) {
  int status;
  const pid_t pid = ::waitpid(-1, &status, 0);
  if (pid <= 0) return nullptr;
  for (Child& child : children) {
    if (child.pid == pid) {
      child.exited = true;
      child.status = status;
      if (child.output.joinable()) child.output.join();
      return &child;
    }
  }
  return nullptr;
}

// "--name=value" for each flag that is set.
std::vector<std::string> Forward(const std::vector<std::string>& flags) {
  std::vector<std::string> arguments;
  for (const std::string& dashed : flags) {
    std::string name = dashed.substr(2);
    for (char& c : name) {
      if (c == '-') c = '_';
    }
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    const std::string value = flag->CurrentValue();
    if (value.empty() || value == flag->DefaultValue()) continue;
    arguments.push_back(absl::StrCat("--", name, "=", value));
  }
  return arguments;
}

void StopAll(std::vector<Child>& children, int signal_number) {
  for (Child& child : children) {
    if (!child.exited && child.pid > 0) ::kill(child.pid, signal_number);
  }
}

}  // namespace

int RunCluster() {
  const uint64_t shards = absl::GetFlag(FLAGS_shards);
  const uint64_t workers = absl::GetFlag(FLAGS_workers);
  const std::string model_out = absl::GetFlag(FLAGS_model_out);
  if (shards == 0 || workers == 0) {
    return Fail("cluster", "--shards and --workers must be at least 1");
  }
  if (model_out.empty()) return Fail("cluster", "--model-out is required");
  if (absl::GetFlag(FLAGS_data).empty())
    return Fail("cluster", "--data names no file");
  if (absl::StatusOr<ModelConfig> config = ModelConfigFromFlags();
      !config.ok()) {
    return Fail("cluster", std::string(config.status().message()).c_str());
  }
  std::string directory = absl::GetFlag(FLAGS_checkpoint_dir);
  if (directory.empty()) {
    std::string pattern = "/tmp/adaline-cluster.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      return Fail("cluster", "cannot make a temporary directory");
    directory = pattern;
  }

  // Flags for the servers are the optimizer's and the model's; for the
  // workers, the data and the loop's.
  std::vector<std::string> serve_flags, work_flags;
  for (const std::string& flag : FlagsOf("serve")) {
    if (flag != "--listen" && flag != "--shard" && flag != "--checkpoint-dir" &&
        flag != "--checkpoint-every") {
      serve_flags.push_back(flag);
    }
  }
  for (const std::string& flag : FlagsOf("work")) {
    if (flag != "--servers" && flag != "--part") work_flags.push_back(flag);
  }
  std::vector<Child> children(shards + workers);
  std::vector<std::string> addresses;
  std::vector<int> ports;
  for (uint64_t i = 0; i < shards; ++i) {
    ports.push_back(FreePort());
    addresses.push_back(absl::StrCat("127.0.0.1:", ports.back()));
    children[i].name = absl::StrCat("shard ", i);
    std::vector<std::string> arguments = {
        "adaline",
        "serve",
        absl::StrCat("--listen=", addresses[i]),
        absl::StrCat("--shard=", i, "/", shards),
        absl::StrCat("--checkpoint-dir=", directory, "/shard-", i),
        "--checkpoint-every=0"};
    for (std::string& a : Forward(serve_flags))
      arguments.push_back(std::move(a));
    Start(children[i], arguments);
  }
  // Workers would wait for the shards themselves, but a first failed call
  // puts them into seconds of reconnect backoff: wait until every shard
  // accepts connections. (With plain sockets: gRPC objects in this process
  // would make every later fork slow.)
  for (uint64_t i = 0; i < shards; ++i) {
    if (!WaitForListener(ports[i], absl::Seconds(30))) {
      StopAll(children, SIGKILL);
      while (WaitAny(children) != nullptr) {
      }
      return Fail("cluster",
                  absl::StrCat("shard ", i, " did not start listening on ",
                               addresses[i])
                      .c_str());
    }
  }
  for (uint64_t j = 0; j < workers; ++j) {
    Child& child = children[shards + j];
    child.name = absl::StrCat("worker ", j);
    std::vector<std::string> arguments = {
        "adaline", "work",
        absl::StrCat("--servers=", absl::StrJoin(addresses, ",")),
        absl::StrCat("--part=", j, "/", workers)};
    for (std::string& a : Forward(work_flags))
      arguments.push_back(std::move(a));
    Start(child, arguments);
  }

  std::string failure;
  uint64_t workers_done = 0;
  bool stopping_servers = false;
  while (Child* child = WaitAny(children)) {
    const bool is_worker = child->name.rfind("worker", 0) == 0;
    if (!Succeeded(*child) && failure.empty() &&
        !(stopping_servers && !is_worker && WIFEXITED(child->status))) {
      failure = absl::StrCat(child->name, " ", Describe(child->status));
      StopAll(children, SIGTERM);
      stopping_servers = true;
    }
    if (is_worker && ++workers_done == workers && failure.empty()) {
      StopAll(children, SIGTERM);  // the servers write their final checkpoints
      stopping_servers = true;
    }
  }
  if (!failure.empty()) {
    return Fail("cluster",
                absl::StrCat(failure, "; the cluster was stopped").c_str());
  }
  std::vector<std::string> checkpoints;
  for (uint64_t i = 0; i < shards; ++i) {
    const std::vector<std::string> found =
        Checkpointer(absl::StrCat(directory, "/shard-", i)).List();
    if (found.empty())
      return Fail("cluster",
                  absl::StrCat("shard ", i, " left no checkpoint").c_str());
    checkpoints.push_back(found[0]);
  }
  return RunMerge(checkpoints);
}

}  // namespace adaline
