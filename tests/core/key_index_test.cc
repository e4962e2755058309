#include "core/key_index.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace adaline {
namespace {

TEST(KeyIndexTest, NumbersKeysInOrderOfFirstAppearance) {
  KeyIndex index;
  EXPECT_EQ(index.IndexOf(40), 0u);
  EXPECT_EQ(index.IndexOf(7), 1u);
  EXPECT_EQ(index.IndexOf(40), 0u);
  EXPECT_EQ(index.keys(), (std::vector<uint64_t>{40, 7}));
}

TEST(KeyIndexTest, ContainsOnlyWhatWasNumberedSinceTheLastClear) {
  KeyIndex index;
  for (uint64_t key = 0; key < 1000; ++key) index.IndexOf(key * 3);
  EXPECT_TRUE(index.Contains(0));
  EXPECT_TRUE(index.Contains(2997));
  EXPECT_FALSE(index.Contains(1));
  EXPECT_FALSE(index.Contains(3000));
  index.Clear();
  EXPECT_FALSE(index.Contains(0));
  EXPECT_TRUE(index.keys().empty());
  index.IndexOf(5);
  EXPECT_TRUE(index.Contains(5));
}

}  // namespace
}  // namespace adaline
