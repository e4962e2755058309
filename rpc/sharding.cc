#include "rpc/sharding.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace adaline {

std::string ShardSpec::ToString() const {
  return absl::StrCat(index, "/", count);
}

absl::StatusOr<ShardSpec> ParseShardSpec(absl::string_view text,
                                         absl::string_view flag) {
  const size_t slash = text.find('/');
  ShardSpec spec;
  if (slash == absl::string_view::npos ||
      !absl::SimpleAtoi(text.substr(0, slash), &spec.index) ||
      !absl::SimpleAtoi(text.substr(slash + 1), &spec.count) ||
      spec.count == 0 || spec.index >= spec.count) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " is '", text,
                     "'; it must be I/N with 0 <= I < N, e.g. 0/2"));
  }
  return spec;
}

}  // namespace adaline
