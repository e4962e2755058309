#include "core/metrics.h"

#include <cmath>
#include <limits>

namespace adaline {
namespace {
constexpr int kAucBins = 1 << 16;
}  // namespace

Metrics::Metrics(Loss loss) : loss_(loss) {
  if (IsBinary(loss)) {
    positive_bins_.assign(kAucBins, 0);
    negative_bins_.assign(kAucBins, 0);
  }
}

void Metrics::Add(float margin, float label, float importance) {
  ++count_;
  weight_ += importance;
  loss_sum_ += importance * LossValue(loss_, margin, label);
  const double error = margin - label;
  squared_error_sum_ += importance * error * error;
  if (!IsBinary(loss_)) return;
  const bool positive = label > 0;
  if ((margin > 0) == positive) correct_weight_ += importance;
  const double probability = 1 / (1 + std::exp(-static_cast<double>(margin)));
  int bin = static_cast<int>(probability * kAucBins);
  bin = std::min(std::max(bin, 0), kAucBins - 1);
  (positive ? positive_bins_ : negative_bins_)[bin] += importance;
}

double Metrics::MeanLoss() const {
  return weight_ > 0 ? loss_sum_ / weight_
                     : std::numeric_limits<double>::quiet_NaN();
}

double Metrics::Accuracy() const {
  return weight_ > 0 ? correct_weight_ / weight_
                     : std::numeric_limits<double>::quiet_NaN();
}

double Metrics::Rmse() const {
  return weight_ > 0 ? std::sqrt(squared_error_sum_ / weight_)
                     : std::numeric_limits<double>::quiet_NaN();
}

double Metrics::Auc() const {
  double positives = 0, negatives = 0;
  for (size_t i = 0; i < positive_bins_.size(); ++i) {
    positives += positive_bins_[i];
    negatives += negative_bins_[i];
  }
  if (positives == 0 || negatives == 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  // Pairs ranked right, counting ties within a bin as half.
  double negatives_below = 0, right_pairs = 0;
  for (size_t i = 0; i < positive_bins_.size(); ++i) {
    right_pairs +=
        positive_bins_[i] * (negatives_below + 0.5 * negative_bins_[i]);
    negatives_below += negative_bins_[i];
  }
  return right_pairs / (positives * negatives);
}

}  // namespace adaline
