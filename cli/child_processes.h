// ChildProcesses: the processes `adaline cluster` starts (this binary with
// other arguments), their output copied to our standard error with a
// "[name] " prefix, waited for one at a time and signalled together. Children
// die with the thread that started them, however it ends (they get SIGTERM).
//
// Not thread-safe: one supervising thread calls it; each child's output is
// copied by a thread of its own.
#ifndef ADALINE_CLI_CHILD_PROCESSES_H_
#define ADALINE_CLI_CHILD_PROCESSES_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"

namespace adaline {

class ChildProcesses {
 public:
  struct Child {
    std::string name;  // "shard 0", "worker 1"
    pid_t pid = -1;
    int status = 0;  // as waitpid reports it, once exited
    bool exited = false;
    std::thread output;  // copies the child's output, prefixed

    bool Succeeded() const;
    // "exited with status 3", "was killed by signal 9 (Killed)".
    std::string Describe() const;
  };

  ChildProcesses() = default;
  // Kills and reaps the children still running.
  ~ChildProcesses();
  ChildProcesses(const ChildProcesses&) = delete;
  ChildProcesses& operator=(const ChildProcesses&) = delete;

  // Starts this binary with `arguments` (arguments[0] is the program name).
  Child& Start(std::string name, const std::vector<std::string>& arguments);

  // Waits for any child and marks it exited; nullptr when none is left or
  // a signal interrupted the wait (AnyRunning tells which).
  Child* WaitAny();
  bool AnyRunning() const;

  // Sends `signal_number` to every child still running.
  void SignalAll(int signal_number);

 private:
  std::vector<std::unique_ptr<Child>> children_;
};

// A free TCP port on loopback (there is a small race until a child binds).
int FreeLoopbackPort();

// Whether something accepts TCP connections on loopback `port` in time.
// Plain sockets: gRPC objects in the parent would make every later fork slow.
bool WaitForListener(int port, absl::Duration timeout);

}  // namespace adaline

#endif  // ADALINE_CLI_CHILD_PROCESSES_H_
