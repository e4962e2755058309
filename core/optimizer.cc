#include "core/optimizer.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/hyperparameters.h"

namespace adaline {
namespace {

struct NamedKind {
  absl::string_view name;
  OptimizerKind kind;
};

const NamedKind kKinds[] = {
    {"sgd", OptimizerKind::kSgd},
    {"momentum", OptimizerKind::kMomentum},
    {"adagrad", OptimizerKind::kAdagrad},
    {"rmsprop", OptimizerKind::kRmsprop},
    {"adadelta", OptimizerKind::kAdadelta},
    {"adam", OptimizerKind::kAdam},
    {"amsgrad", OptimizerKind::kAmsgrad},
    {"nadam", OptimizerKind::kNadam},
    {"ftrl", OptimizerKind::kFtrl},
};

// Products below this are 0 next to 1 in double precision.
constexpr double kNegligible = 1e-30;
constexpr size_t kMaxNadamTable = size_t{1} << 20;

// Gaps up to this many steps sum all their moves; longer ones only those
// that can change a float32 weight, which takes a log to count.
constexpr uint64_t kSumAllSteps = 64;
// Steps whose factors the Adam family's replay reads from a table (NAdam
// settles after about 110,000 steps, Adam after about 18,000).
constexpr uint64_t kMaxReplayTable = uint64_t{1} << 18;
// Gaps GeometricCatchUp sums over are at most kSumAllSteps long, or as long
// as the moves that can change a float32 weight (under 700 for beta1 =
// 0.9): a table this long covers nearly all of them.
constexpr uint64_t kInverseTableSize = 1024;

// Below this relative size a term is lost in float32 rounding.
constexpr double kNegligibleRatio = 0x1p-26;

// floor(log2(x)) of a normal positive double, read from its bits: std::ilogb
// is a call.
int BinaryExponent(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return static_cast<int>((bits >> 52) & 0x7ff) - 1023;
}

// The smallest step t >= 1 with power(t) <= limit, for a power that falls
// with t; UINT64_MAX if it never gets there.
template <typename Power>
uint64_t FirstStepAtMost(Power power, double limit) {
  uint64_t low = 1, high = uint64_t{1} << 62;
  if (power(static_cast<double>(high)) > limit) return UINT64_MAX;
  while (low < high) {
    const uint64_t middle = low + (high - low) / 2;
    if (power(static_cast<double>(middle)) <= limit) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  return low;
}

bool IsAdamFamily(OptimizerKind kind) {
  return kind == OptimizerKind::kAdam || kind == OptimizerKind::kAmsgrad ||
         kind == OptimizerKind::kNadam;
}

}  // namespace

absl::string_view OptimizerName(OptimizerKind kind) {
  for (const NamedKind& named : kKinds) {
    if (named.kind == kind) return named.name;
  }
  return "unknown";
}

absl::StatusOr<OptimizerKind> ParseOptimizerKind(absl::string_view name) {
  for (const NamedKind& named : kKinds) {
    if (named.name == name) return named.kind;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown optimizer '", name, "'; choose one of: ", AllOptimizerNames()));
}

std::string AllOptimizerNames() {
  std::vector<absl::string_view> names;
  for (const NamedKind& named : kKinds) names.push_back(named.name);
  return absl::StrJoin(names, " ");
}

absl::string_view LazyModeName(LazyMode mode) {
  return mode == LazyMode::kExact ? "exact" : "skip";
}

absl::StatusOr<LazyMode> ParseLazyMode(absl::string_view name) {
  if (name == "exact") return LazyMode::kExact;
  if (name == "skip") return LazyMode::kSkip;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown --lazy mode '", name, "'; choose exact or skip"));
}

OptimizerOptions OptimizerOptions::Defaults(OptimizerKind kind) {
  OptimizerOptions options;
  options.kind = kind;
  switch (kind) {
    case OptimizerKind::kSgd:
      options.learning_rate = 0.1;
      break;
    case OptimizerKind::kMomentum:
      options.learning_rate = 0.01;
      break;
    case OptimizerKind::kAdagrad:
      // Normalized, as VW's default update: its steps do not depend on the
      // features' units or the examples' lengths, which takes a larger
      // rate than plain AdaGrad's 0.1 (chosen on bench/real_data.sh's sets
      // and the synthetic one).
      options.learning_rate = 0.5;
      options.epsilon = 1e-10;
      options.normalized = true;
      break;
    case OptimizerKind::kRmsprop:
      options.learning_rate = 0.01;
      options.rho = 0.99;
      options.epsilon = 1e-8;
      break;
    case OptimizerKind::kAdadelta:
      options.learning_rate = 1.0;
      options.rho = 0.9;
      options.epsilon = 1e-6;
      break;
    case OptimizerKind::kAdam:
    case OptimizerKind::kAmsgrad:
    case OptimizerKind::kNadam:
      // PyTorch's default; larger rates make the momentum of rare
      // coordinates overshoot on sparse data.
      options.learning_rate = 0.001;
      options.epsilon = 1e-8;
      break;
    case OptimizerKind::kFtrl:
      break;
  }
  return options;
}

absl::Status ValidateOptimizerOptions(const OptimizerOptions& o) {
  for (const Hyperparameter& h : Hyperparameters()) {
    if (absl::Status s = CheckRange(h, h.get(o)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

int StateWidth(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return 0;
    case OptimizerKind::kMomentum:
    case OptimizerKind::kAdagrad:
    case OptimizerKind::kRmsprop:
      return 1;
    case OptimizerKind::kAdadelta:
    case OptimizerKind::kAdam:
    case OptimizerKind::kNadam:
    case OptimizerKind::kFtrl:
      return 2;
    case OptimizerKind::kAmsgrad:
      return kMaxStateWidth;
  }
  return 0;
}

bool KeepsScale(const OptimizerOptions& options) {
  return options.normalized && (options.kind == OptimizerKind::kSgd ||
                                options.kind == OptimizerKind::kAdagrad);
}

int StateWidth(const OptimizerOptions& options) {
  return StateWidth(options.kind) + (KeepsScale(options) ? 1 : 0);
}

static std::vector<absl::string_view> KindStateNames(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return {};
    case OptimizerKind::kMomentum:
      return {"momentum"};
    case OptimizerKind::kAdagrad:
      return {"accumulator"};
    case OptimizerKind::kRmsprop:
      return {"square_average"};
    case OptimizerKind::kAdadelta:
      return {"square_gradient", "square_delta"};
    case OptimizerKind::kAdam:
    case OptimizerKind::kNadam:
      return {"m", "v"};
    case OptimizerKind::kAmsgrad:
      return {"m", "v", "v_max"};
    case OptimizerKind::kFtrl:
      return {"z", "n"};
  }
  return {};
}

std::vector<absl::string_view> StateNames(const OptimizerOptions& options) {
  std::vector<absl::string_view> names = KindStateNames(options.kind);
  if (KeepsScale(options)) names.push_back("scale");
  return names;
}

bool Optimizer::IsValidState(const float* state) const {
  for (int i = 0; i < state_width_; ++i) {
    if (!std::isfinite(state[i])) return false;
  }
  if (normalized_ && state[state_width_ - 1] < 0) return false;
  switch (options_.kind) {
    case OptimizerKind::kSgd:
    case OptimizerKind::kMomentum:
      return true;
    case OptimizerKind::kAdagrad:
    case OptimizerKind::kRmsprop:
      return state[0] >= 0;
    case OptimizerKind::kAdadelta:
      return state[0] >= 0 && state[1] >= 0;
    case OptimizerKind::kAdam:
    case OptimizerKind::kNadam:
    case OptimizerKind::kFtrl:
      return state[1] >= 0;
    case OptimizerKind::kAmsgrad:
      return state[1] >= 0 && state[2] >= 0;
  }
  return false;
}

Optimizer::Optimizer(const OptimizerOptions& options)
    : options_(options), state_width_(StateWidth(options)) {
  const OptimizerKind kind = options.kind;
  normalized_ = KeepsScale(options);
  proximal_ =
      kind != OptimizerKind::kFtrl && (options.l1 != 0 || options.l2 != 0);
  // Idle coordinates owe their proximal steps, so every optimizer but FTRL
  // (whose weight is a function of its state) catches up with them.
  needs_catch_up_ = options.lazy == LazyMode::kExact &&
                    (proximal_ || kind == OptimizerKind::kMomentum ||
                     kind == OptimizerKind::kRmsprop ||
                     kind == OptimizerKind::kAdadelta || IsAdamFamily(kind));
  if (IsAdamFamily(kind)) {
    beta1_powers_ = DecayPowers(options.beta1);
    beta2_powers_ = DecayPowers(options.beta2);
    sqrt_beta2_powers_ = DecayPowers(std::sqrt(options.beta2));
    inverse_sqrt_beta2_powers_.resize(kInverseTableSize);
    for (uint64_t n = 0; n < kInverseTableSize; ++n) {
      inverse_sqrt_beta2_powers_[n] = 1 / sqrt_beta2_powers_(n);
    }
    auto beta1_power = [&](double t) { return std::pow(options.beta1, t); };
    auto beta2_power = [&](double t) { return std::pow(options.beta2, t); };
    settled_step_ = std::max(FirstStepAtMost(beta1_power, kNegligibleRatio),
                             FirstStepAtMost(beta2_power, kNegligibleRatio));
    double q = options.beta1;
    while (series_terms_ < kMaxSeriesTerms) {
      q /= std::sqrt(options.beta2);
      if (q >= 1) break;
      series_ratio_[series_terms_] = q;
      series_scale_[series_terms_] = q / (1 - q);
      ++series_terms_;
    }
    if (series_terms_ > 0) {
      steps_per_halving_ = std::log(2.0) / -std::log(series_ratio_[0]);
    }
    if (kind == OptimizerKind::kNadam) {
      // mu_t = beta1 and mu_product = 0 once 0.96^(t psi) is negligible.
      settled_step_ =
          std::max(settled_step_, FirstStepAtMost(
                                      [&](double t) {
                                        return std::pow(
                                            0.96, t * options.momentum_decay);
                                      },
                                      kNegligibleRatio));
    }
  }
  if (kind == OptimizerKind::kNadam) {
    double product = 1;
    nadam_mu_product_.push_back(1);  // the empty product, step 0
    for (uint64_t t = 1; t < kMaxNadamTable && product >= kNegligible; ++t) {
      product *= NadamMu(t);
      nadam_mu_product_.push_back(product);
    }
  }
  if (IsAdamFamily(kind)) {
    const uint64_t steps = std::min(settled_step_, kMaxReplayTable);
    replay_factors_.resize(steps);
    for (uint64_t t = 1; t < steps; ++t) {
      const StepFactors factors = Factors(t);
      replay_factors_[t] = {factors.lr_over_bias1, factors.inv_sqrt_bias2,
                            factors.nadam_momentum_scale};
    }
  }
}

DecayPowers::DecayPowers(double base)
    : base_(base), low_(kTableSize), high_(kTableSize) {
  low_[0] = 1;
  for (uint64_t n = 1; n < kTableSize; ++n) low_[n] = low_[n - 1] * base;
  for (uint64_t n = 0; n < kTableSize; ++n) {
    high_[n] = std::pow(base, static_cast<double>(n << kTableBits));
  }
  // Below half an ulp of 1, subtracting from 1 changes nothing.
  one_from_ =
      FirstStepAtMost([&](double n) { return std::pow(base, n); }, 0x1p-54);
}

double Optimizer::NadamMu(uint64_t t) const {
  return options_.beta1 *
         (1 - 0.5 * std::pow(0.96,
                             static_cast<double>(t) * options_.momentum_decay));
}

double Optimizer::NadamMuProduct(uint64_t t) const {
  if (t < nadam_mu_product_.size()) return nadam_mu_product_[t];
  const double last = nadam_mu_product_.back();
  if (last < kNegligible) return 0;
  // Past the table mu_t equals beta1 to double precision.
  return last *
         std::pow(options_.beta1,
                  static_cast<double>(t - (nadam_mu_product_.size() - 1)));
}

void Optimizer::InitState(float* state) const {
  for (int i = 0; i < state_width_; ++i) state[i] = 0;
  if (options_.kind == OptimizerKind::kAdagrad) {
    state[0] = static_cast<float>(options_.initial_accumulator);
  }
}

StepFactors Optimizer::Factors(uint64_t t) const {
  StepFactors factors;
  factors.step = t;
  if (!IsAdamFamily(options_.kind)) return factors;
  const double lr = options_.learning_rate;
  const double bias1 = beta1_powers_.OneMinus(t);
  const double bias2 = beta2_powers_.OneMinus(t);
  factors.lr_over_bias1 = static_cast<float>(lr / bias1);
  factors.inv_sqrt_bias2 = static_cast<float>(1 / std::sqrt(bias2));
  if (options_.kind == OptimizerKind::kNadam) {
    const double mu = NadamMu(t);
    const double mu_next = NadamMu(t + 1);
    const double product = NadamMuProduct(t);
    factors.nadam_gradient_scale =
        static_cast<float>(lr * (1 - mu) / (1 - product));
    factors.nadam_momentum_scale =
        static_cast<float>(lr * mu_next / (1 - product * mu_next));
  }
  return factors;
}

double Optimizer::StepSize(const float* state) const {
  // A coordinate's scale, 1 until its feature has been seen with one.
  const float scale =
      normalized_ && state[state_width_ - 1] > 0 ? state[state_width_ - 1] : 1;
  if (options_.kind == OptimizerKind::kAdagrad) {
    return static_cast<float>(options_.learning_rate) /
           (scale *
            (std::sqrt(state[0]) + static_cast<float>(options_.epsilon)));
  }
  if (options_.kind == OptimizerKind::kSgd) {
    return options_.learning_rate / (scale * scale);
  }
  return options_.learning_rate;
}

void Optimizer::Proximal(float& weight, double eta) const {
  const double shrunk =
      std::abs(static_cast<double>(weight)) - eta * options_.l1;
  if (shrunk <= 0) {
    weight = 0;
    return;
  }
  const double scaled = shrunk / (1 + eta * options_.l2);
  weight = static_cast<float>(weight < 0 ? -scaled : scaled);
}

void Optimizer::Proximal(float& weight, double eta, uint64_t steps) const {
  if (weight == 0 || steps == 0) return;
  const double w = std::abs(static_cast<double>(weight));
  const double shrink = eta * options_.l1;
  double after;
  if (options_.l2 == 0) {
    after = w - static_cast<double>(steps) * shrink;
  } else {
    // w_k = a^k w - shrink a (1 - a^k) / (1 - a), a = 1 / (1 + eta l2).
    const double a = 1 / (1 + eta * options_.l2);
    const double a_k = std::pow(a, static_cast<double>(steps));
    after = a_k * w - shrink * a * (1 - a_k) / (1 - a);
  }
  weight = after <= 0 ? 0.0f : static_cast<float>(weight < 0 ? -after : after);
}

void Optimizer::CatchUp(float& weight, float* state, uint64_t last_step,
                        uint64_t to_step) const {
  if (!needs_catch_up_ || to_step <= last_step) return;
  if (proximal_) {
    CatchUpProximal(weight, state, last_step, to_step);
    return;
  }
  const double k = static_cast<double>(to_step - last_step);
  switch (options_.kind) {
    case OptimizerKind::kMomentum: {
      const double mu = options_.momentum;
      const double mu_k = std::pow(mu, k);
      // The momentum keeps moving the weight: lr m (mu + ... + mu^k), one
      // more factor mu with Nesterov's look-ahead.
      double sum = mu * (1 - mu_k) / (1 - mu);
      if (options_.nesterov) sum *= mu;
      weight -= static_cast<float>(options_.learning_rate * state[0] * sum);
      state[0] = static_cast<float>(state[0] * mu_k);
      return;
    }
    case OptimizerKind::kRmsprop:
      state[0] = static_cast<float>(state[0] * std::pow(options_.rho, k));
      return;
    case OptimizerKind::kAdadelta: {
      const double decay = std::pow(options_.rho, k);
      state[0] = static_cast<float>(state[0] * decay);
      state[1] = static_cast<float>(state[1] * decay);
      return;
    }
    case OptimizerKind::kAdam:
    case OptimizerKind::kAmsgrad:
    case OptimizerKind::kNadam:
      if (!GeometricCatchUp(weight, state, last_step, to_step)) {
        ReplayAdamFamily(weight, state, last_step, to_step, false);
      }
      return;
    default:
      return;
  }
}

void Optimizer::CatchUpProximal(float& weight, float* state, uint64_t last_step,
                                uint64_t to_step) const {
  const OptimizerOptions& o = options_;
  const uint64_t steps = to_step - last_step;
  switch (o.kind) {
    case OptimizerKind::kSgd:
    case OptimizerKind::kAdagrad:
      // The weight does not move while idle, and the step size is fixed.
      Proximal(weight, StepSize(state), steps);
      return;
    case OptimizerKind::kRmsprop:
    case OptimizerKind::kAdadelta: {
      const double decay = std::pow(o.rho, static_cast<double>(steps));
      for (int s = 0; s < state_width_; ++s) {
        state[s] = static_cast<float>(state[s] * decay);
      }
      Proximal(weight, o.learning_rate, steps);
      return;
    }
    case OptimizerKind::kMomentum: {
      // The momentum still moves the weight: replay step by step until what
      // it can still add, lr |m| mu / (1 - mu), no longer shows in float32,
      // then the remaining proximal steps in closed form.
      const float mu = static_cast<float>(o.momentum);
      const float lr = static_cast<float>(o.learning_rate);
      float& m = state[0];
      uint64_t t = last_step;
      // With L1, a weight at 0 stays there once no move can pass the
      // threshold lr l1; the moves only shrink.
      const double largest_move_factor = o.nesterov ? mu * mu : mu;
      while (t < to_step) {
        if (weight == 0 && std::abs(m) * largest_move_factor <= o.l1) break;
        const double remaining =
            o.learning_rate * std::abs(m) * o.momentum / (1 - o.momentum);
        if (remaining <
            std::max(std::abs(weight) * kNegligibleRatio, kNegligible)) {
          break;
        }
        ++t;
        m = mu * m;
        weight -= o.nesterov ? lr * mu * m : lr * m;
        Proximal(weight, o.learning_rate);
      }
      m = static_cast<float>(
          m * std::pow(o.momentum, static_cast<double>(to_step - t)));
      Proximal(weight, o.learning_rate, to_step - t);
      return;
    }
    case OptimizerKind::kAdam:
    case OptimizerKind::kAmsgrad:
    case OptimizerKind::kNadam: {
      const uint64_t replayed =
          ReplayAdamFamily(weight, state, last_step, to_step, true);
      Proximal(weight, o.learning_rate, to_step - replayed);
      return;
    }
    case OptimizerKind::kFtrl:
      return;
  }
}

bool Optimizer::GeometricCatchUp(float& weight, float* state,
                                 uint64_t last_step, uint64_t to_step) const {
  if (last_step + 1 < settled_step_) return false;
  const OptimizerOptions& o = options_;
  const OptimizerKind kind = o.kind;
  const double b1 = o.beta1, eps = o.epsilon;
  double scale = o.learning_rate;
  if (kind == OptimizerKind::kNadam) scale *= b1;
  const double m = state[0];
  const uint64_t steps = to_step - last_step;
  // Each missed step j moves the weight by scale m b1^j / denominator_j.
  double sum = 0;
  if (m != 0) {
    const double resolution = std::max(
        std::abs(static_cast<double>(weight)) * kNegligibleRatio, 1e-30);
    if (kind == OptimizerKind::kAmsgrad) {
      // The denominator uses v_max, which does not decay: a plain series.
      const double denominator = std::sqrt(static_cast<double>(state[2])) + eps;
      sum =
          scale * m / denominator * b1 * (1 - beta1_powers_(steps)) / (1 - b1);
    } else {
      // sqrt(v_j) = sqrt(v) s^j with s = sqrt(beta2). With x_j = eps /
      // sqrt(v_j), 1 / (sqrt(v_j) + eps) = sum_k (-x_j)^k / sqrt(v_j), and
      // each k gives a geometric series of ratio q_k = beta1 / s^(k+1).
      const double root_v = std::sqrt(static_cast<double>(state[1]));
      if (root_v == 0 || series_terms_ == 0) return false;
      const double inverse_root_v = 1 / root_v;
      const double base = scale * m * inverse_root_v;
      const double ratio = series_ratio_[0];
      // Steps after `effective` move the weight by less than its rounding.
      const double first_move = std::abs(base * ratio);
      uint64_t effective = 1;
      if (steps <= kSumAllSteps) {
        effective = steps;  // every move, without working out which matter
      } else if (first_move > resolution) {
        // The moves shrink by q_0 a step, so they stay above the resolution
        // for log(shrink) / log(q_0) steps. Counting halvings from shrink's
        // binary exponent overestimates that by under steps_per_halving_
        // steps (moves that change nothing) and spares a log.
        const int halvings =
            -BinaryExponent(std::max(resolution / first_move, 1e-30));
        const double needed = std::ceil(halvings * steps_per_halving_) + 1;
        effective = needed < static_cast<double>(steps)
                        ? static_cast<uint64_t>(needed)
                        : steps;
      }
      const double inverse_root_decay =
          effective < inverse_sqrt_beta2_powers_.size()
              ? inverse_sqrt_beta2_powers_[effective]
              : 1 / sqrt_beta2_powers_(effective);
      const double x = eps * inverse_root_v;
      const double largest_x = x * inverse_root_decay;
      if (largest_x >= 0.5) return false;
      double x_power = 1;                         // x^k
      double q_power = beta1_powers_(effective);  // becomes q_k^effective
      // What the terms after k can add at most: bound largest_x^(k+1).
      double bound = std::abs(base) * series_scale_[0] * largest_x;
      int k = 0;
      for (; k < series_terms_; ++k) {
        q_power *= inverse_root_decay;
        const double series = series_scale_[k] * (1 - q_power);
        sum += (k % 2 == 0 ? 1 : -1) * base * x_power * series;
        x_power *= x;
        if (bound < resolution) break;
        bound *= largest_x;
      }
      if (k == series_terms_) return false;
    }
  }
  weight = static_cast<float>(weight - sum);
  state[0] = static_cast<float>(m * beta1_powers_(steps));
  state[1] = static_cast<float>(state[1] * beta2_powers_(steps));
  return true;
}

uint64_t Optimizer::ReplayAdamFamily(float& weight, float* state,
                                     uint64_t last_step, uint64_t to_step,
                                     bool proximal) const {
  const OptimizerOptions& o = options_;
  const OptimizerKind kind = o.kind;
  const double b1 = o.beta1;
  const double b2 = o.beta2;
  const float eps = static_cast<float>(o.epsilon);
  const float b1f = static_cast<float>(b1);
  const float b2f = static_cast<float>(b2);
  // While the move per step shrinks (beta1 < sqrt(beta2), or AMSGrad's fixed
  // denominator), a move too small to change the weight means every later
  // one is too. Otherwise only the bound lr |m| / (bias1 eps) is safe.
  const bool moves_shrink = kind == OptimizerKind::kAmsgrad || b1 * b1 < b2;
  double beta1_power = beta1_powers_(last_step + 1);
  double beta2_power = beta2_powers_(last_step + 1);
  // NAdam's 0.96^(t psi); the others need no pow() at all.
  const bool nadam = kind == OptimizerKind::kNadam;
  const double decay_base = nadam ? std::pow(0.96, o.momentum_decay) : 0;
  double decay_power =
      nadam ? std::pow(decay_base, static_cast<double>(last_step + 1)) : 0;
  float& m = state[0];
  float& v = state[1];
  uint64_t t = last_step + 1;
  for (; t <= to_step; ++t) {
    m *= b1f;
    v *= b2f;
    // Step t's factors: dense training's own from the table, so that the
    // replay is its twin, or worked out past it.
    float scale;  // of m: lr / bias1, or NAdam's momentum scale
    float inv_sqrt_bias2;
    if (t < replay_factors_.size()) {
      const ReplayFactors& f = replay_factors_[t];
      scale = nadam ? f.nadam_momentum_scale : f.lr_over_bias1;
      inv_sqrt_bias2 = f.inv_sqrt_bias2;
    } else {
      inv_sqrt_bias2 = static_cast<float>(1 / std::sqrt(1 - beta2_power));
      if (nadam) {
        const double mu_next = b1 * (1 - 0.5 * decay_power * decay_base);
        const double product = NadamMuProduct(t);
        scale = static_cast<float>(o.learning_rate * mu_next /
                                   (1 - product * mu_next));
      } else {
        scale = static_cast<float>(o.learning_rate / (1 - beta1_power));
      }
    }
    const float second_moment = kind == OptimizerKind::kAmsgrad ? state[2] : v;
    const float move =
        scale * m / (std::sqrt(second_moment) * inv_sqrt_bias2 + eps);
    weight -= move;
    if (proximal) Proximal(weight, o.learning_rate);
    const bool stays_zero = proximal && weight == 0;
    beta1_power *= b1;
    beta2_power *= b2;
    decay_power *= decay_base;
    const float resolution = std::max(std::abs(weight) * 0x1p-26f, 1e-30f);
    const float bound = moves_shrink
                            ? std::abs(move)
                            : static_cast<float>(o.learning_rate * std::abs(m) /
                                                 ((1 - beta1_power) * eps));
    // With L1, a weight at 0 stays there once no move passes lr l1.
    if (bound < resolution || (stays_zero && bound <= o.learning_rate * o.l1)) {
      ++t;
      break;
    }
  }
  if (t <= to_step) {
    m = static_cast<float>(m * beta1_powers_(to_step - t + 1));
    v = static_cast<float>(v * beta2_powers_(to_step - t + 1));
  }
  return t - 1;
}

}  // namespace adaline
