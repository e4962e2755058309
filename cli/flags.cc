#include "cli/flags.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "rpc/auth.h"
#include "rpc/tls.h"
#include "trainer/auto_passes.h"

ABSL_FLAG(std::vector<std::string>, data, {},
          "comma-separated data files, read in order; '-' is standard input, "
          "'.gz' files are decompressed");
ABSL_FLAG(std::string, format, "",
          "data format, vw or libsvm (guessed from each file name when unset: "
          ".libsvm/.svm/.svmlight are LIBSVM, anything else VW); for inspect "
          "--all, the output format: text or tsv");
ABSL_FLAG(uint64_t, max_bad_lines, adaline::ReaderOptions().max_bad_lines,
          "malformed data lines to skip (and count) before stopping");
ABSL_FLAG(int32_t, threads, adaline::ReaderOptions().threads,
          "threads that parse the data (0: one per core but the learner's); "
          "examples reach the learner in file order, so the model is the "
          "same for any value");
ABSL_FLAG(bool, no_bias, false, "do not add the bias feature ^__bias__");
ABSL_FLAG(std::vector<std::string>, interactions, {},
          "feature crosses in VW's syntax: 'ug' crosses every namespace "
          "starting with u with every one starting with g, 'ugm' makes "
          "triples, ':' is any namespace, \\x20 the default one; repeat the "
          "flag or separate with commas");
ABSL_FLAG(std::vector<std::string>, q, {},
          "VW's -q: --interactions of exactly two letters");
ABSL_FLAG(std::vector<std::string>, cubic, {},
          "VW's --cubic: --interactions of exactly three letters");
ABSL_FLAG(std::string, loss,
          std::string(adaline::LossName(adaline::ModelConfig().loss)),
          "logistic, squared or hinge");
ABSL_FLAG(std::string, optimizer,
          std::string(adaline::OptimizerName(adaline::OptimizerOptions().kind)),
          "sgd momentum adagrad rmsprop adadelta adam amsgrad nadam ftrl");
ABSL_FLAG(std::string, lazy,
          std::string(adaline::LazyModeName(adaline::OptimizerOptions().lazy)),
          "exact: catch up missed steps of sparse coordinates (sparse == "
          "dense training); skip: ignore them, like LazyAdam");

// One flag per optimizer hyperparameter: a real-valued one is unset unless
// given (each optimizer has its own default), a boolean one is a switch.
// `adaline help` shows the table's full help text with the defaults.
template <typename T>
using HyperparameterFlag =
    std::conditional_t<std::is_same_v<T, bool>, bool, std::optional<T>>;
#define ADALINE_HYPERPARAMETER_FLAG(flag, field, type, low, low_inclusive, \
                                    high, high_inclusive, used_by, help)   \
  ABSL_FLAG(HyperparameterFlag<type>, flag, HyperparameterFlag<type>{}, help);
ADALINE_HYPERPARAMETERS(ADALINE_HYPERPARAMETER_FLAG)
#undef ADALINE_HYPERPARAMETER_FLAG

ABSL_FLAG(uint64_t, passes, adaline::kAutoPasses,
          "passes over the data; 0: chosen by the data's size (small data "
          "gets up to 100, with a holdout and early stopping; large data, "
          "and a worker's, one)");
ABSL_FLAG(std::string, cache, "",
          "binary example cache: written by the first pass, read by later "
          "ones and by later runs on the same files and settings (rebuilt "
          "if stale); with --passes > 1 a temporary one is used if unset");
ABSL_FLAG(uint64_t, early_stop, adaline::TrainOptions().early_stop,
          "stop once the holdout loss has not improved for this many passes "
          "and keep the best pass's model (needs --holdout-every); 0 never");
ABSL_FLAG(uint64_t, batch_size, adaline::TrainOptions().batch_size,
          "examples per optimizer step; the step's gradient is their mean");
ABSL_FLAG(uint32_t, round_steps, adaline::RemoteParameters::kDefaultRoundSteps,
          "optimizer steps a worker takes per round trip to the servers: it "
          "applies them to its own copy of the weights, so each example sees "
          "the ones before it, and sends them together (1: a round trip per "
          "step)");
ABSL_FLAG(uint64_t, holdout_every, adaline::TrainOptions().holdout_every,
          "hold out every K-th example of each pass (0: none) and report "
          "its loss after each pass");
ABSL_FLAG(std::string, model_in, "", "resume from this model file");
ABSL_FLAG(std::string, model_out, "", "write the trained model here");
ABSL_FLAG(std::string, weights_out, "",
          "also write the weights alone here, for prediction: no optimizer "
          "state and no zero weights (small with --l1); cannot resume");
ABSL_FLAG(bool, keep_names, false,
          "store feature names in the model (for inspect --top/--all); a "
          "worker sends each name once to the shard that keeps it");
ABSL_FLAG(uint64_t, max_name_bytes, adaline::ServiceOptions().max_name_bytes,
          "bytes of feature names a shard keeps from workers' --keep-names; "
          "past it names are dropped (and counted in query --stats)");
ABSL_FLAG(std::string, model, "", "model file to read");
ABSL_FLAG(bool, quiet, false,
          "print no progress and no report (errors still go to standard "
          "error)");
ABSL_FLAG(std::string, metrics_out, "",
          "write every progress row and the final report as JSON lines to "
          "this file ('-': standard output); fields in the README");
ABSL_FLAG(std::string, out, "-", "output file; '-' is standard output");
ABSL_FLAG(std::string, out_format, "",
          "predictions as text (VW's 'prediction tag' lines), csv or jsonl "
          "(unset: from --out's name, .csv or .jsonl, else text)");
ABSL_FLAG(bool, raw, false,
          "predict margins (the linear score), not probabilities");
ABSL_FLAG(std::vector<std::string>, feature, {},
          "comma-separated feature names, namespace^name");
