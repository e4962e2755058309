#include "cli/child_processes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace adaline {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

}  // namespace

bool ChildProcesses::Child::Succeeded() const {
  return exited && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string ChildProcesses::Child::Describe() const {
  if (WIFEXITED(status))
    return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return "stopped";
}

ChildProcesses::~ChildProcesses() {
  SignalAll(SIGKILL);
  while (WaitAny() != nullptr) {
  }
}

ChildProcesses::Child& ChildProcesses::Start(
    std::string name, const std::vector<std::string>& arguments) {
  Child& child = *children_.emplace_back(std::make_unique<Child>());
  child.name = std::move(name);
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) {
    child.exited = true;
    child.status = 127 << 8;
    return child;
  }
  const pid_t parent = ::getpid();
  child.pid = ::fork();
  if (child.pid == 0) {
    // A supervisor that dies, even by SIGKILL, takes its children along:
    // SIGTERM lets shards write their final checkpoints.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) std::_Exit(127);
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
    // Signals are the supervising thread's: a copy must not be cut short.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::FILE* in = ::fdopen(fd, "r");
    char line[4096];
    while (std::fgets(line, sizeof line, in) != nullptr) {
      std::fprintf(stderr, "%s%s", prefix.c_str(), line);
    }
    std::fclose(in);
  });
  return child;
}

bool ChildProcesses::AnyRunning() const {
  for (const auto& child : children_) {
    if (!child->exited && child->pid > 0) return true;
  }
  return false;
}

ChildProcesses::Child* ChildProcesses::WaitAny() {
  int status;
  const pid_t pid = ::waitpid(-1, &status, 0);
  if (pid <= 0) return nullptr;  // none left, or a signal came
  for (auto& child : children_) {
    if (child->pid == pid) {
      child->exited = true;
      child->status = status;
      if (child->output.joinable()) child->output.join();
      return child.get();
    }
  }
  return nullptr;
}

void ChildProcesses::SignalAll(int signal_number) {
  for (auto& child : children_) {
    if (!child->exited && child->pid > 0) ::kill(child->pid, signal_number);
  }
}

int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = Loopback(0);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool WaitForListener(int port, absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = Loopback(port);
    const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address),
                                     sizeof address) == 0;
    ::close(fd);
    if (connected) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

}  // namespace adaline
