// Losses of a linear model as functions of the margin m = w . x.
//
// Pure functions; safe from any thread.
#ifndef ADALINE_CORE_LOSS_H_
#define ADALINE_CORE_LOSS_H_

#include <cmath>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace adaline {

// The largest |gradient| a store takes. Beyond it a gradient comes from
// absurd data (1e30 labels or values), and one would set an accumulator out
// of range and freeze its coordinate for good; learners clip to it (see
// core/minibatch.h), stores and shards refuse more.
inline constexpr float kMaxGradient = 1e12f;

// What a learner does with a key's gradient before it joins a step: one that
// is not finite sits the step out (the rest of the step goes on), one beyond
// +-kMaxGradient is clipped to it.
enum class GradientCheck { kKept, kClipped, kNotFinite };
inline GradientCheck CheckGradient(float& gradient) {
  if (!std::isfinite(gradient)) return GradientCheck::kNotFinite;
  if (std::abs(gradient) > kMaxGradient) {
    gradient = std::copysign(kMaxGradient, gradient);
    return GradientCheck::kClipped;
  }
  return GradientCheck::kKept;
}

enum class Loss {
  kLogistic,  // labels -1/1 or 0/1; predicts a probability
  kSquared,   // any real label; 1/2 (m - y)^2
  kHinge,     // labels -1/1 or 0/1; max(0, 1 - y m)
};

absl::string_view LossName(Loss loss);
absl::StatusOr<Loss> ParseLoss(absl::string_view name);

// Whether labels must be -1, 0 or 1.
inline bool IsBinary(Loss loss) { return loss != Loss::kSquared; }

// For binary losses a label is positive iff > 0, so 0/1 and -1/1 both work.
inline float LossValue(Loss loss, float margin, float label) {
  switch (loss) {
    case Loss::kLogistic: {
      const float signed_margin = label > 0 ? margin : -margin;
      // log(1 + exp(-z)), stable for large |z|.
      return signed_margin > 0
                 ? std::log1p(std::exp(-signed_margin))
                 : -signed_margin + std::log1p(std::exp(signed_margin));
    }
    case Loss::kSquared:
      return 0.5f * (margin - label) * (margin - label);
    case Loss::kHinge: {
      const float y = label > 0 ? 1.0f : -1.0f;
      return std::max(0.0f, 1 - y * margin);
    }
  }
  return 0;
}

// d loss / d margin.
inline float LossDerivative(Loss loss, float margin, float label) {
  switch (loss) {
    case Loss::kLogistic:
      return 1 / (1 + std::exp(-margin)) - (label > 0 ? 1.0f : 0.0f);
    case Loss::kSquared:
      return margin - label;
    case Loss::kHinge: {
      const float y = label > 0 ? 1.0f : -1.0f;
      return y * margin < 1 ? -y : 0.0f;
    }
  }
  return 0;
}

// What `predict` prints: a probability for logistic, the margin otherwise.
inline float Prediction(Loss loss, float margin) {
  return loss == Loss::kLogistic ? 1 / (1 + std::exp(-margin)) : margin;
}

}  // namespace adaline

#endif  // ADALINE_CORE_LOSS_H_
