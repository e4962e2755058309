// adaline: train, serve and query sparse linear models.
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "cli/commands.h"
#include "cli/flags.h"

namespace {

constexpr char kUsage[] =
    "usage: adaline COMMAND [--flags]\n"
    "\n"
    "commands:\n"
    "  train     train a model on local data files\n"
    "  predict   write a model's predictions for data files\n"
    "  inspect   show weights and optimizer state of features of a model\n"
    "  generate  write synthetic movie-rating data with a known true model\n"
    "  serve     run a parameter-server shard\n"
    "  work      train a part of the data against parameter servers\n"
    "  query     show features' weights, or stats, of running servers\n"
    "  merge     merge shard checkpoints into one model file\n"
    "  cluster   run shards and workers on this machine, leave one model\n"
    "  race      train several optimizers side by side on the same data\n"
    "\n"
    "'adaline help COMMAND' or 'adaline COMMAND --help' lists the flags of a\n"
    "command; a flag may be spelled --flag-name or --flag_name.\n"
    "'adaline --version' prints the version.\n";

// The release, as `adaline --version` prints it.
constexpr char kVersion[] = "0.9.0";

// Whether the command's arguments ask for its help.
bool AsksForHelp(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 ||
        std::strcmp(argv[i], "-h") == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // gRPC gives each message of a round (a few hundred KB) buffers of its
  // own; glibc's defaults map those, or trim them from the heap, and hand
  // the pages back at each round, so a shard and its workers spent ~4% of
  // their CPU faulting them in again. Up to 4 MB now stays in the heap.
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 4 << 20);
  // Past a file-size limit, a write should fail with EFBIG and be reported
  // (a server keeps serving), not kill the process.
  std::signal(SIGXFSZ, SIG_IGN);
  absl::SetProgramUsageMessage(kUsage);
  if (argc == 2 && (std::strcmp(argv[1], "--version") == 0 ||
                    std::strcmp(argv[1], "version") == 0)) {
    std::printf("adaline %s\n", kVersion);
    return 0;
  }
  const bool command_help = argc >= 3 && AsksForHelp(argc, argv);
  if ((argc == 3 && std::strcmp(argv[1], "help") == 0) || command_help) {
    absl::StatusOr<std::string> help =
        adaline::CommandHelp(command_help ? argv[1] : argv[2]);
    if (!help.ok()) {
      std::fprintf(stderr, "adaline: %s\n%s",
                   std::string(help.status().message()).c_str(), kUsage);
      return 2;
    }
    std::fputs(help->c_str(), stdout);
    return 0;
  }
  if (argc < 2 || std::strcmp(argv[1], "help") == 0 ||
      std::strcmp(argv[1], "--help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  absl::StatusOr<std::vector<char*>> args =
      adaline::CheckFlagsOf(command, argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "adaline: %s\n",
                 std::string(args.status().message()).c_str());
    if (absl::IsInvalidArgument(args.status()) &&
        args.status().message().rfind("unknown command", 0) == 0) {
      std::fputs(kUsage, stderr);
    }
    return 2;
  }
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(args->size()), args->data());
  const std::vector<std::string> arguments(positional.begin() + 1,
                                           positional.end());
  if (!arguments.empty() && !adaline::TakesPositionalArguments(command)) {
    std::fprintf(stderr, "adaline %s: unexpected argument '%s'\n",
                 command.c_str(), arguments[0].c_str());
    return 2;
  }
  if (command == "train") return adaline::RunTrain();
  if (command == "predict") return adaline::RunPredict();
  if (command == "inspect") return adaline::RunInspect();
  if (command == "generate") return adaline::RunGenerate();
  if (command == "serve") return adaline::RunServe();
  if (command == "work") return adaline::RunWork();
  if (command == "query") return adaline::RunQuery(arguments);
  if (command == "merge") return adaline::RunMerge(arguments);
  if (command == "cluster") return adaline::RunCluster();
  if (command == "race") return adaline::RunRace();
  return 2;
}
