#include "server/shard_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/auth_metadata_processor.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/checkpointer.h"

namespace adaline {
namespace {

absl::Status CheckOptions(const ShardServerOptions& options) {
  if (options.service.max_push_streams == 0 || options.max_message_bytes <= 0) {
    return absl::InvalidArgumentError(
        "--max-concurrent-streams must be > 0 and --max-message-bytes in "
        "[1, 2^31)");
  }
  if (options.checkpoint_every < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--checkpoint-every must be >= 0");
  }
  if (options.service.tokens == nullptr && !options.listen.empty() &&
      !IsLoopbackAddress(options.listen) && !options.insecure_listen_anywhere) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing to listen on ", options.listen,
        " without --auth-tokens: anyone who reaches it could change the "
        "model; pass --insecure-listen-anywhere to allow it"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLoopbackAddress(absl::string_view address) {
  const absl::string_view host = address.substr(0, address.rfind(':'));
  return host == "localhost" || host == "[::1]" ||
         absl::StartsWith(host, "127.") || absl::StartsWith(host, "unix:");
}

namespace {

// Refuses a call whose token is unknown as soon as its metadata arrives.
// Roles are left to the handlers, which know what each call needs.
class TokenCheck : public grpc::AuthMetadataProcessor {
 public:
  explicit TokenCheck(std::shared_ptr<const TokenTable> tokens)
      : tokens_(std::move(tokens)) {}

  // A lookup in a small table: no need for another thread.
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext*,
                       OutputMetadata*, OutputMetadata*) override {
    return ToGrpc(tokens_->RoleOfCall(AuthorizationOf(metadata)).status());
  }

 private:
  std::shared_ptr<const TokenTable> tokens_;
};

}  // namespace

ShardServer::ShardServer(ShardServerOptions options)
    : options_(std::move(options)) {}

ShardServer::~ShardServer() {
  // Calls in flight, such as a worker's open stream, are cancelled: without
  // a deadline gRPC would wait for them forever.
  if (!shut_down_) Stop(absl::ZeroDuration());
}

void ShardServer::Stop(absl::Duration grace) {
  shut_down_ = true;
  stopping_.Notify();
  if (checkpoints_.joinable()) checkpoints_.join();
  if (follow_.joinable()) follow_.join();
  if (housekeeping_.joinable()) housekeeping_.join();
  if (server_ == nullptr) return;
  service_->StopPushes();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
}

absl::StatusOr<RestoredModel> ShardServer::Restore(
    const ShardServerOptions& options) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  RestoredModel restored;
  const std::string& directory = options.service.checkpoint_dir;
  if (!directory.empty()) {
    absl::StatusOr<DirectoryLock> lock = DirectoryLock::Acquire(directory);
    if (!lock.ok()) return lock.status();
    restored.lock = *std::move(lock);
    absl::StatusOr<std::optional<Checkpointer::Restored>> newest =
        Checkpointer(directory).RestoreNewest(
            options.max_keys, options.start_empty_if_unreadable);
    if (!newest.ok()) return newest.status();
    if (newest->has_value()) {
      const std::string difference =
          ConfigDifference(options.config, (*newest)->model.config);
      if (!difference.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("the checkpoint in ", directory,
                         " does not match the flags: ", difference));
      }
      restored.model = std::move((*newest)->model);
      restored.path = std::move((*newest)->path);
    }
  }
  if (restored.model.store == nullptr) {
    restored.model.config = options.config;
    restored.model.store = std::make_unique<WeightStore>(
        options.config.optimizer, options.max_keys);
  }
  return restored;
}

absl::StatusOr<std::unique_ptr<ShardServer>> ShardServer::Start(
    ShardServerOptions options) {
  absl::StatusOr<RestoredModel> restored = Restore(options);
  if (!restored.ok()) return restored.status();
  return Start(std::move(options), *std::move(restored));
}

