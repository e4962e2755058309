// Checkpointer: a directory of model files named by step, the newest few
// kept. Restoring takes the newest one that loads and says which it skipped.
//
// Not thread-safe: one writer at a time (ParameterService serialises its
// checkpoints); restoring happens before serving starts.
#ifndef ADALINE_SERVER_CHECKPOINTER_H_
#define ADALINE_SERVER_CHECKPOINTER_H_

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model_file.h"

namespace adaline {

class Checkpointer {
 public:
  static constexpr int kDefaultKeep = 3;

  // Creates `directory` if needed; `log` gets a line per skipped file.
  Checkpointer(std::string directory, int keep = kDefaultKeep,
               std::FILE* log = stderr);

  // Writes `snapshot` as checkpoint-<step>.model and removes all but the
  // newest `keep` checkpoints. Returns the path written.
  absl::StatusOr<std::string> Write(const ModelSnapshot& snapshot);

  struct Restored {
    Model model;
    std::string path;
  };
  // The newest checkpoint that loads, and its path; nullopt if the directory
  // holds none. First removes files left by writes that a crash cut off.
  // A checkpoint that does not load is set aside as PATH.damaged (so that
  // rotation never counts or deletes it) and the next older one is tried.
  // When there were checkpoints and none loads, that is an error, unless
  // `start_empty_if_unreadable`: a shard must not silently start afresh.
  absl::StatusOr<std::optional<Restored>> RestoreNewest(
      size_t max_keys, bool start_empty_if_unreadable = false);

  // Checkpoint paths, newest first: regular files named like checkpoints
  // (a FIFO or directory of that name is skipped, never opened).
  std::vector<std::string> List() const;

  const std::string& directory() const { return directory_; }

 private:
  void RemoveUnfinished();

  std::string directory_;
  int keep_;
  std::FILE* log_;
};

}  // namespace adaline

#endif  // ADALINE_SERVER_CHECKPOINTER_H_
