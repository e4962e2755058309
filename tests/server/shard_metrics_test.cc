// What a shard tells Prometheus: every call counted by method and status
// code (refusals too) and timed, and the model's state as Stats reports it.
#include "server/shard_metrics.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/shard_fixture.h"

namespace adaline {
namespace {

// The value of `name` with `labels` among `families`, or -1.
double ValueOf(
    const std::vector<prometheus::MetricFamily>& families,
    const std::string& name,
    const std::vector<prometheus::ClientMetric::Label>& labels = {}) {
  for (const prometheus::MetricFamily& family : families) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      if (metric.label != labels) continue;
      switch (family.type) {
        case prometheus::MetricType::Counter:
          return metric.counter.value;
        case prometheus::MetricType::Gauge:
          return metric.gauge.value;
        case prometheus::MetricType::Histogram:
          return static_cast<double>(metric.histogram.sample_count);
        default:
          return -1;
      }
    }
  }
  return -1;
}

TEST(ShardMetricsTest, CallsAreCountedByMethodAndCodeAndTimed) {
  InProcessShard shard{ShardOptions(0, 1)};
  ShardMetrics& metrics = shard.server().metrics();
  EXPECT_EQ(ValueOf(metrics.calls()->Collect(), "adaline_rpc_total",
                    {{"code", "OK"}, {"method", "Stats"}}),
            -1);
  shard.Stats();
  shard.Stats();
  {
    grpc::ClientContext context;
    adaline::v1::PredictRequest request;
    request.add_lines("1 |a x:not_a_number");
    adaline::v1::PredictResponse response;
    EXPECT_EQ(shard.stub().Predict(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  const auto calls = metrics.calls()->Collect();
  EXPECT_EQ(ValueOf(calls, "adaline_rpc_total",
                    {{"code", "OK"}, {"method", "Stats"}}),
            2);
  EXPECT_EQ(ValueOf(calls, "adaline_rpc_total",
                    {{"code", "INVALID_ARGUMENT"}, {"method", "Predict"}}),
            1);
  EXPECT_EQ(
      ValueOf(calls, "adaline_rpc_duration_seconds", {{"method", "Stats"}}), 2);
}

TEST(ShardMetricsTest, TheModelsStateIsReadAtEachScrape) {
  InProcessShard shard{ShardOptions(0, 1)};
  ShardMetrics& metrics = shard.server().metrics();
  EXPECT_EQ(ValueOf(metrics.state()->Collect(), "adaline_shard_step"), 0);
  adaline::v1::PushResponse response;
  ASSERT_TRUE(
      shard.Push({Batch({1, 2, 3}, {0.5, -1, 2}), Batch({1}, {1})}, &response)
          .ok());
  const auto state = metrics.state()->Collect();
  EXPECT_EQ(ValueOf(state, "adaline_shard_step"), 2);
  EXPECT_EQ(ValueOf(state, "adaline_shard_keys"), 3);
  EXPECT_EQ(ValueOf(state, "adaline_key_updates_total"), 4);
  EXPECT_GT(ValueOf(state, "adaline_shard_bytes"), 0);
  EXPECT_EQ(ValueOf(state, "adaline_checkpoints_written_total"), 0);
  // No checkpoint yet: no age to report.
  EXPECT_EQ(ValueOf(state, "adaline_last_checkpoint_age_seconds"), -1);
}

}  // namespace
}  // namespace adaline
