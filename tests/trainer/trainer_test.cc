// End to end through the libraries: generated data with a known true model,
// training, resuming, and prediction.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/feature_key.h"
#include "core/parameters.h"
#include "data/example_stream.h"
#include "data/synthetic.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/test_files.h"
#include "trainer/local_trainer.h"
#include "trainer/predictor.h"
#include "trainer/run_log.h"
#include "trainer/training_report.h"

namespace adaline {
namespace {

class TrainerTest : public testing::Test {
 protected:
  // Generates `rows` rows once per test into a file; returns its path.
  std::string Generate(uint64_t rows, SyntheticSummary* summary = nullptr) {
    const std::string path = dir_.File("data.vw");
    std::FILE* file = std::fopen(path.c_str(), "w");
    SyntheticOptions options;
    options.rows = rows;
    options.seed = 5;
    absl::StatusOr<SyntheticSummary> written =
        WriteSyntheticRatings(options, file);
    std::fclose(file);
    EXPECT_TRUE(written.ok());
    if (summary != nullptr) *summary = *written;
    return path;
  }

  static Model NewModel(OptimizerKind kind) {
    Model model;
    model.config.optimizer = OptimizerOptions::Defaults(kind);
    model.store = std::make_unique<WeightStore>(model.config.optimizer);
    return model;
  }

  static TrainOptions Options(const std::string& path, uint64_t passes) {
    TrainOptions options;
    options.data.files = {path};
    options.passes = passes;
    options.holdout_every = 10;
    options.progress = nullptr;
    return options;
  }

  TemporaryDirectory dir_;
};

TEST_F(TrainerTest, ApproachesTheTrueModelAndLearnsTheRareStrongFeature) {
  SyntheticSummary truth;
  const std::string path = Generate(200000, &truth);
  Model model = NewModel(OptimizerKind::kAdagrad);
  absl::StatusOr<TrainResult> result = Train(Options(path, 2), &model);
  ASSERT_TRUE(result.ok()) << result.status();
  const double holdout = result->holdout.MeanLoss();
  // A constant predictor scores about 0.69 here; the true model ~0.546.
  EXPECT_LT(holdout, truth.true_log_loss * 1.08);
  EXPECT_GT(holdout, truth.true_log_loss * 0.95);
  EXPECT_GT(result->holdout.Auc(), 0.7);
  ASSERT_EQ(result->holdout_loss_per_pass.size(), 2u);
  EXPECT_EQ(result->examples, 2u * 180000);
  // The rare, strong feature (true weight 2.5, in 0.4% of rows).
  std::optional<Entry> nolan =
      model.store->Lookup(FeatureKeyForName("movie^is_director_nolan"));
  ASSERT_TRUE(nolan.has_value());
  EXPECT_GT(nolan->weight, 1.5);
  EXPECT_LT(nolan->weight, 3.5);
}

// The JSON lines of --metrics-out: a progress row per table line, a row per
// pass, and a report whose numbers are the result's.
TEST_F(TrainerTest, RunLogHoldsProgressPassesAndTheReport) {
  const std::string path = Generate(5000);
  Model model = NewModel(OptimizerKind::kAdagrad);
  TrainOptions options = Options(path, 2);
  const std::string log_path = dir_.File("run.jsonl");
  absl::StatusOr<std::unique_ptr<RunLog>> log = RunLog::Create(log_path);
  ASSERT_TRUE(log.ok());
  options.log = log->get();
  absl::StatusOr<TrainResult> result = Train(options, &model);
  ASSERT_TRUE(result.ok()) << result.status();
  ModelSummary summary;
  summary.unique_features = model.store->size();
  summary.bytes = model.store->bytes();
  summary.steps = model.store->step();
  (*log)->Write(
      TrainingReportJson(options, model.config.loss, *result, summary));
  ASSERT_TRUE((*log)->Close().ok());

  std::vector<std::string> progress, passes, reports;
  std::FILE* file = std::fopen(log_path.c_str(), "r");
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, file) != nullptr) {
    const std::string line(buffer);
    if (line.find(R"("event":"progress")") != std::string::npos)
      progress.push_back(line);
    if (line.find(R"("event":"pass")") != std::string::npos)
      passes.push_back(line);
    if (line.find(R"("event":"report")") != std::string::npos)
      reports.push_back(line);
  }
  std::fclose(file);
  // 1, 2, 4, ..., 8192 learned examples, then the last count.
  ASSERT_EQ(progress.size(), 15u);
  EXPECT_EQ(JsonNumberField(progress.back(), "examples"), result->examples);
  ASSERT_EQ(passes.size(), 2u);
  EXPECT_NEAR(*JsonNumberField(passes[1], "holdout_loss"),
              result->holdout_loss_per_pass[1], 1e-8);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NEAR(*JsonNumberField(reports[0], "holdout_log_loss"),
              result->holdout.MeanLoss(), 1e-8);
  EXPECT_EQ(JsonNumberField(reports[0], "examples"), result->examples);
  EXPECT_EQ(JsonNumberField(reports[0], "unique_features"),
            model.store->size());
}

