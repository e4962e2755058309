#include "core/loss.h"

#include "absl/strings/str_cat.h"

namespace adaline {

absl::string_view LossName(Loss loss) {
  switch (loss) {
    case Loss::kLogistic:
      return "logistic";
    case Loss::kSquared:
      return "squared";
    case Loss::kHinge:
      return "hinge";
  }
  return "unknown";
}

absl::StatusOr<Loss> ParseLoss(absl::string_view name) {
  if (name == "logistic") return Loss::kLogistic;
  if (name == "squared") return Loss::kSquared;
  if (name == "hinge") return Loss::kHinge;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown loss '", name, "'; choose logistic, squared or hinge"));
}

}  // namespace adaline
