#include "server/parameter_service.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/feature_key.h"
#include "core/key_index.h"
#include "rpc/wire.h"
#include "server/request_validation.h"
#include "server/shard_predictions.h"

namespace adaline {
namespace {

// Gives back a worker-stream place when its handler returns.
struct StreamPlace {
  std::atomic<uint32_t>& open;
  ~StreamPlace() { open.fetch_sub(1); }
};

// The bytes of the names' text.
size_t NameBytes(const FeatureNames& names) {
  size_t bytes = 0;
  for (const auto& [key, name] : names.all()) bytes += name.size();
  return bytes;
}

}  // namespace

ParameterService::ParameterService(Model model, ServiceOptions options)
    : model_(std::make_shared<Model>(std::move(model))),
      options_(std::move(options)),
      rate_time_(absl::Now()) {
  name_bytes_ = NameBytes(model_->names);
  if (!options_.checkpoint_dir.empty()) {
    checkpointer_ = std::make_unique<Checkpointer>(options_.checkpoint_dir,
                                                   options_.keep_checkpoints);
  }
}

absl::StatusOr<Role> ParameterService::CallerRole(
    const grpc::ServerContext* context) const {
  // Without tokens every caller may do everything.
  if (options_.tokens == nullptr) return Role::kTrainer;
  return options_.tokens->RoleOfCall(
      AuthorizationOf(context->client_metadata()));
}

grpc::Status ParameterService::Authorize(const grpc::ServerContext* context,
                                         Role role) const {
  const absl::StatusOr<Role> held = CallerRole(context);
  if (!held.ok()) return ToGrpc(held.status());
  if (role == Role::kTrainer && *held != Role::kTrainer) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "a reader token may pull, query and read stats; this "
                        "needs a trainer token");
  }
  return grpc::Status::OK;
}

absl::Status ParameterService::AnswerPull(
    const adaline::v1::PullRequest& request,
    adaline::v1::PullResponse* response) {
  const std::shared_ptr<Model> model = CurrentModel();
  if (absl::Status s = ValidateKeys(request.keys(), options_.shard,
                                    options_.max_request_keys);
      !s.ok())
    return s;
  response->mutable_weights()->Resize(request.keys_size(), 0.0f);
  response->set_step(model->store->step());
  const int width =
      request.with_state() ? model->store->optimizer().state_width() : 0;
  response->set_norm_sum(request.with_state() ? model->store->norm_sum() : 0);
  response->mutable_states()->Resize(request.keys_size() * width, 0.0f);
  model->store->Pull(
      absl::MakeConstSpan(request.keys().data(), request.keys_size()),
      absl::MakeSpan(response->mutable_weights()->mutable_data(),
                     request.keys_size()),
      absl::MakeSpan(response->mutable_states()->mutable_data(),
                     response->states_size()));
  return absl::OkStatus();
}

grpc::Status ParameterService::CheckReaderSize(
    const google::protobuf::Message& request) const {
  const size_t bytes = request.ByteSizeLong();
  if (bytes <= options_.max_reader_message_bytes) return grpc::Status::OK;
  return grpc::Status(
      grpc::StatusCode::RESOURCE_EXHAUSTED,
      absl::StrCat(
          "a reader's request may hold ", options_.max_reader_message_bytes,
          " bytes (--max-reader-message-bytes); this one holds ", bytes));
}

grpc::Status ParameterService::AuthorizeRead(
    const grpc::ServerContext* context,
    const google::protobuf::Message& request) const {
  const absl::StatusOr<Role> role = CallerRole(context);
  if (!role.ok()) return ToGrpc(role.status());
  // A trainer's reads may be big.
  if (*role == Role::kTrainer) return grpc::Status::OK;
  return CheckReaderSize(request);
}

grpc::Status ParameterService::Pull(grpc::ServerContext* context,
                                    const adaline::v1::PullRequest* request,
                                    adaline::v1::PullResponse* response) {
  if (grpc::Status s = AuthorizeRead(context, *request); !s.ok()) return s;
  return ToGrpc(AnswerPull(*request, response));
}

