#include "cli/flags.h"

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

ABSL_FLAG(std::vector<std::string>, data, {},
          "comma-separated data files, read in order; '-' is standard input, "
          "'.gz' files are decompressed");
ABSL_FLAG(std::string, format, "",
          "data format, vw or libsvm (guessed from each file name when unset: "
          ".libsvm/.svm/.svmlight are LIBSVM, anything else VW); for inspect "
          "--all, the output format: text or tsv");
ABSL_FLAG(uint64_t, max_bad_lines, 0,
          "malformed data lines to skip (and count) before stopping");
ABSL_FLAG(bool, no_bias, false, "do not add the bias feature ^__bias__");
ABSL_FLAG(std::string, loss, "logistic", "logistic, squared or hinge");
ABSL_FLAG(std::string, optimizer, "adagrad",
          "sgd momentum adagrad rmsprop adadelta adam amsgrad nadam ftrl");
ABSL_FLAG(std::string, lazy, "exact",
          "exact: catch up missed steps of sparse coordinates (sparse == "
          "dense training); skip: ignore them, like LazyAdam");
ABSL_FLAG(std::optional<double>, lr, std::nullopt,
          "learning rate (default per optimizer: sgd 0.1, momentum 0.01, "
          "adagrad 0.1, rmsprop 0.01, adadelta 1, adam/amsgrad/nadam 0.001)");
ABSL_FLAG(std::optional<double>, eps, std::nullopt,
          "epsilon (default per optimizer: adagrad 1e-10, adadelta 1e-6, "
          "others 1e-8)");
ABSL_FLAG(std::optional<double>, rho, std::nullopt,
          "decay of rmsprop (default 0.99) and adadelta (default 0.9)");
ABSL_FLAG(double, beta1, 0.9, "first-moment decay of adam/amsgrad/nadam");
ABSL_FLAG(double, beta2, 0.999, "second-moment decay of adam/amsgrad/nadam");
ABSL_FLAG(double, momentum, 0.9, "momentum factor");
ABSL_FLAG(bool, nesterov, false, "Nesterov momentum");
ABSL_FLAG(double, initial_accumulator, 0, "adagrad's initial accumulator");
ABSL_FLAG(double, momentum_decay, 0.004, "nadam's momentum decay psi");
ABSL_FLAG(double, ftrl_alpha, 0.1, "FTRL-Proximal alpha");
ABSL_FLAG(double, ftrl_beta, 1.0, "FTRL-Proximal beta");
ABSL_FLAG(double, l1, 0, "FTRL-Proximal L1 regularisation (lambda1)");
ABSL_FLAG(double, l2, 0, "FTRL-Proximal L2 regularisation (lambda2)");
ABSL_FLAG(uint64_t, passes, 1, "passes over the data");
ABSL_FLAG(uint64_t, batch_size, 1,
          "examples per optimizer step; the step's gradient is their mean");
ABSL_FLAG(uint64_t, holdout_every, 0,
          "hold out every K-th example of each pass (0: none) and report "
          "its loss after each pass");
ABSL_FLAG(std::string, model_in, "", "resume from this model file");
ABSL_FLAG(std::string, model_out, "", "write the trained model here");
ABSL_FLAG(bool, keep_names, false,
          "store feature names in the model (for inspect --top/--all)");
ABSL_FLAG(std::string, model, "", "model file to read");
ABSL_FLAG(std::string, out, "-", "output file; '-' is standard output");
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
ABSL_FLAG(double, checkpoint_every, 60,
          "seconds between checkpoints (0: only at shutdown and on request)");
ABSL_FLAG(uint64_t, max_keys, 0,
          "keys the server's store may hold; new keys past it are refused "
          "(0: no limit)");
ABSL_FLAG(uint64_t, max_batch_keys, 1 << 20, "keys in one request, at most");
ABSL_FLAG(uint32_t, max_concurrent_streams, 64,
          "worker streams (Exchange and Push) a server takes at once, and "
          "concurrent calls on one connection");
ABSL_FLAG(uint32_t, max_message_bytes, 256 << 20,
          "bytes of one request or response, at most");
ABSL_FLAG(std::vector<std::string>, servers, {},
          "comma-separated server addresses, shard I at position I");
ABSL_FLAG(std::string, part, "0/1",
          "I/N: this worker takes examples i of the data with i mod N == I");
