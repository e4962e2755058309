// The line `inspect --feature` and `query` print for one feature, so their
// outputs can be compared.
//
// A pure function; safe from any thread.
#ifndef ADALINE_CLI_FEATURE_LINE_H_
#define ADALINE_CLI_FEATURE_LINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"

namespace adaline {

template <typename Name>
std::string FeatureLine(absl::string_view feature, bool present, float weight,
                        absl::Span<const Name> state_names,
                        absl::Span<const float> state, uint64_t last_step) {
  if (!present) return absl::StrCat(feature, "  weight 0  (not in the model)");
  std::string line = absl::StrFormat("%s  weight %.6g", feature, weight);
  for (size_t i = 0; i < state_names.size() && i < state.size(); ++i) {
    absl::StrAppendFormat(&line, "  %s %.6g", absl::string_view(state_names[i]),
                          state[i]);
  }
  absl::StrAppend(&line, "  last_step ", last_step);
  return line;
}

}  // namespace adaline

#endif  // ADALINE_CLI_FEATURE_LINE_H_
