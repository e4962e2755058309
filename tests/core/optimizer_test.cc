#include "core/optimizer.h"

#include <cmath>

#include "gtest/gtest.h"

namespace adaline {
namespace {

// One step from w = 1 with gradient g, as the reference's worked check.
float OneStep(OptimizerOptions options, float g) {
  Optimizer optimizer(options);
  float weight = 1;
  float state[3];
  optimizer.InitState(state);
  optimizer.Apply(weight, state, g, optimizer.Factors(1));
  return weight;
}

OptimizerOptions With(OptimizerKind kind, double lr) {
  OptimizerOptions options = OptimizerOptions::Defaults(kind);
  options.learning_rate = lr;
  options.epsilon = 1e-12;
  return options;
}

TEST(OptimizerTest, WorkedCheckAdagrad) {
  // w0 = [1, 1], g = [0.2, 0.1], lr = 0.1: w1 = [0.9, 0.9].
  EXPECT_NEAR(OneStep(With(OptimizerKind::kAdagrad, 0.1), 0.2f), 0.9f, 1e-6);
  EXPECT_NEAR(OneStep(With(OptimizerKind::kAdagrad, 0.1), 0.1f), 0.9f, 1e-6);
}

TEST(OptimizerTest, WorkedCheckAdamMovesByLrTimesSign) {
  EXPECT_NEAR(OneStep(With(OptimizerKind::kAdam, 0.1), 0.2f), 0.9f, 1e-6);
  EXPECT_NEAR(OneStep(With(OptimizerKind::kAdam, 0.1), -0.1f), 1.1f, 1e-6);
  EXPECT_NEAR(OneStep(With(OptimizerKind::kAmsgrad, 0.1), 0.2f), 0.9f, 1e-6);
}

TEST(OptimizerTest, SgdAndMomentumFirstStep) {
  EXPECT_NEAR(OneStep(With(OptimizerKind::kSgd, 0.1), 0.2f), 0.98f, 1e-6);
  // m = g on the first step.
  EXPECT_NEAR(OneStep(With(OptimizerKind::kMomentum, 0.1), 0.2f), 0.98f, 1e-6);
  OptimizerOptions nesterov = With(OptimizerKind::kMomentum, 0.1);
  nesterov.nesterov = true;
  // w -= lr (g + mu m) = 0.1 (0.2 + 0.9 * 0.2).
  EXPECT_NEAR(OneStep(nesterov, 0.2f), 1 - 0.1f * 0.38f, 1e-6);
}

TEST(OptimizerTest, RmspropAndAdadeltaFirstStep) {
  OptimizerOptions rmsprop = With(OptimizerKind::kRmsprop, 0.01);
  // s = 0.01 g^2, w -= lr g / sqrt(s) = lr / 0.1.
  EXPECT_NEAR(OneStep(rmsprop, 0.5f), 1 - 0.1f, 1e-5);
  OptimizerOptions adadelta =
      OptimizerOptions::Defaults(OptimizerKind::kAdadelta);
  // Eg = 0.1 g^2; d = sqrt(eps) / sqrt(Eg + eps) g; w -= d.
  const double eg = 0.1 * 0.25;
  const double d = std::sqrt(1e-6) / std::sqrt(eg + 1e-6) * 0.5;
  EXPECT_NEAR(OneStep(adadelta, 0.5f), 1 - d, 1e-6);
}

TEST(OptimizerTest, NadamFirstStepFollowsTheReference) {
  OptimizerOptions options = With(OptimizerKind::kNadam, 0.1);
  const double b1 = 0.9, b2 = 0.999, psi = 0.004, g = 0.2;
  const double mu1 = b1 * (1 - 0.5 * std::pow(0.96, 1 * psi));
  const double mu2 = b1 * (1 - 0.5 * std::pow(0.96, 2 * psi));
  const double m = (1 - b1) * g, v = (1 - b2) * g * g;
  const double denominator = std::sqrt(v / (1 - b2)) + 1e-12;
  const double expected = 1 - 0.1 * (1 - mu1) / (1 - mu1) * g / denominator -
                          0.1 * mu2 / (1 - mu1 * mu2) * m / denominator;
  EXPECT_NEAR(OneStep(options, 0.2f), expected, 1e-6);
}

TEST(OptimizerTest, FtrlFollowsMcMahanAlgorithmOne) {
  OptimizerOptions options = OptimizerOptions::Defaults(OptimizerKind::kFtrl);
  options.l1 = 0.01;
  options.l2 = 0.1;
  Optimizer optimizer(options);
  float weight = 0, state[3];
  optimizer.InitState(state);
  optimizer.Apply(weight, state, 0.5f, optimizer.Factors(1));
  // sigma = (sqrt(0.25) - 0) / alpha; z = 0.5 - sigma * 0; n = 0.25.
  const double z = 0.5, n = 0.25;
  const double expected = -(z - 0.01) / ((1.0 + std::sqrt(n)) / 0.1 + 0.1);
  EXPECT_NEAR(weight, expected, 1e-7);
  // A small gradient against a large L1 leaves the weight at exactly 0.
  options.l1 = 10;
  Optimizer sparse(options);
  weight = 0;
  sparse.InitState(state);
  sparse.Apply(weight, state, 0.5f, sparse.Factors(1));
  EXPECT_EQ(weight, 0.0f);
}

TEST(OptimizerTest, L1AndL2AreAProximalStepAfterTheUpdate) {
  // AdaGrad: w = 1 - 0.1 * 0.2 / 0.2 = 0.9 with G = 0.04; its step size is
  // eta = 0.1 / 0.2 = 0.5, so |w| shrinks by 0.5 * 0.1 and is divided by
  // 1 + 0.5 * 0.2.
  OptimizerOptions options = With(OptimizerKind::kAdagrad, 0.1);
  options.l1 = 0.1;
  options.l2 = 0.2;
  EXPECT_NEAR(OneStep(options, 0.2f), (0.9 - 0.05) / 1.1, 1e-6);
  // Adam: the step size is lr, whatever the moments.
  options = With(OptimizerKind::kAdam, 0.1);
  options.l1 = 0.1;
  EXPECT_NEAR(OneStep(options, 0.2f), 0.9 - 0.01, 1e-6);
  // A weight that L1 would carry past 0 stops at 0.
  options.l1 = 100;
  EXPECT_EQ(OneStep(options, 0.2f), 0.0f);
}

TEST(OptimizerTest, IdleStepsOweTheirProximalStepsInClosedForm) {
  OptimizerOptions options = With(OptimizerKind::kSgd, 0.1);
  options.l1 = 0.1;
  Optimizer l1_only(options);
  float weight = 1;
  l1_only.CatchUp(weight, nullptr, 10, 30);  // 20 steps of 0.01
  EXPECT_NEAR(weight, 0.8, 1e-6);
  l1_only.CatchUp(weight, nullptr, 30, 1000000);
  EXPECT_EQ(weight, 0.0f);
  options.l1 = 0;
  options.l2 = 1;
  Optimizer l2_only(options);
  weight = -1;
  l2_only.CatchUp(weight, nullptr, 0, 3);
  EXPECT_NEAR(weight, -1 / std::pow(1.1, 3), 1e-6);
}

// --normalized: a feature measured in other units (x c) learns the same
// predictions, its weights divided by c.
TEST(OptimizerTest, NormalizedStepsDoNotCareAboutAFeaturesUnits) {
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kAdagrad}) {
    OptimizerOptions options = With(kind, 0.1);
    options.normalized = true;
    Optimizer optimizer(options);
    ASSERT_EQ(optimizer.state_width(), StateWidth(kind) + 1);
    const float c = 1000;
    float w = 0, w_scaled = 0;
    float state[kMaxStateWidth], state_scaled[kMaxStateWidth];
    optimizer.InitState(state);
    optimizer.InitState(state_scaled);
    const float values[] = {0.5f, 2.0f, 1.0f, 4.0f, 3.0f};
    const float derivatives[] = {0.3f, -0.7f, 0.2f, 0.9f, -0.4f};
    for (int t = 0; t < 5; ++t) {
      const float x = values[t], d = derivatives[t];
      optimizer.Apply(w, state, d * x, optimizer.Factors(t + 1), x);
      optimizer.Apply(w_scaled, state_scaled, d * x * c,
                      optimizer.Factors(t + 1), x * c);
      EXPECT_NEAR(w_scaled * c, w, 1e-4 * std::max(std::abs(w), 0.01f))
          << OptimizerName(kind);
    }
    EXPECT_EQ(state[optimizer.state_width() - 1], 4.0f);  // the largest |x|
  }
}

