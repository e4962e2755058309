#include "trainer/run_log.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace adaline {

absl::StatusOr<std::unique_ptr<RunLog>> RunLog::Create(
    const std::string& path) {
  std::FILE* file = path == "-" ? stdout : std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<RunLog>(new RunLog(path, file));
}

RunLog::~RunLog() { Close().IgnoreError(); }

void RunLog::Write(absl::string_view json_object) {
  if (file_ == nullptr) return;
  if (std::fwrite(json_object.data(), 1, json_object.size(), file_) !=
          json_object.size() ||
      std::fputc('\n', file_) == EOF || std::fflush(file_) != 0) {
    failed_ = true;
  }
}

absl::Status RunLog::Close() {
  if (file_ == nullptr) return absl::OkStatus();
  const bool closed =
      file_ == stdout ? std::fflush(file_) == 0 : std::fclose(file_) == 0;
  file_ = nullptr;
  if (failed_ || !closed) {
    return absl::DataLossError(
        absl::StrCat("writing ", path_, " failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace adaline
