// ShardServer: one running parameter-server shard, the only way adaline
// runs one (`adaline serve`, the tests and the benchmarks all start it
// here). It restores the newest checkpoint, builds the gRPC server with the
// credentials, limits, health service and reflection, listens, writes
// periodic checkpoints, and shuts down gracefully with a final checkpoint.
//
// Thread-safe: Shutdown may be called from any thread, once; the other
// methods may be called from any thread until the object is destroyed.
#ifndef ADALINE_SERVER_SHARD_SERVER_H_
#define ADALINE_SERVER_SHARD_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "core/model_file.h"
#include "metrics/exporter.h"
#include "rpc/tls.h"
#include "rpc/wire.h"
#include "server/directory_lock.h"
#include "server/model_follower.h"
#include "server/parameter_service.h"
#include "server/shard_metrics.h"

namespace adaline {

struct ShardServerOptions {
  // The model a fresh shard starts with; a restored checkpoint must match it.
  ModelConfig config;
  // Shard, limits, checkpoint directory and tokens of the service.
  ServiceOptions service;
  // host:port (port 0 picks a free one); empty serves in process only.
  std::string listen = "127.0.0.1:0";
  // Listening beyond loopback without tokens must be asked for.
  bool insecure_listen_anywhere = false;
  TlsFiles tls;
  // Keys the store may hold; WeightStore::kNoKeyLimit for no limit.
  size_t max_keys = WeightStore::kNoKeyLimit;
  // Admission and eviction (core/weight_store.h).
  MemoryBounds bounds;
  int max_message_bytes = kDefaultMaxMessageBytes;
  // Memory all requests in flight may take together (gRPC's ResourceQuota);
  // 0 for no bound.
  size_t max_request_memory = size_t{1} << 30;
  // Between periodic checkpoints; zero for none (only at shutdown and on
  // request). Needs service.checkpoint_dir.
  absl::Duration checkpoint_every = absl::ZeroDuration();
  // Start empty when the checkpoint directory holds checkpoints none of
  // which loads (they are set aside); without it that refuses to start.
  bool start_empty_if_unreadable = false;
  // Where a failed periodic checkpoint is reported.
  std::FILE* log = stderr;
  // host:port for Prometheus metrics over HTTP (port 0 picks a free one);
  // empty for none. See server/shard_metrics.h.
  std::string metrics_listen;
  // A replica: read-only, and every `follow_every` it serves the newest
  // model the follower loads (the one it started with came from it).
  std::shared_ptr<ModelFollower> follower;
  absl::Duration follow_every = absl::Seconds(1);
  // How often idle reader streams are looked for, and how often a status
  // line (step, keys, updates/s, workers) goes to `log`; zero for none.
  absl::Duration housekeeping_every = absl::Seconds(1);
  absl::Duration status_every = absl::Seconds(60);
};

// The model a shard starts with, and the checkpoint it came from if any.
struct RestoredModel {
  Model model;
  std::optional<std::string> path;
  // The checkpoint directory's, taken before anything in it was read.
  DirectoryLock lock;
};

class ShardServer {
 public:
  // The newest checkpoint of options.service.checkpoint_dir that loads and
  // matches options.config, else a fresh model. A separate step so that a
  // command can keep signals' default (stop at once) while it runs.
  static absl::StatusOr<RestoredModel> Restore(
      const ShardServerOptions& options);
  // Restore, then start serving.
  static absl::StatusOr<std::unique_ptr<ShardServer>> Start(
      ShardServerOptions options);
  // Serves `restored` as it is (tests and benchmarks pass a fresh model).
  static absl::StatusOr<std::unique_ptr<ShardServer>> Start(
      ShardServerOptions options, RestoredModel restored);

  // Stops without a final checkpoint if Shutdown was not called.
  ~ShardServer();
  ShardServer(const ShardServer&) = delete;
  ShardServer& operator=(const ShardServer&) = delete;

  // The port it listens on; 0 when it serves in process only.
  int port() const { return port_; }
  // The port metrics are served on; 0 without metrics_listen.
  int metrics_port() const;
  // "host:port" for clients; empty when it serves in process only.
  std::string address() const;
  // A channel to this server that bypasses the network.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // The checkpoint the model came from, if one was restored.
  const std::optional<std::string>& restored_from() const {
    return restored_from_;
  }
  ParameterService& service() { return *service_; }
  ShardMetrics& metrics() { return *metrics_; }
  const ShardServerOptions& options() const { return options_; }

  // Stops periodic checkpoints, refuses new pushes, lets calls in flight
  // finish for up to `grace`, then writes the final checkpoint (when there
  // is a checkpoint directory) and returns it.
  absl::StatusOr<std::optional<ParameterService::WrittenCheckpoint>> Shutdown(
      absl::Duration grace = absl::Seconds(2));

 private:
  explicit ShardServer(ShardServerOptions options);
  absl::Status Build(Model model);
  void WriteCheckpointsPeriodically();
  // A replica's loop: load what the follower finds, swap it in.
  void FollowModels();
  // Ends idle reader streams; logs a status line now and then.
  void KeepHouse();
  // Ends periodic checkpoints, refuses pushes, and stops serving once calls
  // in flight end or `grace` has passed.
  void Stop(absl::Duration grace);

  const ShardServerOptions options_;
  std::optional<std::string> restored_from_;
  DirectoryLock directory_lock_;
  std::unique_ptr<ParameterService> service_;
  // Outlives the server, whose interceptors record into it.
  std::unique_ptr<ShardMetrics> metrics_;
  std::unique_ptr<grpc::Server> server_;
  // Destroyed first: its scrapes read the service.
  std::unique_ptr<MetricsExporter> exporter_;
  int port_ = 0;
  absl::Notification stopping_;
  std::thread checkpoints_;
  std::thread follow_;
  std::thread housekeeping_;
  bool shut_down_ = false;
};

// Whether `address` (host:port) is reachable from this machine only.
bool IsLoopbackAddress(absl::string_view address);

}  // namespace adaline

#endif  // ADALINE_SERVER_SHARD_SERVER_H_