absl::StatusOr<std::unique_ptr<ShardServer>> ShardServer::Start(
    ShardServerOptions options, RestoredModel restored) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  if (options.follower != nullptr) options.service.read_only = true;
  std::unique_ptr<ShardServer> server(new ShardServer(std::move(options)));
  server->restored_from_ = std::move(restored.path);
  server->directory_lock_ = std::move(restored.lock);
  if (absl::Status s = server->Build(std::move(restored.model)); !s.ok()) {
    return s;
  }
  return server;
}

absl::Status ShardServer::Build(Model model) {
  const uint64_t step = model.store != nullptr ? model.store->step() : 0;
  if (model.store != nullptr) model.store->SetMemoryBounds(options_.bounds);
  service_ =
      std::make_unique<ParameterService>(std::move(model), options_.service);
  // Until it trains, the model is the checkpoint it came from.
  if (restored_from_.has_value()) {
    if (options_.follower != nullptr) {
      service_->NoteModelFile(*restored_from_);
    } else {
      service_->RememberCheckpoint(*restored_from_, step);
    }
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!options_.listen.empty()) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        MakeServerCredentials(options_.tls);
    if (!credentials.ok()) return credentials.status();
    // With TLS, tokens are checked on a call's metadata, before its message
    // is read: a stranger's large request is never buffered. (gRPC offers
    // this hook on secure ports only; plaintext calls are checked by the
    // handlers, after.)
    if (!options_.tls.certificate.empty() &&
        options_.service.tokens != nullptr) {
      (*credentials)
          ->SetAuthMetadataProcessor(
              std::make_shared<TokenCheck>(options_.service.tokens));
    }
    builder.AddListeningPort(options_.listen, *credentials, &port_);
  }
  // Without this, gRPC lets a second server bind a port in use, and clients
  // are split between two models.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  // Requests in flight share this much memory; past it gRPC refuses them
  // (RESOURCE_EXHAUSTED) instead of buffering them all: a flood of large
  // requests, even unauthenticated ones, cannot exhaust the server.
  if (options_.max_request_memory > 0) {
    grpc::ResourceQuota quota("adaline-shard");
    quota.Resize(options_.max_request_memory);
    builder.SetResourceQuota(quota);
  }
  builder.SetMaxSendMessageSize(options_.max_message_bytes);
  // One client connection may carry every push stream the server takes,
  // plus a few pulls beside them: a lower cap would block those pulls.
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONCURRENT_STREAMS,
      static_cast<int>(
          std::min<uint32_t>(options_.service.max_push_streams, 1 << 20) + 16));
  builder.RegisterService(service_.get());
  metrics_ = std::make_unique<ShardMetrics>(service_.get());
  builder.experimental().SetInterceptorCreators(metrics_->Interceptors());
  // Each worker's push stream holds a thread for its whole life; keep
  // pollers free for pulls.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 4);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 8);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || (!options_.listen.empty() && port_ == 0)) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options_.listen,
        " (the address is in use, is not this host's, or needs privileges)"));
  }
  if (!options_.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsExporter>> exporter =
        MetricsExporter::Start(options_.metrics_listen);
    if (!exporter.ok()) {
      server_->Shutdown();
      server_.reset();
      return exporter.status();
    }
    exporter_ = *std::move(exporter);
    exporter_->Register(metrics_->calls());
    exporter_->Register(metrics_->state());
  }
  if (options_.service.tokens != nullptr && options_.tls.certificate.empty() &&
      !options_.listen.empty() && !IsLoopbackAddress(options_.listen) &&
      options_.log != nullptr) {
    std::fprintf(options_.log,
                 "adaline serve: warning: tokens travel in plaintext on %s: "
                 "anyone on the network path can read and reuse them; serve "
                 "with --tls-cert and --tls-key\n",
                 options_.listen.c_str());
    std::fflush(options_.log);
  }
  if (!options_.service.checkpoint_dir.empty() &&
      options_.checkpoint_every > absl::ZeroDuration()) {
    checkpoints_ = std::thread([this] { WriteCheckpointsPeriodically(); });
  }
  if (options_.follower != nullptr) {
    follow_ = std::thread([this] { FollowModels(); });
  }
  if (options_.housekeeping_every > absl::ZeroDuration()) {
    housekeeping_ = std::thread([this] { KeepHouse(); });
  }
  return absl::OkStatus();
}

