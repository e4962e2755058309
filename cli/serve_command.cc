// adaline serve: one parameter-server shard over gRPC, until SIGINT or
// SIGTERM.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"
#include "cli/flags.h"
#include "server/shard_server.h"

namespace adaline {

int RunServe() {
  absl::StatusOr<ShardServerOptions> options = ShardServerOptionsFromFlags();
  if (!options.ok()) return Fail("serve", options.status());
  // Until it serves, SIGTERM stops it at once: nothing can be lost yet.
  absl::StatusOr<RestoredModel> restored = ShardServer::Restore(*options);
  if (!restored.ok()) return Fail("serve", restored.status());
  // Then signals go to this thread's sigwait: block them before gRPC starts
  // its threads, which inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<ShardServer>> server =
      ShardServer::Start(*std::move(options), *std::move(restored));
  if (!server.ok()) return Fail("serve", server.status());
  ShardServer& shard = **server;
  if (shard.restored_from().has_value()) {
    const WeightStore& store = *shard.service().model().store;
    std::printf("restored %s at step %llu, %zu keys\n",
                shard.restored_from()->c_str(),
                static_cast<unsigned long long>(store.step()), store.size());
  }
  std::printf(
      "adaline serve: shard %s listening on %s, optimizer %s%s\n",
      shard.options().service.shard.ToString().c_str(), shard.address().c_str(),
      std::string(OptimizerName(shard.options().config.optimizer.kind)).c_str(),
      DescribeCrosses(shard.options().config.interactions).c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::printf("adaline serve: %s, stopping\n", strsignal(signal_number));
  absl::StatusOr<std::optional<ParameterService::WrittenCheckpoint>> written =
      shard.Shutdown();
  if (!written.ok()) return Fail("serve", written.status());
  if (written->has_value()) {
    std::printf("final checkpoint %s at step %llu\n", (*written)->path.c_str(),
                static_cast<unsigned long long>((*written)->step));
  }
  return 0;
}

}  // namespace adaline
