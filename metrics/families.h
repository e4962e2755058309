// Builders of Prometheus metric families from values read at scrape time,
// for collectors that report state the program keeps anyway (a shard's
// step and keys, a worker's examples) rather than counting it twice.
//
// Pure functions; safe from any thread.
#ifndef ADALINE_METRICS_FAMILIES_H_
#define ADALINE_METRICS_FAMILIES_H_

#include <string>

#include "prometheus/metric_family.h"

namespace adaline {

prometheus::MetricFamily GaugeFamily(const std::string& name,
                                     const std::string& help, double value);
prometheus::MetricFamily CounterFamily(const std::string& name,
                                       const std::string& help, double value);

}  // namespace adaline

#endif  // ADALINE_METRICS_FAMILIES_H_
