#include "core/feature_key.h"

#include <xxhash.h>

#include "gtest/gtest.h"

namespace adaline {
namespace {

// Keys are part of every saved model: these must never change.
TEST(FeatureKeyTest, KnownKeysArePinned) {
  EXPECT_EQ(FeatureKeyForName("movie^is_director_nolan"),
            0xf3732499f2763287ULL);
  EXPECT_EQ(FeatureKeyForName("user^id_1"), 0x674f2983943c1474ULL);
  EXPECT_EQ(FeatureKeyForName("^7"), 0xfc455beba2617621ULL);
  EXPECT_EQ(BiasKey(), 0xebeffbf3aef5476aULL);
}

TEST(FeatureKeyTest, IsXxh3OfTheNameSeededWithXxh3OfTheNamespace) {
  const uint64_t seed = XXH3_64bits("movie", 5);
  EXPECT_EQ(FeatureKey(seed, "is_director_nolan"),
            XXH3_64bits_withSeed("is_director_nolan", 17, seed));
  EXPECT_EQ(FeatureKeyForName("movie^is_director_nolan"),
            FeatureKey(NamespaceSeed("movie"), "is_director_nolan"));
}

TEST(FeatureKeyTest, NameWithoutCaretIsInTheDefaultNamespace) {
  EXPECT_EQ(FeatureKeyForName("7"), FeatureKeyForName("^7"));
  EXPECT_EQ(FeatureKeyForName("^__bias__"), BiasKey());
}

TEST(FeatureKeyTest, NamespaceEndsAtTheFirstCaret) {
  EXPECT_EQ(FeatureKeyForName("a^b^c"), FeatureKey(NamespaceSeed("a"), "b^c"));
  EXPECT_NE(FeatureKeyForName("a^bc"), FeatureKeyForName("ab^c"));
}

TEST(FeatureKeyTest, FullNameJoinsWithCaret) {
  EXPECT_EQ(FullFeatureName("movie", "x"), "movie^x");
  EXPECT_EQ(FullFeatureName("", "x"), "^x");
}

}  // namespace
}  // namespace adaline