grpc::Status ParameterService::OpenStream(std::atomic<uint32_t>& open,
                                          absl::string_view whose) {
  const uint32_t already_open = open.fetch_add(1);
  if (already_open >= options_.max_push_streams) {
    open.fetch_sub(1);
    return grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("shard ", options_.shard.ToString(), " already has ",
                     already_open, " ", whose,
                     " streams open, the most it takes "
                     "(--max-concurrent-streams); nothing was applied"));
  }
  return grpc::Status::OK;
}

grpc::Status ParameterService::Push(
    grpc::ServerContext* context,
    grpc::ServerReader<adaline::v1::PushRequest>* reader,
    adaline::v1::PushResponse* response) {
  if (grpc::Status s = Authorize(context, Role::kTrainer); !s.ok()) return s;
  if (grpc::Status s = OpenStream(open_pushes_, "worker"); !s.ok()) return s;
  StreamPlace place{open_pushes_};
  adaline::v1::PushRequest request;
  uint64_t applied = 0;
  while (reader->Read(&request)) {
    absl::StatusOr<uint64_t> step = ApplyStreamed(request, applied);
    if (!step.ok()) return ToGrpc(step.status());
    response->set_step(*step);
  }
  response->set_batches_applied(applied);
  return grpc::Status::OK;
}

