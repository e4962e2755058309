#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/feature_key.h"
#include "data/example_reader.h"
#include "data/example_stream.h"
#include "gtest/gtest.h"
#include "tests/test_files.h"

namespace adaline {
namespace {

ReaderOptions Options(std::vector<std::string> files) {
  ReaderOptions options;
  options.files = std::move(files);
  options.parse.bias = false;
  return options;
}

struct Pass {
  std::vector<float> labels;
  absl::Status status;
  uint64_t bad_lines = 0;
};

// Reads a whole pass through the stream, two examples a block.
Pass ReadPass(ReaderOptions options, int threads) {
  options.threads = threads;
  Pass pass;
  ExampleStream stream(options, /*block_examples=*/2);
  while (const ExampleBlock* block = stream.Next()) {
    for (size_t i = 0; i < block->size(); ++i) {
      pass.labels.push_back(block->example(i).label);
      EXPECT_EQ(block->first_index + i, pass.labels.size() - 1);
    }
  }
  pass.status = stream.status();
  pass.bad_lines = stream.bad_lines();
  return pass;
}

// The labels of a pass, which must not depend on how many threads parse:
// the same examples in the same order, the same error, the same count.
std::vector<float> Labels(const ReaderOptions& options, absl::Status* status,
                          uint64_t* bad_lines = nullptr) {
  const Pass one = ReadPass(options, 1);
  for (int threads : {2, 3, 8}) {
    const Pass many = ReadPass(options, threads);
    EXPECT_EQ(many.labels, one.labels) << threads << " threads";
    EXPECT_EQ(many.status, one.status) << threads << " threads";
    EXPECT_EQ(many.bad_lines, one.bad_lines) << threads << " threads";
  }
  *status = one.status;
  if (bad_lines != nullptr) *bad_lines = one.bad_lines;
  return one.labels;
}

TEST(ReaderTest, ReadsFilesInOrderPlainAndGzip) {
  TemporaryDirectory dir;
  const std::string a = dir.Write("a.vw", "1 |a x\n0 |a y\n");
  const std::string b =
      dir.Write("b.vw.gz", "1 |b z\n\n-1 |b w");  // no final \n
  absl::Status status;
  EXPECT_EQ(Labels(Options({a, b}), &status),
            (std::vector<float>{1, 0, 1, -1}));
  EXPECT_TRUE(status.ok()) << status;
}

TEST(ReaderTest, GuessesLibsvmFromTheFileName) {
  TemporaryDirectory dir;
  const std::string a = dir.Write("a.libsvm", "1 1:1 2:0.5\n-1 3:1\n");
  absl::Status status;
  EXPECT_EQ(Labels(Options({a}), &status), (std::vector<float>{1, -1}));
  EXPECT_TRUE(status.ok()) << status;
  ReaderOptions forced = Options({a});
  forced.format = Format::kVw;
  Labels(forced, &status);
  EXPECT_FALSE(status.ok());
}

TEST(ReaderTest, MalformedLineNamesFileAndLine) {
  TemporaryDirectory dir;
  const std::string a = dir.Write("a.vw", "1 |a x\n\n1 |a x:oops\n1 |a y\n");
  absl::Status status;
  Labels(Options({a}), &status);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            a + ":3: feature 'x:oops': value 'oops' is not a finite number");
}

TEST(ReaderTest, MaxBadLinesSkipsAndCounts) {
  TemporaryDirectory dir;
  const std::string a =
      dir.Write("a.vw", "1 |a x\nbad\n0 |a y\nworse\n1 |a z\n");
  ReaderOptions options = Options({a});
  options.max_bad_lines = 2;
  absl::Status status;
  uint64_t bad = 0;
  EXPECT_EQ(Labels(options, &status, &bad), (std::vector<float>{1, 0, 1}));
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(bad, 2u);
  options.max_bad_lines = 1;
  Labels(options, &status);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(":4:"), absl::string_view::npos);
  EXPECT_NE(status.message().find("--max-bad-lines=1"),
            absl::string_view::npos);
}

// The bytes of `path`.
std::string ReadBytes(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  std::string bytes(1 << 20, '\0');
  bytes.resize(std::fread(bytes.data(), 1, bytes.size(), file));
  std::fclose(file);
  return bytes;
}

