#include "server/shard_metrics.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "metrics/families.h"

namespace adaline {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Upper bounds in seconds: 50 us to 20 s, about three per decade.
const prometheus::Histogram::BucketBoundaries& Buckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3,
      50e-3, 0.1,    0.25,   0.5,    1,    2.5,    5,    10,    20};
  return *buckets;
}

// "Pull" of "/adaline.v1.ParameterServer/Pull"; other services keep their
// full name, so health checks are told apart.
std::string MethodName(const char* full_name) {
  absl::string_view name(full_name == nullptr ? "" : full_name);
  absl::ConsumePrefix(&name, "/adaline.v1.ParameterServer/");
  return std::string(name);
}

class CallInterceptor : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(ShardMetrics* metrics, const char* method)
      : metrics_(metrics), method_(method), start_(absl::Now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_->RecordCall(method_, methods->GetSendStatus().error_code(),
                           absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  ShardMetrics* metrics_;
  const char* method_;
  absl::Time start_;
};

class CallInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallInterceptorFactory(ShardMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallInterceptor(metrics_, info->method());
  }

 private:
  ShardMetrics* metrics_;
};

// The model's state, as the Stats RPC reports it.
class StateCollector : public prometheus::Collectable {
 public:
  explicit StateCollector(ParameterService* service) : service_(service) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    adaline::v1::StatsResponse stats;
    service_->FillStats(&stats);
    std::vector<prometheus::MetricFamily> families = {
        GaugeFamily("adaline_shard_step", "Optimizer steps applied.",
                    stats.step()),
        GaugeFamily("adaline_shard_keys", "Keys held.", stats.unique_keys()),
        GaugeFamily("adaline_shard_bytes", "Bytes of the weight store.",
                    stats.bytes()),
        CounterFamily("adaline_key_updates_total",
                      "Key updates applied (one per key per step).",
                      stats.total_updates()),
        GaugeFamily("adaline_key_updates_per_second",
                    "Key updates per second over the last seconds.",
                    stats.updates_per_second()),
        GaugeFamily("adaline_connected_workers",
                    "Worker streams open that may push.",
                    stats.connected_workers()),
        CounterFamily("adaline_dropped_new_keys_total",
                      "New keys dropped because the shard was full "
                      "(--max-keys).",
                      stats.dropped_new_keys()),
        CounterFamily("adaline_admitted_keys_total",
                      "Keys given a slot by admission (--admit-after).",
                      stats.admitted_keys()),
        CounterFamily("adaline_not_admitted_updates_total",
                      "Updates of keys not yet admitted, dropped.",
                      stats.not_admitted_updates()),
        CounterFamily("adaline_evicted_keys_total",
                      "Keys evicted (--evict-idle-steps, --evict-when-full).",
                      stats.evicted_keys()),
        GaugeFamily("adaline_longest_eviction_pause_seconds",
                    "The longest an eviction held a part of the store.",
                    stats.longest_eviction_pause_seconds()),
        CounterFamily("adaline_checkpoints_written_total",
                      "Checkpoints written.", stats.checkpoints_written()),
        CounterFamily("adaline_checkpoints_failed_total",
                      "Checkpoints that failed.", stats.checkpoints_failed()),
    };
    if (stats.last_checkpoint_unix_seconds() > 0) {
      const double age = absl::ToDoubleSeconds(
          absl::Now() -
          absl::FromUnixSeconds(stats.last_checkpoint_unix_seconds()));
      families.push_back(
          GaugeFamily("adaline_last_checkpoint_timestamp_seconds",
                      "When the last checkpoint was written (Unix time).",
                      stats.last_checkpoint_unix_seconds()));
      families.push_back(GaugeFamily("adaline_last_checkpoint_age_seconds",
                                     "Seconds since the last checkpoint.",
                                     age));
    }
    return families;
  }

 private:
  ParameterService* service_;
};

}  // namespace

ShardMetrics::ShardMetrics(ParameterService* service)
    : registry_(std::make_shared<prometheus::Registry>()),
      calls_(prometheus::BuildCounter()
                 .Name("adaline_rpc_total")
                 .Help("RPCs handled, by method and status code.")
                 .Register(*registry_)),
      durations_(prometheus::BuildHistogram()
                     .Name("adaline_rpc_duration_seconds")
                     .Help("Time from a call's start to its status (a "
                           "stream's whole life), by method.")
                     .Register(*registry_)),
      state_(std::make_shared<StateCollector>(service)) {}

std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
ShardMetrics::Interceptors() {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      factories;
  factories.push_back(std::make_unique<CallInterceptorFactory>(this));
  return factories;
}

void ShardMetrics::RecordCall(const char* method, grpc::StatusCode code,
                              double seconds) {
  const std::string name = MethodName(method);
  calls_
      .Add({{"method", name},
            {"code",
             absl::StatusCodeToString(static_cast<absl::StatusCode>(code))}})
      .Increment();
  durations_.Add({{"method", name}}, Buckets()).Observe(seconds);
}

}  // namespace adaline
