// ReadAhead: every block its filler makes comes out once, in order, while
// the filler works ahead on its own thread; stopping early never hangs.
#include "data/read_ahead.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "gtest/gtest.h"

namespace adaline {
namespace {

// A filler of `count` blocks, block i holding one example labelled i.
ReadAhead::Fill Numbered(uint64_t count, std::atomic<uint64_t>* filled) {
  return [count, filled](ExampleBlock* block) {
    const uint64_t i = filled->load();
    if (i == count) return false;
    block->Clear();
    block->first_index = i;
    block->Begin(static_cast<float>(i), 1, true);
    block->AddFeature(i, 1);
    block->End();
    filled->store(i + 1);
    return true;
  };
}

TEST(ReadAheadTest, HandsOutEveryBlockOnceInOrder) {
  std::atomic<uint64_t> filled{0};
  ReadAhead blocks(Numbered(1000, &filled), /*blocks=*/3);
  uint64_t seen = 0;
  while (const ExampleBlock* block = blocks.Next()) {
    ASSERT_EQ(block->first_index, seen);
    ASSERT_EQ(block->size(), 1u);
    EXPECT_EQ(block->example(0).label, static_cast<float>(seen));
    EXPECT_EQ(block->example(0).features[0].key, seen);
    ++seen;
  }
  EXPECT_EQ(seen, 1000u);
  // The end stays the end.
  EXPECT_EQ(blocks.Next(), nullptr);
}

TEST(ReadAheadTest, FillsAheadOfTheCallerButNoFurtherThanItsPool) {
  std::atomic<uint64_t> filled{0};
  ReadAhead blocks(Numbered(100, &filled), /*blocks=*/3);
  const ExampleBlock* first = blocks.Next();
  ASSERT_NE(first, nullptr);
  // While the caller holds the first block, the other two fill.
  while (filled.load() < 3) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(filled.load(), 3u);
  EXPECT_EQ(first->first_index, 0u);
}

TEST(ReadAheadTest, AnEmptySourceEndsAtOnce) {
  std::atomic<uint64_t> filled{0};
  ReadAhead blocks(Numbered(0, &filled));
  EXPECT_EQ(blocks.Next(), nullptr);
}

TEST(ReadAheadTest, StoppingBeforeTheEndDoesNotWait) {
  std::atomic<uint64_t> filled{0};
  {
    ReadAhead blocks(Numbered(1000000, &filled));
    ASSERT_NE(blocks.Next(), nullptr);
  }
  EXPECT_LT(filled.load(), 10u);
  { ReadAhead untouched(Numbered(1000000, &filled)); }
}

}  // namespace
}  // namespace adaline