ABSL_FLAG(uint64_t, top, 0, "show the K features of largest |weight|");
ABSL_FLAG(bool, all, false, "show every named feature");
ABSL_FLAG(uint64_t, rows, 100000, "rows to generate");
ABSL_FLAG(uint64_t, seed, 1, "random seed");
ABSL_FLAG(std::string, listen, "127.0.0.1:7070",
          "address the server listens on, host:port (port 0 picks a free one)");
ABSL_FLAG(
    std::string, shard, "0/1",
    "I/N: this server is shard I of N and owns the keys k with k mod N == I");
ABSL_FLAG(std::string, checkpoint_dir, "",
          "directory of checkpoints: restored from at start, written to "
          "periodically and at shutdown");
ABSL_FLAG(std::string, follow, "",
          "serve as a read-only replica of the newest model file that "
          "appears in this directory (checkpoints or merged models), swapped "
          "in whole as new ones land");
ABSL_FLAG(bool, start_empty, false,
          "start with an empty model when --checkpoint-dir holds checkpoints "
          "none of which can be read (they are set aside as *.damaged); "
          "without it such a shard refuses to start");
ABSL_FLAG(double, checkpoint_every, 60,
          "seconds between checkpoints (0: only at shutdown and on request)");
ABSL_FLAG(uint64_t, max_keys, 0,
          "keys the server's store may hold; new keys past it are refused "
          "(0: no limit)");
ABSL_FLAG(uint32_t, admit_after, adaline::MemoryBounds().admit_after,
          "a new key gets weights and state only in the K-th pushed step "
          "that has it; before, it reads 0 and its gradients are dropped "
          "(0 or 1: at once)");
ABSL_FLAG(uint64_t, admission_filter_bytes,
          adaline::MemoryBounds().admission_filter_bytes,
          "memory of the filter that counts keys not yet admitted");
ABSL_FLAG(uint64_t, evict_idle_steps, adaline::MemoryBounds().evict_idle_steps,
          "remove keys not updated for this many steps (0: never)");
ABSL_FLAG(bool, evict_when_full, adaline::MemoryBounds().evict_when_full,
          "at --max-keys, evict the least recently updated keys instead of "
          "dropping new ones");
ABSL_FLAG(uint64_t, max_reader_message_bytes,
          adaline::ServiceOptions().max_reader_message_bytes,
          "the largest request a reader token may send");
ABSL_FLAG(uint64_t, max_request_memory,
          adaline::ShardServerOptions().max_request_memory,
          "bytes all requests in flight may take together; past it requests "
          "are refused with RESOURCE_EXHAUSTED (0: no bound)");
ABSL_FLAG(uint64_t, max_batch_keys, adaline::ServiceOptions{}.max_request_keys,
          "keys in one request, at most");
ABSL_FLAG(uint32_t, max_concurrent_streams,
          adaline::ServiceOptions{}.max_push_streams,
          "worker streams (Exchange and Push) a server takes at once, and "
          "concurrent calls on one connection");
ABSL_FLAG(uint32_t, max_message_bytes, adaline::kDefaultMaxMessageBytes,
          "bytes of one request or response, at most (server and client)");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port to serve Prometheus metrics on over HTTP (GET /metrics); "
          "empty for none");
ABSL_FLAG(std::vector<std::string>, servers, {},
          "comma-separated server addresses, shard I at position I");
ABSL_FLAG(std::string, part, "0/1",
          "I/N: this worker takes examples i of the data with i mod N == I");
ABSL_FLAG(double, retry_timeout,
          absl::ToDoubleSeconds(adaline::RetryPolicy{}.retry_timeout),
          "seconds to wait for an unreachable shard before giving up "
          "(query: 10 unless given)");
ABSL_FLAG(bool, allow_shard_reset, false,
          "train on (work) or merge (merge) when a shard's step went back: it "
          "restarted from an older checkpoint or none and lost training");
ABSL_FLAG(bool, stats, false, "print each shard's stats");
ABSL_FLAG(bool, checkpoint, false,
          "ask every shard to write a checkpoint now (needs a trainer token)");
ABSL_FLAG(std::vector<std::string>, optimizers,
          std::vector<std::string>({"sgd", "adagrad", "rmsprop", "adam",
                                    "ftrl"}),
          "the optimizers that race, each training its own model on the same "
          "examples; a hyperparameter flag may give each its own value, as "
          "in --lr adagrad=0.1,adam=0.01");
ABSL_FLAG(std::vector<std::string>, watch, {},
          "features (namespace^name) whose weights the race follows");
ABSL_FLAG(uint64_t, shards, 1, "parameter-server shards to start");
ABSL_FLAG(uint64_t, workers, 2, "workers to start");
ABSL_FLAG(uint64_t, listen_base, 0,
          "shard I listens on 127.0.0.1:(PORT+I) (0: free ports, printed)");
ABSL_FLAG(
    std::string, auth_tokens, "",
    "file of 'trainer TOKEN' and 'reader TOKEN' lines; clients must send "
    "one of these tokens (without it, the server listens on loopback only)");
ABSL_FLAG(bool, insecure_listen_anywhere, false,
          "allow listening beyond loopback without --auth-tokens");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: the server's (serve), or the client's for "
          "mutual TLS (work, query)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls-cert");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA certificates that the server's certificate must chain to; "
          "clients use TLS when it is set");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates that client certificates must chain to: "
          "mutual TLS, clients without a valid certificate are refused");
ABSL_FLAG(std::string, auth_token_file, "",
          "file whose first line is this client's token (default: the "
          "ADALINE_TOKEN environment variable)");