ABSL_FLAG(double, retry_timeout, 600,
          "seconds to wait for an unreachable shard before giving up");
ABSL_FLAG(bool, stats, false, "print each shard's stats");
ABSL_FLAG(bool, checkpoint, false,
          "ask every shard to write a checkpoint now (needs a trainer token)");
ABSL_FLAG(uint64_t, shards, 1, "parameter-server shards to start");
ABSL_FLAG(uint64_t, workers, 2, "workers to start");
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

const absl::flat_hash_map<absl::string_view, std::vector<absl::string_view>>&
FlagsOfCommands() {
  static const auto* table = [] {
    using Flags = std::vector<absl::string_view>;
    auto join = [](std::initializer_list<Flags> groups) {
      Flags all;
      for (const Flags& group : groups)
        all.insert(all.end(), group.begin(), group.end());
      return all;
    };
    // What a model is: its loss, bias and optimizer with every hyperparameter.
    const Flags model = {"no_bias",
                         "loss",
                         "optimizer",
                         "lazy",
                         "lr",
                         "eps",
                         "rho",
                         "beta1",
                         "beta2",
                         "momentum",
                         "nesterov",
                         "initial_accumulator",
                         "momentum_decay",
                         "ftrl_alpha",
                         "ftrl_beta",
                         "l1",
                         "l2"};
    const Flags data = {"data", "format", "max_bad_lines"};
    const Flags loop = {"passes", "batch_size", "holdout_every"};
    const Flags client_security = {"auth_token_file", "tls_ca", "tls_cert",
                                   "tls_key"};
    const Flags train =
        join({model, loop, data, {"model_in", "model_out", "keep_names"}});
    const Flags predict = join({data, {"model", "out"}});
    const Flags serve =
        join({model,
              {"listen", "shard", "checkpoint_dir", "checkpoint_every",
               "max_keys", "max_batch_keys", "max_concurrent_streams",
               "max_message_bytes", "auth_tokens", "insecure_listen_anywhere",
               "tls_cert", "tls_key", "tls_client_ca"}});
    const Flags work =
        join({loop,
              data,
              client_security,
              {"servers", "part", "retry_timeout", "loss", "no_bias"}});
    const Flags cluster = join(
        {model,
         loop,
         data,
         {"shards", "workers", "model_out", "checkpoint_dir", "max_keys"}});
    const Flags query = join(
        {client_security, {"servers", "stats", "checkpoint", "retry_timeout"}});
    return new absl::flat_hash_map<absl::string_view,
                                   std::vector<absl::string_view>>{
        {"train", train},
        {"predict", predict},
        {"inspect", {"model", "feature", "top", "all", "format"}},
        {"generate", {"rows", "seed", "out"}},
        {"serve", serve},
        {"work", work},
        {"query", query},
        {"merge", {"model_out"}},
        {"cluster", cluster},
    };
  }();
  return *table;
}

}  // namespace

absl::StatusOr<ModelConfig> ModelConfigFromFlags() {
  ModelConfig config;
  absl::StatusOr<OptimizerKind> kind =
      ParseOptimizerKind(absl::GetFlag(FLAGS_optimizer));
  if (!kind.ok()) return kind.status();
  absl::StatusOr<LazyMode> lazy = ParseLazyMode(absl::GetFlag(FLAGS_lazy));
  if (!lazy.ok()) return lazy.status();
  absl::StatusOr<Loss> loss = ParseLoss(absl::GetFlag(FLAGS_loss));
  if (!loss.ok()) return loss.status();
  OptimizerOptions o = OptimizerOptions::Defaults(*kind);
  o.lazy = *lazy;
  if (auto lr = absl::GetFlag(FLAGS_lr)) o.learning_rate = *lr;
  if (auto eps = absl::GetFlag(FLAGS_eps)) o.epsilon = *eps;
  if (auto rho = absl::GetFlag(FLAGS_rho)) o.rho = *rho;
  o.beta1 = absl::GetFlag(FLAGS_beta1);
  o.beta2 = absl::GetFlag(FLAGS_beta2);
  o.momentum = absl::GetFlag(FLAGS_momentum);
  o.nesterov = absl::GetFlag(FLAGS_nesterov);
  o.initial_accumulator = absl::GetFlag(FLAGS_initial_accumulator);
  o.momentum_decay = absl::GetFlag(FLAGS_momentum_decay);
  o.ftrl_alpha = absl::GetFlag(FLAGS_ftrl_alpha);
  o.ftrl_beta = absl::GetFlag(FLAGS_ftrl_beta);
  o.l1 = absl::GetFlag(FLAGS_l1);
  o.l2 = absl::GetFlag(FLAGS_l2);
  if (absl::Status s = ValidateOptimizerOptions(o); !s.ok()) return s;
  config.optimizer = o;
  config.loss = *loss;
  config.bias = !absl::GetFlag(FLAGS_no_bias);
  return config;
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
  options.parse.binary_labels = IsBinary(config.loss);
  options.parse.require_label = require_label;
  options.parse.bias = config.bias;
  return options;
}

