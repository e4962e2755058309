#include "core/model_file.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "tests/test_files.h"

namespace adaline {
namespace {

std::string ReadAll(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  std::string bytes(64 << 20, '\0');
  bytes.resize(std::fread(bytes.data(), 1, bytes.size(), file));
  std::fclose(file);
  return bytes;
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), file);
  std::fclose(file);
}

class ModelFileTest : public testing::Test {
 protected:
  ModelFileTest() {
    config_.optimizer = OptimizerOptions::Defaults(OptimizerKind::kAdam);
    config_.optimizer.learning_rate = 0.05;
    config_.loss = Loss::kHinge;
    config_.bias = false;
    config_.interactions = *Interactions::Parse({"ug", "\\x20a"}, {}, {"abc"});
    store_ = std::make_unique<WeightStore>(config_.optimizer);
    std::vector<uint64_t> keys;
    std::vector<float> gradients;
    for (uint64_t k = 0; k < 1000; ++k) {
      keys.push_back(k * 31 + 1);
      gradients.push_back(0.01f * static_cast<float>(k % 17) - 0.05f);
    }
    EXPECT_TRUE(store_->Push(keys, gradients).ok());
    keys.resize(10);
    gradients.resize(10);
    EXPECT_TRUE(store_->Push(keys, gradients).ok());
    names_.Add(1, "movie^is_director_nolan");
    names_.Add(32, "^x");
    path_ = dir_.File("model.bin");
    EXPECT_TRUE(SaveModel(path_, config_, *store_, &names_).ok());
  }

  TemporaryDirectory dir_;
  ModelConfig config_;
  std::unique_ptr<WeightStore> store_;
  FeatureNames names_;
  std::string path_;
};

TEST_F(ModelFileTest, RoundTripKeepsEverything) {
  absl::StatusOr<Model> model = LoadModel(path_);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(ConfigDifference(config_, model->config), "");
  EXPECT_EQ(model->config.interactions, config_.interactions);
  EXPECT_EQ(model->store->step(), 2u);
  EXPECT_EQ(model->store->size(), store_->size());
  store_->ForEach([&](const Entry& original) {
    std::optional<Entry> loaded = model->store->Lookup(original.key);
    ASSERT_TRUE(loaded.has_value());
    const Entry expected = store_->CaughtUp(original);
    EXPECT_EQ(loaded->weight, expected.weight);
    EXPECT_EQ(loaded->state[0], expected.state[0]);
    EXPECT_EQ(loaded->state[1], expected.state[1]);
    EXPECT_EQ(loaded->last_step, expected.last_step);
  });
  ASSERT_NE(model->names.Find(1), nullptr);
  EXPECT_EQ(*model->names.Find(1), "movie^is_director_nolan");
  EXPECT_EQ(model->names.size(), 2u);
}

// The same model makes the same bytes, however its names were gathered:
// files can be compared and cached by content.
TEST_F(ModelFileTest, TheSameModelIsTheSameBytes) {
  FeatureNames forward, backward;
  for (uint64_t k = 0; k < 5000; ++k) {
    forward.Add(k * 7919 + 3, "a^f" + std::to_string(k));
  }
  for (uint64_t k = 5000; k-- > 0;) {
    backward.Add(k * 7919 + 3, "a^f" + std::to_string(k));
  }
  const std::string first = dir_.File("forward.bin");
  const std::string second = dir_.File("backward.bin");
  ASSERT_TRUE(SaveModel(first, config_, *store_, &forward).ok());
  ASSERT_TRUE(SaveModel(second, config_, *store_, &backward).ok());
  EXPECT_TRUE(ReadAll(first) == ReadAll(second));
}

TEST_F(ModelFileTest, LeavesNoTemporaryFileBehind) {
  int files = 0;
  std::FILE* listing = popen(("ls '" + dir_.path() + "'").c_str(), "r");
  char name[256];
  while (std::fgets(name, sizeof name, listing) != nullptr) ++files;
  pclose(listing);
  EXPECT_EQ(files, 1);
}

TEST_F(ModelFileTest, TruncatedFileIsRefusedAtEveryLength) {
  const std::string bytes = ReadAll(path_);
  for (size_t length : {size_t{0}, size_t{5}, size_t{12}, size_t{40},
                        bytes.size() / 2, bytes.size() - 9, bytes.size() - 1}) {
    WriteAll(path_, bytes.substr(0, length));
    absl::StatusOr<Model> model = LoadModel(path_);
    ASSERT_FALSE(model.ok()) << length;
    EXPECT_NE(model.status().message().find(path_), absl::string_view::npos);
  }
}

TEST_F(ModelFileTest, AnyFlippedByteIsRefused) {
  const std::string bytes = ReadAll(path_);
  for (size_t position = 0; position < bytes.size(); position += 997) {
    std::string corrupt = bytes;
    corrupt[position] ^= 0x20;
    WriteAll(path_, corrupt);
    EXPECT_FALSE(LoadModel(path_).ok()) << "byte " << position;
  }
  std::string corrupt = bytes;
  corrupt[bytes.size() - 100] ^= 1;
  WriteAll(path_, corrupt);
  absl::StatusOr<Model> model = LoadModel(path_);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("checksum"), absl::string_view::npos);
}