namespace adaline {
namespace {

using FlagList = std::vector<absl::string_view>;

// The flags on the command line (as flag_name; --nofoo as foo), which
// CheckFlagsOf records: Debian's Abseil does not say which flags were set.
absl::flat_hash_set<std::string>& GivenFlags() {
  static auto* given = new absl::flat_hash_set<std::string>;
  return *given;
}

// Hyperparameter flags given to `race` one value per optimizer
// ("adagrad=0.1,adam=0.01"), by flag name. Abseil never sees them: the
// flags' type is a number.
absl::flat_hash_map<const Hyperparameter*, std::string>& PerOptimizerValues() {
  static auto* values =
      new absl::flat_hash_map<const Hyperparameter*, std::string>;
  return *values;
}

FlagList Join(std::initializer_list<FlagList> groups) {
  FlagList all;
  for (const FlagList& group : groups)
    all.insert(all.end(), group.begin(), group.end());
  return all;
}

FlagList Without(FlagList flags, absl::string_view unwanted) {
  flags.erase(std::remove(flags.begin(), flags.end(), unwanted), flags.end());
  return flags;
}

// What a model is: its loss, bias, crosses and optimizer with every
// hyperparameter.
const FlagList& ModelFlags() {
  static const auto* flags = [] {
    auto* model = new FlagList{"no_bias", "loss",         "optimizer", "lazy",
                               "q",       "interactions", "cubic"};
    for (const Hyperparameter& h : Hyperparameters()) model->push_back(h.flag);
    return model;
  }();
  return *flags;
}

const absl::flat_hash_map<absl::string_view, FlagList>& FlagsOfCommands() {
  static const auto* table = [] {
    const FlagList& model = ModelFlags();
    const FlagList data = {"data", "format", "max_bad_lines", "threads"};
    const FlagList loop = {"passes", "batch_size", "holdout_every",
                           "cache",  "quiet",      "metrics_out"};
    const FlagList client = {
        "servers",         "retry_timeout", "max_message_bytes",
        "auth_token_file", "tls_ca",        "tls_cert",
        "tls_key"};
    const FlagList serve = Join({model,
                                 {"quiet",
                                  "listen",
                                  "shard",
                                  "checkpoint_dir",
                                  "checkpoint_every",
                                  "start_empty",
                                  "max_keys",
                                  "admit_after",
                                  "admission_filter_bytes",
                                  "evict_idle_steps",
                                  "evict_when_full",
                                  "max_batch_keys",
                                  "max_request_memory",
                                  "max_reader_message_bytes",
                                  "max_concurrent_streams",
                                  "max_message_bytes",
                                  "auth_tokens",
                                  "insecure_listen_anywhere",
                                  "tls_cert",
                                  "tls_key",
                                  "tls_client_ca",
                                  "metrics_listen",
                                  "follow",
                                  "max_name_bytes"}});
    return new absl::flat_hash_map<absl::string_view, FlagList>{
        {"train", Join({model,
                        loop,
                        data,
                        {"model_in", "model_out", "weights_out", "keep_names",
                         "early_stop", "max_keys", "admit_after",
                         "admission_filter_bytes", "evict_idle_steps",
                         "evict_when_full"}})},
        {"predict",
         Join({data, client, {"model", "out", "out_format", "raw", "quiet"}})},
        {"inspect", {"model", "feature", "top", "all", "format"}},
        {"generate", {"rows", "seed", "out", "quiet"}},
        {"serve", serve},
        {"work", Join({loop,
                       data,
                       client,
                       {"part", "loss", "no_bias", "allow_shard_reset",
                        "round_steps", "metrics_listen", "keep_names"}})},
        {"query", Join({client, {"stats", "checkpoint"}})},
        // A race's optimizers are --optimizers; --optimizer would be ignored.
        {"race",
         Without(Join({model,
                       data,
                       {"optimizers", "watch", "metrics_out", "quiet"}}),
                 "optimizer")},
        {"merge", {"model_out", "weights_out", "allow_shard_reset", "quiet"}},
        {"cluster",
         Join({model,
               loop,
               data,
               {"shards", "workers", "listen_base", "model_out", "weights_out",
                "checkpoint_dir", "max_keys", "admit_after",
                "admission_filter_bytes", "evict_idle_steps", "evict_when_full",
                "round_steps", "keep_names", "max_name_bytes"}})},
    };
  }();
  return *table;
}

const FlagList* FindCommand(absl::string_view command) {
  auto it = FlagsOfCommands().find(command);
  return it == FlagsOfCommands().end() ? nullptr : &it->second;
}

absl::Status UnknownCommand(absl::string_view command) {
  return absl::InvalidArgumentError(
      absl::StrCat("unknown command '", command, "'"));
}

// The flag `arg` sets if it is one that may be repeated (-q, --cubic,
// --interactions, with one or two dashes, with or without =value).
std::optional<std::string> RepeatableFlag(const char* arg) {
  absl::string_view text(arg);
  if (!absl::ConsumePrefix(&text, "-")) return std::nullopt;
  absl::ConsumePrefix(&text, "-");
  const std::string name = FlagName(text.substr(0, text.find('=')));
  for (absl::string_view repeatable : {"q", "cubic", "interactions"}) {
    if (name == repeatable) return name;
  }
  return std::nullopt;
}

// Vowpal Wabbit's spellings of flags adaline names otherwise, so that a VW
// command line mostly runs as it is: the flag `arg` stands for, spelled
// --name[=value], if it is one of them and `command` takes that flag.
std::optional<std::string> FromVwSpelling(
    absl::string_view command,
    const absl::flat_hash_set<absl::string_view>& taken,
    absl::string_view arg) {
  const size_t equals = arg.find('=');
  absl::string_view name = arg.substr(0, equals);
  const size_t dashes = std::min<size_t>(name.find_first_not_of('-'), 2);
  if (dashes == 0 || taken.contains(FlagName(name.substr(dashes)))) {
    return std::nullopt;
  }
  const std::string spelled =
      absl::StrCat(name.substr(0, dashes), FlagName(name.substr(dashes)));
  static const auto* const kOurs =
      new absl::flat_hash_map<std::string, absl::string_view>{
          {"-d", "data"},
          {"-f", "model_out"},
          {"--final_regressor", "model_out"},
          {"-i", "model_in"},
          {"--initial_regressor", "model_in"},
          {"-p", "out"},
          {"--predictions", "out"},
          {"-l", "lr"},
          {"--learning_rate", "lr"},
          {"--loss_function", "loss"},
          {"--holdout_period", "holdout_every"},
          {"--early_terminate", "early_stop"},
          {"--cache_file", "cache"},
          {"--noconstant", "no_bias"},
          // VW's switches for an update rule name an optimizer here.
          {"--ftrl", "optimizer=ftrl"},
          {"--sgd", "optimizer=sgd"}};
  const auto found = kOurs->find(spelled);
  if (found == kOurs->end()) return std::nullopt;
  absl::string_view ours = found->second;
  // The model a command reads: train's --model-in, predict's --model.
  if (ours == "model_in" && !taken.contains(ours)) ours = "model";
  // VW's predictions are predict's --out, not generate's.
  if (ours == "out" && command != "predict") return std::nullopt;
  const size_t fixed = ours.find('=');
  if (!taken.contains(ours.substr(0, fixed))) return std::nullopt;
  if (fixed != absl::string_view::npos) return absl::StrCat("--", ours);
  return absl::StrCat(
      "--", ours, equals == absl::string_view::npos ? "" : arg.substr(equals));
}

// A real-valued hyperparameter flag at argv[i] whose value lists a value per
// optimizer ("--lr adagrad=0.1,adam=0.01"): its name and that list, with i
// moved past them. Anything else is left to Abseil.
std::optional<std::pair<const Hyperparameter*, std::string>> PerOptimizerFlag(
    int argc, char** argv, int& i) {
  absl::string_view text(argv[i]);
  if (!absl::ConsumePrefix(&text, "-")) return std::nullopt;
  absl::ConsumePrefix(&text, "-");
  const size_t equals = text.find('=');
  const std::string name = FlagName(text.substr(0, equals));
  const Hyperparameter* real_valued = nullptr;
  for (const Hyperparameter& h : Hyperparameters()) {
    if (h.flag == name && !h.is_bool) real_valued = &h;
  }
  if (real_valued == nullptr) return std::nullopt;
  const bool separate = equals == absl::string_view::npos;
  if (separate && i + 1 >= argc) return std::nullopt;
  const absl::string_view value =
      separate ? absl::string_view(argv[i + 1]) : text.substr(equals + 1);
  if (value.find('=') == absl::string_view::npos) return std::nullopt;
  if (separate) ++i;
  return std::make_pair(real_valued, std::string(value));
}

// --tls-cert, --tls-key, --tls-ca and --tls-client-ca: a command reads the
// ones it takes, the others are empty.
TlsFiles TlsFilesFromFlags() {
  TlsFiles files;
  files.certificate = absl::GetFlag(FLAGS_tls_cert);
  files.key = absl::GetFlag(FLAGS_tls_key);
  files.ca = absl::GetFlag(FLAGS_tls_ca);
  files.client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  return files;
}

// --max-message-bytes, which gRPC takes as an int.
absl::StatusOr<int> MaxMessageBytesFromFlags() {
  const uint32_t bytes = absl::GetFlag(FLAGS_max_message_bytes);
  if (bytes == 0 || bytes > uint32_t{INT32_MAX}) {
    return absl::InvalidArgumentError(
        "--max-message-bytes must be in [1, 2^31)");
  }
  return static_cast<int>(bytes);
}

// Sets the field of every hyperparameter given on the command line; the
// others keep the optimizer's defaults (a switch may default to on).
#define ADALINE_READ_HYPERPARAMETER_FLAG(flag, field, type, ...) \
  Assign(options.field, absl::GetFlag(FLAGS_##flag), #flag);
void Assign(double& field, const std::optional<double>& value,
            absl::string_view /*flag*/) {
  if (value.has_value()) field = *value;
}
void Assign(bool& field, bool value, absl::string_view flag) {
  // A switch is off unless set; off counts only when asked for (--nofoo).
  if (value || GivenFlags().contains(flag)) field = value;
}
void ReadHyperparameterFlags(OptimizerOptions& options) {
  ADALINE_HYPERPARAMETERS(ADALINE_READ_HYPERPARAMETER_FLAG)
}
#undef ADALINE_READ_HYPERPARAMETER_FLAG

}  // namespace

std::string FlagName(absl::string_view spelled) {
  std::string name(spelled);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

namespace {

// A hyperparameter's value for one race entrant (--lr adagrad=0.1).
struct OwnValue {
  const Hyperparameter* hyperparameter;
  OptimizerKind kind;
  double value;
};

// ModelConfigFromFlags for optimizer `kind` whatever --optimizer says, with
// its own values among `own` set before the options are validated.
absl::StatusOr<ModelConfig> ModelConfigForOptimizer(
    OptimizerKind kind, absl::Span<const OwnValue> own) {
  absl::StatusOr<LazyMode> lazy = ParseLazyMode(absl::GetFlag(FLAGS_lazy));
  if (!lazy.ok()) return lazy.status();
  absl::StatusOr<Loss> loss = ParseLoss(absl::GetFlag(FLAGS_loss));
  if (!loss.ok()) return loss.status();
  ModelConfig config;
  config.optimizer = OptimizerOptions::Defaults(kind);
  config.optimizer.lazy = *lazy;
  ReadHyperparameterFlags(config.optimizer);
  for (const OwnValue& v : own) {
    if (v.kind == kind) v.hyperparameter->set(config.optimizer, v.value);
  }
  if (absl::Status s = ValidateOptimizerOptions(config.optimizer); !s.ok()) {
    return s;
  }
  config.loss = *loss;
  config.bias = !absl::GetFlag(FLAGS_no_bias);
  absl::StatusOr<Interactions> interactions =
      Interactions::Parse(absl::GetFlag(FLAGS_interactions),
                          absl::GetFlag(FLAGS_q), absl::GetFlag(FLAGS_cubic));
  if (!interactions.ok()) return interactions.status();
  config.interactions = *std::move(interactions);
  return config;
}

}  // namespace

absl::StatusOr<ModelConfig> ModelConfigFromFlags() {
  absl::StatusOr<OptimizerKind> kind =
      ParseOptimizerKind(absl::GetFlag(FLAGS_optimizer));
  if (!kind.ok()) return kind.status();
  return ModelConfigForOptimizer(*kind, {});
}

absl::StatusOr<std::vector<RaceEntrant>> RaceEntrantsFromFlags() {
  const std::vector<std::string> names = absl::GetFlag(FLAGS_optimizers);
  if (names.empty()) {
    return absl::InvalidArgumentError("--optimizers names no optimizer");
  }
  std::vector<OptimizerKind> kinds;
  for (const std::string& name : names) {
    absl::StatusOr<OptimizerKind> kind = ParseOptimizerKind(name);
    if (!kind.ok()) return kind.status();
    if (std::find(kinds.begin(), kinds.end(), *kind) != kinds.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--optimizers names ", name, " twice"));
    }
    kinds.push_back(*kind);
  }
  // Each "optimizer=value" of a per-optimizer flag, checked up front.
  std::vector<OwnValue> values;
  for (const auto& [hyperparameter, text] : PerOptimizerValues()) {
    const absl::string_view flag = hyperparameter->flag;
    for (absl::string_view item : absl::StrSplit(text, ',')) {
      std::pair<absl::string_view, absl::string_view> parts =
          absl::StrSplit(item, absl::MaxSplits('=', 1));
      absl::StatusOr<OptimizerKind> kind = ParseOptimizerKind(parts.first);
      if (!kind.ok() && !parts.second.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(DashedFlag(flag), ": ", kind.status().message()));
      }
      double value;
      if (!kind.ok() || !absl::SimpleAtod(parts.second, &value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(DashedFlag(flag), " ", text,
                         ": each item must be OPTIMIZER=VALUE, as in "
                         "adagrad=0.1; '",
                         item, "' is not"));
      }
      if (std::find(kinds.begin(), kinds.end(), *kind) == kinds.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(DashedFlag(flag), " gives a value to ", parts.first,
                         ", which is not in --optimizers"));
      }
      if (!Uses(*hyperparameter, *kind)) {
        return absl::InvalidArgumentError(
            absl::StrCat(DashedFlag(flag), " is not read by ", parts.first));
      }
      if (absl::Status s = CheckRange(*hyperparameter, value); !s.ok()) {
        return s;
      }
      values.push_back({hyperparameter, *kind, value});
    }
  }
  std::vector<RaceEntrant> entrants;
  for (size_t i = 0; i < kinds.size(); ++i) {
    const OptimizerKind kind = kinds[i];
    absl::StatusOr<ModelConfig> config = ModelConfigForOptimizer(kind, values);
    if (!config.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(names[i], ": ", config.status().message()));
    }
    RaceEntrant entrant;
    entrant.name = std::string(OptimizerName(kind));
    entrant.model.config = *config;
    entrant.model.store = std::make_unique<WeightStore>(config->optimizer);
    entrants.push_back(std::move(entrant));
  }
  return entrants;
}

absl::StatusOr<ReaderOptions> ReaderOptionsFromFlags(const ModelConfig& config,
                                                     bool require_label) {
  ReaderOptions options;
  options.files = absl::GetFlag(FLAGS_data);
  if (options.files.empty()) {
    return absl::InvalidArgumentError("--data names no file");
  }
  const std::string format = absl::GetFlag(FLAGS_format);
  if (!format.empty()) {
    absl::StatusOr<Format> parsed = ParseFormat(format);
    if (!parsed.ok()) return parsed.status();
    options.format = *parsed;
  }
  options.max_bad_lines = absl::GetFlag(FLAGS_max_bad_lines);
  options.threads = absl::GetFlag(FLAGS_threads);
  if (options.threads < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--threads must be 0 (one per core) or more, not ", options.threads));
  }
  options.parse.binary_labels = IsBinary(config.loss);
  options.parse.require_label = require_label;
  options.parse.bias = config.bias;
  options.parse.interactions = config.interactions;
  return options;
}

absl::StatusOr<TrainOptions> TrainOptionsFromFlags(const ModelConfig& config,
                                                   bool local) {
  TrainOptions options;
  // Unlabeled examples are skipped and counted, as VW does.
  absl::StatusOr<ReaderOptions> data =
      ReaderOptionsFromFlags(config, /*require_label=*/false);
  if (!data.ok()) return data.status();
  options.data = *std::move(data);
  options.passes = absl::GetFlag(FLAGS_passes);
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.holdout_every = absl::GetFlag(FLAGS_holdout_every);
  options.cache = absl::GetFlag(FLAGS_cache);
  options.early_stop = absl::GetFlag(FLAGS_early_stop);
  options.keep_names = absl::GetFlag(FLAGS_keep_names);
  options.data.parse.keep_names = options.keep_names;
  // Only local training keeps its best pass, which early stopping needs.
  ChoosePasses(&options, /*can_stop_early=*/local);
  if (absl::Status s = ValidateTrainOptions(options); !s.ok()) return s;
  return options;
}

size_t MaxKeysFromFlags() {
  const uint64_t max_keys = absl::GetFlag(FLAGS_max_keys);
  return max_keys == 0 ? WeightStore::kNoKeyLimit : max_keys;
}

absl::StatusOr<MemoryBounds> MemoryBoundsFromFlags() {
  MemoryBounds bounds;
  bounds.admit_after = absl::GetFlag(FLAGS_admit_after);
  bounds.admission_filter_bytes = absl::GetFlag(FLAGS_admission_filter_bytes);
  bounds.evict_idle_steps = absl::GetFlag(FLAGS_evict_idle_steps);
  bounds.evict_when_full = absl::GetFlag(FLAGS_evict_when_full);
  if (bounds.admit_after > 255) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--admit-after must be at most 255 (the filter counts to 255), not ",
        bounds.admit_after));
  }
  constexpr uint64_t kSmallestFilter = 4096, kLargestFilter = uint64_t{1} << 36;
  if (bounds.admit_after > 1 &&
      (bounds.admission_filter_bytes < kSmallestFilter ||
       bounds.admission_filter_bytes > kLargestFilter)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--admission-filter-bytes must be between ", kSmallestFilter, " and ",
        kLargestFilter, ", not ", bounds.admission_filter_bytes));
  }
  if (bounds.evict_when_full && absl::GetFlag(FLAGS_max_keys) == 0) {
    return absl::InvalidArgumentError(
        "--evict-when-full needs --max-keys: the limit it keeps");
  }
  return bounds;
}

