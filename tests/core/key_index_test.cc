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

TEST(KeyIndexTest, KnowsOnlyWhatWasNumberedSinceTheLastClear) {
  KeyIndex index;
  for (uint64_t key = 0; key < 1000; ++key) index.IndexOf(key * 3);
  EXPECT_EQ(index.IndexOf(2997), 999u);
  EXPECT_EQ(index.IndexOf(3000), 1000u);  // new: numbered next
  index.Clear();
  EXPECT_TRUE(index.keys().empty());
  EXPECT_EQ(index.IndexOf(2997), 0u);
  EXPECT_EQ(index.IndexOf(5), 1u);
}

TEST(KeyIndexTest, KeysAppendedAsDistinctAreFoundLater) {
  KeyIndex index;
  const std::vector<Feature> features = {{9, 1}, {4, 1}, {7, 1}};
  index.AppendDistinct(features);
  EXPECT_EQ(index.keys(), (std::vector<uint64_t>{9, 4, 7}));
  EXPECT_EQ(index.IndexOf(4), 1u);
  EXPECT_EQ(index.IndexOf(5), 3u);
  EXPECT_EQ(index.IndexOf(7), 2u);
  // Many appended keys: the table grows to hold them.
  index.Clear();
  std::vector<Feature> many;
  for (uint64_t key = 0; key < 500; ++key) many.push_back({key * 11, 1});
  index.AppendDistinct(many);
  EXPECT_EQ(index.IndexOf(11 * 321), 321u);
  EXPECT_EQ(index.IndexOf(3), 500u);
}

}  // namespace
}  // namespace adaline
