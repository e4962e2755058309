// DirectoryLock: one shard server per checkpoint directory. Two servers on
// one directory (a restart while the old process lives) would overwrite each
// other's checkpoints and delete each other's in-progress ones; the second
// is refused instead. The lock is an flock on DIR/LOCK, released when its
// holder is destroyed or its process dies, so a crash leaves none behind.
//
// Movable, not copyable; one owner at a time.
#ifndef ADALINE_SERVER_DIRECTORY_LOCK_H_
#define ADALINE_SERVER_DIRECTORY_LOCK_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace adaline {

// Creates `path` and its missing parents, as mkdir -p does.
absl::Status MakeDirectories(const std::string& path);

class DirectoryLock {
 public:
  DirectoryLock() = default;
  // Creates `directory` if needed and locks it; FailedPrecondition naming
  // the holder's pid if another holds it.
  static absl::StatusOr<DirectoryLock> Acquire(const std::string& directory);

  DirectoryLock(DirectoryLock&& other) noexcept : fd_(other.fd_) {
    other.fd_ = -1;
  }
  DirectoryLock& operator=(DirectoryLock&& other) noexcept;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();

  bool held() const { return fd_ >= 0; }

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace adaline

#endif  // ADALINE_SERVER_DIRECTORY_LOCK_H_
