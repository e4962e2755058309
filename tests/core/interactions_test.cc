// Interactions: VW's spelling of crosses, what it refuses, and how ':' and
// permutations expand for an example.
#include "core/interactions.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adaline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Interaction Letters(absl::string_view text) {
  return Interaction(text.begin(), text.end());
}

std::vector<std::string> SpellingsOf(const std::vector<Interaction>& crosses) {
  std::vector<std::string> spellings;
  for (const Interaction& cross : crosses) {
    spellings.emplace_back(cross.begin(), cross.end());
  }
  return spellings;
}

std::string ErrorOf(std::vector<std::string> interactions,
                    std::vector<std::string> quadratic = {},
                    std::vector<std::string> cubic = {}) {
  absl::StatusOr<Interactions> parsed =
      Interactions::Parse(interactions, quadratic, cubic);
  EXPECT_FALSE(parsed.ok());
  return std::string(parsed.status().message());
}

TEST(InteractionsTest, NoneByDefault) {
  EXPECT_TRUE(Interactions().empty());
  absl::StatusOr<Interactions> none = Interactions::Parse({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(InteractionsTest, QuadraticCubicAndLongerCrossesReadAlike) {
  absl::StatusOr<Interactions> parsed =
      Interactions::Parse({"ugm", "abcd"}, {"ug"}, {"xyz"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(parsed->crosses(), ElementsAre(Letters("ugm"), Letters("abcd"),
                                             Letters("ug"), Letters("xyz")));
  EXPECT_THAT(parsed->Letters(),
              ElementsAre('a', 'b', 'c', 'd', 'g', 'm', 'u', 'x', 'y', 'z'));
}

TEST(InteractionsTest, PermutationsOfAnEarlierCrossAreDropped) {
  absl::StatusOr<Interactions> parsed =
      Interactions::Parse({"ab", "ba", "aab", "aba", "aa"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_THAT(parsed->crosses(),
              ElementsAre(Letters("ab"), Letters("aab"), Letters("aa")));
  EXPECT_EQ(parsed->dropped_permutations(), 2u);
}

TEST(InteractionsTest, TheDefaultNamespaceIsSpelledWithAnEscape) {
  absl::StatusOr<Interactions> parsed = Interactions::Parse({"\\x20a", "a:"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->crosses()[0], Letters(" a"));
  EXPECT_TRUE(parsed->has_wildcard());
  // What a model file stores reads back to the same crosses.
  EXPECT_THAT(parsed->Spellings(), ElementsAre("\\x20a", "a:"));
  absl::StatusOr<Interactions> again = Interactions::Parse(parsed->Spellings());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *parsed);
}

TEST(InteractionsTest, RefusesWhatCannotNameANamespace) {
  EXPECT_THAT(ErrorOf({""}), HasSubstr("at least two namespace letters"));
  EXPECT_THAT(ErrorOf({"a"}), HasSubstr("at least two namespace letters"));
  EXPECT_THAT(ErrorOf({"a b"}), HasSubstr("cannot start a namespace"));
  EXPECT_THAT(ErrorOf({"a|"}), HasSubstr("cannot start a namespace"));
  EXPECT_THAT(ErrorOf({"a\t"}), HasSubstr("cannot start a namespace"));
  EXPECT_THAT(ErrorOf({"a\\x2"}), HasSubstr("two hexadecimal digits"));
  EXPECT_THAT(ErrorOf({"a\\y20"}), HasSubstr("two hexadecimal digits"));
  EXPECT_THAT(ErrorOf({}, {"abc"}),
              HasSubstr("-q 'abc' must name exactly 2 namespaces"));
  EXPECT_THAT(ErrorOf({}, {}, {"ab"}),
              HasSubstr("--cubic 'ab' must name exactly 3 namespaces"));
}

TEST(InteractionsTest, WithoutWildcardsEveryExampleGetsTheSameCrosses) {
  absl::StatusOr<Interactions> parsed = Interactions::Parse({"ab", "bc"});
  ASSERT_TRUE(parsed.ok());
  std::vector<Interaction> expanded;
  const uint8_t present[] = {'a'};
  parsed->Expand(present, &expanded);
  EXPECT_EQ(expanded, parsed->crosses());
}

TEST(InteractionsTest, AnyNamespaceBecomesEachPresentOneWithoutPermutations) {
  // As VW 9 expands them for an example with namespaces ' ', a and b.
  const uint8_t present[] = {' ', 'a', 'b'};
  std::vector<Interaction> expanded;
  absl::StatusOr<Interactions> all = Interactions::Parse({"::"});
  ASSERT_TRUE(all.ok());
  all->Expand(present, &expanded);
  EXPECT_THAT(SpellingsOf(expanded),
              ElementsAre("  ", " a", " b", "aa", "ab", "bb"));

  absl::StatusOr<Interactions> with_a = Interactions::Parse({"a:", ":a"});
  ASSERT_TRUE(with_a.ok());
  with_a->Expand(present, &expanded);
  EXPECT_THAT(SpellingsOf(expanded), ElementsAre("a ", "aa", "ab"));

  // A named cross keeps its place; the wildcard's copy of it is dropped.
  absl::StatusOr<Interactions> mixed = Interactions::Parse({"ba", "a:"});
  ASSERT_TRUE(mixed.ok());
  mixed->Expand(present, &expanded);
  EXPECT_THAT(SpellingsOf(expanded), ElementsAre("ba", "a ", "aa"));

  all->Expand({}, &expanded);
  EXPECT_TRUE(expanded.empty());
}

}  // namespace
}  // namespace adaline
