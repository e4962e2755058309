#include "server/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace adaline {

absl::Status MakeDirectories(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(absl::StrCat(
          "cannot create directory ", prefix, ": ", std::strerror(errno)));
    }
    if (slash == std::string::npos) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<DirectoryLock> DirectoryLock::Acquire(
    const std::string& directory) {
  if (absl::Status s = MakeDirectories(directory); !s.ok()) return s;
  const std::string path = absl::StrCat(directory, "/LOCK");
  // Held open read-only: a file open for writing would keep the file system
  // from being remounted read-only.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char text[32] = {0};
    const ssize_t got = ::pread(fd, text, sizeof text - 1, 0);
    ::close(fd);
    uint64_t pid = 0;
    const bool named =
        got > 0 && absl::SimpleAtoi(absl::string_view(text, got), &pid);
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint directory ", directory, " is in use by another server",
        named ? absl::StrCat(" (pid ", pid, ")") : "",
        ": two servers on one directory would overwrite each other's "
        "checkpoints; stop it first or use another directory"));
  }
  // Who holds it, for the message of the next one that tries; the lock
  // holds without it.
  const std::string pid = absl::StrCat(::getpid(), "\n");
  const int note = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (note >= 0) {
    [[maybe_unused]] const ssize_t wrote =
        ::write(note, pid.data(), pid.size());
    ::close(note);
  }
  return DirectoryLock(fd);
}

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace adaline
