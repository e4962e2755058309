#include "metrics/families.h"

namespace adaline {
namespace {

prometheus::MetricFamily OneValue(const std::string& name,
                                  const std::string& help,
                                  prometheus::MetricType type, double value) {
  prometheus::MetricFamily family{name, help, type, {}};
  prometheus::ClientMetric& metric = family.metric.emplace_back();
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return family;
}

}  // namespace

prometheus::MetricFamily GaugeFamily(const std::string& name,
                                     const std::string& help, double value) {
  return OneValue(name, help, prometheus::MetricType::Gauge, value);
}

prometheus::MetricFamily CounterFamily(const std::string& name,
                                       const std::string& help, double value) {
  return OneValue(name, help, prometheus::MetricType::Counter, value);
}

}  // namespace adaline
