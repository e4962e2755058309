#include "core/hyperparameters.h"

#include <cmath>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace adaline {
namespace {

const OptimizerKind kAllKinds[] = {
    OptimizerKind::kSgd,     OptimizerKind::kMomentum, OptimizerKind::kAdagrad,
    OptimizerKind::kRmsprop, OptimizerKind::kAdadelta, OptimizerKind::kAdam,
    OptimizerKind::kAmsgrad, OptimizerKind::kNadam,    OptimizerKind::kFtrl,
};

}  // namespace

bool Uses(const Hyperparameter& h, OptimizerKind kind) {
  if (h.used_by.empty()) return true;
  for (absl::string_view name : absl::StrSplit(h.used_by, ' ')) {
    if (name == OptimizerName(kind)) return true;
  }
  return false;
}

absl::Span<const Hyperparameter> Hyperparameters() {
#define ADALINE_TABLE_ROW(flag, field, type, low, low_inclusive, high,        \
                          high_inclusive, used_by, help)                      \
  Hyperparameter{                                                             \
      #flag,                                                                  \
      #field,                                                                 \
      std::is_same_v<type, bool>,                                             \
      low,                                                                    \
      low_inclusive,                                                          \
      high,                                                                   \
      high_inclusive,                                                         \
      used_by,                                                                \
      help,                                                                   \
      [](const OptimizerOptions& o) { return static_cast<double>(o.field); }, \
      [](OptimizerOptions& o, double v) { o.field = static_cast<type>(v); }},
  static const Hyperparameter kTable[] = {
      ADALINE_HYPERPARAMETERS(ADALINE_TABLE_ROW)};
#undef ADALINE_TABLE_ROW
  return kTable;
}

std::string DashedFlag(absl::string_view flag) {
  std::string dashed = absl::StrCat("--", flag);
  for (char& c : dashed) {
    if (c == '_') c = '-';
  }
  return dashed;
}

absl::Status CheckRange(const Hyperparameter& h, double value) {
  const bool ok = std::isfinite(value) &&
                  (h.low_inclusive ? value >= h.low : value > h.low) &&
                  (h.high_inclusive ? value <= h.high : value < h.high);
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(DashedFlag(h.flag), " is ", value, "; it must be in ",
                   h.low_inclusive ? "[" : "(", h.low, ", ", h.high,
                   h.high_inclusive ? "]" : ")"));
}

std::string HelpText(const Hyperparameter& h) {
  if (h.used_by.empty()) return std::string(h.help);
  return absl::StrCat(h.help, "; ", h.used_by);
}

std::string DefaultText(const Hyperparameter& h) {
  // Defaults per optimizer, merged where neighbours agree.
  std::vector<std::pair<double, std::vector<absl::string_view>>> defaults;
  for (OptimizerKind kind : kAllKinds) {
    if (!Uses(h, kind)) continue;
    const double value = h.get(OptimizerOptions::Defaults(kind));
    if (defaults.empty() || defaults.back().first != value) {
      defaults.push_back({value, {}});
    }
    defaults.back().second.push_back(OptimizerName(kind));
  }
  if (defaults.size() == 1) {
    const double value = defaults[0].first;
    return h.is_bool ? (value != 0 ? "true" : "false") : absl::StrCat(value);
  }
  std::vector<std::string> parts;
  for (const auto& [value, kinds] : defaults) {
    parts.push_back(absl::StrCat(absl::StrJoin(kinds, "/"), " ", value));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace adaline