absl::StatusOr<ShardServerOptions> ShardServerOptionsFromFlags() {
  ShardServerOptions options;
  absl::StatusOr<ModelConfig> config = ModelConfigFromFlags();
  if (!config.ok()) return config.status();
  options.config = *config;
  absl::StatusOr<ShardSpec> shard =
      ParseShardSpec(absl::GetFlag(FLAGS_shard), "shard");
  if (!shard.ok()) return shard.status();
  options.service.shard = *shard;
  options.service.checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir);
  options.service.max_request_keys = absl::GetFlag(FLAGS_max_batch_keys);
  options.service.max_push_streams =
      absl::GetFlag(FLAGS_max_concurrent_streams);
  absl::StatusOr<int> max_message_bytes = MaxMessageBytesFromFlags();
  if (!max_message_bytes.ok()) return max_message_bytes.status();
  options.max_message_bytes = *max_message_bytes;
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.max_request_memory = absl::GetFlag(FLAGS_max_request_memory);
  options.service.max_reader_message_bytes =
      absl::GetFlag(FLAGS_max_reader_message_bytes);
  options.service.max_name_bytes = absl::GetFlag(FLAGS_max_name_bytes);
  options.max_keys = MaxKeysFromFlags();
  absl::StatusOr<MemoryBounds> bounds = MemoryBoundsFromFlags();
  if (!bounds.ok()) return bounds.status();
  options.bounds = *bounds;
  const std::string tokens_path = absl::GetFlag(FLAGS_auth_tokens);
  if (!tokens_path.empty()) {
    absl::StatusOr<TokenTable> tokens = TokenTable::Load(tokens_path);
    if (!tokens.ok()) return tokens.status();
    options.service.tokens =
        std::make_shared<const TokenTable>(*std::move(tokens));
  }
  options.start_empty_if_unreadable = absl::GetFlag(FLAGS_start_empty);
  options.listen = absl::GetFlag(FLAGS_listen);
  options.insecure_listen_anywhere =
      absl::GetFlag(FLAGS_insecure_listen_anywhere);
  options.tls = TlsFilesFromFlags();
  const double checkpoint_every = absl::GetFlag(FLAGS_checkpoint_every);
  if (!(checkpoint_every >= 0)) {
    return absl::InvalidArgumentError("--checkpoint-every must be >= 0");
  }
  options.checkpoint_every = absl::Seconds(checkpoint_every);
  return options;
}

