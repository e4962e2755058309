#include "server/checkpointer.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/directory_lock.h"

namespace adaline {
namespace {

constexpr char kPrefix[] = "checkpoint-";
constexpr char kSuffix[] = ".model";

}  // namespace

Checkpointer::Checkpointer(std::string directory, int keep, std::FILE* log)
    : directory_(std::move(directory)), keep_(std::max(keep, 1)), log_(log) {}

std::vector<std::string> Checkpointer::List() const {
  std::vector<std::string> names;
  DIR* dir = ::opendir(directory_.c_str());
  if (dir == nullptr) return names;
  while (const dirent* entry = ::readdir(dir)) {
    const absl::string_view name = entry->d_name;
    if (!absl::StartsWith(name, kPrefix) || !absl::EndsWith(name, kSuffix)) {
      continue;
    }
    struct stat info;
    const std::string path = absl::StrCat(directory_, "/", name);
    if (::lstat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
      if (log_ != nullptr) {
        std::fprintf(log_, "adaline: ignoring %s: not a regular file\n",
                     path.c_str());
      }
      continue;
    }
    names.emplace_back(name);
  }
  ::closedir(dir);
  // Zero-padded steps sort as text.
  std::sort(names.rbegin(), names.rend());
  for (std::string& name : names) name = absl::StrCat(directory_, "/", name);
  return names;
}

absl::StatusOr<std::string> Checkpointer::Write(const ModelSnapshot& snapshot) {
  if (absl::Status s = MakeDirectories(directory_); !s.ok()) return s;
  const std::string path = absl::StrFormat("%s/%s%020d%s", directory_, kPrefix,
                                           snapshot.step, kSuffix);
  if (absl::Status s = WriteModel(path, snapshot); !s.ok()) return s;
  const std::vector<std::string> all = List();
  for (size_t i = static_cast<size_t>(keep_); i < all.size(); ++i) {
    ::unlink(all[i].c_str());
  }
  return path;
}

void Checkpointer::RemoveUnfinished() {
  DIR* dir = ::opendir(directory_.c_str());
  if (dir == nullptr) return;
  std::vector<std::string> unfinished;
  while (const dirent* entry = ::readdir(dir)) {
    const absl::string_view name = entry->d_name;
    if (absl::StartsWith(name, kPrefix) &&
        absl::StrContains(name, absl::StrCat(kSuffix, ".tmp."))) {
      unfinished.push_back(absl::StrCat(directory_, "/", name));
    }
  }
  ::closedir(dir);
  for (const std::string& path : unfinished) {
    if (log_ != nullptr) {
      std::fprintf(log_,
                   "adaline: removing %s, a checkpoint whose writing was cut "
                   "off\n",
                   path.c_str());
    }
    ::unlink(path.c_str());
  }
}

absl::StatusOr<std::optional<Checkpointer::Restored>>
Checkpointer::RestoreNewest(size_t max_keys, bool start_empty_if_unreadable) {
  RemoveUnfinished();
  const std::vector<std::string> all = List();
  std::string first_problem;
  for (const std::string& path : all) {
    absl::StatusOr<Model> model = LoadModel(path, max_keys);
    if (model.ok())
      return std::optional<Restored>(Restored{*std::move(model), path});
    const std::string aside = absl::StrCat(path, ".damaged");
    const bool renamed = ::rename(path.c_str(), aside.c_str()) == 0;
    if (log_ != nullptr) {
      std::fprintf(log_, "adaline: skipping checkpoint %s (%s): %s\n",
                   path.c_str(),
                   renamed ? absl::StrCat("set aside as ", aside).c_str()
                           : "could not be set aside",
                   std::string(model.status().message()).c_str());
    }
    if (first_problem.empty())
      first_problem = std::string(model.status().message());
  }
  if (!all.empty() && !start_empty_if_unreadable) {
    return absl::DataLossError(absl::StrCat(
        "none of the ", all.size(), " checkpoints in ", directory_,
        " can be read (set aside as *.damaged; the newest: ", first_problem,
        "); refusing to start an empty model in their place: restore a good "
        "checkpoint, or pass --start-empty to train afresh"));
  }
  return std::optional<Restored>();
}

}  // namespace adaline
