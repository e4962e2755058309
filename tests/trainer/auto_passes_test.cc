// ChoosePasses: the pass count, holdout and patience `train` picks when
// --passes is left at 0.
#include "trainer/auto_passes.h"

#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/test_files.h"

namespace adaline {
namespace {

class AutoPassesTest : public testing::Test {
 protected:
  // A file of `bytes` bytes (sparse: only its size matters).
  std::string FileOf(const std::string& name, off_t bytes) {
    const std::string path = dir_.Write(name, "");
    EXPECT_EQ(::truncate(path.c_str(), bytes), 0);
    return path;
  }

  static TrainOptions Auto(std::vector<std::string> files) {
    TrainOptions options;
    options.data.files = std::move(files);
    options.passes = kAutoPasses;
    return options;
  }

  TemporaryDirectory dir_;
};

TEST_F(AutoPassesTest, SmallDataGetsPassesWithAHoldoutAndEarlyStopping) {
  TrainOptions options = Auto({FileOf("small.vw", 1 << 20)});
  ChoosePasses(&options, /*can_stop_early=*/true);
  EXPECT_EQ(options.passes, 100u);  // 256 MiB of reading allows 256: capped
  EXPECT_EQ(options.holdout_every, 10u);
  EXPECT_EQ(options.early_stop, 3u);
}

TEST_F(AutoPassesTest, PassesShrinkAsTheDataGrows) {
  TrainOptions options = Auto({FileOf("medium.vw", 8 << 20)});
  ChoosePasses(&options, true);
  EXPECT_EQ(options.passes, 32u);
}

TEST_F(AutoPassesTest, DataOfSixteenMebibytesIsTheLargestWithPasses) {
  TrainOptions at_limit = Auto({FileOf("limit.vw", 16 << 20)});
  ChoosePasses(&at_limit, true);
  EXPECT_EQ(at_limit.passes, 16u);

  TrainOptions above = Auto({FileOf("large.vw", (16 << 20) + 1)});
  ChoosePasses(&above, true);
  EXPECT_EQ(above.passes, 1u);
  EXPECT_EQ(above.holdout_every, 0u);  // nothing held out of a single pass
  EXPECT_EQ(above.early_stop, 0u);
}

TEST_F(AutoPassesTest, TheSizeIsThatOfAllFiles) {
  TrainOptions options =
      Auto({FileOf("a.vw", 8 << 20), FileOf("b.vw", (8 << 20) + 1)});
  ChoosePasses(&options, true);
  EXPECT_EQ(options.passes, 1u);
}

// A gzip file counts as the data it holds, which its trailer records.
TEST_F(AutoPassesTest, AGzipFileCountsUncompressed) {
  const std::string lines(20 << 20, '\n');  // compresses to a few KiB
  TrainOptions large = Auto({dir_.Write("large.vw.gz", lines)});
  ChoosePasses(&large, true);
  EXPECT_EQ(large.passes, 1u);

  TrainOptions small =
      Auto({dir_.Write("small.vw.gz", std::string(8 << 20, '\n'))});
  ChoosePasses(&small, true);
  EXPECT_EQ(small.passes, 32u);
}

TEST_F(AutoPassesTest, StandardInputAndMissingFilesGetOnePass) {
  for (const std::string& file :
       {std::string("-"), dir_.File("missing.vw"), dir_.path()}) {
    TrainOptions options = Auto({FileOf("small.vw", 100), file});
    ChoosePasses(&options, true);
    EXPECT_EQ(options.passes, 1u) << file;
    EXPECT_EQ(options.holdout_every, 0u) << file;
  }
}

TEST_F(AutoPassesTest, AWorkerGetsOnePass) {
  TrainOptions options = Auto({FileOf("small.vw", 100)});
  ChoosePasses(&options, /*can_stop_early=*/false);
  EXPECT_EQ(options.passes, 1u);
  EXPECT_EQ(options.early_stop, 0u);
}

TEST_F(AutoPassesTest, ACountGivenIsKept) {
  TrainOptions options = Auto({FileOf("small.vw", 100)});
  options.passes = 3;
  ChoosePasses(&options, true);
  EXPECT_EQ(options.passes, 3u);
  EXPECT_EQ(options.holdout_every, 0u);
  EXPECT_EQ(options.early_stop, 0u);
}

TEST_F(AutoPassesTest, AHoldoutAndPatienceGivenAreKept) {
  TrainOptions options = Auto({FileOf("small.vw", 100)});
  options.holdout_every = 4;
  options.early_stop = 1;
  ChoosePasses(&options, true);
  EXPECT_EQ(options.passes, 100u);
  EXPECT_EQ(options.holdout_every, 4u);
  EXPECT_EQ(options.early_stop, 1u);
}

TEST_F(AutoPassesTest, TheRuleCanBeTuned) {
  AutoPassRule rule;
  rule.budget_bytes = 1000;
  rule.min_passes = 2;
  rule.max_passes = 7;
  rule.holdout_every = 5;
  rule.early_stop = 2;
  TrainOptions options = Auto({FileOf("small.vw", 400)});
  ChoosePasses(&options, true, rule);
  EXPECT_EQ(options.passes, 2u);
  EXPECT_EQ(options.holdout_every, 5u);
  EXPECT_EQ(options.early_stop, 2u);
  TrainOptions tiny = Auto({FileOf("tiny.vw", 10)});
  ChoosePasses(&tiny, true, rule);
  EXPECT_EQ(tiny.passes, 7u);
}

}  // namespace
}  // namespace adaline
