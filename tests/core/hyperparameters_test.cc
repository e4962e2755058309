// The hyperparameter table: each one declared once is range-checked, kept
// in the model file, compared on resume, and explained with its defaults.
#include "core/hyperparameters.h"

#include "core/model_file.h"
#include "gtest/gtest.h"

namespace adaline {
namespace {

const Hyperparameter& Find(absl::string_view flag) {
  for (const Hyperparameter& h : Hyperparameters()) {
    if (h.flag == flag) return h;
  }
  ADD_FAILURE() << "no hyperparameter " << flag;
  return Hyperparameters()[0];
}

TEST(HyperparametersTest, EveryOneSurvivesTheModelFile) {
  OptimizerOptions options = OptimizerOptions::Defaults(OptimizerKind::kFtrl);
  // A value of its own for each, inside its range.
  int i = 0;
  for (const Hyperparameter& h : Hyperparameters()) {
    h.set(options, h.is_bool ? 1 : (h.low + h.high) / (8 + ++i));
  }
  ASSERT_TRUE(ValidateOptimizerOptions(options).ok());
  absl::StatusOr<OptimizerOptions> read = FromProto(ToProto(options));
  ASSERT_TRUE(read.ok()) << read.status();
  for (const Hyperparameter& h : Hyperparameters()) {
    EXPECT_EQ(h.get(*read), h.get(options)) << h.flag;
  }
}

TEST(HyperparametersTest, EveryOneIsComparedOnResume) {
  ModelConfig base;
  base.optimizer = OptimizerOptions::Defaults(OptimizerKind::kAdam);
  for (const Hyperparameter& h : Hyperparameters()) {
    ModelConfig changed = base;
    h.set(changed.optimizer, h.is_bool ? 1 - h.get(base.optimizer)
                                       : h.get(base.optimizer) / 2 + 1e-3);
    const std::string difference = ConfigDifference(changed, base);
    EXPECT_EQ(difference.rfind(DashedFlag(h.flag) + " is ", 0), 0u)
        << difference;
  }
}

TEST(HyperparametersTest, ValuesOutsideTheRangeNameTheFlag) {
  OptimizerOptions options = OptimizerOptions::Defaults(OptimizerKind::kAdam);
  options.beta1 = 1;
  absl::Status status = ValidateOptimizerOptions(options);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_EQ(status.message(), "--beta1 is 1; it must be in [0, 1)");
  EXPECT_FALSE(CheckRange(Find("lr"), 0).ok());
  EXPECT_TRUE(CheckRange(Find("lr"), 1e6).ok());
  EXPECT_FALSE(CheckRange(Find("momentum_decay"), -1).ok());
  EXPECT_FALSE(CheckRange(Find("eps"), std::nan("")).ok());
}

TEST(HyperparametersTest, HelpShowsWhoReadsItAndEachOptimizersDefault) {
  EXPECT_EQ(HelpText(Find("beta1")), "first-moment decay; adam amsgrad nadam");
  EXPECT_EQ(DefaultText(Find("beta1")), "0.9");
  const std::string lr = DefaultText(Find("lr"));
  EXPECT_NE(lr.find("sgd 0.1, momentum 0.01"), std::string::npos) << lr;
  EXPECT_NE(lr.find("adam/amsgrad/nadam 0.001"), std::string::npos) << lr;
  EXPECT_EQ(DefaultText(Find("nesterov")), "false");
  EXPECT_EQ(lr.find("ftrl"), std::string::npos) << lr;  // FTRL has alpha
}

TEST(HyperparametersTest, FlagsAreSpelledWithDashes) {
  EXPECT_EQ(DashedFlag("initial_accumulator"), "--initial-accumulator");
  EXPECT_EQ(DashedFlag("lr"), "--lr");
}

}  // namespace
}  // namespace adaline