// Training takes the store for its thread alone, and gives it back as it
// was, also when early stopping replaced it.
TEST_F(TrainerTest, TrainingGivesBackTheStoresSharing) {
  const std::string path = Generate(3000);
  for (const uint64_t early_stop : {uint64_t{0}, uint64_t{1}}) {
    for (const bool shared : {true, false}) {
      Model model = NewModel(OptimizerKind::kAdagrad);
      model.store->SetSharedBetweenThreads(shared);
      TrainOptions options = Options(path, 3);
      options.early_stop = early_stop;
      ASSERT_TRUE(Train(options, &model).ok());
      EXPECT_EQ(model.store->shared_between_threads(), shared);
    }
  }
}

TEST_F(TrainerTest, BatchesStepOncePerBatch) {
  const std::string path = Generate(10000);
  Model model = NewModel(OptimizerKind::kAdagrad);
  TrainOptions options = Options(path, 1);
  options.batch_size = 64;
  absl::StatusOr<TrainResult> result = Train(options, &model);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->examples, 9000u);
  EXPECT_EQ(model.store->step(), (9000u + 63) / 64);
}

TEST_F(TrainerTest, ProgressMetricsFollowTheLearner) {
  const std::string path = Generate(10000);
  Model model = NewModel(OptimizerKind::kAdagrad);
  TrainOptions options = Options(path, 1);
  ProgressMetrics metrics;
  options.metrics = &metrics;
  absl::StatusOr<TrainResult> result = Train(options, &model);
  ASSERT_TRUE(result.ok());
  double examples = -1, loss = -1;
  for (const prometheus::MetricFamily& family : metrics.Collect()) {
    if (family.name == "adaline_worker_examples_total") {
      examples = family.metric.at(0).counter.value;
    }
    if (family.name == "adaline_worker_progressive_loss") {
      loss = family.metric.at(0).gauge.value;
    }
  }
  EXPECT_EQ(examples, 9000);
  // Better than a constant prediction (0.69), worse than the true model.
  EXPECT_GT(loss, 0.5);
  EXPECT_LT(loss, 0.69);
}

// Held-out examples are scored, never stepped on, even at the end of a pass.
TEST_F(TrainerTest, EveryLearnedExampleIsOneStepAndHeldOutOnesNone) {
  const std::string path = Generate(1000);  // example 1000 is held out
  Model model = NewModel(OptimizerKind::kAdam);
  absl::StatusOr<TrainResult> result = Train(Options(path, 2), &model);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->examples, 1800u);
  EXPECT_EQ(model.store->step(), 1800u);
  EXPECT_EQ(result->holdout.count(), 100u);
}

