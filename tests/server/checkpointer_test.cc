// Checkpointer: a directory of model files named by step, the newest kept,
// corrupt and cut-off ones skipped at restore.
#include "server/checkpointer.h"

#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/shard_fixture.h"
#include "tests/status_matchers.h"
#include "tests/test_files.h"

namespace adaline {
namespace {

// The newest checkpoint that loads, which there must be.
Checkpointer::Restored RestoreNewest(Checkpointer& checkpointer) {
  absl::StatusOr<std::optional<Checkpointer::Restored>> restored =
      checkpointer.RestoreNewest(SIZE_MAX);
  EXPECT_TRUE(restored.ok()) << restored.status();
  EXPECT_TRUE(restored.ok() && restored->has_value());
  return restored.ok() && restored->has_value() ? std::move(**restored)
                                                : Checkpointer::Restored{};
}

// The first line written to `log`, which is closed.
std::string FirstLine(std::FILE* log) {
  std::rewind(log);
  char line[512] = {0};
  const bool read = std::fgets(line, sizeof line, log) != nullptr;
  std::fclose(log);
  return read ? line : "";
}

TEST(CheckpointerTest, KeepsTheNewestAndSkipsCorruptOnes) {
  TemporaryDirectory dir;
  std::FILE* log = std::tmpfile();
  Checkpointer checkpointer(dir.File("c"), /*keep=*/2, log);
  Model model = NewModel();
  ModelConfig config = model.config;
  for (int step = 1; step <= 4; ++step) {
    const uint64_t key[] = {static_cast<uint64_t>(step)};
    const float gradient[] = {1};
    ASSERT_TRUE(model.store->Push(key, gradient).ok());
    ASSERT_TRUE(
        checkpointer.Write(SnapshotModel(config, *model.store, nullptr)).ok());
  }
  const std::vector<std::string> kept = checkpointer.List();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_NE(kept[0].find("checkpoint-00000000000000000004.model"),
            std::string::npos);
  // Corrupt the newest: restoring falls back to step 3 and says so.
  std::FILE* file = std::fopen(kept[0].c_str(), "r+b");
  std::fseek(file, 30, SEEK_SET);
  std::fputc('!', file);
  std::fclose(file);
  const Checkpointer::Restored restored = RestoreNewest(checkpointer);
  ASSERT_NE(restored.model.store, nullptr);
  EXPECT_EQ(restored.model.store->step(), 3u);
  EXPECT_EQ(restored.path, kept[1]);
  EXPECT_THAT(FirstLine(log), testing::HasSubstr("skipping checkpoint"));
  // The damaged file is set aside: not listed, so rotation never counts or
  // deletes it.
  EXPECT_EQ(std::fopen((kept[0] + ".damaged").c_str(), "rb") != nullptr, true);
  EXPECT_EQ(checkpointer.List(), std::vector<std::string>{kept[1]});
}

TEST(CheckpointerTest, RestoringRemovesWritesThatACrashCutOff) {
  TemporaryDirectory dir;
  std::FILE* log = std::tmpfile();
  Checkpointer checkpointer(dir.File("c"), Checkpointer::kDefaultKeep, log);
  Model model = NewModel();
  const uint64_t key[] = {7};
  const float gradient[] = {1};
  ASSERT_TRUE(model.store->Push(key, gradient).ok());
  absl::StatusOr<std::string> good =
      checkpointer.Write(SnapshotModel(model.config, *model.store, nullptr));
  ASSERT_TRUE(good.ok());
  // What a kill -9 during the next write leaves: a newer, partial file.
  const std::string partial =
      dir.File("c/checkpoint-00000000000000000002.model.tmp.4242");
  std::FILE* file = std::fopen(partial.c_str(), "wb");
  std::fputs("ADALINE half a model", file);
  std::fclose(file);

  const Checkpointer::Restored restored = RestoreNewest(checkpointer);
  ASSERT_NE(restored.model.store, nullptr);
  EXPECT_EQ(restored.path, *good);
  EXPECT_EQ(restored.model.store->step(), 1u);
  EXPECT_EQ(std::fopen(partial.c_str(), "rb"), nullptr);
  EXPECT_THAT(FirstLine(log), testing::HasSubstr("whose writing was cut off"));
}

// Writes one checkpoint of an empty model; returns its path.
std::string WriteOne(Checkpointer& checkpointer) {
  Model model = NewModel();
  absl::StatusOr<std::string> written =
      checkpointer.Write(SnapshotModel(model.config, *model.store, nullptr));
  EXPECT_TRUE(written.ok()) << written.status();
  return written.ok() ? *written : "";
}

TEST(CheckpointerTest, CheckpointsNoneOfWhichLoadsAreARefusal) {
  TemporaryDirectory dir;
  Checkpointer checkpointer(dir.File("c"), Checkpointer::kDefaultKeep,
                            /*log=*/nullptr);
  const std::optional<std::string> written = WriteOne(checkpointer);
  std::FILE* file = std::fopen(written->c_str(), "r+b");
  std::fseek(file, 30, SEEK_SET);
  std::fputc('!', file);
  std::fclose(file);
  absl::StatusOr<std::optional<Checkpointer::Restored>> restored =
      checkpointer.RestoreNewest(SIZE_MAX);
  EXPECT_THAT(restored, HasMessage("none of the 1 checkpoints"));
  EXPECT_THAT(restored, HasMessage("--start-empty"));
  // Asked to, it starts empty; the file stays set aside.
  restored = checkpointer.RestoreNewest(SIZE_MAX,
                                        /*start_empty_if_unreadable=*/true);
  ASSERT_TRUE(restored.ok());
  EXPECT_FALSE(restored->has_value());
  EXPECT_NE(std::fopen((*written + ".damaged").c_str(), "rb"), nullptr);
}

TEST(CheckpointerTest, WhatIsNotARegularFileIsNeverOpened) {
  TemporaryDirectory dir;
  Checkpointer checkpointer(dir.File("c"), Checkpointer::kDefaultKeep,
                            /*log=*/nullptr);
  const std::optional<std::string> good = WriteOne(checkpointer);
  // Newer by name; opening it would block forever.
  ASSERT_EQ(
      ::mkfifo(dir.File("c/checkpoint-00000000000000000009.model").c_str(),
               0600),
      0);
  EXPECT_EQ(checkpointer.List(), std::vector<std::string>{*good});
  const Checkpointer::Restored restored = RestoreNewest(checkpointer);
  EXPECT_EQ(restored.path, *good);
}

}  // namespace
}  // namespace adaline
