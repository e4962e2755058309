// The per-coordinate update rules of docs/optimizers.md.
//
// An Optimizer updates one coordinate at a time: a weight and a few floats of
// state. It never sees other coordinates, so the same object serves the
// local trainer and every parameter-server thread. State lives with the
// caller (the WeightStore packs it next to the key).
//
// An Optimizer is immutable after construction: any number of threads may
// share one.
#ifndef ADALINE_CORE_OPTIMIZER_H_
#define ADALINE_CORE_OPTIMIZER_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace adaline {

enum class OptimizerKind {
  kSgd,
  kMomentum,
  kAdagrad,
  kRmsprop,
  kAdadelta,
  kAdam,
  kAmsgrad,
  kNadam,
  kFtrl,
};

absl::string_view OptimizerName(OptimizerKind kind);
absl::StatusOr<OptimizerKind> ParseOptimizerKind(absl::string_view name);
// "sgd momentum adagrad ...", for help texts and errors.
std::string AllOptimizerNames();

// How state of a coordinate that missed some steps is brought up to date.
enum class LazyMode {
  // Replays the missed zero-gradient steps (in closed form where one exists):
  // sparse training equals dense training, to float32 rounding.
  kExact,
  // Ignores missed steps, like TensorFlow's LazyAdam. A different optimizer.
  kSkip,
};

absl::string_view LazyModeName(LazyMode mode);
absl::StatusOr<LazyMode> ParseLazyMode(absl::string_view name);

// Every hyperparameter; Defaults() fills the reference's usual values.
struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::kAdagrad;
  LazyMode lazy = LazyMode::kExact;
  double learning_rate = 0.1;
  double epsilon = 1e-10;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double rho = 0.9;
  double momentum = 0.9;
  bool nesterov = false;
  // Steps in units of each feature's largest |value| so far (an extra float
  // of state); SGD and AdaGrad.
  bool normalized = false;
  double initial_accumulator = 0.0;
  double momentum_decay = 0.004;
  double ftrl_alpha = 0.1;
  double ftrl_beta = 1.0;
  double l1 = 0.0;
  double l2 = 0.0;

  // The usual defaults for `kind`, with a learning rate suited to sparse
  // linear models.
  static OptimizerOptions Defaults(OptimizerKind kind);
};

// Refuses hyperparameters the rules cannot use (negative rates, decay
// factors outside [0, 1), regularisation on optimizers that have none).
absl::Status ValidateOptimizerOptions(const OptimizerOptions& options);

// Floats of state per coordinate, besides the weight.
int StateWidth(OptimizerKind kind);
// Whether `options` keep a scale per coordinate: --normalized, with an
// optimizer that takes it (SGD, AdaGrad).
bool KeepsScale(const OptimizerOptions& options);
// StateWidth of the kind, and one more for a kept scale.
int StateWidth(const OptimizerOptions& options);

// The widest state of any optimizer (AMSGrad's m, v and v_max).
constexpr int kMaxStateWidth = 3;
// Their names, as inspect and query print them.
std::vector<absl::string_view> StateNames(const OptimizerOptions& options);

// The scalars of step t that every coordinate shares. Computing them once per
// step keeps pow() off the per-key path.
struct StepFactors {
  uint64_t step = 0;
  float lr_over_bias1 = 0;         // lr / (1 - beta1^t)
  float inv_sqrt_bias2 = 0;        // 1 / sqrt(1 - beta2^t)
  float nadam_gradient_scale = 0;  // lr (1 - mu_t) / (1 - mu_product_t)
  float nadam_momentum_scale = 0;  // lr mu_{t+1} / (1 - mu_product_t mu_{t+1})
  // --normalized: what scales the step's moves, sqrt((t - 1) / N) with N
  // the norms of the steps before (see WeightStore::StepNorm).
  float rate = 1;
};

// Powers base^0, base^1, ... of a decay factor, from two tables built once
// (base^n = low[n mod 4096] high[n / 4096]) for n below 2^24, and from pow()
// above. The Adam family's catch-up needs several powers per coordinate,
// and pow() was most of its cost.
class DecayPowers {
 public:
  static constexpr int kTableBits = 12;
  static constexpr uint64_t kTableSize = uint64_t{1} << kTableBits;

  DecayPowers() = default;
  explicit DecayPowers(double base);

  double operator()(uint64_t n) const {
    if (n < kTableSize) return low_[n];
    if ((n >> kTableBits) < kTableSize) {
      return low_[n & (kTableSize - 1)] * high_[n >> kTableBits];
    }
    return std::pow(base_, static_cast<double>(n));
  }
  // 1 - base^n, which is exactly 1 in double precision from some n on.
  double OneMinus(uint64_t n) const {
    return n >= one_from_ ? 1.0 : 1 - (*this)(n);
  }

 private:
  double base_ = 0;
  std::vector<double> low_;   // base^n
  std::vector<double> high_;  // base^(n kTableSize)
  uint64_t one_from_ = UINT64_MAX;
};

