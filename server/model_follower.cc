#include "server/model_follower.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace adaline {
namespace {

bool MayBeModel(absl::string_view name) {
  return !name.empty() && name[0] != '.' && name != "LOCK" &&
         !absl::StrContains(name, ".tmp.") && !absl::EndsWith(name, ".damaged");
}

}  // namespace

absl::StatusOr<std::optional<ModelFileVersion>> NewestModelFile(
    const std::string& dir) {
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot read directory ", dir, ": ",
                                            std::strerror(errno)));
  }
  std::optional<ModelFileVersion> newest;
  while (const dirent* entry = ::readdir(listing)) {
    const absl::string_view name(entry->d_name);
    if (!MayBeModel(name)) continue;
    const std::string path = absl::StrCat(dir, "/", name);
    struct stat info;
    if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode) ||
        !StartsLikeModelFile(path)) {
      continue;
    }
    ModelFileVersion version{
        path,
        static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 +
            info.st_mtim.tv_nsec,
        static_cast<uint64_t>(info.st_size)};
    if (!newest.has_value() ||
        std::tie(version.modified_nanos, version.path) >
            std::tie(newest->modified_nanos, newest->path)) {
      newest = std::move(version);
    }
  }
  ::closedir(listing);
  return newest;
}

absl::StatusOr<std::optional<ModelFollower::Loaded>>
ModelFollower::LoadIfNewer() {
  absl::StatusOr<std::optional<ModelFileVersion>> newest =
      NewestModelFile(dir_);
  if (!newest.ok()) return newest.status();
  if (!newest->has_value() || **newest == loaded_ || **newest == failed_) {
    return std::nullopt;
  }
  const ModelFileVersion& version = **newest;
  absl::StatusOr<Model> model = LoadModel(version.path);
  if (!model.ok()) {
    failed_ = version;
    return model.status();  // it names the file
  }
  loaded_ = version;
  return Loaded{*std::move(model), version.path};
}

}  // namespace adaline
