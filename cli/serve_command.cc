// adaline serve: one parameter-server shard over gRPC.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "server/auth.h"
#include "server/checkpointer.h"
#include "server/parameter_service.h"

namespace adaline {
namespace {

int FailWith(const absl::Status& status) {
  return Fail("serve", std::string(status.message()).c_str());
}

// Whether `address` (host:port) is on this machine only.
bool IsLoopback(absl::string_view address) {
  const absl::string_view host = address.substr(0, address.rfind(':'));
  return host == "localhost" || host == "[::1]" ||
         absl::StartsWith(host, "127.") || absl::StartsWith(host, "unix:");
}

}  // namespace

int RunServe() {
  absl::StatusOr<ModelConfig> config = ModelConfigFromFlags();
  if (!config.ok()) return FailWith(config.status());
  absl::StatusOr<ShardSpec> shard =
      ParseShardSpec(absl::GetFlag(FLAGS_shard), "shard");
  if (!shard.ok()) return FailWith(shard.status());
  ServiceOptions options;
  options.shard = *shard;
  options.checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir);
  options.max_request_keys = absl::GetFlag(FLAGS_max_batch_keys);
  options.max_push_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  const uint32_t max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  if (options.max_push_streams == 0 || max_message_bytes == 0 ||
      max_message_bytes > uint32_t{INT32_MAX}) {
    return Fail("serve",
                "--max-concurrent-streams must be > 0 and --max-message-bytes "
                "in [1, 2^31)");
  }
  const uint64_t max_keys = absl::GetFlag(FLAGS_max_keys);
  const size_t key_limit = max_keys == 0 ? WeightStore::kNoKeyLimit : max_keys;
  const std::string tokens_path = absl::GetFlag(FLAGS_auth_tokens);
  if (!tokens_path.empty()) {
    absl::StatusOr<TokenTable> tokens = TokenTable::Load(tokens_path);
    if (!tokens.ok()) return FailWith(tokens.status());
    options.tokens = std::make_shared<const TokenTable>(*std::move(tokens));
  } else if (!IsLoopback(absl::GetFlag(FLAGS_listen)) &&
             !absl::GetFlag(FLAGS_insecure_listen_anywhere)) {
    return Fail(
        "serve",
        absl::StrCat("refusing to listen on ", absl::GetFlag(FLAGS_listen),
                     " without --auth-tokens: anyone who reaches it could "
                     "change the model; pass --insecure-listen-anywhere to "
                     "allow it")
            .c_str());
  }
  const double checkpoint_every = absl::GetFlag(FLAGS_checkpoint_every);
  if (!(checkpoint_every >= 0))
    return Fail("serve", "--checkpoint-every must be >= 0");

  // Signals go to the main thread's sigwait; every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Model model;
  if (!options.checkpoint_dir.empty()) {
    Checkpointer checkpointer(options.checkpoint_dir);
    absl::StatusOr<std::optional<Checkpointer::Restored>> restored =
        checkpointer.RestoreNewest(key_limit);
    if (!restored.ok()) return FailWith(restored.status());
    if (restored->has_value()) {
      model = std::move((*restored)->model);
      const std::string difference = ConfigDifference(*config, model.config);
      if (!difference.empty()) {
        return Fail("serve",
                    absl::StrCat("the checkpoint in ", options.checkpoint_dir,
                                 " does not match the flags: ", difference)
                        .c_str());
      }
      std::printf("restored %s at step %llu, %zu keys\n",
                  (*restored)->path.c_str(),
                  static_cast<unsigned long long>(model.store->step()),
                  model.store->size());
    }
  }
  if (model.store == nullptr) {
    model.config = *config;
    model.store = std::make_unique<WeightStore>(config->optimizer, key_limit);
  }
  ParameterService service(std::move(model), options);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  const std::string listen = absl::GetFlag(FLAGS_listen);
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(TlsFilesFromFlags());
  if (!credentials.ok()) return FailWith(credentials.status());
  builder.AddListeningPort(listen, *credentials, &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(max_message_bytes));
  // One client connection may carry every push stream the server takes,
  // plus a few pulls beside them: a lower cap would block those pulls.
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONCURRENT_STREAMS,
      static_cast<int>(std::min<uint32_t>(options.max_push_streams, 1 << 20) +
                       16));
  builder.RegisterService(&service);
  // Each worker's push stream holds a thread for its whole life; keep
  // pollers free for pulls.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 4);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 8);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Fail("serve", absl::StrCat("cannot listen on ", listen).c_str());
  }
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::printf("adaline serve: shard %s listening on %s:%d, optimizer %s\n",
              shard->ToString().c_str(), host.c_str(), port,
              std::string(OptimizerName(config->optimizer.kind)).c_str());
  std::fflush(stdout);

  absl::Notification stopping;
  std::thread checkpoints;
  if (!options.checkpoint_dir.empty() && checkpoint_every > 0) {
    checkpoints = std::thread([&] {
      while (!stopping.WaitForNotificationWithTimeout(
          absl::Seconds(checkpoint_every))) {
        auto written = service.WriteCheckpoint();
        if (!written.ok()) {
          std::fprintf(stderr,
                       "adaline serve: checkpoint failed, serving on: %s\n",
                       std::string(written.status().message()).c_str());
        }
      }
    });
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::printf("adaline serve: %s, stopping\n", strsignal(signal_number));
  stopping.Notify();
  if (checkpoints.joinable()) checkpoints.join();
  service.StopPushes();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (!options.checkpoint_dir.empty()) {
    auto written = service.WriteCheckpoint();
    if (!written.ok()) return FailWith(written.status());
    std::printf("final checkpoint %s at step %llu\n", written->path.c_str(),
                static_cast<unsigned long long>(written->step));
  }
  return 0;
}

}  // namespace adaline