TEST(ReaderTest, MissingFileAndCorruptGzipAreErrors) {
  TemporaryDirectory dir;
  absl::Status status;
  Labels(Options({dir.File("nope.vw")}), &status);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("nope.vw"), absl::string_view::npos);

  // A gzip stream cut in half (written as is: the name has no .gz).
  const std::string bytes =
      ReadBytes(dir.Write("whole.vw.gz", std::string(100000, 'x')));
  Labels(Options({dir.Write("cut.vw", bytes.substr(0, bytes.size() / 2))}),
         &status);
  EXPECT_FALSE(status.ok());
}

TEST(ReaderTest, PartsSplitTheExamples) {
  // Lines of only white space (\v and \f too) are no examples: counting
  // them would shift every later example into the other worker's part.
  constexpr char kLines[] = "1 |a\n\v\n0 |a\n-1 |a\n \f\t\r\n1 |a\n\n0 |a\n";
  TemporaryDirectory dir;
  ReaderOptions options = Options({dir.Write("a.vw", kLines)});
  options.part_count = 2;
  absl::Status status;
  options.part_index = 0;
  EXPECT_EQ(Labels(options, &status), (std::vector<float>{1, -1, 0}));
  options.part_index = 1;
  EXPECT_EQ(Labels(options, &status), (std::vector<float>{0, 1}));
}

TEST(ReaderTest, ManyThreadsKeepTheFilesOrder) {
  // Enough blocks that parsers finish out of order.
  std::string lines;
  std::vector<float> expected;
  for (int i = 0; i < 5000; ++i) {
    lines += std::to_string(i) + " |a x" + std::to_string(i % 7) + "\n";
    expected.push_back(static_cast<float>(i));
  }
  TemporaryDirectory dir;
  ReaderOptions options =
      Options({dir.Write("a.vw", lines), dir.Write("b.vw", lines)});
  options.parse.binary_labels = false;
  expected.insert(expected.end(), expected.begin(), expected.end());
  absl::Status status;
  EXPECT_EQ(Labels(options, &status), expected);
  EXPECT_TRUE(status.ok()) << status;
}

TEST(ReaderTest, BadLineBudgetCountsInFileOrder) {
  // The over-budget line is the third bad one in the file, wherever the
  // threads met the bad lines.
  std::string lines;
  for (int i = 1; i <= 400; ++i) {
    lines += (i % 100 == 0) ? "oops\n" : "1 |a x\n";
  }
  TemporaryDirectory dir;
  ReaderOptions options = Options({dir.Write("a.vw", lines)});
  options.max_bad_lines = 2;
  absl::Status status;
  uint64_t bad = 0;
  Labels(options, &status, &bad);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(":300:"), absl::string_view::npos) << status;
  EXPECT_EQ(bad, 3u);
}

TEST(ReaderTest, FillReadsThePassOnOneThread) {
  TemporaryDirectory dir;
  ReaderOptions options =
      Options({dir.Write("a.vw", "1 |a x\nbad\n0 |a y\n\n-1 |a z\n")});
  options.max_bad_lines = 1;
  ExampleReader reader(options);
  ExampleBlock block;
  std::vector<float> labels;
  while (reader.Fill(&block, 2)) {
    for (size_t i = 0; i < block.size(); ++i) {
      EXPECT_EQ(block.first_index + i, labels.size());
      labels.push_back(block.example(i).label);
    }
  }
  EXPECT_TRUE(reader.status().ok()) << reader.status();
  EXPECT_EQ(labels, (std::vector<float>{1, 0, -1}));
  EXPECT_EQ(reader.bad_lines(), 1u);
  EXPECT_NE(reader.first_bad_line().find(":2:"), std::string::npos);
}

TEST(ReaderTest, ParsingThreadsDefaultLeavesTheLearnerACore) {
  EXPECT_EQ(ParsingThreads(3), 3);
  EXPECT_GE(ParsingThreads(0), 1);
  EXPECT_EQ(
      ParsingThreads(0),
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1));
}

TEST(LineReaderTest, RefusesEndlessLines) {
  TemporaryDirectory dir;
  const std::string path = dir.Write(
      "long.vw",
      "1 |a " + std::string(LineReader::kMaxLineBytes + 10, 'x') + "\n");
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  ASSERT_TRUE(reader.ok());
  absl::string_view line;
  EXPECT_FALSE((*reader)->Next(&line));
  EXPECT_NE((*reader)->status().message().find("longer than"),
            absl::string_view::npos);
}