// Two passes in one run equal one pass, save, load, and one more pass.
TEST_F(TrainerTest, ResumingIsExact) {
  const std::string path = Generate(20000);
  for (OptimizerKind kind :
       {OptimizerKind::kAdagrad, OptimizerKind::kAdam, OptimizerKind::kFtrl}) {
    Model straight = NewModel(kind);
    ASSERT_TRUE(Train(Options(path, 2), &straight).ok());

    Model first = NewModel(kind);
    ASSERT_TRUE(Train(Options(path, 1), &first).ok());
    const std::string saved = dir_.File("half.model");
    ASSERT_TRUE(SaveModel(saved, first.config, *first.store, nullptr).ok());
    absl::StatusOr<Model> resumed = LoadModel(saved);
    ASSERT_TRUE(resumed.ok()) << resumed.status();
    ASSERT_TRUE(Train(Options(path, 1), &*resumed).ok());

    EXPECT_EQ(resumed->store->step(), straight.store->step());
    EXPECT_EQ(resumed->store->size(), straight.store->size());
    size_t compared = 0;
    straight.store->ForEach([&](const Entry& entry) {
      const Entry expected = straight.store->CaughtUp(entry);
      std::optional<Entry> got = resumed->store->Lookup(entry.key);
      ASSERT_TRUE(got.has_value());
      ASSERT_EQ(got->weight, expected.weight) << OptimizerName(kind);
      ASSERT_EQ(got->state[0], expected.state[0]) << OptimizerName(kind);
      ++compared;
    });
    EXPECT_EQ(compared, straight.store->size());
  }
}

TEST_F(TrainerTest, EarlyStoppingKeepsTheBestPassModel) {
  const std::string path = Generate(20000);
  // A large rate overfits after a pass or two.
  auto overfitting = [] {
    Model model = NewModel(OptimizerKind::kAdagrad);
    model.config.optimizer.learning_rate = 1;
    model.store = std::make_unique<WeightStore>(model.config.optimizer);
    return model;
  };
  TrainOptions options = Options(path, 12);
  options.early_stop = 2;
  Model stopped = overfitting();
  absl::StatusOr<TrainResult> result = Train(options, &stopped);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->stopped_early);
  const std::vector<double>& losses = result->holdout_loss_per_pass;
  ASSERT_EQ(losses.size(), result->best_pass + 2);
  for (size_t pass = 0; pass < losses.size(); ++pass) {
    EXPECT_GE(losses[pass], losses[result->best_pass - 1]) << pass;
  }
  EXPECT_EQ(result->holdout.MeanLoss(), losses[result->best_pass - 1]);

  // The model kept is the one training that many passes leaves.
  Model best = overfitting();
  ASSERT_TRUE(Train(Options(path, result->best_pass), &best).ok());
  EXPECT_EQ(stopped.store->step(), best.store->step());
  EXPECT_EQ(stopped.store->size(), best.store->size());
  best.store->ForEach([&](const Entry& entry) {
    const std::optional<Entry> kept = stopped.store->Lookup(entry.key);
    ASSERT_TRUE(kept.has_value());
    ASSERT_EQ(kept->weight, best.store->CaughtUp(entry).weight);
  });
}

// Going back to the best pass keeps the store's memory bounds and the
// counts the report gives of them.
TEST_F(TrainerTest, EarlyStoppingKeepsTheMemoryBoundsAndTheirCounts) {
  const std::string path = Generate(20000);
  Model model = NewModel(OptimizerKind::kAdagrad);
  model.config.optimizer.learning_rate = 1;  // overfits after a pass or two
  model.store = std::make_unique<WeightStore>(model.config.optimizer);
  MemoryBounds bounds;
  bounds.admit_after = 3;
  model.store->SetMemoryBounds(bounds);
  TrainOptions options = Options(path, 12);
  options.early_stop = 1;
  absl::StatusOr<TrainResult> result = Train(options, &model);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->stopped_early);
  ASSERT_LT(result->best_pass, result->holdout_loss_per_pass.size());
  EXPECT_EQ(model.store->memory_bounds().admit_after, 3u);
  EXPECT_GT(model.store->not_admitted_updates(), 0u);
  EXPECT_GT(model.store->admitted_keys(), 0u);
}