absl::StatusOr<ClientOptions> ClientOptionsFromFlags(bool one_shot) {
  ClientOptions options;
  absl::StatusOr<ChannelOptions> channel = MakeChannelOptions(
      TlsFilesFromFlags(), absl::GetFlag(FLAGS_auth_token_file));
  if (!channel.ok()) return channel.status();
  options.channel = *std::move(channel);
  absl::StatusOr<int> max_message_bytes = MaxMessageBytesFromFlags();
  if (!max_message_bytes.ok()) return max_message_bytes.status();
  options.channel.max_message_bytes = *max_message_bytes;
  const double retry_timeout = absl::GetFlag(FLAGS_retry_timeout);
  if (!(retry_timeout >= 0)) {
    return absl::InvalidArgumentError("--retry-timeout must be >= 0");
  }
  options.retry.retry_timeout = absl::Seconds(retry_timeout);
  if (one_shot && !GivenFlags().contains("retry_timeout")) {
    options.retry.retry_timeout = kOneShotPatience;
  }
  options.allow_shard_reset = absl::GetFlag(FLAGS_allow_shard_reset);
  return options;
}

std::FILE* ReportsFromFlags() {
  return absl::GetFlag(FLAGS_quiet) ? nullptr : stderr;
}

absl::StatusOr<std::unique_ptr<RunLog>> RunLogFromFlags() {
  const std::string path = absl::GetFlag(FLAGS_metrics_out);
  if (path.empty()) return nullptr;
  return RunLog::Create(path);
}