TEST(LineReaderTest, ConcatenatedGzipFilesAreOneStream) {
  TemporaryDirectory dir;
  // Written as is (no .gz in the name): two gzip members back to back.
  const std::string path =
      dir.Write("both.vw", ReadBytes(dir.Write("a.gz", "1 |a x\n0 |a y\n")) +
                               ReadBytes(dir.Write("b.gz", "1 |a z\n")));
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  ASSERT_TRUE(reader.ok());
  std::vector<std::string> lines;
  absl::string_view line;
  while ((*reader)->Next(&line)) lines.emplace_back(line);
  EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status();
  EXPECT_EQ(lines, (std::vector<std::string>{"1 |a x", "0 |a y", "1 |a z"}));
}

// Members larger than a read, ending inside one, and damage anywhere in the
// deflate data or the trailer's CRC is reported, not read as lines.
TEST(LineReaderTest, LargeGzipMembersAreReadWholeAndChecked) {
  TemporaryDirectory dir;
  std::string text;
  std::vector<std::string> expected;
  uint64_t random = 1;
  for (int i = 0; i < 60000; ++i) {
    std::string line = absl::StrCat(i % 2, " |a");
    for (int word = 0; word < 6; ++word) {
      random = random * 6364136223846793005ULL + 1442695040888963407ULL;
      absl::StrAppend(&line, " w", random >> 44);
    }
    expected.push_back(line);
    absl::StrAppend(&text, line, "\n");
  }
  const size_t half = text.find('\n', text.size() / 2) + 1;
  const std::string first = ReadBytes(dir.Write("1.gz", text.substr(0, half)));
  const std::string second = ReadBytes(dir.Write("2.gz", text.substr(half)));
  ASSERT_GT(first.size(), size_t{2} << 18);  // several reads of compressed data

  auto read = [&](const std::string& bytes, absl::Status* status) {
    absl::StatusOr<std::unique_ptr<LineReader>> reader =
        LineReader::Open(dir.Write("data.vw", bytes));
    EXPECT_TRUE(reader.ok());
    std::vector<std::string> lines;
    absl::string_view line;
    while ((*reader)->Next(&line)) lines.emplace_back(line);
    *status = (*reader)->status();
    return lines;
  };
  absl::Status status;
  EXPECT_EQ(read(first + second, &status), expected);
  EXPECT_TRUE(status.ok()) << status;

  for (const size_t position : {first.size() / 2, first.size() - 6}) {
    std::string damaged = first + second;
    damaged[position] ^= 0x10;
    read(damaged, &status);
    EXPECT_NE(status.message().find("corrupt gzip data"),
              absl::string_view::npos)
        << "byte " << position << ": " << status;
  }
}

TEST(LineReaderTest, GzipIsKnownByItsBytesNotItsName) {
  TemporaryDirectory dir;
  const std::string path =
      dir.Write("named_plain.vw", ReadBytes(dir.Write("x.gz", "1 |a x\n")));
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  ASSERT_TRUE(reader.ok());
  absl::string_view line;
  ASSERT_TRUE((*reader)->Next(&line));
  EXPECT_EQ(line, "1 |a x");
}

// A pipe's lines come out as they are written: the writer waits for the
// reader to see line 1 before it writes line 2, which would never happen if
// the reader waited for a full buffer.
TEST(ReaderTest, APipeIsReadLineByLine) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string path = absl::StrCat("/dev/fd/", fds[0]);
  ReaderOptions options;
  options.files = {path};
  options.threads = 1;
  std::FILE* writer = ::fdopen(fds[1], "w");
  std::fputs("1 |a first\n", writer);
  std::fflush(writer);
  ExampleStream stream(options);
  const ExampleBlock* block = stream.Next();
  ASSERT_NE(block, nullptr);
  ASSERT_EQ(block->size(), 1u);
  const float first_label = block->example(0).label;
  std::fputs("0 |a second\n", writer);
  std::fflush(writer);
  block = stream.Next();
  ASSERT_NE(block, nullptr);
  ASSERT_EQ(block->size(), 1u);
  EXPECT_LT(block->example(0).label, first_label);
  std::fclose(writer);
  EXPECT_EQ(stream.Next(), nullptr);
  EXPECT_TRUE(stream.status().ok()) << stream.status();
  ::close(fds[0]);
}

}  // namespace
}  // namespace adaline