grpc::Status ParameterService::Exchange(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<adaline::v1::ExchangeResponse,
                             adaline::v1::ExchangeRequest>* stream) {
  // A reader may pull on the stream; only a trainer may push.
  if (grpc::Status s = Authorize(context, Role::kReader); !s.ok()) return s;
  const grpc::Status may_push = Authorize(context, Role::kTrainer);
  // Readers have slots of their own: however many pull-only streams they
  // hold open, trainers still get theirs.
  std::atomic<uint32_t>& open = may_push.ok() ? open_pushes_ : open_reads_;
  if (grpc::Status s =
          OpenStream(open, may_push.ok() ? "worker" : "reader-only");
      !s.ok()) {
    return s;
  }
  StreamPlace place{open};
  // A reader's stream is watched for idleness (CloseIdleReaderStreams).
  ReaderStream watched{context, {absl::GetCurrentTimeNanos()}};
  struct Watch {
    ParameterService* service;
    ReaderStream* stream;
    Watch(ParameterService* service, ReaderStream* stream)
        : service(service), stream(stream) {
      if (stream == nullptr) return;
      std::lock_guard<std::mutex> lock(service->reader_streams_mutex_);
      service->reader_streams_.push_back(stream);
    }
    ~Watch() {
      if (stream == nullptr) return;
      std::lock_guard<std::mutex> lock(service->reader_streams_mutex_);
      auto& all = service->reader_streams_;
      all.erase(std::find(all.begin(), all.end(), stream));
    }
  } watch{this, may_push.ok() ? nullptr : &watched};
  // Reused: a worker's batches are alike, so their buffers fit each other.
  adaline::v1::ExchangeRequest request;
  adaline::v1::ExchangeResponse response;
  uint64_t applied = 0;
  // However the stream ends, the worker learns how many pushes applied.
  struct TellApplied {
    grpc::ServerContext* context;
    const uint64_t& applied;
    ~TellApplied() {
      context->AddTrailingMetadata(kAppliedTrailer, std::to_string(applied));
    }
  } tell{context, applied};
  context->AddInitialMetadata(kStreamOpenedHeader, "1");
  stream->SendInitialMetadata();
  while (stream->Read(&request)) {
    watched.last_message_nanos.store(absl::GetCurrentTimeNanos());
    if (!may_push.ok()) {
      if (grpc::Status s = CheckReaderSize(request); !s.ok()) return s;
    }
    if (request.has_push()) {
      if (!may_push.ok()) return may_push;
      absl::StatusOr<uint64_t> step = ApplyStreamed(request.push(), applied);
      if (!step.ok()) return ToGrpc(step.status());
    }
    if (absl::Status s = AnswerPull(request.pull(), response.mutable_pull());
        !s.ok()) {
      return grpc::Status(
          static_cast<grpc::StatusCode>(s.code()),
          absl::StrCat(s.message(), " (pull refused; ", applied,
                       " batches of this stream were applied)"));
    }
    response.set_batches_applied(applied);
    // A failed write means the client has gone: what it sent is applied.
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

int ParameterService::CloseIdleReaderStreams() {
  const int64_t now = absl::GetCurrentTimeNanos();
  const int64_t timeout =
      absl::ToInt64Nanoseconds(options_.reader_stream_idle_timeout);
  int closed = 0;
  std::lock_guard<std::mutex> lock(reader_streams_mutex_);
  for (ReaderStream* stream : reader_streams_) {
    if (now - stream->last_message_nanos.load() < timeout) continue;
    stream->context->TryCancel();
    // Not again until it has been idle as long once more.
    stream->last_message_nanos.store(now);
    ++closed;
  }
  return closed;
}

absl::StatusOr<uint64_t> ParameterService::ApplyStreamed(
    const adaline::v1::PushRequest& batch, uint64_t& applied) {
  if (!accepting_pushes_.load()) {
    return absl::UnavailableError(
        absl::StrCat("shard ", options_.shard.ToString(), " is shutting down; ",
                     applied, " batches of this stream were applied"));
  }
  absl::StatusOr<uint64_t> step = ApplyBatch(batch);
  if (!step.ok()) {
    return absl::Status(
        step.status().code(),
        absl::StrCat(step.status().message(), " (batch refused; ", applied,
                     " earlier batches of this stream were applied)"));
  }
  ++applied;
  return step;
}

bool ParameterService::ReserveRoom(size_t keys) {
  const std::shared_ptr<Model> model = CurrentModel();
  if (keys == 0) return true;
  const size_t reserved = reserved_keys_.fetch_add(keys) + keys;
  if (model->store->size() + reserved <= model->store->max_keys()) return true;
  reserved_keys_.fetch_sub(keys);
  return false;
}

void ParameterService::KeepNames(const adaline::v1::PushRequest& request,
                                 Model& model) {
  if (request.names_size() == 0) return;
  std::lock_guard<std::mutex> lock(names_mutex_);
  for (const adaline::v1::FeatureName& name : request.names()) {
    if (model.names.Find(name.key()) != nullptr) continue;
    if (name_bytes_ + name.name().size() > options_.max_name_bytes) {
      ++names_dropped_;
      continue;
    }
    model.names.Add(name.key(), name.name());
    name_bytes_ += name.name().size();
  }
}

absl::StatusOr<uint64_t> ParameterService::ApplyBatch(
    const adaline::v1::PushRequest& request) {
  if (options_.read_only) {
    return absl::FailedPreconditionError(
        "this server is a read-only replica (serve --follow): it takes no "
        "pushes");
  }
  const std::shared_ptr<Model> model = CurrentModel();
  if (absl::Status s =
          ValidatePush(request, options_.shard, options_.max_request_keys);
      !s.ok()) {
    return s;
  }
  WeightStore& store = *model->store;
  const auto keys =
      absl::MakeConstSpan(request.keys().data(), request.keys_size());
  absl::StatusOr<uint64_t> step;
  // Room for every key, new or not, is set aside among the concurrent
  // pushes, so none of them can run a limited store out.
  // A store that evicts to make room is never full.
  const size_t room = store.max_keys() == WeightStore::kNoKeyLimit ||
                              store.memory_bounds().evict_when_full
                          ? 0
                          : keys.size();
  if (ReserveRoom(room)) {
    {
      std::shared_lock<std::shared_mutex> lock(apply_mutex_);
      step = PushSteps(request, store);
      if (step.ok()) KeepNames(request, *model);
    }
    if (room > 0) reserved_keys_.fetch_sub(room);
  } else {
    // The batch may not fit. Count its new keys with every other push held
    // off, so that what is counted is what would be inserted.
    std::lock_guard<std::shared_mutex> lock(apply_mutex_);
    // A key in several steps is new once.
    thread_local KeyIndex distinct;
    distinct.Clear();
    for (const uint64_t key : keys) distinct.IndexOf(key);
    const size_t absent = store.CountAbsent(distinct.keys());
    if (!request.drop_new_keys_if_full() &&
        store.size() + absent > store.max_keys()) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "shard ", options_.shard.ToString(), " is full: it holds ",
          store.size(), " keys, at most ", store.max_keys(),
          " (--max-keys), and this batch brings ", absent,
          " new keys; nothing was applied (a push with "
          "drop_new_keys_if_full trains the keys the shard holds)"));
    }
    step = PushSteps(request, store);
    if (step.ok()) KeepNames(request, *model);
  }
  if (step.ok()) {
    total_updates_.fetch_add(request.keys_size(), std::memory_order_relaxed);
  }
  return step;
}