absl::StatusOr<ShardSpec> WorkerPartFromFlags() {
  return ParseShardSpec(absl::GetFlag(FLAGS_part), "part");
}

bool TakesPositionalArguments(absl::string_view command) {
  return command == "query" || command == "merge";
}

std::vector<std::string> FlagsOf(absl::string_view command) {
  std::vector<std::string> flags;
  const FlagList* names = FindCommand(command);
  if (names == nullptr) return flags;
  for (absl::string_view name : *names) flags.push_back(DashedFlag(name));
  std::sort(flags.begin(), flags.end());
  flags.erase(std::unique(flags.begin(), flags.end()), flags.end());
  return flags;
}

namespace {

// The headings of `adaline CMD --help`, in order, and the flags under each.
struct FlagGroup {
  absl::string_view title;
  FlagList flags;
};

const std::vector<FlagGroup>& FlagGroups() {
  static const auto* groups = [] {
    FlagList hyperparameters;
    for (const Hyperparameter& h : Hyperparameters()) {
      hyperparameters.push_back(h.flag);
    }
    return new std::vector<FlagGroup>{
        {"input", {"data", "format", "max_bad_lines", "threads", "cache"}},
        {"model",
         {"loss", "no_bias", "q", "interactions", "cubic", "optimizer", "lazy",
          "model_in", "keep_names"}},
        {"optimizer (each optimizer has its own defaults)", hyperparameters},
        {"training",
         {"passes", "batch_size", "holdout_every", "early_stop", "round_steps",
          "part", "optimizers", "watch", "allow_shard_reset"}},
        {"output",
         {"model_out", "weights_out", "model", "out", "out_format", "raw",
          "feature", "top", "all", "rows", "seed", "stats", "checkpoint",
          "metrics_out", "quiet"}},
        {"servers and cluster",
         {"listen", "shard", "checkpoint_dir", "checkpoint_every", "follow",
          "start_empty", "metrics_listen", "shards", "workers", "listen_base"}},
        {"memory and limits",
         {"max_keys", "admit_after", "admission_filter_bytes",
          "evict_idle_steps", "evict_when_full", "max_name_bytes",
          "max_batch_keys", "max_request_memory", "max_reader_message_bytes",
          "max_concurrent_streams", "max_message_bytes"}},
        {"connection and security",
         {"servers", "retry_timeout", "auth_tokens", "auth_token_file",
          "insecure_listen_anywhere", "tls_cert", "tls_key", "tls_ca",
          "tls_client_ca"}},
    };
  }();
  return *groups;
}

// "  --flag (default: 'value')\n      help\n".
std::string FlagHelp(absl::string_view name) {
  const absl::CommandLineFlag* flag =
      absl::FindCommandLineFlag(std::string(name));
  if (flag == nullptr) return "";
  // A hyperparameter's default depends on the optimizer.
  std::string default_value = flag->DefaultValue();
  std::string text = flag->Help();
  for (const Hyperparameter& h : Hyperparameters()) {
    if (h.flag != name) continue;
    default_value = DefaultText(h);
    text = HelpText(h);
  }
  return absl::StrCat("  ", DashedFlag(name), " (default: '", default_value,
                      "')\n      ", text, "\n");
}

}  // namespace

