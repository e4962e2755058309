// The optimizer hyperparameters, each declared once. One line of
// ADALINE_HYPERPARAMETERS gives a hyperparameter its flag (cli/flags.cc
// expands the list), its range check, its place in the model file and in
// ConfigDifference, and its help text; OptimizerOptions holds its value and
// optimizer.cc its math and per-optimizer default.
//
// Immutable tables and pure functions: safe from any thread.
#ifndef ADALINE_CORE_HYPERPARAMETERS_H_
#define ADALINE_CORE_HYPERPARAMETERS_H_

#include <string>

#include "absl/types/span.h"
#include "core/optimizer.h"

// X(flag, field, type, low, low_inclusive, high, high_inclusive, used_by,
//   help): --flag sets OptimizerOptions::field (double or bool), which must
// lie in the range; used_by lists the optimizers that read it. `field` is
// also its name in the model file's OptimizerConfig.
#define ADALINE_HYPERPARAMETERS(X)                                         \
  X(lr, learning_rate, double, 0, false, 1e6, true,                        \
    "sgd momentum adagrad rmsprop adadelta adam amsgrad nadam",            \
    "learning rate")                                                       \
  X(eps, epsilon, double, 0, false, 1, true,                               \
    "adagrad rmsprop adadelta adam amsgrad nadam",                         \
    "epsilon that keeps adaptive denominators from 0")                     \
  X(beta1, beta1, double, 0, true, 1, false, "adam amsgrad nadam",         \
    "first-moment decay")                                                  \
  X(beta2, beta2, double, 0, true, 1, false, "adam amsgrad nadam",         \
    "second-moment decay")                                                 \
  X(rho, rho, double, 0, true, 1, false, "rmsprop adadelta",               \
    "decay of the squared-gradient average")                               \
  X(momentum, momentum, double, 0, true, 1, false, "momentum",             \
    "momentum factor")                                                     \
  X(nesterov, nesterov, bool, 0, true, 1, true, "momentum",                \
    "Nesterov momentum")                                                   \
  X(normalized, normalized, bool, 0, true, 1, true, "sgd adagrad",         \
    "scale-free steps: each coordinate's follow the largest |value| its "  \
    "feature has had (Ross, Mineiro and Langford 2013)")                   \
  X(initial_accumulator, initial_accumulator, double, 0, true, 1e30, true, \
    "adagrad", "initial squared-gradient accumulator")                     \
  X(momentum_decay, momentum_decay, double, 0, true, 1e3, true, "nadam",   \
    "momentum decay psi")                                                  \
  X(ftrl_alpha, ftrl_alpha, double, 0, false, 1e6, true, "ftrl",           \
    "FTRL-Proximal alpha")                                                 \
  X(ftrl_beta, ftrl_beta, double, 0, true, 1e6, true, "ftrl",              \
    "FTRL-Proximal beta")                                                  \
  X(l1, l1, double, 0, true, 1e6, true, "",                                \
    "L1 regularisation: FTRL's lambda1, a proximal step for the others")   \
  X(l2, l2, double, 0, true, 1e6, true, "",                                \
    "L2 regularisation: FTRL's lambda2, a proximal step for the others")

namespace adaline {

struct Hyperparameter {
  absl::string_view flag;   // as declared: "momentum_decay"
  absl::string_view field;  // OptimizerOptions' and the model file's name
  bool is_bool;
  double low;
  bool low_inclusive;
  double high;
  bool high_inclusive;
  // Names of the optimizers that read it, space-separated; empty for all.
  absl::string_view used_by;
  absl::string_view help;
  double (*get)(const OptimizerOptions&);
  void (*set)(OptimizerOptions&, double);
};

// Every hyperparameter, in declaration order.
absl::Span<const Hyperparameter> Hyperparameters();

// Whether optimizer `kind` reads `h`.
bool Uses(const Hyperparameter& h, OptimizerKind kind);

// "--flag-name", as users spell it and messages name it.
std::string DashedFlag(absl::string_view flag);

// InvalidArgument naming the flag when `value` is outside its range.
absl::Status CheckRange(const Hyperparameter& hyperparameter, double value);

// What it is and which optimizers read it, e.g. "first-moment decay; adam
// amsgrad nadam".
std::string HelpText(const Hyperparameter& hyperparameter);

// Its default, per optimizer where they differ: "0.9", or "sgd 0.1,
// momentum 0.01, ...".
std::string DefaultText(const Hyperparameter& hyperparameter);

}  // namespace adaline

#endif  // ADALINE_CORE_HYPERPARAMETERS_H_
