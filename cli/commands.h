// The `adaline` subcommands. Each reads its flags (cli/flags.h), calls the
// libraries, prints results on standard output and what it did on standard
// error, and returns the process exit code.
#ifndef ADALINE_CLI_COMMANDS_H_
#define ADALINE_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "core/interactions.h"
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
int RunRace();

// Prints "adaline COMMAND: <message>" to stderr and returns the failure
// exit code.
int Fail(const char* command, const char* message);
int Fail(const char* command, const absl::Status& status);

// Prints to where reports go (standard error), or nowhere with --quiet.
void Report(const char* format, ...) ABSL_PRINTF_ATTRIBUTE(1, 2);

// Writes --weights-out, if given, from `store`: prints where and how many
// weights it holds.
absl::Status SaveWeightsIfAsked(const ModelConfig& config,
                                const WeightStore& store,
                                const FeatureNames* names);

// OK if a file can be created at `path` (empty: nothing to write); else
// why not, before any long work starts.
absl::Status CheckWritableDestination(const std::string& path);

// ", crosses ug,um" for a start line ("" without crosses), naming the
// crosses dropped as permutations of earlier ones.
std::string DescribeCrosses(const Interactions& interactions);

}  // namespace adaline

#endif  // ADALINE_CLI_COMMANDS_H_