std::string FlagGroupOf(absl::string_view flag) {
  for (const FlagGroup& group : FlagGroups()) {
    if (std::find(group.flags.begin(), group.flags.end(), flag) !=
        group.flags.end()) {
      return std::string(group.title);
    }
  }
  return "";
}

absl::StatusOr<std::string> CommandHelp(absl::string_view command) {
  const FlagList* taken = FindCommand(command);
  if (taken == nullptr) return UnknownCommand(command);
  std::string help = absl::StrCat(
      "usage: adaline ", command, " [flags]",
      TakesPositionalArguments(command) ? " ARGUMENTS..." : "", "\n");
  for (const FlagGroup& group : FlagGroups()) {
    std::string listed;
    for (absl::string_view name : group.flags) {
      if (std::find(taken->begin(), taken->end(), name) != taken->end()) {
        absl::StrAppend(&listed, FlagHelp(name));
      }
    }
    if (!listed.empty())
      absl::StrAppend(&help, "\n", group.title, ":\n", listed);
  }
  return help;
}

namespace {

// Edits (insertions, deletions, substitutions) from `a` to `b`.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// One error for every flag a command does not take, with the closest one it
// does take when one is close.
absl::Status UnknownFlag(absl::string_view command, absl::string_view flag) {
  // VW's flags that have no counterpart here say what to do instead.
  constexpr absl::string_view kNoBits =
      "adaline keeps each feature's own 64-bit key, so there are no hash "
      "bits to choose (--max-keys bounds the memory)";
  constexpr absl::string_view kEveryWeight =
      "adaline inspect --model M --all lists every weight, by name when "
      "trained with --keep-names";
  constexpr absl::string_view kPredict =
      "to score without learning, run adaline predict --model M";
  static const auto* const kVwHints =
      new absl::flat_hash_map<absl::string_view, absl::string_view>{
          {"b", kNoBits},
          {"bit_precision", kNoBits},
          {"c", "only training keeps an example cache (train -c)"},
          {"link",
           "predict writes probabilities for logistic loss and margins "
           "with --raw (or for squared and hinge loss)"},
          {"readable_model", kEveryWeight},
          {"invert_hash", kEveryWeight},
          {"save_resume",
           "every model file keeps its optimizer state, so training "
           "resumes from it (--model-in); --weights-out writes weights "
           "only"},
          {"t", kPredict},
          {"testonly", kPredict}};
  const std::string dashed =
      flag.size() == 1 ? absl::StrCat("-", flag) : DashedFlag(flag);
  if (const auto hint = kVwHints->find(flag); hint != kVwHints->end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'adaline ", command, "' does not take ", dashed, ": ", hint->second));
  }
  const std::vector<std::string> taken = FlagsOf(command);
  std::string closest;
  size_t best = std::max<size_t>(2, dashed.size() / 3) + 1;
  // One letter is as close to any other: no guess.
  for (const std::string& candidate :
       flag.size() == 1 ? std::vector<std::string>{} : taken) {
    const size_t distance = EditDistance(dashed, candidate);
    if (distance < best) {
      best = distance;
      closest = candidate;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'adaline ", command, "' does not take ", dashed,
      closest.empty() ? "." : absl::StrCat("; did you mean ", closest, "?"),
      " It takes: ", absl::StrJoin(taken, " ")));
}

}  // namespace

namespace {

// Where VW's -c keeps its cache: beside the first data file, as FILE.cache.
// `args` are Abseil's, --data already spelled so.
absl::StatusOr<std::string> CacheBesideData(const std::vector<char*>& args) {
  std::string files;
  for (size_t i = 1; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (absl::ConsumePrefix(&arg, "--data=")) {
      files = std::string(arg);
    } else if (arg == "--data" && i + 1 < args.size()) {
      files = args[i + 1];
    }
  }
  const std::string first = files.substr(0, files.find(','));
  if (first.empty() || first == "-") {
    return absl::InvalidArgumentError(
        "-c keeps the cache beside the data file (FILE.cache) and needs "
        "--data FILE; for standard input name one with --cache FILE");
  }
  return absl::StrCat(first, ".cache");
}

}  // namespace

