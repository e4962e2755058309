#include "metrics/families.h"

namespace adaline {

prometheus::MetricFamily GaugeFamily(const std::string& name,
                                     const std::string& help, double value) {
  prometheus::MetricFamily family{
      name, help, prometheus::MetricType::Gauge, {}};
  family.metric.emplace_back().gauge.value = value;
  return family;
}

prometheus::MetricFamily CounterFamily(const std::string& name,
                                       const std::string& help, double value) {
  prometheus::MetricFamily family{
      name, help, prometheus::MetricType::Counter, {}};
  family.metric.emplace_back().counter.value = value;
  return family;
}

}  // namespace adaline
