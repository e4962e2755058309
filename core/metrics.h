// Streaming evaluation in constant memory: weighted loss, accuracy, RMSE and
// a binned AUC, so held-out sets of any size can be scored.
//
// Not thread-safe: one thread adds examples to a Metrics.
#ifndef ADALINE_CORE_METRICS_H_
#define ADALINE_CORE_METRICS_H_

#include <cstdint>
#include <vector>

#include "core/loss.h"

namespace adaline {

class Metrics {
 public:
  explicit Metrics(Loss loss);

  void Add(float margin, float label, float importance);

  uint64_t count() const { return count_; }
  double weight() const { return weight_; }
  // Importance-weighted mean loss.
  double MeanLoss() const;
  // Share of examples on the right side of the decision boundary.
  double Accuracy() const;
  double Rmse() const;
  // Area under the ROC curve from 2^16 probability bins; NaN with one class.
  double Auc() const;

 private:
  Loss loss_;
  uint64_t count_ = 0;
  double weight_ = 0;
  double loss_sum_ = 0;
  double correct_weight_ = 0;
  double squared_error_sum_ = 0;
  std::vector<double> positive_bins_;
  std::vector<double> negative_bins_;
};

}  // namespace adaline

#endif  // ADALINE_CORE_METRICS_H_