// Applies the update rules. Steps t count from 1; a coordinate remembers the
// last step it has seen, and CatchUp brings it to a later one.
class Optimizer {
 public:
  // `options` must have passed ValidateOptimizerOptions.
  explicit Optimizer(const OptimizerOptions& options);

  const OptimizerOptions& options() const { return options_; }
  int state_width() const { return state_width_; }

  // The state of a coordinate created at its first gradient.
  void InitState(float* state) const;

  // Applies the zero-gradient steps last_step+1 .. to_step, as dense
  // training would have (or nothing, with LazyMode::kSkip).
  void CatchUp(float& weight, float* state, uint64_t last_step,
               uint64_t to_step) const;

  StepFactors Factors(uint64_t t) const;

  // Applies `gradient` at step factors.step; the coordinate must be caught up
  // to the step before. `scale` is the largest |value| of the feature in the
  // step's examples (0 if unknown), which --normalized follows.
  void Apply(float& weight, float* state, float gradient,
             const StepFactors& factors, float scale = 0) const;

  // Where --normalized keeps a coordinate's scale in its state; -1 without.
  int scale_index() const { return normalized_ ? state_width_ - 1 : -1; }

  // Whether CatchUp can change anything; lets callers skip the call.
  bool needs_catch_up() const { return needs_catch_up_; }

  // Whether `state` is one this optimizer can produce: finite, and averages
  // of squared gradients not negative (their square roots are taken). Guards
  // state that comes from outside, such as a model file.
  bool IsValidState(const float* state) const;

 private:
  // NAdam's mu_t and the product mu_1 ... mu_t.
  double NadamMu(uint64_t t) const;
  double NadamMuProduct(uint64_t t) const;
  // Sums the zero-gradient moves of the Adam family as a geometric series,
  // where that equals the replay to float32 rounding: late in training, when
  // bias corrections and NAdam's mu no longer change, and while epsilon is
  // negligible next to sqrt(v). Returns false, changing nothing, elsewhere.
  bool GeometricCatchUp(float& weight, float* state, uint64_t last_step,
                        uint64_t to_step) const;
  // Replays zero-gradient steps of the Adam family one by one (each followed
  // by its proximal step if `proximal`), stopping once the remaining moves
  // cannot change a float32 weight; decays m and v over the rest. Returns
  // the last step replayed.
  uint64_t ReplayAdamFamily(float& weight, float* state, uint64_t last_step,
                            uint64_t to_step, bool proximal) const;
  // --normalized SGD or AdaGrad: the rule in units of the coordinate's
  // scale, which `scale` (the feature's |value| now) may raise.
  void ApplyNormalized(float& weight, float* state, float gradient, float scale,
                       float rate) const;
  // The update rule of the table, without regularisation, for an optimizer
  // without --normalized.
  void ApplyRule(float& weight, float* state, float gradient,
                 const StepFactors& factors) const;
  // The proximal step size eta of the reference: lr / (sqrt(G) + eps) for
  // AdaGrad (its accumulator already updated), lr for the others; with
  // --normalized, in units of the coordinate's scale.
  double StepSize(const float* state) const;
  // One proximal step of size eta: L1 shrinks |w| by eta l1, down to 0,
  // L2 divides by 1 + eta l2.
  void Proximal(float& weight, double eta) const;
  // `steps` of them in closed form.
  void Proximal(float& weight, double eta, uint64_t steps) const;
  // CatchUp for optimizers other than FTRL with --l1 or --l2: each missed
  // step owes the optimizer's idle move and a proximal step.
  void CatchUpProximal(float& weight, float* state, uint64_t last_step,
                       uint64_t to_step) const;

  OptimizerOptions options_;
  int state_width_;
  bool needs_catch_up_;
  // --l1 or --l2 with an optimizer other than FTRL: a proximal step after
  // each step (docs/optimizers.md, "Regularisation").
  bool proximal_ = false;
  // --normalized, for an optimizer that takes it: its scale is the last
  // float of state.
  bool normalized_ = false;
  // The Adam family's decay powers, and the first step from which
  // GeometricCatchUp applies (bias corrections and mu have settled).
  DecayPowers beta1_powers_;
  DecayPowers beta2_powers_;
  DecayPowers sqrt_beta2_powers_;
  // 1 / sqrt(beta2)^n for short gaps, sparing a catch-up a division.
  std::vector<double> inverse_sqrt_beta2_powers_;
  uint64_t settled_step_ = UINT64_MAX;
  // GeometricCatchUp's constants: the ratios q_k = beta1 / sqrt(beta2)^(k+1)
  // of its series, q_k / (1 - q_k), and the steps in which q_0^n halves.
  // Only the first `series_terms_` ratios are below 1; a series needing more
  // is not used.
  static constexpr int kMaxSeriesTerms = 8;
  double series_ratio_[kMaxSeriesTerms] = {};
  double series_scale_[kMaxSeriesTerms] = {};
  int series_terms_ = 0;
  double steps_per_halving_ = 0;
  // Step t's factors for the replay of idle steps before settled_step_,
  // shared by every coordinate: computing them was most of a replayed
  // step's cost.
  struct ReplayFactors {
    float lr_over_bias1;
    float inv_sqrt_bias2;
    float nadam_momentum_scale;
  };
  std::vector<ReplayFactors> replay_factors_;
  // mu_product_[t] = mu_1 ... mu_t, until it is too small to matter next to
  // 1 in double precision; later products read as 0.
  std::vector<double> nadam_mu_product_;
};

