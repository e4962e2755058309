// The `adaline` subcommands. Each reads its flags (cli/flags.h), prints what
// it did, and returns the process exit code.
#ifndef ADALINE_CLI_COMMANDS_H_
#define ADALINE_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model_file.h"

namespace adaline {

int RunTrain();
int RunPredict();
int RunInspect();
int RunGenerate();
int RunServe();
int RunWork();
int RunQuery(const std::vector<std::string>& names);
int RunMerge(const std::vector<std::string>& paths);
int RunCluster();

// Shard checkpoints (or any models of disjoint keys and one configuration)
// as one model.
absl::StatusOr<Model> MergeModels(const std::vector<std::string>& paths);

// Prints "adaline: <message>" to stderr and returns the failure exit code.
int Fail(const char* command, const char* message);

}  // namespace adaline

#endif  // ADALINE_CLI_COMMANDS_H_
