// A race trains each optimizer exactly as training it alone would, on one
// parse of the data, and reports standings a plot can draw.
#include "trainer/race.h"

#include <cstdio>
#include <string>
#include <vector>

#include "core/feature_key.h"
#include "data/synthetic.h"
#include "gtest/gtest.h"
#include "tests/test_files.h"
#include "trainer/local_trainer.h"

namespace adaline {
namespace {

class RaceTest : public testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("data.vw");
    std::FILE* file = std::fopen(path_.c_str(), "w");
    SyntheticOptions options;
    options.rows = 3000;
    options.seed = 3;
    ASSERT_TRUE(WriteSyntheticRatings(options, file).ok());
    std::fclose(file);
  }

  static Model NewModel(OptimizerKind kind) {
    Model model;
    model.config.optimizer = OptimizerOptions::Defaults(kind);
    model.store = std::make_unique<WeightStore>(model.config.optimizer);
    return model;
  }

  ReaderOptions Data() const {
    ReaderOptions data;
    data.files = {path_};
    data.parse.binary_labels = true;
    return data;
  }

  TemporaryDirectory dir_;
  std::string path_;
};

TEST_F(RaceTest, EachEntrantLearnsWhatTrainingItAloneLearns) {
  const std::vector<OptimizerKind> kinds = {
      OptimizerKind::kSgd, OptimizerKind::kAdagrad, OptimizerKind::kFtrl};
  std::vector<RaceEntrant> entrants;
  for (OptimizerKind kind : kinds) {
    entrants.push_back({std::string(OptimizerName(kind)), NewModel(kind)});
  }
  RaceOptions options;
  options.data = Data();
  const uint64_t nolan = FeatureKeyForName("movie^is_director_nolan");
  options.watched_keys = {nolan};
  absl::StatusOr<RaceStanding> standing = Race(options, entrants, nullptr);
  ASSERT_TRUE(standing.ok()) << standing.status();
  EXPECT_EQ(standing->examples, 3000u);

  for (size_t e = 0; e < kinds.size(); ++e) {
    Model alone = NewModel(kinds[e]);
    TrainOptions train;
    train.data = Data();
    train.progress = nullptr;
    ASSERT_TRUE(Train(train, &alone).ok());
    const WeightStore& raced = *entrants[e].model.store;
    ASSERT_EQ(raced.size(), alone.store->size()) << entrants[e].name;
    alone.store->ForEach([&](const Entry& entry) {
      std::optional<Entry> other = raced.Lookup(entry.key);
      ASSERT_TRUE(other.has_value());
      EXPECT_EQ(other->weight, entry.weight) << entrants[e].name;
    });
    std::optional<Entry> watched = alone.store->Lookup(nolan);
    ASSERT_TRUE(watched.has_value());
    EXPECT_EQ(standing->weights[e][0], alone.store->CaughtUp(*watched).weight);
    EXPECT_GT(standing->average_loss[e], 0);
  }
}

TEST_F(RaceTest, StandingsFallOnPowersOfTwoAndTheEnd) {
  std::vector<RaceEntrant> entrants;
  entrants.push_back({"adagrad", NewModel(OptimizerKind::kAdagrad)});
  RaceOptions options;
  options.data = Data();
  std::vector<uint64_t> seen;
  int last_calls = 0;
  ASSERT_TRUE(
      Race(options, entrants, [&](const RaceStanding& standing, bool last) {
        seen.push_back(standing.examples);
        last_calls += last;
      }).ok());
  EXPECT_EQ(last_calls, 1);
  EXPECT_EQ(seen.back(), 3000u);
  for (uint64_t power = 1; power <= 2048; power *= 2) {
    EXPECT_NE(std::find(seen.begin(), seen.end(), power), seen.end()) << power;
  }
  // Four per doubling: about 4 x log2(3000) standings, evenly on a log axis.
  EXPECT_GT(seen.size(), 40u);
  EXPECT_LT(seen.size(), 50u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(RaceTest, DataWithoutLabelsIsRefused) {
  std::vector<RaceEntrant> entrants;
  entrants.push_back({"adagrad", NewModel(OptimizerKind::kAdagrad)});
  RaceOptions options;
  options.data.files = {dir_.Write("unlabeled.vw", "|a x\n|a y\n")};
  options.data.parse.require_label = false;  // skipped, as VW skips them
  absl::StatusOr<RaceStanding> standing = Race(options, entrants, nullptr);
  ASSERT_FALSE(standing.ok());
  EXPECT_NE(standing.status().message().find("no labeled example"),
            std::string::npos)
      << standing.status();
}

}  // namespace
}  // namespace adaline
