// RunLog: the JSON-lines record of a run (--metrics-out): one object per
// progress row, per pass with a holdout, and one for the final report, each
// naming its "event". The fields are those of the tables printed on
// standard error; the README lists them.
//
// Not thread-safe: the thread that trains writes it.
#ifndef ADALINE_TRAINER_RUN_LOG_H_
#define ADALINE_TRAINER_RUN_LOG_H_

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "trainer/json_line.h"

namespace adaline {

class RunLog {
 public:
  // Creates (truncates) `path`; "-" is standard output.
  static absl::StatusOr<std::unique_ptr<RunLog>> Create(
      const std::string& path);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  // Writes the line and flushes it, so a reader can follow the run.
  void Write(const JsonLine& line) { Write(line.Finish()); }
  // A line that is a JSON object already.
  void Write(absl::string_view json_object);
  // Closes the file; an error names the path (a full disk, say).
  absl::Status Close();

 private:
  RunLog(std::string path, std::FILE* file) : path_(path), file_(file) {}

  std::string path_;
  std::FILE* file_;
  bool failed_ = false;
};

}  // namespace adaline

#endif  // ADALINE_TRAINER_RUN_LOG_H_
