// adaline generate: synthetic movie-rating data with a known true model.
#include <zlib.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "data/synthetic.h"

namespace adaline {
namespace {

// A stdio stream that gzips what is written to it into `path`, so that a
// .gz name holds gzip as every reader expects; nullptr if it cannot open.
std::FILE* OpenGzip(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "wb");
  if (gz == nullptr) return nullptr;
  cookie_io_functions_t io = {};
  io.write = [](void* cookie, const char* data, size_t size) -> ssize_t {
    return gzwrite(static_cast<gzFile>(cookie), data,
                   static_cast<unsigned>(size));
  };
  io.close = [](void* cookie) {
    return gzclose(static_cast<gzFile>(cookie)) == Z_OK ? 0 : EOF;
  };
  std::FILE* file = fopencookie(gz, "w", io);
  if (file == nullptr) gzclose(gz);
  return file;
}

}  // namespace

int RunGenerate() {
  SyntheticOptions options;
  options.rows = absl::GetFlag(FLAGS_rows);
  options.seed = absl::GetFlag(FLAGS_seed);
  const std::string path = absl::GetFlag(FLAGS_out);
  std::FILE* out = path == "-" ? stdout
                   : absl::EndsWith(path, ".gz")
                       ? OpenGzip(path)
                       : std::fopen(path.c_str(), "w");
  if (out == nullptr)
    return Fail("generate", ("cannot create " + path).c_str());
  absl::StatusOr<SyntheticSummary> summary =
      WriteSyntheticRatings(options, out);
  const bool closed =
      out == stdout ? std::fflush(out) == 0 : std::fclose(out) == 0;
  if (!summary.ok())
    return Fail("generate", std::string(summary.status().message()).c_str());
  if (!closed) return Fail("generate", ("cannot write " + path).c_str());
  Report("rows %llu  positives %llu  features %llu  true-model log loss %.6f\n",
         static_cast<unsigned long long>(summary->rows),
         static_cast<unsigned long long>(summary->positives),
         static_cast<unsigned long long>(summary->features),
         summary->true_log_loss);
  return 0;
}

}  // namespace adaline
