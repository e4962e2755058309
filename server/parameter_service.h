// ParameterService: one shard of the parameter server. It owns the shard's
// model (a WeightStore, the same as local training) and answers the RPCs of
// proto/adaline.proto. Every request is validated before it changes
// anything; a pushed batch is applied whole or not at all, and a checkpoint
// never contains part of a batch.
//
// Thread-safe: gRPC calls every handler from its own threads at once;
// ApplyBatch and WriteCheckpoint may be called from any thread too.
#ifndef ADALINE_SERVER_PARAMETER_SERVICE_H_
#define ADALINE_SERVER_PARAMETER_SERVICE_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/model_file.h"
#include "proto/adaline.grpc.pb.h"
#include "rpc/auth.h"
#include "rpc/sharding.h"
#include "server/checkpointer.h"

namespace adaline {

struct ServiceOptions {
  ShardSpec shard;
  // Keys in one Pull or Push request, at most.
  size_t max_request_keys = size_t{1} << 20;
  // Push and Exchange streams open at once, at most: each holds a server
  // thread for its whole life, so more would starve other calls.
  uint32_t max_push_streams = 64;
  // Where checkpoints go; empty for none.
  std::string checkpoint_dir;
  int keep_checkpoints = Checkpointer::kDefaultKeep;
  // Who may do what; null lets every client do everything.
  std::shared_ptr<const TokenTable> tokens;
  // The largest request a reader token may send (trainers are bounded by
  // the server's message limit only).
  size_t max_reader_message_bytes = size_t{16} << 20;
  // A replica (serve --follow): pushes and checkpoints are refused, and the
  // model is replaced whole by ReplaceModel.
  bool read_only = false;
  // A reader's Exchange stream that sends nothing for this long is ended
  // (by CloseIdleReaderStreams), so that readers cannot sit on stream
  // slots. Trainers' streams are never timed out: a worker may wait long on
  // its data.
  absl::Duration reader_stream_idle_timeout = absl::Seconds(60);
  // Bytes of feature names pushed by workers (work --keep-names) the shard
  // keeps; names past it are dropped and counted.
  size_t max_name_bytes = size_t{256} << 20;
};

class ParameterService final : public adaline::v1::ParameterServer::Service {
 public:
  ParameterService(Model model, ServiceOptions options);

  grpc::Status Pull(grpc::ServerContext* context,
                    const adaline::v1::PullRequest* request,
                    adaline::v1::PullResponse* response) override;
  grpc::Status Push(grpc::ServerContext* context,
                    grpc::ServerReader<adaline::v1::PushRequest>* reader,
                    adaline::v1::PushResponse* response) override;
  grpc::Status Exchange(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<adaline::v1::ExchangeResponse,
                               adaline::v1::ExchangeRequest>* stream) override;
  grpc::Status Query(grpc::ServerContext* context,
                     const adaline::v1::QueryRequest* request,
                     adaline::v1::QueryResponse* response) override;
  grpc::Status Predict(grpc::ServerContext* context,
                       const adaline::v1::PredictRequest* request,
                       adaline::v1::PredictResponse* response) override;
  grpc::Status Stats(grpc::ServerContext* context,
                     const adaline::v1::StatsRequest* request,
                     adaline::v1::StatsResponse* response) override;
  grpc::Status Checkpoint(grpc::ServerContext* context,
                          const adaline::v1::CheckpointRequest* request,
                          adaline::v1::CheckpointResponse* response) override;

  // What the Stats RPC answers, for the metrics collector too.
  void FillStats(adaline::v1::StatsResponse* response);

  struct WrittenCheckpoint {
    std::string path;
    uint64_t step;
  };
  // Validates `request` and applies it as one optimizer step (or the steps
  // its step_sizes name), whole or not at all; returns the last step. Push
  // calls it for each message of a stream.
  absl::StatusOr<uint64_t> ApplyBatch(const adaline::v1::PushRequest& request);

  // Writes a checkpoint of whole batches, with the feature names the model
  // was restored with; the outcome shows in Stats. A model at the step of
  // the last checkpoint is not written again: that one is returned.
  absl::StatusOr<WrittenCheckpoint> WriteCheckpoint();
  // The checkpoint the model was restored from, which holds its step.
  void RememberCheckpoint(const std::string& path, uint64_t step);
  // Ends readers' Exchange streams idle for reader_stream_idle_timeout;
  // how many. The shard's housekeeping calls it every second or so.
  int CloseIdleReaderStreams();

  // From now on pushes are refused with UNAVAILABLE (shutting down).
  void StopPushes() { accepting_pushes_.store(false); }

  // The model now. A call holds the one it started with to its end, so a
  // replaced model is never seen in part.
  std::shared_ptr<const Model> model() const { return CurrentModel(); }

  // Serves `model` (loaded from `path`) from now on, in place of the last
  // one; calls in flight finish with theirs. For read-only services.
  void ReplaceModel(Model model, const std::string& path);
  // The model being served was loaded from `path` now (shown in Stats).
  void NoteModelFile(const std::string& path);