TlsFiles TlsFilesFromFlags() {
  TlsFiles files;
  files.certificate = absl::GetFlag(FLAGS_tls_cert);
  files.key = absl::GetFlag(FLAGS_tls_key);
  files.ca = absl::GetFlag(FLAGS_tls_ca);
  files.client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  return files;
}

bool TakesPositionalArguments(absl::string_view command) {
  return command == "query" || command == "merge";
}

std::vector<std::string> FlagsOf(absl::string_view command) {
  std::vector<std::string> flags;
  auto it = FlagsOfCommands().find(command);
  if (it == FlagsOfCommands().end()) return flags;
  for (absl::string_view f : it->second) {
    std::string spelled = absl::StrCat("--", f);
    for (char& c : spelled) {
      if (c == '_') c = '-';
    }
    flags.push_back(spelled);
  }
  std::sort(flags.begin(), flags.end());
  return flags;
}

absl::StatusOr<std::string> CommandHelp(absl::string_view command) {
  if (FlagsOfCommands().find(command) == FlagsOfCommands().end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown command '", command, "'"));
  }
  std::string help = absl::StrCat(
      "usage: adaline ", command, " [flags]",
      TakesPositionalArguments(command) ? " ARGUMENTS..." : "", "\n\nflags:\n");
  for (const std::string& dashed : FlagsOf(command)) {
    std::string name = dashed.substr(2);
    for (char& c : name) {
      if (c == '-') c = '_';
    }
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    absl::StrAppend(&help, "  ", dashed, " (default: '", flag->DefaultValue(),
                    "')\n      ", flag->Help(), "\n");
  }
  return help;
}

absl::StatusOr<std::vector<char*>> CheckFlagsOf(absl::string_view command,
                                                int argc, char** argv) {
  const auto& table = FlagsOfCommands();
  auto it = table.find(command);
  if (it == table.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown command '", command, "'"));
  }
  const absl::flat_hash_set<absl::string_view> allowed(it->second.begin(),
                                                       it->second.end());
  std::vector<char*> args = {argv[0]};
  for (int i = 2; i < argc; ++i) {
    char* arg = argv[i];
    args.push_back(arg);
    if (std::strncmp(arg, "--", 2) != 0 || arg[2] == '\0') continue;
    // --flag-name[=value] is --flag_name[=value].
    char* name = arg + 2;
    char* end = std::strchr(name, '=');
    if (end == nullptr) end = name + std::strlen(name);
    for (char* c = name; c < end; ++c) {
      if (*c == '-') *c = '_';
    }
    absl::string_view flag(name, static_cast<size_t>(end - name));
    if (flag == "help" || flag == "helpfull" || flag == "version") continue;
    if (allowed.contains(flag)) continue;
    // Abseil spells a false boolean --nofoo.
    if (flag.size() > 2 && flag.substr(0, 2) == "no" &&
        allowed.contains(flag.substr(2))) {
      continue;
    }
    std::vector<std::string> dashed;
    for (absl::string_view f : it->second) {
      std::string spelled(f);
      for (char& c : spelled) {
        if (c == '_') c = '-';
      }
      dashed.push_back(absl::StrCat("--", spelled));
    }
    std::sort(dashed.begin(), dashed.end());
    return absl::InvalidArgumentError(
        absl::StrCat("'adaline ", command, "' does not take --", flag,
                     "; it takes: ", absl::StrJoin(dashed, " ")));
  }
  return args;
}

}  // namespace adaline
