// ModelFollower: what a replica (`serve --follow DIR`) serves: the newest
// model file in a directory that loads, a checkpoint or a merged model.
// Files are written whole and renamed into place (core/model_file.h), so a
// file that is there is complete; one that does not load is reported once
// and not tried again until it changes.
//
// Thread-compatible: one thread (the replica's follower) calls it.
#ifndef ADALINE_SERVER_MODEL_FOLLOWER_H_
#define ADALINE_SERVER_MODEL_FOLLOWER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "core/model_file.h"

namespace adaline {

// A version of a file: its path, modification time and size.
struct ModelFileVersion {
  std::string path;
  int64_t modified_nanos = 0;
  uint64_t size = 0;

  bool operator==(const ModelFileVersion& other) const {
    return path == other.path && modified_nanos == other.modified_nanos &&
           size == other.size;
  }
};

// The newest file in `dir` that may be a model, by modification time (the
// later name on a tie): regular files that start with a model file's magic
// bytes, other than temporary files (*.tmp.*), set-aside ones (*.damaged)
// and hidden ones. Other files (a log beside the models, say) are no
// candidates, so they are never reported. nullopt if none; an error if
// `dir` cannot be read.
absl::StatusOr<std::optional<ModelFileVersion>> NewestModelFile(
    const std::string& dir);

class ModelFollower {
 public:
  explicit ModelFollower(std::string dir) : dir_(std::move(dir)) {}

  struct Loaded {
    Model model;
    std::string path;
  };
  // The newest model file, loaded, if it is not the one loaded last;
  // nullopt if nothing new. A new file that does not load is an error
  // naming it, once: it is skipped until it changes.
  absl::StatusOr<std::optional<Loaded>> LoadIfNewer();

  const std::string& dir() const { return dir_; }

 private:
  const std::string dir_;
  std::optional<ModelFileVersion> loaded_;
  std::optional<ModelFileVersion> failed_;
};

}  // namespace adaline

#endif  // ADALINE_SERVER_MODEL_FOLLOWER_H_
