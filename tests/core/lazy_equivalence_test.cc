// Sparse training with lazy state equals dense training with zero gradients
// for absent coordinates, for every optimizer. The dense reference below is
// written from docs/optimizers.md in double precision,
// independently of core/optimizer.cc.
#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "core/weight_store.h"
#include "gtest/gtest.h"

namespace adaline {
namespace {

constexpr int kCoordinates = 40;
constexpr int kSteps = 3000;

class DenseReference {
 public:
  explicit DenseReference(const OptimizerOptions& o)
      : o_(o),
        w_(kCoordinates),
        a_(kCoordinates),
        b_(kCoordinates),
        c_(kCoordinates),
        s_(kCoordinates) {
    if (o.kind == OptimizerKind::kAdagrad) {
      std::fill(a_.begin(), a_.end(), o.initial_accumulator);
    }
  }

  // Step t (from 1) with gradient g[i] for every coordinate, 0 if absent,
  // and the |value| of each touched one's feature (for --normalized).
  // With `touched_only`, absent coordinates are skipped (LazyAdam-style).
  void Step(int t, const std::vector<double>& g,
            const std::vector<bool>& touched, bool touched_only,
            const std::vector<double>& x) {
    const double lr = o_.learning_rate, eps = o_.epsilon;
    const double b1 = o_.beta1, b2 = o_.beta2;
    const double bias1 = 1 - std::pow(b1, t), bias2 = 1 - std::pow(b2, t);
    const double psi = o_.momentum_decay;
    const double mu = b1 * (1 - 0.5 * std::pow(0.96, t * psi));
    const double mu_next = b1 * (1 - 0.5 * std::pow(0.96, (t + 1) * psi));
    mu_product_ *= mu;
    // --normalized, the reference's own reading of it: a touched feature's
    // larger |value| raises its scale and shrinks its weight; the step's
    // norm sums (x / s)^2; step t's rate is sqrt((t - 1) / N) with N the
    // norms of the steps before (the first step's: 1 / sqrt(its own)).
    const bool normalized =
        o_.normalized &&
        (o_.kind == OptimizerKind::kSgd || o_.kind == OptimizerKind::kAdagrad);
    double rate = 1;
    if (normalized) {
      double norm = 0;
      for (int i = 0; i < kCoordinates; ++i) {
        if (!touched[i]) continue;
        double& s = s_[i];
        if (x[i] > s) {
          if (s > 0) {
            w_[i] *= o_.kind == OptimizerKind::kSgd ? (s / x[i]) * (s / x[i])
                                                    : s / x[i];
          }
          s = x[i];
        }
        norm += (x[i] / s) * (x[i] / s);
      }
      rate = t > 1 && norm_sum_ > 0 ? std::sqrt((t - 1) / norm_sum_)
             : norm > 0             ? 1 / std::sqrt(norm)
                                    : 1;
      norm_sum_ += norm;
    }
    for (int i = 0; i < kCoordinates; ++i) {
      if (touched_only && !touched[i]) continue;
      double& w = w_[i];
      double& a = a_[i];
      double& b = b_[i];
      double& c = c_[i];
      const double gi = g[i];
      const double unit = normalized && s_[i] > 0 ? s_[i] : 1;
      switch (o_.kind) {
        case OptimizerKind::kSgd:
          w -= rate * lr * gi / (unit * unit);
          break;
        case OptimizerKind::kMomentum:
          a = o_.momentum * a + gi;
          w -= o_.nesterov ? lr * (gi + o_.momentum * a) : lr * a;
          break;
        case OptimizerKind::kAdagrad:
          a += gi * gi;
          w -= rate * lr * gi / (unit * (std::sqrt(a) + eps));
          break;
        case OptimizerKind::kRmsprop:
          a = o_.rho * a + (1 - o_.rho) * gi * gi;
          w -= lr * gi / (std::sqrt(a) + eps);
          break;
        case OptimizerKind::kAdadelta: {
          a = o_.rho * a + (1 - o_.rho) * gi * gi;
          const double d = std::sqrt(b + eps) / std::sqrt(a + eps) * gi;
          b = o_.rho * b + (1 - o_.rho) * d * d;
          w -= lr * d;
          break;
        }
        case OptimizerKind::kAdam:
        case OptimizerKind::kAmsgrad:
          a = b1 * a + (1 - b1) * gi;
          b = b2 * b + (1 - b2) * gi * gi;
          c = std::max(c, b);
          w -= lr / bias1 * a /
               (std::sqrt(o_.kind == OptimizerKind::kAmsgrad ? c : b) /
                    std::sqrt(bias2) +
                eps);
          break;
        case OptimizerKind::kNadam: {
          a = b1 * a + (1 - b1) * gi;
          b = b2 * b + (1 - b2) * gi * gi;
          const double denominator = std::sqrt(b / bias2) + eps;
          w -= lr * (1 - mu) / (1 - mu_product_) * gi / denominator;
          w -= lr * mu_next / (1 - mu_product_ * mu_next) * a / denominator;
          break;
        }
        case OptimizerKind::kFtrl: {
          const double sigma =
              (std::sqrt(b + gi * gi) - std::sqrt(b)) / o_.ftrl_alpha;
          a += gi - sigma * w;
          b += gi * gi;
          w = std::abs(a) <= o_.l1
                  ? 0
                  : -(a - (a < 0 ? -1 : 1) * o_.l1) /
                        ((o_.ftrl_beta + std::sqrt(b)) / o_.ftrl_alpha + o_.l2);
          break;
        }
      }
      // The reference's "Regularisation": a proximal step for every
      // coordinate after every step, touched or not.
      if (o_.kind != OptimizerKind::kFtrl && (o_.l1 != 0 || o_.l2 != 0)) {
        const double eta = o_.kind == OptimizerKind::kAdagrad
                               ? lr / (unit * (std::sqrt(a) + eps))
                           : o_.kind == OptimizerKind::kSgd ? lr / (unit * unit)
                                                            : lr;
        const double shrunk = std::max(std::abs(w) - eta * o_.l1, 0.0);
        w = (w < 0 ? -1 : 1) * shrunk / (1 + eta * o_.l2);
      }
    }
  }
  double weight(int i) const { return w_[i]; }