// Data too small to hold an example out says nothing against a pass: all
// passes run and the last one's model stays.
TEST_F(TrainerTest, EarlyStoppingWithAnEmptyHoldoutRunsEveryPass) {
  const std::string path = Generate(9);
  TrainOptions options = Options(path, 4);
  options.early_stop = 1;
  Model stopped = NewModel(OptimizerKind::kAdagrad);
  absl::StatusOr<TrainResult> result = Train(options, &stopped);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->stopped_early);
  EXPECT_EQ(result->best_pass, 4u);
  EXPECT_EQ(result->examples, 4 * 9u);
  EXPECT_EQ(stopped.store->step(), 4 * 9u);
  // The report says none was held out, and gives no loss of none.
  std::vector<std::string> keys;
  for (const ReportField& field : TrainingReportFields(
           options, Loss::kLogistic, *result, ModelSummary())) {
    keys.push_back(field.key);
  }
  EXPECT_NE(std::find(keys.begin(), keys.end(), "holdout_examples"),
            keys.end());
  EXPECT_EQ(std::find(keys.begin(), keys.end(), "holdout_log_loss"),
            keys.end());
}

TEST_F(TrainerTest, EarlyStoppingNeedsAHoldoutAndALocalModel) {
  const std::string path = Generate(100);
  TrainOptions options = Options(path, 3);
  options.early_stop = 1;
  options.holdout_every = 0;
  Model model = NewModel(OptimizerKind::kAdagrad);
  EXPECT_THAT(Train(options, &model).status(),
              HasMessage("--early-stop needs a holdout"));
  options.holdout_every = 10;
  StoreParameters parameters(model.store.get());
  EXPECT_THAT(Train(options, Loss::kLogistic, parameters, nullptr).status(),
              HasMessage("only local training holds"));
}

// --normalized: measuring a feature in other units (here x 1000) changes
// nothing the model predicts; without it, training suffers.
TEST_F(TrainerTest, NormalizedTrainingDoesNotCareAboutUnits) {
  std::string plain, scaled;
  uint64_t state = 7;
  auto uniform = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  for (int i = 0; i < 20000; ++i) {
    const double a = uniform() * 2 - 1, b = uniform() * 2 - 1;
    const bool label = uniform() < 1 / (1 + std::exp(-(3 * a - 2 * b)));
    const std::string rest =
        " b:" + std::to_string(b) + " |c k" + std::to_string(i % 3) + "\n";
    plain += (label ? "1 |n a:" : "-1 |n a:") + std::to_string(a) + rest;
    scaled +=
        (label ? "1 |n a:" : "-1 |n a:") + std::to_string(1000 * a) + rest;
  }
  auto holdout_loss = [&](const std::string& text, bool normalized) {
    const std::string path = dir_.Write("units.vw", text);
    Model model = NewModel(OptimizerKind::kAdagrad);
    model.config.optimizer.normalized = normalized;
    model.store = std::make_unique<WeightStore>(model.config.optimizer);
    absl::StatusOr<TrainResult> result = Train(Options(path, 1), &model);
    EXPECT_TRUE(result.ok()) << result.status();
    return result->holdout.MeanLoss();
  };
  const double normalized = holdout_loss(plain, true);
  EXPECT_NEAR(holdout_loss(scaled, true), normalized, 1e-4);
  EXPECT_GT(holdout_loss(scaled, false), normalized + 0.05);
}