TEST(OptimizerTest, ALargerValueShrinksTheWeightByTheRatio) {
  OptimizerOptions options = With(OptimizerKind::kAdagrad, 0.1);
  options.normalized = true;
  Optimizer optimizer(options);
  float weight = 1, state[kMaxStateWidth] = {1, 2};  // G = 1, scale 2
  // No gradient, but |x| = 8: the weight becomes 1 * 2 / 8.
  optimizer.Apply(weight, state, 0, optimizer.Factors(1), 8);
  EXPECT_FLOAT_EQ(weight, 0.25f);
  EXPECT_EQ(state[1], 8.0f);
  options.kind = OptimizerKind::kSgd;
  Optimizer sgd(options);
  weight = 1;
  float sgd_state[kMaxStateWidth] = {2};
  sgd.Apply(weight, sgd_state, 0, sgd.Factors(1), 8);
  EXPECT_FLOAT_EQ(weight, 1.0f / 16);  // SGD's steps go with the square
}

// Early in training, before the bias corrections settle, an idle
// coordinate of the Adam family replays its missed steps: each must move the
// weight exactly as a zero-gradient step of dense training does.
TEST(OptimizerTest, AdamFamilyReplayIsBitForBitDenseTraining) {
  for (OptimizerKind kind :
       {OptimizerKind::kAdam, OptimizerKind::kAmsgrad, OptimizerKind::kNadam}) {
    Optimizer optimizer(OptimizerOptions::Defaults(kind));
    int differing = 0;
    for (uint64_t last = 1; last < 4000; last += 37) {
      float state[3];
      optimizer.InitState(state);
      float weight = 0.25f;
      optimizer.Apply(weight, state, 0.7f, optimizer.Factors(last));
      float lazy_weight = weight;
      float lazy_state[3] = {state[0], state[1], state[2]};
      const uint64_t to = last + 1 + last % 50;
      optimizer.CatchUp(lazy_weight, lazy_state, last, to);
      for (uint64_t t = last + 1; t <= to; ++t) {
        optimizer.Apply(weight, state, 0, optimizer.Factors(t));
      }
      if (lazy_weight != weight) ++differing;
    }
    EXPECT_EQ(differing, 0) << OptimizerName(kind);
  }
}