// The update rules are defined here so that the store's per-key loops can
// inline them.
inline void Optimizer::Apply(float& weight, float* state, float g,
                             const StepFactors& f, float scale) const {
  // The default rule is inlined into the store's loops; the others are
  // called.
  if (normalized_) {
    ApplyNormalized(weight, state, g, scale, f.rate);
  } else {
    ApplyRule(weight, state, g, f);
  }
  if (proximal_) Proximal(weight, StepSize(state));
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void Optimizer::ApplyNormalized(
    float& weight, float* state, float g, float scale, float rate) const {
  const bool sgd = options_.kind == OptimizerKind::kSgd;
  // A feature seen with a larger |value| than before shrinks its weight by
  // the ratio (squared for SGD, whose steps go with the square of the
  // scale): the steps taken so far were too large for it.
  float& largest = state[state_width_ - 1];
  if (scale > largest) {
    if (largest > 0) {
      const float ratio = largest / scale;
      weight *= sgd ? ratio * ratio : ratio;
    }
    largest = scale;
  }
  const float unit = largest > 0 ? largest : 1;
  const float lr = static_cast<float>(options_.learning_rate) * rate;
  if (sgd) {
    weight -= lr * g / (unit * unit);
    return;
  }
  float& accumulator = state[0];
  accumulator += g * g;
  weight -=
      lr * g /
      (unit * (std::sqrt(accumulator) + static_cast<float>(options_.epsilon)));
}

inline void Optimizer::ApplyRule(float& weight, float* state, float g,
                                 const StepFactors& f) const {
  const OptimizerOptions& o = options_;
  const float lr = static_cast<float>(o.learning_rate);
  const float eps = static_cast<float>(o.epsilon);
  switch (o.kind) {
    case OptimizerKind::kSgd:
      weight -= lr * g;
      return;
    case OptimizerKind::kMomentum: {
      const float mu = static_cast<float>(o.momentum);
      float& m = state[0];
      m = mu * m + g;
      weight -= o.nesterov ? lr * (g + mu * m) : lr * m;
      return;
    }
    case OptimizerKind::kAdagrad: {
      float& accumulator = state[0];
      accumulator += g * g;
      weight -= lr * g / (std::sqrt(accumulator) + eps);
      return;
    }
    case OptimizerKind::kRmsprop: {
      const float rho = static_cast<float>(o.rho);
      float& s = state[0];
      s = rho * s + (1 - rho) * g * g;
      weight -= lr * g / (std::sqrt(s) + eps);
      return;
    }
    case OptimizerKind::kAdadelta: {
      const float rho = static_cast<float>(o.rho);
      float& square_gradient = state[0];
      float& square_delta = state[1];
      square_gradient = rho * square_gradient + (1 - rho) * g * g;
      const float delta =
          std::sqrt(square_delta + eps) / std::sqrt(square_gradient + eps) * g;
      square_delta = rho * square_delta + (1 - rho) * delta * delta;
      weight -= lr * delta;
      return;
    }
    case OptimizerKind::kAdam:
    case OptimizerKind::kAmsgrad:
    case OptimizerKind::kNadam: {
      const float b1 = static_cast<float>(o.beta1);
      const float b2 = static_cast<float>(o.beta2);
      float& m = state[0];
      float& v = state[1];
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      if (o.kind == OptimizerKind::kNadam) {
        const float denominator = std::sqrt(v) * f.inv_sqrt_bias2 + eps;
        weight -= (f.nadam_gradient_scale * g + f.nadam_momentum_scale * m) /
                  denominator;
        return;
      }
      float second_moment = v;
      if (o.kind == OptimizerKind::kAmsgrad) {
        state[2] = std::max(state[2], v);
        second_moment = state[2];
      }
      weight -= f.lr_over_bias1 * m /
                (std::sqrt(second_moment) * f.inv_sqrt_bias2 + eps);
      return;
    }
    case OptimizerKind::kFtrl: {
      const float alpha = static_cast<float>(o.ftrl_alpha);
      float& z = state[0];
      float& n = state[1];
      const float sigma = (std::sqrt(n + g * g) - std::sqrt(n)) / alpha;
      z += g - sigma * weight;
      n += g * g;
      if (std::abs(z) <= o.l1) {
        weight = 0;
      } else {
        const float sign = z < 0 ? -1.0f : 1.0f;
        weight = -(z - sign * static_cast<float>(o.l1)) /
                 ((static_cast<float>(o.ftrl_beta) + std::sqrt(n)) / alpha +
                  static_cast<float>(o.l2));
      }
      return;
    }
  }
}

}  // namespace adaline

#endif  // ADALINE_CORE_OPTIMIZER_H_