TEST_F(TrainerTest, TheModelDoesNotDependOnTheParsingThreads) {
  // 30 blocks of examples, so that parsers finish out of order.
  const std::string path = Generate(30000);
  TrainOptions options = Options(path, 1);
  options.keep_names = true;
  options.data.parse.keep_names = true;
  options.data.threads = 1;
  Model single = NewModel(OptimizerKind::kAdam);
  absl::StatusOr<TrainResult> single_result = Train(options, &single);
  ASSERT_TRUE(single_result.ok()) << single_result.status();
  for (int threads : {2, 4}) {
    options.data.threads = threads;
    Model parallel = NewModel(OptimizerKind::kAdam);
    absl::StatusOr<TrainResult> result = Train(options, &parallel);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->holdout.MeanLoss(), single_result->holdout.MeanLoss());
    ASSERT_EQ(parallel.store->step(), single.store->step());
    ASSERT_EQ(parallel.store->size(), single.store->size());
    EXPECT_EQ(parallel.names.size(), single.names.size());
    size_t compared = 0;
    single.store->ForEach([&](const Entry& entry) {
      std::optional<Entry> got = parallel.store->Lookup(entry.key);
      ASSERT_TRUE(got.has_value());
      const Entry expected = single.store->CaughtUp(entry);
      // Bit for bit, not merely close.
      ASSERT_EQ(got->weight, expected.weight) << threads << " threads";
      ASSERT_EQ(got->state[0], expected.state[0]) << threads << " threads";
      ASSERT_EQ(got->state[1], expected.state[1]) << threads << " threads";
      ++compared;
    });
    EXPECT_EQ(compared, single.store->size());
  }
}

// Parameters over a store that do not say where it lives, so that the
// learner takes the general path (Pull, Minibatch, Push) with them.
class HiddenStoreParameters final : public Parameters {
 public:
  explicit HiddenStoreParameters(WeightStore* store) : inner_(store) {}
  absl::Status Pull(absl::Span<const uint64_t> keys,
                    absl::Span<float> weights) override {
    return inner_.Pull(keys, weights);
  }
  bool wants_scales() const override { return inner_.wants_scales(); }

 protected:
  absl::Status PushStep(absl::Span<const uint64_t> keys,
                        absl::Span<const float> gradients,
                        absl::Span<const float> scales) override {
    return inner_.Push(keys, gradients, scales);
  }

 private:
  StoreParameters inner_;
};

// Local training with batches of one steps example by example
// (WeightStore::LearnExample); it trains the model the general loop trains,
// bit for bit, with held-out examples, examples with a repeated key
// (they take the general path) and several passes.
TEST_F(TrainerTest, BatchesOfOneLearnAsTheGeneralLoopDoes) {
  std::string path;
  {
    std::ifstream generated(Generate(3000));
    const std::string text((std::istreambuf_iterator<char>(generated)),
                           std::istreambuf_iterator<char>());
    // Every 13th row repeats a feature: its keys are not distinct.
    std::string marked;
    size_t row = 0, begin = 0;
    for (size_t end; (end = text.find('\n', begin)) != std::string::npos;
         begin = end + 1, ++row) {
      marked += text.substr(begin, end - begin);
      if (row % 13 == 0) marked += " |again w1 w1";
      marked += "\n";
    }
    path = dir_.Write("repeats.vw", marked);
  }
  for (OptimizerKind kind :
       {OptimizerKind::kAdagrad, OptimizerKind::kAdam, OptimizerKind::kFtrl}) {
    TrainOptions options = Options(path, 2);
    options.holdout_every = 7;
    Model fused = NewModel(kind);
    fused.config.optimizer.normalized = kind == OptimizerKind::kAdagrad;
    fused.store = std::make_unique<WeightStore>(fused.config.optimizer);
    Model general = NewModel(kind);
    general.config.optimizer = fused.config.optimizer;
    general.store = std::make_unique<WeightStore>(general.config.optimizer);
    absl::StatusOr<TrainResult> fused_result = Train(options, &fused);
    ASSERT_TRUE(fused_result.ok()) << fused_result.status();
    HiddenStoreParameters hidden(general.store.get());
    absl::StatusOr<TrainResult> general_result =
        Train(options, general.config.loss, hidden, &general.names);
    ASSERT_TRUE(general_result.ok()) << general_result.status();
    EXPECT_EQ(fused_result->holdout.MeanLoss(),
              general_result->holdout.MeanLoss());
    EXPECT_EQ(fused_result->holdout.count(), general_result->holdout.count());
    EXPECT_EQ(fused_result->features, general_result->features);
    ASSERT_EQ(fused.store->step(), general.store->step());
    ASSERT_EQ(fused.store->size(), general.store->size());
    EXPECT_EQ(fused.store->norm_sum(), general.store->norm_sum());
    general.store->ForEach([&](const Entry& entry) {
      const std::optional<Entry> got = fused.store->Lookup(entry.key);
      ASSERT_TRUE(got.has_value());
      const Entry expected = general.store->CaughtUp(entry);
      ASSERT_EQ(got->weight, expected.weight);
      ASSERT_EQ(got->state[0], expected.state[0]);
      ASSERT_EQ(got->state[1], expected.state[1]);
    });
  }
}

