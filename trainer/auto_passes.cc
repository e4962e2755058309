#include "trainer/auto_passes.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

namespace adaline {
namespace {

// The bytes of data in `file`: its size, or for a gzip file (which the
// reader tells by its first two bytes, 1f 8b) the larger of that and the
// length its trailer records (modulo 2^32). Nullopt for standard input or a
// file that cannot be read (the reader then says why).
std::optional<uint64_t> DataBytes(const std::string& file) {
  if (file == "-") return std::nullopt;
  std::FILE* stream = std::fopen(file.c_str(), "rb");
  if (stream == nullptr) return std::nullopt;
  struct stat info;
  std::optional<uint64_t> bytes;
  if (::fstat(::fileno(stream), &info) == 0 && S_ISREG(info.st_mode)) {
    bytes = static_cast<uint64_t>(info.st_size);
    unsigned char magic[2], trailer[4];
    if (*bytes >= 18 && std::fread(magic, 1, 2, stream) == 2 &&
        magic[0] == 0x1f && magic[1] == 0x8b &&
        std::fseek(stream, -4, SEEK_END) == 0 &&
        std::fread(trailer, 1, 4, stream) == 4) {
      const uint64_t stored = uint64_t{trailer[0]} | uint64_t{trailer[1]} << 8 |
                              uint64_t{trailer[2]} << 16 |
                              uint64_t{trailer[3]} << 24;
      bytes = std::max(*bytes, stored);
    }
  }
  std::fclose(stream);
  return bytes;
}

}  // namespace

void ChoosePasses(TrainOptions* options, bool can_stop_early,
                  const AutoPassRule& rule) {
  if (options->passes != kAutoPasses) return;
  options->passes = 1;
  if (!can_stop_early) return;
  uint64_t bytes = 0;
  for (const std::string& file : options->data.files) {
    const std::optional<uint64_t> file_bytes = DataBytes(file);
    if (!file_bytes.has_value()) return;
    bytes += *file_bytes;
  }
  const uint64_t passes = std::min(
      rule.max_passes, rule.budget_bytes / std::max<uint64_t>(bytes, 1));
  if (passes < rule.min_passes) return;
  options->passes = passes;
  if (options->holdout_every == 0) options->holdout_every = rule.holdout_every;
  if (options->early_stop == 0) options->early_stop = rule.early_stop;
}

}  // namespace adaline