void ShardServer::WriteCheckpointsPeriodically() {
  while (!stopping_.WaitForNotificationWithTimeout(options_.checkpoint_every)) {
    auto written = service_->WriteCheckpoint();
    if (!written.ok() && options_.log != nullptr) {
      std::fprintf(options_.log,
                   "adaline serve: checkpoint failed, serving on: %s\n",
                   std::string(written.status().message()).c_str());
    }
  }
}

void ShardServer::KeepHouse() {
  absl::Time next_status = absl::Now() + options_.status_every;
  while (
      !stopping_.WaitForNotificationWithTimeout(options_.housekeeping_every)) {
    const int closed = service_->CloseIdleReaderStreams();
    if (closed > 0 && options_.log != nullptr) {
      std::fprintf(
          options_.log, "adaline serve: ended %d reader stream%s idle for %s\n",
          closed, closed == 1 ? "" : "s",
          absl::FormatDuration(options_.service.reader_stream_idle_timeout)
              .c_str());
    }
    if (options_.status_every <= absl::ZeroDuration() ||
        options_.log == nullptr || absl::Now() < next_status) {
      continue;
    }
    next_status = absl::Now() + options_.status_every;
    adaline::v1::StatsResponse stats;
    service_->FillStats(&stats);
    std::fprintf(options_.log,
                 "adaline serve: step %llu, %llu keys, %.0f updates/s, %u "
                 "workers\n",
                 static_cast<unsigned long long>(stats.step()),
                 static_cast<unsigned long long>(stats.unique_keys()),
                 stats.updates_per_second(), stats.connected_workers());
    std::fflush(options_.log);
  }
}

void ShardServer::FollowModels() {
  while (!stopping_.WaitForNotificationWithTimeout(options_.follow_every)) {
    absl::StatusOr<std::optional<ModelFollower::Loaded>> loaded =
        options_.follower->LoadIfNewer();
    if (!loaded.ok()) {
      if (options_.log != nullptr) {
        std::fprintf(options_.log, "adaline serve: %s; serving on\n",
                     std::string(loaded.status().message()).c_str());
        std::fflush(options_.log);
      }
      continue;
    }
    if (!loaded->has_value()) continue;
    const uint64_t step = (*loaded)->model.store->step();
    const size_t keys = (*loaded)->model.store->size();
    service_->ReplaceModel(std::move((*loaded)->model), (*loaded)->path);
    if (options_.log != nullptr) {
      std::fprintf(
          options_.log, "adaline serve: now serving %s, step %llu, %zu keys\n",
          (*loaded)->path.c_str(), static_cast<unsigned long long>(step), keys);
      std::fflush(options_.log);
    }
  }
}

int ShardServer::metrics_port() const {
  return exporter_ != nullptr ? exporter_->port() : 0;
}

std::string ShardServer::address() const {
  if (port_ == 0) return "";
  const std::string host =
      options_.listen.substr(0, options_.listen.rfind(':'));
  return absl::StrCat(host, ":", port_);
}

std::shared_ptr<grpc::Channel> ShardServer::InProcessChannel() {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(options_.max_message_bytes);
  arguments.SetMaxSendMessageSize(options_.max_message_bytes);
  return server_->InProcessChannel(arguments);
}

absl::StatusOr<std::optional<ParameterService::WrittenCheckpoint>>
ShardServer::Shutdown(absl::Duration grace) {
  Stop(grace);
  if (options_.service.checkpoint_dir.empty()) {
    return std::optional<ParameterService::WrittenCheckpoint>();
  }
  absl::StatusOr<ParameterService::WrittenCheckpoint> written =
      service_->WriteCheckpoint();
  if (!written.ok()) return written.status();
  return std::optional<ParameterService::WrittenCheckpoint>(*written);
}

}  // namespace adaline