TEST_F(TrainerTest, PredictionsAreTheModelsProbabilities) {
  const std::string path = Generate(5000);
  Model model = NewModel(OptimizerKind::kAdagrad);
  ASSERT_TRUE(Train(Options(path, 1), &model).ok());

  const std::string out_path = dir_.File("predictions.txt");
  std::FILE* out = std::fopen(out_path.c_str(), "w");
  ReaderOptions data;
  data.files = {path};
  absl::StatusOr<PredictResult> result = Predict(data, &model, out);
  std::fclose(out);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->examples, 5000u);
  EXPECT_EQ(result->metrics.count(), 5000u);

  // Recompute each probability from the stored weights.
  std::FILE* in = std::fopen(out_path.c_str(), "r");
  ExampleStream stream(data);
  size_t checked = 0;
  while (const ExampleBlock* block = stream.Next()) {
    for (size_t i = 0; i < block->size(); ++i) {
      double margin = 0;
      for (const Feature& f : block->example(i).features) {
        std::optional<Entry> entry = model.store->Lookup(f.key);
        margin += (entry.has_value() ? entry->weight : 0.0) * f.value;
      }
      double printed;
      ASSERT_EQ(std::fscanf(in, "%lf", &printed), 1);
      EXPECT_NEAR(printed, 1 / (1 + std::exp(-margin)), 1e-5);
      ++checked;
    }
  }
  std::fclose(in);
  EXPECT_EQ(checked, 5000u);
}

TEST_F(TrainerTest, StandardInputCannotBeReadTwice) {
  Model model = NewModel(OptimizerKind::kAdagrad);
  absl::StatusOr<TrainResult> result = Train(Options("-", 2), &model);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result, HasMessage("standard input"));
}

TEST_F(TrainerTest, MalformedDataStopsTrainingWithItsPlace) {
  const std::string path = dir_.Write("bad.vw", "1 |a x\n1 |a y\n2 |a z\n");
  Model model = NewModel(OptimizerKind::kAdagrad);
  absl::StatusOr<TrainResult> result = Train(Options(path, 1), &model);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result, HasMessage("bad.vw:3: label '2'"));
}