absl::StatusOr<std::vector<char*>> CheckFlagsOf(absl::string_view command,
                                                int argc, char** argv) {
  const FlagList* names = FindCommand(command);
  if (names == nullptr) return UnknownCommand(command);
  ForgetGivenFlags();
  const absl::flat_hash_set<absl::string_view> allowed(names->begin(),
                                                       names->end());
  std::vector<char*> args = {argv[0]};
  // VW's crosses may be given many times (-q ug -q um); Abseil keeps only a
  // flag's last value, so each one's values are joined into one argument.
  static auto* joined = new std::vector<std::unique_ptr<std::string>>;
  // An argument of ours, kept for as long as Abseil may read it.
  auto kept = [](std::string text) {
    joined->push_back(std::make_unique<std::string>(std::move(text)));
    return joined->back()->data();
  };
  absl::flat_hash_map<std::string, std::vector<std::string>> repeated;
  std::vector<std::string> repeated_order;
  PerOptimizerValues().clear();
  // The value of the flag before it, passed on as it is ("--lr -1").
  bool value_next = false;
  // VW's -c: a cache beside the first data file, named when --data is known.
  bool cache_beside_data = false;
  for (int i = 2; i < argc; ++i) {
    char* arg = argv[i];
    if (value_next) {
      value_next = false;
      args.push_back(arg);
      continue;
    }
    if (command == "race") {
      if (std::optional<std::pair<const Hyperparameter*, std::string>>
              per_optimizer = PerOptimizerFlag(argc, argv, i);
          per_optimizer) {
        GivenFlags().insert(std::string(per_optimizer->first->flag));
        PerOptimizerValues()[per_optimizer->first] = per_optimizer->second;
        continue;
      }
    }
    if (std::optional<std::string> name = RepeatableFlag(arg); name) {
      if (!allowed.contains(*name)) {
        return UnknownFlag(command, *name);
      }
      const char* equals = std::strchr(arg, '=');
      std::string value;
      if (equals != nullptr) {
        value = equals + 1;
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--", *name, " needs a value, as in -q ug"));
      }
      if (!repeated.contains(*name)) repeated_order.push_back(*name);
      repeated[*name].push_back(std::move(value));
      continue;
    }
    if (std::strcmp(arg, "-c") == 0 && allowed.contains("cache")) {
      cache_beside_data = true;
      continue;
    }
    // VW's -k rebuilds the cache; adaline's is rebuilt whenever its data or
    // settings changed, and is otherwise the same.
    if ((std::strcmp(arg, "-k") == 0 ||
         std::strcmp(arg, "--kill_cache") == 0) &&
        allowed.contains("cache")) {
      continue;
    }
    // predict never learns: VW's test-only switch asks for nothing more.
    if (std::strcmp(arg, "-t") == 0 && command == "predict") continue;
    if (std::optional<std::string> ours = FromVwSpelling(command, allowed, arg);
        ours) {
      arg = kept(*std::move(ours));
    } else if (arg[0] == '-' &&
               std::isalpha(static_cast<unsigned char>(arg[1]))) {
      // -name is --name to Abseil, and is checked as such.
      arg = kept(absl::StrCat("-", arg));
    }
    // "--out -": Abseil would ask whether '-' was meant; it was (standard
    // input or output), so it becomes "--out=-".
    if (std::strncmp(arg, "--", 2) == 0 && std::strchr(arg, '=') == nullptr &&
        i + 1 < argc && std::strcmp(argv[i + 1], "-") == 0) {
      arg = kept(absl::StrCat(arg, "=-"));
      ++i;
    }
    args.push_back(arg);
    if (std::strncmp(arg, "--", 2) != 0 || arg[2] == '\0') continue;
    // --flag-name[=value] is --flag_name[=value]: rewritten in place.
    char* name = arg + 2;
    char* end = std::strchr(name, '=');
    if (end == nullptr) end = name + std::strlen(name);
    const std::string normal = FlagName(absl::string_view(name, end - name));
    std::copy(normal.begin(), normal.end(), name);
    absl::string_view flag(name, normal.size());
    if (flag == "help" || flag == "helpfull" || flag == "version") continue;
    if (allowed.contains(flag)) {
      GivenFlags().insert(std::string(flag));
      const absl::CommandLineFlag* found = absl::FindCommandLineFlag(flag);
      value_next = *end == '\0' && found != nullptr && !found->IsOfType<bool>();
      continue;
    }
    // Abseil spells a false boolean --nofoo; most tools, --no-foo.
    if (absl::StartsWith(flag, "no_") && allowed.contains(flag.substr(3))) {
      GivenFlags().insert(std::string(flag.substr(3)));
      args.back() = kept(absl::StrCat("--no", flag.substr(3), end));
      continue;
    }
    if (flag.size() > 2 && flag.substr(0, 2) == "no" &&
        allowed.contains(flag.substr(2))) {
      GivenFlags().insert(std::string(flag.substr(2)));
      continue;
    }
    return UnknownFlag(command, flag);
  }
  for (const std::string& name : repeated_order) {
    args.push_back(kept(
        absl::StrCat("--", name, "=", absl::StrJoin(repeated[name], ","))));
  }
  if (cache_beside_data && !GivenFlags().contains("cache")) {
    absl::StatusOr<std::string> cache = CacheBesideData(args);
    if (!cache.ok()) return cache.status();
    args.push_back(kept(absl::StrCat("--cache=", *cache)));
    GivenFlags().insert("cache");
  }
  return args;
}

void ForgetGivenFlags() { GivenFlags().clear(); }

std::vector<std::string> GivenModelFlags() {
  std::vector<std::string> given;
  for (absl::string_view flag : ModelFlags()) {
    if (GivenFlags().contains(flag)) given.push_back(DashedFlag(flag));
  }
  return given;
}

std::vector<std::string> ForwardedFlags(
    absl::string_view command, const std::vector<std::string>& except) {
  std::vector<std::string> arguments;
  for (const std::string& dashed : FlagsOf(command)) {
    if (std::find(except.begin(), except.end(), dashed) != except.end()) {
      continue;
    }
    const std::string name = FlagName(dashed.substr(2));
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    const std::string value = flag->CurrentValue();
    // A switch turned off (--nonormalized) is news where it defaults on.
    if (!GivenFlags().contains(name) &&
        (value.empty() || value == flag->DefaultValue())) {
      continue;
    }
    arguments.push_back(absl::StrCat("--", name, "=", value));
  }
  return arguments;
}

}  // namespace adaline
