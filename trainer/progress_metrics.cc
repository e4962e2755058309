#include "trainer/progress_metrics.h"

#include "metrics/families.h"

namespace adaline {

std::vector<prometheus::MetricFamily> ProgressMetrics::Collect() const {
  const uint64_t examples = examples_.load(std::memory_order_relaxed);
  const double weight_sum = weight_sum_.load(std::memory_order_relaxed);
  const double loss =
      weight_sum > 0 ? loss_sum_.load(std::memory_order_relaxed) / weight_sum
                     : 0;
  double rate = 0;
  {
    std::lock_guard<std::mutex> lock(scrape_mutex_);
    const absl::Time now = absl::Now();
    const double seconds = absl::ToDoubleSeconds(now - last_scrape_);
    if (seconds > 0) {
      rate = static_cast<double>(examples - last_examples_) / seconds;
    }
    last_scrape_ = now;
    last_examples_ = examples;
  }
  return {
      CounterFamily("adaline_worker_examples_total",
                    "Examples learned from (held-out ones not counted).",
                    static_cast<double>(examples)),
      GaugeFamily("adaline_worker_examples_per_second",
                  "Examples learned per second since the previous scrape.",
                  rate),
      GaugeFamily("adaline_worker_progressive_loss",
                  "Mean loss of the examples learned, each scored before it "
                  "was learned from.",
                  loss),
  };
}

}  // namespace adaline
