// Crosses added by the parser: which pairs and triples an example gets, their
// keys and values, their names, and what is never crossed.
#include <string>
#include <vector>

#include "core/feature_key.h"
#include "data/parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adaline {
namespace {

using ::testing::UnorderedElementsAreArray;

struct Crossed {
  uint64_t key;
  float value;
  friend bool operator==(const Crossed& a, const Crossed& b) {
    return a.key == b.key && a.value == b.value;
  }
};

// The features parsing `line` gives with `crosses`.
std::vector<Crossed> FeaturesOf(absl::string_view line,
                                std::vector<std::string> crosses,
                                Format format = Format::kVw) {
  ParseOptions options;
  options.bias = false;
  absl::StatusOr<Interactions> interactions = Interactions::Parse(crosses);
  EXPECT_TRUE(interactions.ok()) << interactions.status();
  options.interactions = *interactions;
  ExampleBlock block;
  EXPECT_TRUE(ParseLine(format, line, options, &block).ok());
  std::vector<Crossed> features;
  for (const Feature& f : block.example(0).features) {
    features.push_back({f.key, f.value});
  }
  return features;
}

// A feature or cross by its spelling, with its value.
Crossed Named(absl::string_view name, float value) {
  return {FeatureKeyForName(name), value};
}

TEST(CrossesTest, APairCrossesEveryFeatureOfOneNamespaceWithTheOther) {
  EXPECT_THAT(FeaturesOf("1 |a x y:2 |b z:3", {"ab"}),
              UnorderedElementsAreArray({
                  Named("a^x", 1),
                  Named("a^y", 2),
                  Named("b^z", 3),
                  Named("a^x*b^z", 3),
                  Named("a^y*b^z", 6),
              }));
}

TEST(CrossesTest, ALetterStandsForEveryNamespaceStartingWithIt) {
  EXPECT_THAT(FeaturesOf("1 |user x |u2 y |genre g", {"ug"}),
              UnorderedElementsAreArray({
                  Named("user^x", 1),
                  Named("u2^y", 1),
                  Named("genre^g", 1),
                  Named("user^x*genre^g", 1),
                  Named("u2^y*genre^g", 1),
              }));
}

TEST(CrossesTest, ASelfCrossHasEachPairOnceAndEachFeatureWithItself) {
  EXPECT_THAT(FeaturesOf("1 |a x y:2", {"aa"}), UnorderedElementsAreArray({
                                                    Named("a^x", 1),
                                                    Named("a^y", 2),
                                                    Named("a^x*a^x", 1),
                                                    Named("a^x*a^y", 2),
                                                    Named("a^y*a^y", 4),
                                                }));
}

TEST(CrossesTest, TriplesChainTheirKeys) {
  EXPECT_THAT(FeaturesOf("1 |a x |b y:2 |c z:0.5", {"abc"}),
              UnorderedElementsAreArray({
                  Named("a^x", 1),
                  Named("b^y", 2),
                  Named("c^z", 0.5),
                  Named("a^x*b^y*c^z", 1),
              }));
}

TEST(CrossesTest, OrderMattersToTheKey) {
  EXPECT_NE(FeatureKeyForName("a^x*b^z"), FeatureKeyForName("b^z*a^x"));
  // A '*' inside a plain name is not a cross.
  EXPECT_EQ(FeatureKeyForName("^x*y"), FeatureKey(NamespaceSeed(""), "x*y"));
}

TEST(CrossesTest, TheDefaultNamespaceAndLibsvmFeaturesCrossAsSpace) {
  EXPECT_THAT(FeaturesOf("1 | d |a x", {"\\x20a"}), UnorderedElementsAreArray({
                                                        Named("^d", 1),
                                                        Named("a^x", 1),
                                                        Named("^d*a^x", 1),
                                                    }));
  EXPECT_THAT(FeaturesOf("1 3:2 7:0.5", {"::"}, Format::kLibsvm),
              UnorderedElementsAreArray({
                  Named("^3", 2),
                  Named("^7", 0.5),
                  Named("^3*^3", 4),
                  Named("^3*^7", 1),
                  Named("^7*^7", 0.25),
              }));
}

TEST(CrossesTest, AMissingNamespaceCrossesToNothing) {
  EXPECT_THAT(FeaturesOf("1 |a x", {"ab"}),
              UnorderedElementsAreArray({Named("a^x", 1)}));
}

TEST(CrossesTest, TheBiasIsNeverCrossed) {
  ParseOptions options;
  options.interactions = *Interactions::Parse({"::"});
  ExampleBlock block;
  ASSERT_TRUE(ParseLine(Format::kVw, "1 |a x", options, &block).ok());
  EXPECT_EQ(block.example(0).features.size(), 3u);  // x, x*x, bias
}

TEST(CrossesTest, NamedCrossesAreKeptWithTheirKeys) {
  ParseOptions options;
  options.bias = false;
  options.keep_names = true;
  options.interactions = *Interactions::Parse({"ab", "abb"});
  ExampleBlock block;
  ASSERT_TRUE(ParseLine(Format::kVw, "1 |a x :2 |b z w", options, &block).ok());
  std::vector<std::string> names;
  for (const ExampleBlock::Name& name : block.names(0)) {
    EXPECT_EQ(name.key, FeatureKeyForName(block.name_text(name)));
    names.emplace_back(block.name_text(name));
  }
  // The anonymous feature crosses too, but has no name to keep.
  EXPECT_THAT(names, UnorderedElementsAreArray({"a^x", "b^z", "b^w", "a^x*b^z",
                                                "a^x*b^w", "a^x*b^z*b^z",
                                                "a^x*b^z*b^w", "a^x*b^w*b^w"}));
  EXPECT_EQ(block.example(0).features.size(), 4u + 4u + 6u);
  EXPECT_TRUE(block.letters().test('a'));
  EXPECT_TRUE(block.letters().test('b'));
  EXPECT_FALSE(block.letters().test('c'));
}

TEST(CrossesTest, ABadLineAddsNoCrossesAndLeavesNoneForTheNext) {
  ParseOptions options;
  options.bias = false;
  options.interactions = *Interactions::Parse({"ab"});
  ExampleBlock block;
  EXPECT_FALSE(ParseLine(Format::kVw, "1 |a x |b y:z", options, &block).ok());
  ASSERT_TRUE(ParseLine(Format::kVw, "1 |a x |b y", options, &block).ok());
  ASSERT_EQ(block.size(), 1u);
  EXPECT_EQ(block.example(0).features.size(), 3u);
}

}  // namespace
}  // namespace adaline