// Files are read and written a megabyte at a time: a model of several
// blocks keeps every entry, and damage in a later block or past the
// checksum is still found.
TEST_F(ModelFileTest, AModelOfSeveralBlocksIsReadWholeAndChecked) {
  WeightStore store(config_.optimizer);
  std::vector<uint64_t> keys;
  std::vector<float> gradients;
  for (uint64_t k = 0; k < 150000; ++k) {  // 24 bytes an entry: 3.6 MB
    keys.push_back(k * 7919 + 3);
    gradients.push_back(0.001f * static_cast<float>(k % 101) - 0.05f);
  }
  ASSERT_TRUE(store.Push(keys, gradients).ok());
  ASSERT_TRUE(SaveModel(path_, config_, store, &names_).ok());
  const std::string bytes = ReadAll(path_);
  ASSERT_GT(bytes.size(), size_t{3} << 20);

  absl::StatusOr<Model> model = LoadModel(path_);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_EQ(model->store->size(), store.size());
  for (const uint64_t key : {keys.front(), keys[70000], keys.back()}) {
    EXPECT_EQ(model->store->Lookup(key)->weight, store.Lookup(key)->weight);
  }
  EXPECT_EQ(model->names.size(), names_.size());

  for (const size_t position : {(size_t{1} << 20) - 1, size_t{1} << 20,
                                (size_t{3} << 20) + 5, bytes.size() - 20}) {
    std::string corrupt = bytes;
    corrupt[position] ^= 0x01;
    WriteAll(path_, corrupt);
    EXPECT_FALSE(LoadModel(path_).ok()) << "byte " << position;
  }
  for (const size_t length : {size_t{1} << 20, size_t{2} << 20}) {
    WriteAll(path_, bytes.substr(0, length));
    model = LoadModel(path_);
    ASSERT_FALSE(model.ok()) << length;
    EXPECT_NE(model.status().message().find("truncated"),
              absl::string_view::npos)
        << model.status();
  }
  WriteAll(path_, bytes + "x");
  model = LoadModel(path_);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("bytes after its checksum"),
            absl::string_view::npos)
      << model.status();
}

TEST_F(ModelFileTest, OtherFilesAndVersionsAreRefused) {
  WriteAll(path_, "1 |a x\n-1 |a y\n");
  EXPECT_NE(LoadModel(path_).status().message().find("not an adaline model"),
            absl::string_view::npos);
  std::string bytes = "ADALINE\n";
  bytes += std::string("\x09\x00\x00\x00", 4);
  WriteAll(path_, bytes);
  EXPECT_NE(LoadModel(path_).status().message().find("version 9"),
            absl::string_view::npos);
  EXPECT_EQ(LoadModel(dir_.File("missing")).status().code(),
            absl::StatusCode::kNotFound);
}

// A file whose checksum holds but whose contents no training could make
// (hand-crafted, or a bug elsewhere) is refused too: such state would turn
// weights into NaN at the next step.
TEST_F(ModelFileTest, ImpossibleEntriesAreRefusedDespiteAGoodChecksum) {
  struct Case {
    const char* what;
    void (*spoil)(ModelSnapshot&);
    const char* message;
  };
  const Case cases[] = {
      {"negative Adam v", [](ModelSnapshot& s) { s.entries[3].state[1] = -2; },
       "optimizer state (0"},
      {"infinite weight",
       [](ModelSnapshot& s) { s.entries[3].weight = 1.0f / 0.0f; },
       "has weight inf"},
      {"a step after the model's",
       [](ModelSnapshot& s) { s.entries[3].last_step = 3; },
       "was updated at step 3, after the model's step 2"},
  };
  for (const Case& c : cases) {
    ModelSnapshot snapshot = SnapshotModel(config_, *store_, nullptr);
    c.spoil(snapshot);
    const std::string path = dir_.File("spoiled.model");
    ASSERT_TRUE(WriteModel(path, snapshot).ok()) << c.what;
    absl::StatusOr<Model> model = LoadModel(path);
    ASSERT_FALSE(model.ok()) << c.what;
    EXPECT_NE(model.status().message().find(c.message), std::string::npos)
        << c.what << ": " << model.status();
  }
}

TEST_F(ModelFileTest, ConfigDifferenceNamesTheFlag) {
  ModelConfig other = config_;
  other.optimizer.learning_rate = 0.5;
  EXPECT_EQ(ConfigDifference(other, config_),
            "--lr is 0.5 but the model was trained with 0.05");
  other = config_;
  other.optimizer.kind = OptimizerKind::kAdagrad;
  EXPECT_NE(ConfigDifference(other, config_).find("--optimizer is adagrad"),
            std::string::npos);
  other = config_;
  other.interactions = *Interactions::Parse({"ug"});
  EXPECT_EQ(ConfigDifference(other, config_),
            "--interactions is ug but the model was trained with "
            "ug,\\x20a,abc");
  other.interactions = Interactions();
  EXPECT_EQ(ConfigDifference(other, config_),
            "--interactions is none but the model was trained with "
            "ug,\\x20a,abc");
}

TEST_F(ModelFileTest, SavingToAMissingDirectoryFailsCleanly) {
  absl::Status status =
      SaveModel(dir_.File("no/such/dir/model.bin"), config_, *store_, nullptr);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no/such/dir"), absl::string_view::npos);
}

}  // namespace
}  // namespace adaline
