// MetricsExporter: serves Prometheus metrics over HTTP (GET /metrics in the
// text format), with prometheus-cpp's exposer. Shards and workers register
// what they measure; a scrape collects it then.
//
// Thread-safe: Register may be called while scrapes are served; collectables
// must be safe to collect from the exposer's threads.
#ifndef ADALINE_METRICS_EXPORTER_H_
#define ADALINE_METRICS_EXPORTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"

namespace adaline {

class MetricsExporter {
 public:
  // Listens on `address` (HOST:PORT; port 0 picks a free one). An address
  // that cannot be bound is an error that names it.
  static absl::StatusOr<std::unique_ptr<MetricsExporter>> Start(
      const std::string& address);

  // Serves `collectable` from now on; the exporter keeps it alive.
  void Register(std::shared_ptr<prometheus::Collectable> collectable);

  // The port it listens on.
  int port() const { return port_; }

 private:
  MetricsExporter(std::unique_ptr<prometheus::Exposer> exposer, int port)
      : exposer_(std::move(exposer)), port_(port) {}

  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_;
  std::vector<std::shared_ptr<prometheus::Collectable>> kept_;
};

}  // namespace adaline

#endif  // ADALINE_METRICS_EXPORTER_H_
