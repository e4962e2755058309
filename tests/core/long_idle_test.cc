// A coordinate idle for 2^31 steps and more (a rare feature seen early and
// again after billions of examples) is caught up exactly, by every
// optimizer, in memory and through a model file. Slots keep only 32 bits
// of a step; a periodic sweep is what keeps that enough.
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/model_file.h"
#include "core/weight_store.h"
#include "gtest/gtest.h"
#include "tests/test_files.h"

namespace adaline {
namespace {

constexpr uint64_t kTwo31 = uint64_t{1} << 31;
constexpr uint64_t kTwo32 = uint64_t{1} << 32;
constexpr uint64_t kRare = 42, kOther = 7;

const OptimizerKind kAllKinds[] = {
    OptimizerKind::kSgd,     OptimizerKind::kMomentum, OptimizerKind::kAdagrad,
    OptimizerKind::kRmsprop, OptimizerKind::kAdadelta, OptimizerKind::kAdam,
    OptimizerKind::kAmsgrad, OptimizerKind::kNadam,    OptimizerKind::kFtrl,
};

OptimizerOptions Options(OptimizerKind kind, bool regularised = false) {
  OptimizerOptions options = OptimizerOptions::Defaults(kind);
  if (regularised) {
    options.l1 = 0.01;
    options.l2 = 0.1;
  }
  return options;
}

void PushOne(WeightStore& store, uint64_t key, float gradient) {
  const uint64_t keys[] = {key};
  const float gradients[] = {gradient};
  ASSERT_TRUE(store.Push(keys, gradients).ok());
}

// `actual` equals `expected` to float32 rounding, state included.
void ExpectSameCoordinate(const Entry& actual, const Entry& expected, int width,
                          const std::string& what) {
  EXPECT_EQ(actual.last_step, expected.last_step) << what;
  EXPECT_NEAR(actual.weight, expected.weight,
              1e-5 * std::max(1.0f, std::abs(expected.weight)))
      << what;
  for (int s = 0; s < width; ++s) {
    EXPECT_NEAR(actual.state[s], expected.state[s],
                1e-5 * std::max(1.0f, std::abs(expected.state[s])))
        << what << " state " << s;
  }
}

// The rare coordinate as it was at `from`, caught up in one piece by the
// optimizer's own rule with 64-bit steps: the reference.
Entry CaughtUpInOnePiece(const Optimizer& optimizer, Entry entry, uint64_t to) {
  optimizer.CatchUp(entry.weight, entry.state, entry.last_step, to);
  entry.last_step = to;
  return entry;
}

TEST(LongIdleTest, EveryOptimizerCatchesUpAcrossTwoToThe31And32) {
  for (const uint64_t start : {kTwo31 - 3, kTwo32 - 3, 3 * kTwo31 + 5}) {
    for (const OptimizerKind kind : kAllKinds) {
      for (const bool regularised : {false, true}) {
        const std::string what =
            absl::StrCat(OptimizerName(kind), regularised ? " l1/l2" : "",
                         " from step ", start);
        WeightStore store(Options(kind, regularised));
        store.SetStep(start);
        PushOne(store, kRare, 0.5f);
        PushOne(store, kRare, -0.25f);  // momentum and moments now non-zero
        const Entry before = *store.Lookup(kRare);
        ASSERT_EQ(before.last_step, start + 2) << what;
        // Idle across the wrap of 32 bits, with other keys still training.
        store.AdvanceIdleSteps(kTwo31 + 12345);
        PushOne(store, kOther, 1.0f);
        const uint64_t now = store.step();
        ASSERT_EQ(now, start + 3 + kTwo31 + 12345);
        ExpectSameCoordinate(*store.Lookup(kRare),
                             CaughtUpInOnePiece(store.optimizer(), before, now),
                             store.optimizer().state_width(), what);
      }
    }
  }
}

TEST(LongIdleTest, ClosedFormsHoldAfterBillionsOfIdleSteps) {
  // Momentum drifts by lr*m*mu/(1-mu) in the limit; RMSprop and Adadelta's
  // averages decay to zero while the weight stays put.
  const uint64_t idle = 3 * kTwo31;
  {
    WeightStore store(Options(OptimizerKind::kMomentum));
    PushOne(store, kRare, 1.0f);  // m = 1, w = -lr
    store.AdvanceIdleSteps(idle);
    const OptimizerOptions& o = store.optimizer().options();
    const double expected =
        -o.learning_rate - o.learning_rate * o.momentum / (1 - o.momentum);
    EXPECT_NEAR(store.Lookup(kRare)->weight, expected, 1e-6);
    EXPECT_EQ(store.Lookup(kRare)->state[0], 0.0f);
  }
  for (const OptimizerKind kind :
       {OptimizerKind::kRmsprop, OptimizerKind::kAdadelta}) {
    WeightStore store(Options(kind));
    PushOne(store, kRare, 1.0f);
    const float weight = store.Lookup(kRare)->weight;
    store.AdvanceIdleSteps(idle);
    EXPECT_EQ(store.Lookup(kRare)->weight, weight) << OptimizerName(kind);
    EXPECT_EQ(store.Lookup(kRare)->state[0], 0.0f) << OptimizerName(kind);
  }
}

TEST(LongIdleTest, PushesRunTheSweepAndItChangesNothing) {
  // The same training with a sweep every 16 steps and with the default one:
  // catching up in pieces equals catching up once.
  for (const OptimizerKind kind :
       {OptimizerKind::kMomentum, OptimizerKind::kRmsprop, OptimizerKind::kAdam,
        OptimizerKind::kNadam}) {
    WeightStore often(Options(kind), WeightStore::kNoKeyLimit, 16);
    WeightStore rarely(Options(kind));
    for (WeightStore* store : {&often, &rarely}) {
      PushOne(*store, kRare, 0.5f);
      for (int t = 0; t < 500; ++t) PushOne(*store, kOther, 0.1f);
    }
    // The sweep has brought the idle coordinate forward in the store itself.
    uint64_t stored_step = 0;
    often.ForEach([&](const Entry& entry) {
      if (entry.key == kRare) stored_step = entry.last_step;
    });
    EXPECT_GE(stored_step, 480u) << OptimizerName(kind);
    ExpectSameCoordinate(*often.Lookup(kRare), *rarely.Lookup(kRare),
                         often.optimizer().state_width(),
                         std::string(OptimizerName(kind)));
  }
}

TEST(LongIdleTest, ModelFilesKeepStepsPastTwoToThe32) {
  TemporaryDirectory dir;
  WeightStore store(Options(OptimizerKind::kAdam));
  store.SetStep(kTwo32 - 10);
  PushOne(store, kRare, 0.5f);
  store.AdvanceIdleSteps(kTwo31 + 100);
  PushOne(store, kOther, 0.5f);
  ModelConfig config;
  config.optimizer = store.optimizer().options();
  const std::string path = dir.File("m.model");
  ASSERT_TRUE(SaveModel(path, config, store, nullptr).ok());
  absl::StatusOr<Model> loaded = LoadModel(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->store->step(), store.step());
  for (const uint64_t key : {kRare, kOther}) {
    const Entry expected = *store.Lookup(key);
    EXPECT_GT(expected.last_step, kTwo32);
    ExpectSameCoordinate(*loaded->store->Lookup(key), expected,
                         store.optimizer().state_width(),
                         absl::StrCat("key ", key));
  }
}

TEST(LongIdleTest, OlderFilesWithLongGapsLoadAsTheyWereWritten) {
  // A file of the same format whose coordinate sat 3e9 steps behind the
  // model's step (which older builds let happen): it reads as step 100 and
  // is caught up as it loads.
  TemporaryDirectory dir;
  ModelSnapshot snapshot;
  snapshot.config.optimizer = Options(OptimizerKind::kRmsprop);
  snapshot.step = 3'000'000'100;
  snapshot.state_width = 1;
  Entry entry;
  entry.key = kRare;
  entry.last_step = 100;
  entry.weight = 0.75f;
  entry.state[0] = 0.5f;
  snapshot.entries.push_back(entry);
  const std::string path = dir.File("old.model");
  ASSERT_TRUE(WriteModel(path, snapshot).ok());
  absl::StatusOr<Model> loaded = LoadModel(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Optimizer optimizer(snapshot.config.optimizer);
  ExpectSameCoordinate(*loaded->store->Lookup(kRare),
                       CaughtUpInOnePiece(optimizer, entry, snapshot.step), 1,
                       "rmsprop");
  EXPECT_EQ(loaded->store->Lookup(kRare)->state[0], 0.0f);
}

}  // namespace
}  // namespace adaline