TEST(OptimizerTest, AdagradInitialAccumulator) {
  OptimizerOptions options = With(OptimizerKind::kAdagrad, 0.1);
  options.initial_accumulator = 0.05;
  // G = 0.05 + 0.04 = 0.09, w -= 0.1 * 0.2 / 0.3.
  EXPECT_NEAR(OneStep(options, 0.2f), 1 - 0.02 / 0.3, 1e-6);
}

TEST(OptimizerTest, ParsesEveryNameAndRefusesOthers) {
  for (absl::string_view name :
       {"sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam", "amsgrad",
        "nadam", "ftrl"}) {
    absl::StatusOr<OptimizerKind> kind = ParseOptimizerKind(name);
    ASSERT_TRUE(kind.ok()) << name;
    EXPECT_EQ(OptimizerName(*kind), name);
  }
  absl::StatusOr<OptimizerKind> unknown = ParseOptimizerKind("adamw");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("adamw"), absl::string_view::npos);
}

TEST(OptimizerTest, RefusesHyperparametersOutOfRange) {
  OptimizerOptions options = OptimizerOptions::Defaults(OptimizerKind::kAdam);
  options.beta1 = 1.0;
  absl::Status status = ValidateOptimizerOptions(options);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("--beta1"), absl::string_view::npos);

  options = OptimizerOptions::Defaults(OptimizerKind::kSgd);
  options.learning_rate = -1;
  EXPECT_FALSE(ValidateOptimizerOptions(options).ok());
  options.learning_rate = std::nan("");
  EXPECT_FALSE(ValidateOptimizerOptions(options).ok());
}

TEST(OptimizerTest, EveryOptimizerTakesRegularisationButNotNegative) {
  for (OptimizerKind kind : {OptimizerKind::kAdagrad, OptimizerKind::kAdam,
                             OptimizerKind::kFtrl, OptimizerKind::kSgd}) {
    OptimizerOptions options = OptimizerOptions::Defaults(kind);
    options.l1 = 0.1;
    options.l2 = 0.1;
    EXPECT_TRUE(ValidateOptimizerOptions(options).ok()) << OptimizerName(kind);
    options.l2 = -0.1;
    absl::Status status = ValidateOptimizerOptions(options);
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.message().find("--l2"), absl::string_view::npos);
  }
}

}  // namespace
}  // namespace adaline

namespace adaline {
namespace {

TEST(DecayPowersTest, TablesAgreeWithPowEverywhere) {
  for (double base : {0.9, 0.999, 0.99999}) {
    const DecayPowers powers(base);
    for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{4095}, uint64_t{4096},
                       uint64_t{4097}, uint64_t{123456}, uint64_t{1} << 24,
                       (uint64_t{1} << 24) + 5, uint64_t{1} << 30}) {
      const double expected = std::pow(base, static_cast<double>(n));
      EXPECT_NEAR(powers(n), expected, 1e-12 * expected) << base << "^" << n;
    }
    // 1 - base^n is exactly what double arithmetic gives, 1 included.
    for (uint64_t n :
         {uint64_t{1}, uint64_t{10}, uint64_t{100000}, uint64_t{1} << 40}) {
      EXPECT_NEAR(powers.OneMinus(n), 1 - std::pow(base, n), 1e-15);
    }
  }
}

}  // namespace
}  // namespace adaline
