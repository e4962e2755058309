// adaline serve: one parameter-server shard over gRPC, until SIGINT or
// SIGTERM.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "server/shard_server.h"

namespace adaline {

namespace {

// A replica's first model: the newest in the directory that loads, waited
// for if there is none yet.
absl::StatusOr<RestoredModel> FirstModel(ModelFollower& follower) {
  bool said_waiting = false;
  while (true) {
    absl::StatusOr<std::optional<ModelFollower::Loaded>> loaded =
        follower.LoadIfNewer();
    if (!loaded.ok() && absl::IsNotFound(loaded.status())) {
      return loaded.status();  // no such directory
    }
    if (!loaded.ok()) {
      std::fprintf(stderr, "adaline serve: %s\n",
                   std::string(loaded.status().message()).c_str());
    } else if (loaded->has_value()) {
      return RestoredModel{
          std::move((*loaded)->model), std::move((*loaded)->path), {}};
    } else if (!said_waiting) {
      std::fprintf(stderr, "adaline serve: waiting for a model in %s\n",
                   follower.dir().c_str());
      said_waiting = true;
    }
    absl::SleepFor(absl::Seconds(1));
  }
}

// The model to serve: a replica's first model, or a shard's newest
// checkpoint (or a fresh model).
absl::StatusOr<RestoredModel> ModelToServe(ShardServerOptions& options) {
  const std::string follow = absl::GetFlag(FLAGS_follow);
  if (follow.empty()) return ShardServer::Restore(options);
  if (const std::vector<std::string> given = GivenModelFlags();
      !given.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--follow serves each model with its own settings; ",
                     given.front(), " does not apply"));
  }
  if (!options.service.checkpoint_dir.empty()) {
    return absl::InvalidArgumentError(
        "--follow makes a read-only replica, which writes no checkpoints: "
        "drop --checkpoint-dir");
  }
  options.follower = std::make_shared<ModelFollower>(follow);
  absl::StatusOr<RestoredModel> first = FirstModel(*options.follower);
  if (first.ok()) options.config = first->model.config;
  return first;
}

}  // namespace

int RunServe() {
  absl::StatusOr<ShardServerOptions> options = ShardServerOptionsFromFlags();
  if (!options.ok()) return Fail("serve", options.status());
  // Until it serves, SIGTERM stops it at once: nothing can be lost yet.
  absl::StatusOr<RestoredModel> restored = ModelToServe(*options);
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
  // A server's lines say where it is and what it holds; --quiet (a cluster's
  // shards under a quiet cluster) leaves only errors.
  const bool quiet = absl::GetFlag(FLAGS_quiet);
  if (!quiet) {
    if (shard.restored_from().has_value()) {
      const WeightStore& store = *shard.service().model()->store;
      std::printf("%s %s at step %llu, %zu keys\n",
                  shard.options().follower != nullptr ? "serving" : "restored",
                  shard.restored_from()->c_str(),
                  static_cast<unsigned long long>(store.step()), store.size());
    }
    std::printf(
        "adaline serve: %s %s listening on %s, optimizer %s%s\n",
        shard.options().follower != nullptr ? "read-only replica, shard"
                                            : "shard",
        shard.options().service.shard.ToString().c_str(),
        shard.address().c_str(),
        std::string(OptimizerName(shard.options().config.optimizer.kind))
            .c_str(),
        DescribeCrosses(shard.options().config.interactions).c_str());
    std::fflush(stdout);
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  if (!quiet) {
    std::printf("adaline serve: %s, stopping\n", strsignal(signal_number));
  }
  absl::StatusOr<std::optional<ParameterService::WrittenCheckpoint>> written =
      shard.Shutdown();
  if (!written.ok()) return Fail("serve", written.status());
  if (written->has_value() && !quiet) {
    std::printf("final checkpoint %s at step %llu\n", (*written)->path.c_str(),
                static_cast<unsigned long long>((*written)->step));
  }
  return 0;
}

}  // namespace adaline