 private:
  // The caller's role by its token (a trainer's when the server has no
  // tokens); UNAUTHENTICATED without a known token.
  absl::StatusOr<Role> CallerRole(const grpc::ServerContext* context) const;
  // UNAUTHENTICATED without a known token, PERMISSION_DENIED without `role`.
  grpc::Status Authorize(const grpc::ServerContext* context, Role role) const;
  // Authorize for reading, and a reader's request within
  // max_reader_message_bytes (RESOURCE_EXHAUSTED past it).
  grpc::Status AuthorizeRead(const grpc::ServerContext* context,
                             const google::protobuf::Message& request) const;
  grpc::Status CheckReaderSize(const google::protobuf::Message& request) const;
  // Counts a stream open in `open` (trainers' or readers'), named `whose`
  // in the refusal; RESOURCE_EXHAUSTED past the limit. When it returns OK
  // the handler gives the place back on return.
  grpc::Status OpenStream(std::atomic<uint32_t>& open, absl::string_view whose);
  // ApplyBatch for the `applied`-th batch of a worker stream: refused while
  // shutting down, and an error says how many earlier batches stay applied.
  absl::StatusOr<uint64_t> ApplyStreamed(const adaline::v1::PushRequest& batch,
                                         uint64_t& applied);
  // Sets aside room for `keys` new keys, if there is room for them next to
  // every other push's; false if not. Zero keys (a store without a limit)
  // always fit.
  bool ReserveRoom(size_t keys);
  // The store's Push for each step of a validated batch; the last step.
  absl::StatusOr<uint64_t> PushSteps(const adaline::v1::PushRequest& request,
                                     WeightStore& store);
  // Validates a pull and answers it.
  absl::Status AnswerPull(const adaline::v1::PullRequest& request,
                          adaline::v1::PullResponse* response);

  std::shared_ptr<Model> CurrentModel() const {
    return std::atomic_load(&model_);
  }

  // Replaced whole (std::atomic_store) on a replica; never on a trainer.
  std::shared_ptr<Model> model_;
  const ServiceOptions options_;
  std::unique_ptr<Checkpointer> checkpointer_;

  // Standard (pthread) locks, not absl::Mutex: ThreadSanitizer sees them,
  // and Debian's Abseil checks for deadlocks on every lock.
  //
  // Pushes hold it shared while they apply a batch; a checkpoint's snapshot
  // holds it exclusively, so it sees whole batches only.
  std::shared_mutex apply_mutex_;
  // Serialises checkpoint writes.
  std::mutex checkpoint_mutex_;
  std::atomic<bool> accepting_pushes_{true};
  // Readers' open Exchange streams and when each last sent a message.
  struct ReaderStream {
    grpc::ServerContext* context;
    std::atomic<int64_t> last_message_nanos;
  };
  std::mutex reader_streams_mutex_;
  std::vector<ReaderStream*> reader_streams_
      ABSL_GUARDED_BY(reader_streams_mutex_);
  std::atomic<uint32_t> open_pushes_{0};
  // Exchange streams of callers who may only read.
  std::atomic<uint32_t> open_reads_{0};
  // Adds the names a validated push carries, within max_name_bytes. Called
  // with apply_mutex_ held shared: a checkpoint sees all of a batch's names
  // or none.
  void KeepNames(const adaline::v1::PushRequest& request, Model& model);
  // Guards the model's names against concurrent pushes.
  std::mutex names_mutex_;
  size_t name_bytes_ ABSL_GUARDED_BY(names_mutex_) = 0;
  uint64_t names_dropped_ ABSL_GUARDED_BY(names_mutex_) = 0;
  // Keys of pushes in flight that may all be new (see ReserveRoom).
  std::atomic<size_t> reserved_keys_{0};
  std::atomic<uint64_t> total_updates_{0};

  mutable std::mutex stats_mutex_;
  uint64_t checkpoints_written_ ABSL_GUARDED_BY(stats_mutex_) = 0;
  uint64_t checkpoints_failed_ ABSL_GUARDED_BY(stats_mutex_) = 0;
  std::string last_checkpoint_ ABSL_GUARDED_BY(stats_mutex_);
  std::optional<uint64_t> last_checkpoint_step_ ABSL_GUARDED_BY(stats_mutex_);
  std::string last_checkpoint_error_ ABSL_GUARDED_BY(stats_mutex_);
  std::optional<absl::Time> last_checkpoint_time_ ABSL_GUARDED_BY(stats_mutex_);
  // The file the served model came from, and when, on a replica.
  std::string model_path_ ABSL_GUARDED_BY(stats_mutex_);
  std::optional<absl::Time> model_loaded_ ABSL_GUARDED_BY(stats_mutex_);
  absl::Time rate_time_ ABSL_GUARDED_BY(stats_mutex_);
  uint64_t rate_updates_ ABSL_GUARDED_BY(stats_mutex_) = 0;
  double updates_per_second_ ABSL_GUARDED_BY(stats_mutex_) = 0;
};

}  // namespace adaline

#endif  // ADALINE_SERVER_PARAMETER_SERVICE_H_
