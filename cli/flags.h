// The flags of every `adaline` subcommand, defined once (flags.cc) and
// turned into the option structs of the libraries here.
#ifndef ADALINE_CLI_FLAGS_H_
#define ADALINE_CLI_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "core/model_file.h"
#include "data/example_reader.h"
#include "server/tls.h"

ABSL_DECLARE_FLAG(std::vector<std::string>, data);
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(uint64_t, max_bad_lines);
ABSL_DECLARE_FLAG(bool, no_bias);
ABSL_DECLARE_FLAG(std::string, loss);
ABSL_DECLARE_FLAG(std::string, optimizer);
ABSL_DECLARE_FLAG(std::string, lazy);
ABSL_DECLARE_FLAG(std::optional<double>, lr);
ABSL_DECLARE_FLAG(std::optional<double>, eps);
ABSL_DECLARE_FLAG(std::optional<double>, rho);
ABSL_DECLARE_FLAG(double, beta1);
ABSL_DECLARE_FLAG(double, beta2);
ABSL_DECLARE_FLAG(double, momentum);
ABSL_DECLARE_FLAG(bool, nesterov);
ABSL_DECLARE_FLAG(double, initial_accumulator);
ABSL_DECLARE_FLAG(double, momentum_decay);
ABSL_DECLARE_FLAG(double, ftrl_alpha);
ABSL_DECLARE_FLAG(double, ftrl_beta);
ABSL_DECLARE_FLAG(double, l1);
ABSL_DECLARE_FLAG(double, l2);
ABSL_DECLARE_FLAG(uint64_t, passes);
ABSL_DECLARE_FLAG(uint64_t, batch_size);
ABSL_DECLARE_FLAG(uint64_t, holdout_every);
ABSL_DECLARE_FLAG(std::string, model_in);
ABSL_DECLARE_FLAG(std::string, model_out);
ABSL_DECLARE_FLAG(bool, keep_names);
ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::vector<std::string>, feature);
ABSL_DECLARE_FLAG(uint64_t, top);
ABSL_DECLARE_FLAG(bool, all);
ABSL_DECLARE_FLAG(uint64_t, rows);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(std::string, listen);
ABSL_DECLARE_FLAG(std::string, shard);
ABSL_DECLARE_FLAG(std::string, checkpoint_dir);
ABSL_DECLARE_FLAG(double, checkpoint_every);
ABSL_DECLARE_FLAG(uint64_t, max_keys);
ABSL_DECLARE_FLAG(uint64_t, max_batch_keys);
ABSL_DECLARE_FLAG(uint32_t, max_concurrent_streams);
ABSL_DECLARE_FLAG(uint32_t, max_message_bytes);
ABSL_DECLARE_FLAG(std::vector<std::string>, servers);
ABSL_DECLARE_FLAG(std::string, part);
ABSL_DECLARE_FLAG(double, retry_timeout);
ABSL_DECLARE_FLAG(bool, stats);
ABSL_DECLARE_FLAG(bool, checkpoint);
ABSL_DECLARE_FLAG(uint64_t, shards);
ABSL_DECLARE_FLAG(uint64_t, workers);
ABSL_DECLARE_FLAG(std::string, auth_tokens);
ABSL_DECLARE_FLAG(bool, insecure_listen_anywhere);
ABSL_DECLARE_FLAG(std::string, auth_token_file);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, tls_client_ca);

namespace adaline {

// Optimizer, loss and bias from the flags, validated.
absl::StatusOr<ModelConfig> ModelConfigFromFlags();

// --data, --format and --max-bad-lines, for a model of `config`.
absl::StatusOr<ReaderOptions> ReaderOptionsFromFlags(const ModelConfig& config,
                                                     bool require_label);

// --tls-cert, --tls-key, --tls-ca and --tls-client-ca.
TlsFiles TlsFilesFromFlags();

// Whether `command` takes positional arguments (feature names, files).
bool TakesPositionalArguments(absl::string_view command);

// The flags `command` takes, as --flag-name.
std::vector<std::string> FlagsOf(absl::string_view command);

// "usage: adaline COMMAND" and each of its flags with default and help.
absl::StatusOr<std::string> CommandHelp(absl::string_view command);

// Checks that every flag on the command line is one `command` takes, and
// rewrites --flag-name to --flag_name. Returns the arguments for Abseil.
absl::StatusOr<std::vector<char*>> CheckFlagsOf(absl::string_view command,
                                                int argc, char** argv);

}  // namespace adaline

#endif  // ADALINE_CLI_FLAGS_H_
