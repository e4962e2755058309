// ProgressMetrics: a learner's progress as Prometheus metrics (examples
// learned, examples per second, progressive validation loss), for
// `work --metrics-listen`. The learner publishes after each block of
// examples, a few relaxed stores; a scrape reads the latest.
//
// Thread-safe: one learner thread publishes while any thread collects.
#ifndef ADALINE_TRAINER_PROGRESS_METRICS_H_
#define ADALINE_TRAINER_PROGRESS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace adaline {

class ProgressMetrics : public prometheus::Collectable {
 public:
  ProgressMetrics() : start_(absl::Now()) {}

  // The learner's totals so far: examples learned, and the importance-
  // weighted sum of their progressive losses and of their importances.
  void Publish(uint64_t examples, double loss_sum, double weight_sum) {
    examples_.store(examples, std::memory_order_relaxed);
    loss_sum_.store(loss_sum, std::memory_order_relaxed);
    weight_sum_.store(weight_sum, std::memory_order_relaxed);
  }

  // Examples per second are over the time since the previous scrape (since
  // the start for the first).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::atomic<uint64_t> examples_{0};
  std::atomic<double> loss_sum_{0};
  std::atomic<double> weight_sum_{0};
  const absl::Time start_;
  mutable std::mutex scrape_mutex_;
  mutable absl::Time last_scrape_ ABSL_GUARDED_BY(scrape_mutex_) = start_;
  mutable uint64_t last_examples_ ABSL_GUARDED_BY(scrape_mutex_) = 0;
};

}  // namespace adaline

#endif  // ADALINE_TRAINER_PROGRESS_METRICS_H_