TEST_F(TrainerTest, UnlabeledExamplesAreSkippedAndCounted) {
  // As VW does: no label, nothing to learn from or to score against.
  const std::string path = dir_.Write(
      "mixed.vw", "1 |a x\n'first |a y\n0 |a x\n unlabeled/2| a z\n");
  Model model = NewModel(OptimizerKind::kAdagrad);
  TrainOptions options = Options(path, 2);
  options.data.parse.require_label = false;
  absl::StatusOr<TrainResult> result = Train(options, &model);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->examples, 4u);   // two a pass
  EXPECT_EQ(result->unlabeled, 4u);  // two a pass
  EXPECT_EQ(model.store->step(), 4u);
  EXPECT_FALSE(model.store->Lookup(FeatureKeyForName("a^y")).has_value());

  const std::string none = dir_.Write("none.vw", "|a x\n't |a y\n");
  options = Options(none, 1);
  options.data.parse.require_label = false;
  EXPECT_THAT(Train(options, &model), HasMessage("none of the 2 examples"));
}

TEST_F(TrainerTest, TheBaseShiftsLearningAndPrediction) {
  // With base 2 the labels are already explained: the loss gradient is the
  // same as a model that starts at margin 2.
  const std::string based = dir_.Write("based.vw", "0 1 2 |a x\n");
  const std::string plain = dir_.Write("plain.vw", "0 |a x\n");
  Model with_base = NewModel(OptimizerKind::kSgd);
  Model without = NewModel(OptimizerKind::kSgd);
  ASSERT_TRUE(Train(Options(based, 1), &with_base).ok());
  ASSERT_TRUE(Train(Options(plain, 1), &without).ok());
  const uint64_t x = FeatureKeyForName("a^x");
  // One SGD step of logistic loss: w = -lr * sigmoid(margin) for label 0.
  const float lr = static_cast<float>(
      OptimizerOptions::Defaults(OptimizerKind::kSgd).learning_rate);
  EXPECT_NEAR(with_base.store->Lookup(x)->weight,
              -lr * (1 / (1 + std::exp(-2.0f))), 1e-6);
  EXPECT_NEAR(without.store->Lookup(x)->weight, -lr * 0.5f, 1e-6);

  const std::string out_path = dir_.File("p.txt");
  std::FILE* out = std::fopen(out_path.c_str(), "w");
  ReaderOptions data;
  data.files = {based};
  ASSERT_TRUE(Predict(data, &without, out).ok());
  std::fclose(out);
  std::FILE* in = std::fopen(out_path.c_str(), "r");
  double printed;
  ASSERT_EQ(std::fscanf(in, "%lf", &printed), 1);
  std::fclose(in);
  const double margin = 2 + without.store->Lookup(x)->weight +
                        without.store->Lookup(BiasKey())->weight;
  EXPECT_NEAR(printed, 1 / (1 + std::exp(-margin)), 1e-6);
}

TEST(ValidateTrainOptionsTest, RefusesLoopsThatCannotRun) {
  TrainOptions options;
  options.data.files = {"data.vw"};
  EXPECT_TRUE(ValidateTrainOptions(options).ok());
  struct Case {
    const char* what;
    void (*change)(TrainOptions&);
    const char* message;
  };
  const Case cases[] = {
      {"no pass", [](TrainOptions& o) { o.passes = 0; }, "--passes"},
      {"empty batch", [](TrainOptions& o) { o.batch_size = 0; },
       "--batch-size"},
      {"all held out", [](TrainOptions& o) { o.holdout_every = 1; },
       "--holdout-every 1"},
      {"stdin twice",
       [](TrainOptions& o) {
         o.passes = 2;
         o.data.files = {"-"};
       },
       "standard input"},
  };
  for (const Case& c : cases) {
    TrainOptions changed = options;
    c.change(changed);
    absl::Status status = ValidateTrainOptions(changed);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << c.what;
    EXPECT_NE(status.message().find(c.message), absl::string_view::npos)
        << c.what << ": " << status;
    // Train checks the same before it reads anything.
    Model model;
    model.config.optimizer = OptimizerOptions::Defaults(OptimizerKind::kSgd);
    model.store = std::make_unique<WeightStore>(model.config.optimizer);
    changed.progress = nullptr;
    EXPECT_EQ(Train(changed, &model).status(), status) << c.what;
  }
}

}  // namespace
}  // namespace adaline