absl::StatusOr<uint64_t> ParameterService::PushSteps(
    const adaline::v1::PushRequest& request, WeightStore& store) {
  // Validated: the sizes add up and every gradient is finite, so the store
  // refuses nothing.
  const uint32_t one_step = static_cast<uint32_t>(request.keys_size());
  const auto step_sizes = request.step_sizes_size() > 0
                              ? absl::MakeConstSpan(request.step_sizes().data(),
                                                    request.step_sizes_size())
                              : absl::MakeConstSpan(&one_step, 1);
  return store.PushSteps(
      absl::MakeConstSpan(request.keys().data(), request.keys_size()),
      absl::MakeConstSpan(request.gradients().data(), request.gradients_size()),
      absl::MakeConstSpan(request.scales().data(), request.scales_size()),
      step_sizes,
      absl::MakeConstSpan(request.step_norms().data(),
                          request.step_norms_size()));
}

grpc::Status ParameterService::Query(grpc::ServerContext* context,
                                     const adaline::v1::QueryRequest* request,
                                     adaline::v1::QueryResponse* response) {
  const std::shared_ptr<Model> model = CurrentModel();
  if (grpc::Status s = AuthorizeRead(context, *request); !s.ok()) return s;
  if (static_cast<size_t>(request->names_size()) > options_.max_request_keys) {
    return grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("query has ", request->names_size(), " names"));
  }
  const int width = model->store->optimizer().state_width();
  for (const std::string& name : request->names()) {
    adaline::v1::FeatureState* feature = response->add_features();
    feature->set_name(name);
    const uint64_t key = FeatureKeyForName(name);
    feature->set_key(key);
    feature->set_owned(options_.shard.Owns(key));
    if (!feature->owned()) continue;
    std::optional<Entry> entry = model->store->Lookup(key);
    feature->set_present(entry.has_value());
    if (!entry.has_value()) continue;
    feature->set_weight(entry->weight);
    for (int s = 0; s < width; ++s) feature->add_state(entry->state[s]);
    feature->set_last_step(entry->last_step);
  }
  return grpc::Status::OK;
}

grpc::Status ParameterService::Predict(
    grpc::ServerContext* context, const adaline::v1::PredictRequest* request,
    adaline::v1::PredictResponse* response) {
  const std::shared_ptr<Model> model = CurrentModel();
  if (grpc::Status s = AuthorizeRead(context, *request); !s.ok()) return s;
  return ToGrpc(AnswerPredict(*request, model->config, options_.shard,
                              options_.max_request_keys, *model->store,
                              response));
}

grpc::Status ParameterService::Stats(grpc::ServerContext* context,
                                     const adaline::v1::StatsRequest*,
                                     adaline::v1::StatsResponse* response) {
  if (grpc::Status s = Authorize(context, Role::kReader); !s.ok()) return s;
  FillStats(response);
  return grpc::Status::OK;
}

void ParameterService::FillStats(adaline::v1::StatsResponse* response) {
  const std::shared_ptr<Model> model = CurrentModel();
  const WeightStore& store = *model->store;
  response->set_step(store.step());
  response->set_unique_keys(store.size());
  response->set_bytes(store.bytes());
  response->set_connected_workers(open_pushes_.load());
  response->set_shard_index(options_.shard.index);
  response->set_shard_count(options_.shard.count);
  *response->mutable_optimizer() = ToProto(model->config.optimizer);
  response->set_loss(std::string(LossName(model->config.loss)));
  response->set_bias(model->config.bias);
  for (std::string& spelling : model->config.interactions.Spellings()) {
    response->add_interactions(std::move(spelling));
  }
  for (absl::string_view name : StateNames(model->config.optimizer)) {
    response->add_state_names(std::string(name));
  }
  response->set_max_keys(
      store.max_keys() == WeightStore::kNoKeyLimit ? 0 : store.max_keys());
  response->set_dropped_new_keys(store.dropped_new_keys());
  response->set_admitted_keys(store.admitted_keys());
  response->set_not_admitted_updates(store.not_admitted_updates());
  response->set_evicted_keys(store.evicted_keys());
  response->set_longest_eviction_pause_seconds(
      absl::ToDoubleSeconds(store.longest_eviction_pause()));
  {
    std::lock_guard<std::mutex> lock(names_mutex_);
    response->set_names(model->names.size());
    response->set_name_bytes(name_bytes_);
    response->set_names_dropped(names_dropped_);
  }
  const uint64_t updates = total_updates_.load();
  response->set_total_updates(updates);
  std::lock_guard<std::mutex> lock(stats_mutex_);
  const absl::Time now = absl::Now();
  const double seconds = absl::ToDoubleSeconds(now - rate_time_);
  if (seconds >= 1) {
    updates_per_second_ =
        static_cast<double>(updates - rate_updates_) / seconds;
    rate_time_ = now;
    rate_updates_ = updates;
  }
  response->set_updates_per_second(updates_per_second_);
  response->set_checkpoints_written(checkpoints_written_);
  response->set_checkpoints_failed(checkpoints_failed_);
  response->set_last_checkpoint(last_checkpoint_);
  response->set_last_checkpoint_error(last_checkpoint_error_);
  if (last_checkpoint_time_.has_value()) {
    response->set_last_checkpoint_unix_seconds(
        absl::ToUnixSeconds(*last_checkpoint_time_));
  }
  response->set_read_only(options_.read_only);
  response->set_model_path(model_path_);
  if (model_loaded_.has_value()) {
    response->set_model_loaded_unix_seconds(
        absl::ToUnixSeconds(*model_loaded_));
  }
}

