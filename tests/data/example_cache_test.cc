// The example cache: what later passes read is what the first pass parsed,
// and a cache that is stale, truncated or corrupt is refused and rebuilt.
#include "data/example_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "data/example_source.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_files.h"

namespace adaline {
namespace {

using ::testing::HasSubstr;

// Everything a learner sees of an example, as text, for comparing passes.
std::string Describe(const ExampleBlock& block) {
  std::ostringstream out;
  for (size_t i = 0; i < block.size(); ++i) {
    const Example e = block.example(i);
    out << block.first_index + i << " " << e.label << " " << e.importance << " "
        << e.base << " " << e.has_label << " '" << e.tag << "' "
        << e.distinct_keys;
    for (const Feature& f : e.features) out << " " << f.key << ":" << f.value;
    out << "\n";
  }
  return out.str();
}

std::string DescribePass(ExampleSource& source) {
  std::string all;
  while (const ExampleBlock* block = source.Next()) all += Describe(*block);
  EXPECT_TRUE(source.status().ok()) << source.status();
  return all;
}

std::string ReadAll(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

class ExampleCacheTest : public testing::Test {
 protected:
  ExampleCacheTest() {
    std::string text;
    for (int i = 0; i < 50; ++i) {
      text += std::to_string(i % 2) + " " + std::to_string(1 + i % 3) +
              " 0.5 'row" + std::to_string(i) + "|a x" + std::to_string(i) +
              ":2 y |b z w" + std::to_string(i % 7) + "\n";
    }
    text += "|a unlabeled\n";
    options_.files = {dir_.Write("data.vw", text)};
    options_.parse.require_label = false;
    options_.parse.interactions = *Interactions::Parse({"ab"});
    cache_ = dir_.File("data.cache");
  }
  ~ExampleCacheTest() override { std::fclose(log_); }

  // A pass through ExamplePasses with the cache named here; notes go to
  // `notes`.
  std::string Pass(ExamplePasses& passes, uint64_t pass) {
    std::unique_ptr<ExampleSource> source = passes.Begin(pass);
    return DescribePass(*source);
  }

  // What was noted since the last call. The log stays open: the passes
  // objects hold it.
  std::string Notes() {
    std::fflush(log_);
    const long end = std::ftell(log_);
    std::string text(static_cast<size_t>(end - read_), '\0');
    std::fseek(log_, read_, SEEK_SET);
    const size_t got = std::fread(text.data(), 1, text.size(), log_);
    text.resize(got);
    std::fseek(log_, end, SEEK_SET);
    read_ = end;
    return text;
  }

  TemporaryDirectory dir_;
  ReaderOptions options_;
  std::string cache_;
  std::FILE* log_ = std::tmpfile();
  long read_ = 0;
};

TEST_F(ExampleCacheTest, LaterPassesReadWhatTheFirstParsed) {
  ExamplePasses passes(options_, 3, cache_, log_);
  const std::string first = Pass(passes, 0);
  EXPECT_THAT(first, HasSubstr("'row49'"));
  EXPECT_EQ(Pass(passes, 1), first);
  EXPECT_EQ(Pass(passes, 2), first);
}

TEST_F(ExampleCacheTest, ATemporaryCacheIsRemovedAtTheEnd) {
  std::string path;
  {
    ExamplePasses passes(options_, 2, "", nullptr);
    ASSERT_TRUE(passes.caching());
    const std::string first = Pass(passes, 0);
    EXPECT_EQ(Pass(passes, 1), first);
  }
  // Nothing named adaline-cache-<pid>-* is left behind.
  const std::string pattern =
      "ls /tmp/adaline-cache-" + std::to_string(::getpid()) + "-* 2>/dev/null";
  EXPECT_NE(std::system((pattern + " | grep -q .").c_str()), 0);
  ExamplePasses one_pass(options_, 1, "", nullptr);
  EXPECT_FALSE(one_pass.caching());
}

TEST_F(ExampleCacheTest, ANamedCacheServesTheNextRun) {
  std::string first;
  {
    ExamplePasses passes(options_, 1, cache_, log_);
    first = Pass(passes, 0);
  }
  ExamplePasses again(options_, 2, cache_, log_);
  Notes();
  EXPECT_EQ(Pass(again, 0), first);
  EXPECT_THAT(Notes(), HasSubstr("reading examples from the cache"));
}

TEST_F(ExampleCacheTest, AChangedDataFileOrSettingRebuildsTheCache) {
  {
    ExamplePasses passes(options_, 1, cache_, log_);
    Pass(passes, 0);
  }
  ReaderOptions other = options_;
  other.parse.interactions = Interactions();
  std::string first;
  {
    ExamplePasses passes(other, 2, cache_, log_);
    first = Pass(passes, 0);
    EXPECT_THAT(Notes(), HasSubstr("was made from other data or settings: "
                                   "rebuilding it"));
    EXPECT_EQ(Pass(passes, 1), first);
  }
  // The same size, another modification time: the data may have changed.
  struct timespec times[2] = {{0, UTIME_OMIT}, {12345, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, other.files[0].c_str(), times, 0), 0);
  ExamplePasses touched(other, 1, cache_, log_);
  EXPECT_EQ(Pass(touched, 0), first);
  EXPECT_THAT(Notes(), HasSubstr("other data or settings"));
}

TEST_F(ExampleCacheTest, ATruncatedOrCorruptCacheIsRefusedAndRebuilt) {
  const absl::StatusOr<std::string> fingerprint = CacheFingerprint(options_);
  ASSERT_TRUE(fingerprint.ok());
  std::string first;
  {
    ExamplePasses passes(options_, 1, cache_, log_);
    first = Pass(passes, 0);
  }
  const std::string whole = ReadAll(cache_);
  ASSERT_TRUE(CacheReader::Open(cache_, *fingerprint).ok());
  const std::string damaged = dir_.File("damaged.cache");
  for (size_t size = 0; size < whole.size(); size += 1 + size / 3) {
    dir_.Write("damaged.cache", whole.substr(0, size));
    EXPECT_FALSE(CacheReader::Open(damaged, *fingerprint).ok()) << size;
  }
  for (size_t at = 0; at < whole.size(); at += 97) {
    std::string flipped = whole;
    flipped[at] ^= 0x20;
    dir_.Write("damaged.cache", flipped);
    EXPECT_FALSE(CacheReader::Open(damaged, *fingerprint).ok()) << at;
  }
  dir_.Write("data.cache", whole.substr(0, whole.size() - 5));
  ExamplePasses passes(options_, 2, cache_, log_);
  EXPECT_EQ(Pass(passes, 0), first);
  EXPECT_THAT(Notes(), HasSubstr("rebuilding it"));
  EXPECT_EQ(Pass(passes, 1), first);
  EXPECT_EQ(ReadAll(cache_), whole);
}

TEST_F(ExampleCacheTest, ACacheThatCannotBeWrittenOnlyCostsSpeed) {
  ExamplePasses passes(options_, 2, dir_.File("no/such/dir/cache"), log_);
  const std::string first = Pass(passes, 0);
  EXPECT_THAT(Notes(), HasSubstr("cannot write the example cache"));
  EXPECT_EQ(Pass(passes, 1), first);
}

TEST(ExampleBlockTest, DecodingRefusesWhatIsNotABlock) {
  ExampleBlock block;
  block.Begin(1, 2, true, 0.5, "tag");
  block.AddFeature(7, 0.25f);
  block.End();
  std::string bytes;
  block.EncodeTo(&bytes);
  ExampleBlock decoded;
  ASSERT_TRUE(decoded.DecodeFrom(bytes));
  EXPECT_EQ(Describe(decoded), Describe(block));
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(decoded.DecodeFrom(bytes.substr(0, size))) << size;
    EXPECT_EQ(decoded.size(), 0u);
  }
  std::string lying = bytes;
  lying[8] = 5;  // five examples, in the room of one
  EXPECT_FALSE(decoded.DecodeFrom(lying));
}

}  // namespace
}  // namespace adaline