 private:
  OptimizerOptions o_;
  std::vector<double> w_, a_, b_, c_, s_;
  double mu_product_ = 1;
  double norm_sum_ = 0;
};

struct Case {
  const char* name;
  OptimizerKind kind;
  bool nesterov;
};

// Every optimizer, Nesterov's momentum apart; FTRL last.
const Case kCases[] = {
    {"sgd", OptimizerKind::kSgd, false},
    {"momentum", OptimizerKind::kMomentum, false},
    {"nesterov", OptimizerKind::kMomentum, true},
    {"adagrad", OptimizerKind::kAdagrad, false},
    {"rmsprop", OptimizerKind::kRmsprop, false},
    {"adadelta", OptimizerKind::kAdadelta, false},
    {"adam", OptimizerKind::kAdam, false},
    {"amsgrad", OptimizerKind::kAmsgrad, false},
    {"nadam", OptimizerKind::kNadam, false},
    {"ftrl", OptimizerKind::kFtrl, false},
};

class LazyEquivalenceTest : public testing::TestWithParam<Case> {};

// Coordinates fire at very different rates, as features do.
double FiringRate(int i) {
  static const double kRates[] = {0.9, 0.3, 0.05, 0.01, 0.002};
  return kRates[i % 5];
}

// Runs the store and the reference side by side and returns the largest
// difference of weights, relative to max(1, |weight|). Counts the store's
// weights that are exactly 0 at the end in `zeros`, if given.
double LargestDifference(const OptimizerOptions& options, bool touched_only,
                         int steps = kSteps, int* zeros = nullptr) {
  WeightStore store(options);
  DenseReference dense(options);
  std::mt19937_64 random(42);
  std::normal_distribution<double> gradient(0.1, 1.0);
  std::uniform_real_distribution<double> unit(0, 1);
  // Features of very different units: |value| up to 10^(i % 4).
  std::uniform_real_distribution<double> magnitude(0.1, 1.0);
  std::vector<double> g(kCoordinates), x(kCoordinates);
  std::vector<bool> touched(kCoordinates);
  std::vector<uint64_t> keys;
  std::vector<float> grads, scales;
  double largest = 0;
  auto compare = [&] {
    for (int i = 0; i < kCoordinates; ++i) {
      const uint64_t key = 1000 + i;
      float weight;
      // Pull catches up in place; Lookup on a copy. Both must agree.
      const std::optional<Entry> entry = store.Lookup(key);
      store.Pull(absl::MakeConstSpan(&key, 1), absl::MakeSpan(&weight, 1));
      if (entry.has_value()) {
        EXPECT_EQ(entry->weight, weight);
      }
      const double scale = std::max(1.0, std::abs(dense.weight(i)));
      largest = std::max(largest, std::abs(weight - dense.weight(i)) / scale);
    }
  };
  for (int t = 1; t <= steps; ++t) {
    keys.clear();
    grads.clear();
    scales.clear();
    for (int i = 0; i < kCoordinates; ++i) {
      touched[i] = unit(random) < FiringRate(i);
      g[i] = touched[i] ? static_cast<float>(gradient(random)) : 0.0;
      // Only --normalized reads the scales: the other cases are unchanged.
      x[i] = static_cast<float>(magnitude(random) * std::pow(10, i % 4));
      if (options.normalized) g[i] = static_cast<float>(g[i] * x[i]);
      if (touched[i]) {
        keys.push_back(1000 + i);
        grads.push_back(static_cast<float>(g[i]));
        scales.push_back(static_cast<float>(x[i]));
      }
    }
    EXPECT_EQ(*store.Push(keys, grads, {}, scales), static_cast<uint64_t>(t));
    dense.Step(t, g, touched, touched_only, x);
    if (t % (steps / 6) == 0) compare();
  }
  compare();
  if (zeros != nullptr) {
    *zeros = 0;
    for (int i = 0; i < kCoordinates; ++i) {
      const uint64_t key = 1000 + i;
      float weight;
      store.Pull(absl::MakeConstSpan(&key, 1), absl::MakeSpan(&weight, 1));
      if (weight == 0) ++*zeros;
    }
  }
  return largest;
}

OptimizerOptions OptionsFor(const Case& c, LazyMode lazy) {
  OptimizerOptions options = OptimizerOptions::Defaults(c.kind);
  options.nesterov = c.nesterov;
  options.lazy = lazy;
  if (c.kind == OptimizerKind::kFtrl) options.l1 = 0.5;
  return options;
}

TEST_P(LazyEquivalenceTest, ExactLazyStateEqualsDenseTraining) {
  const double difference =
      LargestDifference(OptionsFor(GetParam(), LazyMode::kExact), false);
  EXPECT_LT(difference, 2e-4) << GetParam().name;
}

TEST_P(LazyEquivalenceTest, SkipUpdatesOnlyTouchedCoordinates) {
  const double difference =
      LargestDifference(OptionsFor(GetParam(), LazyMode::kSkip), true);
  EXPECT_LT(difference, 2e-4) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(AllOptimizers, LazyEquivalenceTest,
                         testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

// --l1 and --l2 on every optimizer but FTRL: a proximal step after each step,
// owed by idle coordinates too. Lazily, sparse training still equals dense
// training, including for coordinates idle for thousands of steps.
struct Penalty {
  const char* name;
  double l1, l2;
};

void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }
void PrintTo(const Penalty& p, std::ostream* out) {
  *out << "l1 " << p.l1 << " l2 " << p.l2;
}

class RegularisedLazyEquivalenceTest
    : public testing::TestWithParam<std::tuple<Case, Penalty>> {};

TEST_P(RegularisedLazyEquivalenceTest, ExactLazyStateEqualsDenseTraining) {
  const auto& [optimizer, penalty] = GetParam();
  OptimizerOptions options = OptionsFor(optimizer, LazyMode::kExact);
  options.l1 = penalty.l1;
  options.l2 = penalty.l2;
  int zeros = 0;
  const double difference = LargestDifference(options, false, kSteps, &zeros);
  EXPECT_LT(difference, 2e-4);
  // L1 makes exact zeros; L2 alone only shrinks.
  if (penalty.l1 > 0) {
    EXPECT_GT(zeros, 0);
  } else {
    EXPECT_EQ(zeros, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryOptimizerButFtrl, RegularisedLazyEquivalenceTest,
    testing::Combine(
        // FTRL, the last case, has its own regularisation.
        testing::ValuesIn(std::begin(kCases), std::end(kCases) - 1),
        testing::Values(Penalty{"l1", 0.05, 0}, Penalty{"l2", 0, 0.05},
                        Penalty{"both", 0.05, 0.05})),
    [](const auto& info) {
      return std::string(std::get<0>(info.param).name) + "_" +
             std::get<1>(info.param).name;
    });

// --normalized with SGD and AdaGrad: the scale changes only when a
// coordinate is seen, so lazy training still equals dense, with and without
// a proximal step.
TEST(NormalizedLazyEquivalenceTest, ExactLazyStateEqualsDenseTraining) {
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kAdagrad}) {
    for (const Penalty& penalty :
         {Penalty{"none", 0, 0}, Penalty{"both", 0.05, 0.05}}) {
      OptimizerOptions options = OptimizerOptions::Defaults(kind);
      options.normalized = true;
      options.l1 = penalty.l1;
      options.l2 = penalty.l2;
      EXPECT_LT(LargestDifference(options, false), 2e-4)
          << OptimizerName(kind) << " " << penalty.name;
    }
  }
}

// Late in training the Adam family catches up in closed form (bias
// corrections and NAdam's mu have settled); it must still equal dense
// training.
TEST(LazyEquivalenceLongRunTest, AdamFamilyClosedFormEqualsDenseTraining) {
  for (OptimizerKind kind :
       {OptimizerKind::kAdam, OptimizerKind::kAmsgrad, OptimizerKind::kNadam}) {
    OptimizerOptions options = OptimizerOptions::Defaults(kind);
    EXPECT_LT(LargestDifference(options, false, 150000), 2e-4)
        << OptimizerName(kind);
  }
  // A large epsilon makes its terms in the closed form matter.
  OptimizerOptions large_epsilon =
      OptimizerOptions::Defaults(OptimizerKind::kAdam);
  large_epsilon.epsilon = 1e-3;
  EXPECT_LT(LargestDifference(large_epsilon, false, 150000), 2e-4);
}

// The shortcut is a different optimizer wherever missed steps matter.
TEST(LazySkipTest, DiffersFromDenseForDecayingState) {
  for (OptimizerKind kind : {OptimizerKind::kMomentum, OptimizerKind::kRmsprop,
                             OptimizerKind::kAdam, OptimizerKind::kNadam}) {
    OptimizerOptions options = OptimizerOptions::Defaults(kind);
    options.lazy = LazyMode::kSkip;
    EXPECT_GT(LargestDifference(options, false), 1e-2) << OptimizerName(kind);
  }
}

}  // namespace
}  // namespace adaline