grpc::Status ParameterService::Checkpoint(
    grpc::ServerContext* context, const adaline::v1::CheckpointRequest*,
    adaline::v1::CheckpointResponse* response) {
  if (grpc::Status s = Authorize(context, Role::kTrainer); !s.ok()) return s;
  absl::StatusOr<WrittenCheckpoint> written = WriteCheckpoint();
  if (!written.ok()) {
    std::fprintf(stderr, "adaline serve: checkpoint failed, serving on: %s\n",
                 std::string(written.status().message()).c_str());
    return ToGrpc(written.status());
  }
  response->set_path(written->path);
  response->set_step(written->step);
  return grpc::Status::OK;
}

absl::StatusOr<ParameterService::WrittenCheckpoint>
ParameterService::WriteCheckpoint() {
  if (options_.read_only) {
    return absl::FailedPreconditionError(
        "this server is a read-only replica (serve --follow): it writes no "
        "checkpoints");
  }
  const std::shared_ptr<Model> model = CurrentModel();
  if (checkpointer_ == nullptr) {
    return absl::FailedPreconditionError(
        "this server has no --checkpoint-dir to write checkpoints to");
  }
  std::lock_guard<std::mutex> serial(checkpoint_mutex_);
  {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    if (last_checkpoint_step_.has_value() &&
        *last_checkpoint_step_ == model->store->step()) {
      return WrittenCheckpoint{last_checkpoint_, *last_checkpoint_step_};
    }
  }
  ModelSnapshot snapshot;
  {
    std::lock_guard<std::shared_mutex> lock(apply_mutex_);
    // Pushes add names under the shared lock: none is adding now.
    snapshot = SnapshotModel(model->config, *model->store,
                             model->names.size() > 0 ? &model->names : nullptr);
    snapshot.shard_index = options_.shard.index;
    snapshot.shard_count = options_.shard.count;
  }
  absl::StatusOr<std::string> path = checkpointer_->Write(snapshot);
  std::lock_guard<std::mutex> lock(stats_mutex_);
  if (!path.ok()) {
    ++checkpoints_failed_;
    last_checkpoint_error_ = std::string(path.status().message());
    return path.status();
  }
  ++checkpoints_written_;
  last_checkpoint_ = *path;
  last_checkpoint_time_ = absl::Now();
  last_checkpoint_step_ = snapshot.step;
  last_checkpoint_error_.clear();
  return WrittenCheckpoint{*std::move(path), snapshot.step};
}

void ParameterService::ReplaceModel(Model model, const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(names_mutex_);
    name_bytes_ = NameBytes(model.names);
  }
  std::atomic_store(&model_, std::make_shared<Model>(std::move(model)));
  NoteModelFile(path);
}

void ParameterService::NoteModelFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  model_path_ = path;
  model_loaded_ = absl::Now();
}

void ParameterService::RememberCheckpoint(const std::string& path,
                                          uint64_t step) {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  last_checkpoint_ = path;
  last_checkpoint_step_ = step;
}

}  // namespace adaline
