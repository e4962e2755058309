// The flags of every `adaline` subcommand, each defined once (flags.cc; the
// optimizer's come from core/hyperparameters.h), which commands take which,
// and their conversion into the option structs of the libraries. Commands
// read flags only through these functions.
//
// Flags are process-wide: read them after absl::ParseCommandLine, from one
// thread.
#ifndef ADALINE_CLI_FLAGS_H_
#define ADALINE_CLI_FLAGS_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "client/client_options.h"
#include "client/remote_parameters.h"
#include "core/hyperparameters.h"
#include "core/model_file.h"
#include "data/example_reader.h"
#include "rpc/sharding.h"
#include "server/shard_server.h"
#include "trainer/local_trainer.h"
#include "trainer/race.h"
#include "trainer/run_log.h"

ABSL_DECLARE_FLAG(std::vector<std::string>, data);
ABSL_DECLARE_FLAG(std::string, metrics_listen);
ABSL_DECLARE_FLAG(std::string, follow);
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(std::string, loss);
ABSL_DECLARE_FLAG(bool, no_bias);
ABSL_DECLARE_FLAG(std::string, model_in);
ABSL_DECLARE_FLAG(std::string, model_out);
ABSL_DECLARE_FLAG(std::string, weights_out);
ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(bool, raw);
ABSL_DECLARE_FLAG(std::string, out_format);
ABSL_DECLARE_FLAG(bool, quiet);
ABSL_DECLARE_FLAG(std::string, metrics_out);
ABSL_DECLARE_FLAG(std::vector<std::string>, feature);
ABSL_DECLARE_FLAG(uint64_t, top);
ABSL_DECLARE_FLAG(bool, all);
ABSL_DECLARE_FLAG(uint64_t, rows);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(std::string, checkpoint_dir);
ABSL_DECLARE_FLAG(uint64_t, max_keys);
ABSL_DECLARE_FLAG(std::vector<std::string>, servers);
ABSL_DECLARE_FLAG(bool, allow_shard_reset);
ABSL_DECLARE_FLAG(bool, stats);
ABSL_DECLARE_FLAG(bool, checkpoint);
ABSL_DECLARE_FLAG(uint64_t, shards);
ABSL_DECLARE_FLAG(std::vector<std::string>, optimizers);
ABSL_DECLARE_FLAG(std::vector<std::string>, watch);
ABSL_DECLARE_FLAG(uint64_t, workers);
ABSL_DECLARE_FLAG(uint64_t, listen_base);
ABSL_DECLARE_FLAG(uint32_t, round_steps);

namespace adaline {

// Optimizer, loss and bias from the flags, validated.
absl::StatusOr<ModelConfig> ModelConfigFromFlags();

// One entrant per optimizer of --optimizers: the model flags, then each
// optimizer's own values of per-optimizer flags (--lr adagrad=0.1,...).
absl::StatusOr<std::vector<RaceEntrant>> RaceEntrantsFromFlags();

// --data, --format and --max-bad-lines, for a model of `config`.
absl::StatusOr<ReaderOptions> ReaderOptionsFromFlags(const ModelConfig& config,
                                                     bool require_label);

// The data and the loop (--passes, --batch-size, --holdout-every,
// --keep-names where the command takes it), validated; `local` for `train`,
// false for a worker (see ChoosePasses).
absl::StatusOr<TrainOptions> TrainOptionsFromFlags(const ModelConfig& config,
                                                   bool local);

// Everything `serve` takes, checked.
absl::StatusOr<ShardServerOptions> ShardServerOptionsFromFlags();

// How long a one-shot command (query) waits for an unreachable shard unless
// --retry-timeout says otherwise; the long default is for workers, which
// should outlast a shard's restart.
inline constexpr absl::Duration kOneShotPatience = absl::Seconds(10);

// --servers, TLS, token, message limit and patience of a client; a
// `one_shot` command's patience is kOneShotPatience unless given.
absl::StatusOr<ClientOptions> ClientOptionsFromFlags(bool one_shot = false);

// Where progress and reports go: standard error, or nowhere (nullptr) with
// --quiet. Standard output carries results alone (predictions, answers), so
// they can be piped.
std::FILE* ReportsFromFlags();

// The run's JSON-lines log of --metrics-out, created now so that a bad path
// fails before the work; nullptr when not asked for.
absl::StatusOr<std::unique_ptr<RunLog>> RunLogFromFlags();

// --part: "I/N", which examples a worker takes.
absl::StatusOr<ShardSpec> WorkerPartFromFlags();

// "flag_name" for "flag-name" or "flag_name": the one spelling normaliser.
std::string FlagName(absl::string_view spelled);

// Whether `command` takes positional arguments (feature names, files).
bool TakesPositionalArguments(absl::string_view command);

// The flags `command` takes, as --flag-name, sorted.
std::vector<std::string> FlagsOf(absl::string_view command);

// "usage: adaline COMMAND" and each of its flags with default and help,
// under headings: input, model, optimizer, training, output, ...
absl::StatusOr<std::string> CommandHelp(absl::string_view command);

// The heading `flag` (as flag_name) is listed under in help; "" for none.
std::string FlagGroupOf(absl::string_view flag);

// Checks that every flag on the command line is one `command` takes, and
// rewrites --flag-name to --flag_name. Returns the arguments for Abseil.
// Remembers which flags were given: a switch given as its default still
// counts (--nonormalized where the optimizer defaults it on).
absl::StatusOr<std::vector<char*>> CheckFlagsOf(absl::string_view command,
                                                int argc, char** argv);
// --max-keys as a store takes it (WeightStore::kNoKeyLimit for 0).
size_t MaxKeysFromFlags();
// --admit-after, --admission-filter-bytes, --evict-idle-steps and
// --evict-when-full, checked.
absl::StatusOr<MemoryBounds> MemoryBoundsFromFlags();

// Forgets the flags CheckFlagsOf saw, for tests that set flags themselves.
void ForgetGivenFlags();
// The flags that describe a model (loss, bias, crosses, optimizer and its
// hyperparameters) given on the command line, as --flag-name.
std::vector<std::string> GivenModelFlags();

// "--name=value" for each flag of `command` given or set to other than its
// default, but those in `except` (as --flag-name): what `cluster` forwards
// to the processes it starts.
std::vector<std::string> ForwardedFlags(absl::string_view command,
                                        const std::vector<std::string>& except);

}  // namespace adaline

#endif  // ADALINE_CLI_FLAGS_H_
