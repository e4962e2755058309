#include "core/loss.h"

#include <cmath>
#include <random>
#include <vector>

#include "core/metrics.h"
#include "gtest/gtest.h"

namespace adaline {
namespace {

TEST(LossTest, DerivativeMatchesFiniteDifferences) {
  for (Loss loss : {Loss::kLogistic, Loss::kSquared, Loss::kHinge}) {
    for (float label : {-1.0f, 0.0f, 1.0f}) {
      if (loss == Loss::kHinge && label == 0) continue;  // 0 means -1 there
      for (float margin : {-3.0f, -0.4f, 0.3f, 2.5f}) {
        const double h = 1e-3;
        const double numeric = (LossValue(loss, margin + h, label) -
                                LossValue(loss, margin - h, label)) /
                               (2 * h);
        EXPECT_NEAR(LossDerivative(loss, margin, label), numeric, 2e-3)
            << LossName(loss) << " label " << label << " margin " << margin;
      }
    }
  }
}

TEST(LossTest, BinaryLabelsMayBeZeroOrMinusOne) {
  EXPECT_EQ(LossValue(Loss::kLogistic, 0.7f, 0),
            LossValue(Loss::kLogistic, 0.7f, -1));
  EXPECT_EQ(LossDerivative(Loss::kHinge, 0.2f, 0),
            LossDerivative(Loss::kHinge, 0.2f, -1));
}

TEST(LossTest, LogisticIsStableForHugeMargins) {
  EXPECT_NEAR(LossValue(Loss::kLogistic, 1000, -1), 1000, 1e-3);
  EXPECT_NEAR(LossValue(Loss::kLogistic, 1000, 1), 0, 1e-6);
  EXPECT_TRUE(std::isfinite(LossDerivative(Loss::kLogistic, -1000, 1)));
  EXPECT_NEAR(LossValue(Loss::kLogistic, 0, 1), std::log(2.0), 1e-6);
}

TEST(LossTest, PredictionIsAProbabilityOnlyForLogistic) {
  EXPECT_NEAR(Prediction(Loss::kLogistic, 0), 0.5, 1e-7);
  EXPECT_EQ(Prediction(Loss::kSquared, 3.5f), 3.5f);
  EXPECT_EQ(Prediction(Loss::kHinge, -2), -2);
}

TEST(LossTest, ParsesNames) {
  EXPECT_EQ(*ParseLoss("hinge"), Loss::kHinge);
  EXPECT_FALSE(ParseLoss("quantile").ok());
}

// The binned AUC agrees with the exact pairwise count.
TEST(MetricsTest, AucMatchesPairwiseCount) {
  std::mt19937 random(3);
  std::normal_distribution<float> noise(0, 1);
  Metrics metrics(Loss::kLogistic);
  std::vector<std::pair<float, float>> scored;
  for (int i = 0; i < 2000; ++i) {
    const float label = i % 3 == 0 ? 1 : -1;
    const float margin = label * 0.8f + noise(random);
    metrics.Add(margin, label, 1);
    scored.emplace_back(margin, label);
  }
  double right = 0, pairs = 0;
  for (const auto& [mp, lp] : scored) {
    if (lp < 0) continue;
    for (const auto& [mn, ln] : scored) {
      if (ln > 0) continue;
      pairs += 1;
      right += mp > mn ? 1 : mp == mn ? 0.5 : 0;
    }
  }
  EXPECT_NEAR(metrics.Auc(), right / pairs, 1e-3);
}

TEST(MetricsTest, WeightedLossAccuracyAndRmse) {
  Metrics logistic(Loss::kLogistic);
  logistic.Add(2, 1, 1);   // right
  logistic.Add(1, -1, 3);  // wrong, three times the weight
  EXPECT_NEAR(logistic.Accuracy(), 0.25, 1e-9);
  EXPECT_NEAR(logistic.MeanLoss(),
              (LossValue(Loss::kLogistic, 2, 1) +
               3 * LossValue(Loss::kLogistic, 1, -1)) /
                  4,
              1e-6);
  EXPECT_TRUE(std::isnan(logistic.Auc()) == false);
  Metrics squared(Loss::kSquared);
  squared.Add(1, 4, 1);
  squared.Add(2, 2, 1);
  EXPECT_NEAR(squared.Rmse(), std::sqrt(9.0 / 2), 1e-9);
  Metrics one_class(Loss::kLogistic);
  one_class.Add(1, 1, 1);
  EXPECT_TRUE(std::isnan(one_class.Auc()));
}

}  // namespace
}  // namespace adaline
