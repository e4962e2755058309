// ShardMetrics: what a shard tells Prometheus. Every RPC is counted by
// method and status code and timed (a stream from open to close), by a
// gRPC interceptor, so refused and unauthenticated calls count too; the
// model's state (step, keys, bytes, key updates, workers, checkpoints) is
// read from the service's Stats at scrape time, so nothing is counted
// twice.
//
// Thread-safe: gRPC's threads record calls while scrapes collect.
#ifndef ADALINE_SERVER_SHARD_METRICS_H_
#define ADALINE_SERVER_SHARD_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "server/parameter_service.h"

namespace adaline {

class ShardMetrics {
 public:
  explicit ShardMetrics(ParameterService* service);

  // Interceptor factories for grpc::ServerBuilder, which owns them.
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
  Interceptors();

  // The calls' counters and histograms.
  std::shared_ptr<prometheus::Collectable> calls() { return registry_; }
  // The model's state, read at each scrape.
  std::shared_ptr<prometheus::Collectable> state() { return state_; }

  // Counts one call of `method` that ended with `code` after `seconds`.
  void RecordCall(const char* method, grpc::StatusCode code, double seconds);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Histogram>& durations_;
  std::shared_ptr<prometheus::Collectable> state_;
};

}  // namespace adaline

#endif  // ADALINE_SERVER_SHARD_METRICS_H_
