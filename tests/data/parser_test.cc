#include "data/parser.h"

#include <string>

#include "absl/strings/escaping.h"
#include "core/feature_key.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adaline {
namespace {

ParseOptions NoBias() {
  ParseOptions options;
  options.bias = false;
  return options;
}

// Parses one line that must be good and returns its example.
Example ParseGood(Format format, absl::string_view line, ExampleBlock& block,
                  ParseOptions options = NoBias()) {
  absl::Status status = ParseLine(format, line, options, &block);
  EXPECT_TRUE(status.ok()) << line << ": " << status;
  EXPECT_EQ(block.size(), 1u);
  return block.example(0);
}

std::string ErrorOf(Format format, absl::string_view line,
                    ParseOptions options = NoBias()) {
  ExampleBlock block;
  absl::Status status = ParseLine(format, line, options, &block);
  EXPECT_FALSE(status.ok()) << line;
  EXPECT_EQ(block.size(), 0u) << "a bad line must add nothing: " << line;
  return std::string(status.message());
}

TEST(VwParserTest, ExamplesSayWhetherTheirKeysAreDistinct) {
  ExampleBlock block;
  EXPECT_TRUE(ParseGood(Format::kVw, "1 |a x y |b x", block).distinct_keys);
  ExampleBlock repeated;
  EXPECT_FALSE(ParseGood(Format::kVw, "1 |a x y x:2", repeated).distinct_keys);
  // Long lines too, where a repeat comes late.
  auto features = [](int count) {
    std::string line = "1 |a";
    for (int i = 0; i < count; ++i) line += " f" + std::to_string(i);
    return line;
  };
  const std::string line = features(300);
  ExampleBlock long_block;
  EXPECT_TRUE(ParseGood(Format::kVw, line, long_block).distinct_keys);
  ExampleBlock long_repeated;
  EXPECT_FALSE(
      ParseGood(Format::kVw, line + " f7", long_repeated).distinct_keys);
  const std::string medium = features(100);
  ExampleBlock medium_repeated;
  EXPECT_FALSE(
      ParseGood(Format::kVw, medium + " f99", medium_repeated).distinct_keys);
}

TEST(IsBlankLineTest, OnlyWhiteSpaceIsBlank) {
  for (absl::string_view blank : {"", " ", "\t\r", "\v", "\f", " \v\f\t "}) {
    EXPECT_TRUE(IsBlankLine(blank)) << absl::CEscape(blank);
    ExampleBlock block;
    EXPECT_TRUE(ParseLine(Format::kVw, blank, NoBias(), &block).ok());
    EXPECT_EQ(block.size(), 0u);
  }
  EXPECT_FALSE(IsBlankLine(" |"));
  EXPECT_FALSE(IsBlankLine("\v1"));
}

TEST(VwParserTest, LabelNamespacesAndValues) {
  ExampleBlock block;
  Example e = ParseGood(Format::kVw,
                        "1 |movie is_director_nolan year:0.5 |user u7", block);
  EXPECT_EQ(e.label, 1);
  EXPECT_EQ(e.importance, 1);
  ASSERT_EQ(e.features.size(), 3u);
  EXPECT_EQ(e.features[0].key, FeatureKeyForName("movie^is_director_nolan"));
  EXPECT_EQ(e.features[0].value, 1);
  EXPECT_EQ(e.features[1].key, FeatureKeyForName("movie^year"));
  EXPECT_EQ(e.features[1].value, 0.5f);
  EXPECT_EQ(e.features[2].key, FeatureKeyForName("user^u7"));
}

TEST(VwParserTest, ImportanceTagAndDefaultNamespace) {
  ExampleBlock block;
  Example e = ParseGood(Format::kVw, "-1 2.5 'row17| a b:3", block);
  EXPECT_EQ(e.label, -1);
  EXPECT_EQ(e.importance, 2.5f);
  ASSERT_EQ(e.features.size(), 2u);
  EXPECT_EQ(e.features[0].key, FeatureKeyForName("^a"));
  EXPECT_EQ(e.features[1].value, 3);
}

TEST(VwParserTest, NamespaceScaleMultipliesValuesAndZeroValuesAreSkipped) {
  ExampleBlock block;
  Example e = ParseGood(Format::kVw, "0 |ns:2 a:1.5 b:0 c", block);
  ASSERT_EQ(e.features.size(), 2u);
  EXPECT_EQ(e.features[0].value, 3);
  EXPECT_EQ(e.features[1].value, 2);
}

TEST(VwParserTest, BiasIsAddedUnlessTurnedOff) {
  ExampleBlock block;
  ParseOptions options;
  Example e = ParseGood(Format::kVw, "1 |a x", block, options);
  ASSERT_EQ(e.features.size(), 2u);
  EXPECT_EQ(e.features[1].key, BiasKey());
}

TEST(VwParserTest, KeepsNamesOnRequest) {
  ExampleBlock block;
  ParseOptions options;
  options.keep_names = true;
  ParseGood(Format::kVw, "1 |movie nolan | x", block, options);
  ASSERT_EQ(block.names(0).size(), 3u);
  EXPECT_EQ(block.name_text(block.names(0)[0]), "movie^nolan");
  EXPECT_EQ(block.name_text(block.names(0)[1]), "^x");
  EXPECT_EQ(block.name_text(block.names(0)[2]), "^__bias__");
}

TEST(VwParserTest, RealLabelsForSquaredLoss) {
  ExampleBlock block;
  ParseOptions options = NoBias();
  options.binary_labels = false;
  EXPECT_EQ(ParseGood(Format::kVw, "3.75 |a x", block, options).label, 3.75f);
  EXPECT_NE(ErrorOf(Format::kVw, "3.75 |a x").find("not -1, 0 or 1"),
            std::string::npos);
}

TEST(VwParserTest, UnlabeledLinesOnlyWhenAllowed) {
  ParseOptions options = NoBias();
  options.require_label = false;
  ExampleBlock block;
  Example e = ParseGood(Format::kVw, "|a x", block, options);
  EXPECT_FALSE(e.has_label);
  EXPECT_EQ(ErrorOf(Format::kVw, "|a x"), "missing label");
  EXPECT_EQ(ErrorOf(Format::kVw, "'tag |a x"), "missing label");
}

// Each line below was read by VW 9.10 with --audit; the expectations are
// what it printed: label, importance, base and tag, and anonymous
// features' hashes (namespace hash plus the place among the namespace's
// anonymous features).
TEST(VwGrammarTest, BaseIsTheThirdNumber) {
  ExampleBlock block;
  const Example e = ParseGood(
      Format::kVw, "0 1 0.5 'third_house | price:.53 sqft:.32", block);
  EXPECT_EQ(e.label, 0);
  EXPECT_EQ(e.importance, 1);
  EXPECT_EQ(e.base, 0.5f);
  EXPECT_EQ(e.tag, "third_house");
  EXPECT_EQ(e.features.size(), 2u);
}

TEST(VwGrammarTest, AllFourBeforeTheBar) {
  ExampleBlock block;
  const Example e = ParseGood(Format::kVw, "1 2 3 4|x c", block);
  EXPECT_EQ(e.label, 1);
  EXPECT_EQ(e.importance, 2);
  EXPECT_EQ(e.base, 3);
  EXPECT_EQ(e.tag, "4");  // it touches the bar
}

TEST(VwGrammarTest, ATokenTouchingTheBarIsTheTag) {
  ParseOptions options = NoBias();
  options.require_label = false;
  struct Case {
    const char* line;
    bool has_label;
    float label;
    const char* tag;
  };
  const Case cases[] = {
      {" unlabeled/2| a b c", false, 0, "unlabeled/2"},
      {"1|x a", false, 0, "1"},
      {"-1 0.5|x a", true, -1, "0.5"},
      {"'tag2 |x c", false, 0, "tag2"},
      {"1 'tag|x a", true, 1, "tag"},
      {"1 |x a", true, 1, ""},
  };
  for (const Case& c : cases) {
    ExampleBlock block;
    const Example e = ParseGood(Format::kVw, c.line, block, options);
    EXPECT_EQ(e.has_label, c.has_label) << c.line;
    EXPECT_EQ(e.label, c.label) << c.line;
    EXPECT_EQ(e.tag, c.tag) << c.line;
    EXPECT_EQ(e.importance, 1) << c.line;
    EXPECT_EQ(e.base, 0) << c.line;
  }
}

TEST(VwGrammarTest, AnonymousFeaturesCountFromTheNamespaceHash) {
  ExampleBlock block;
  const Example e = ParseGood(Format::kVw, "1 |x :2 :3 b |y :4 | :5", block);
  const uint64_t x = NamespaceSeed("x");
  ASSERT_EQ(e.features.size(), 5u);
  EXPECT_EQ(e.features[0].key, AnonymousFeatureKey(x, 0));
  EXPECT_EQ(e.features[0].value, 2);
  EXPECT_EQ(e.features[1].key, x + 1);
  EXPECT_EQ(e.features[1].value, 3);
  EXPECT_EQ(e.features[2].key, FeatureKey(x, "b"));
  // A zero value adds nothing but still counts, as in VW: "|x :0 :3" gives
  // :3 the key x + 1.
  ExampleBlock zero_block;
  const Example zero = ParseGood(Format::kVw, "1 |x :0 :3", zero_block);
  ASSERT_EQ(zero.features.size(), 1u);
  EXPECT_EQ(zero.features[0].key, x + 1);
  // The count starts again in every namespace.
  EXPECT_EQ(e.features[3].key, NamespaceSeed("y"));
  EXPECT_EQ(e.features[4].key, NamespaceSeed(""));
  EXPECT_EQ(e.features[4].value, 5);
}

TEST(VwGrammarTest, WhereAdalineIsStricterThanVw) {
  // VW reads these with a warning, or reads part of a number; each is more
  // likely a broken file than an intent, so adaline names it.
  const struct {
    const char* line;
    const char* message;
  } kRefused[] = {
      {"1 |x c:0.7\\0", "value '0.7\\\\0'"},
      {"1 |x c:true", "value 'true' is not a finite number"},
      {"1 'a 2 |x c", "must be the last thing"},
      {"1 2 3 4 5 |x c", "unexpected '4'"},
      {"1 2 b4se |x c", "base 'b4se' is not a finite number"},
      {"1 heavy |x c", "importance 'heavy'"},
  };
  for (const auto& refused : kRefused) {
    EXPECT_THAT(ErrorOf(Format::kVw, refused.line),
                testing::HasSubstr(refused.message));
  }
}

TEST(VwParserTest, BlankLinesAddNothing) {
  ExampleBlock block;
  EXPECT_TRUE(ParseLine(Format::kVw, "  \r", NoBias(), &block).ok());
  EXPECT_EQ(block.size(), 0u);
}

TEST(VwParserTest, MalformedLinesSayWhatIsWrong) {
  EXPECT_NE(ErrorOf(Format::kVw, "1 a b").find("no '|'"), std::string::npos);
  EXPECT_NE(ErrorOf(Format::kVw, "yes |a x").find("label 'yes'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Format::kVw, "nan |a x").find("not a finite number"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Format::kVw, "1 |a x:abc").find("value 'abc'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Format::kVw, "1 |a x:inf").find("not a finite"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Format::kVw, "1 |a x:1e999").find("not a finite"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Format::kVw, "1 -2 |a x").find("importance '-2'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Format::kVw, "1 2 'tag extra |a x").find("unexpected"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Format::kVw, "1 |a:zz x").find("scale"), std::string::npos);
}

TEST(VwParserTest, NamesOfMegabytesAreRefusedByteCountAndAll) {
  const std::string huge(2 << 20, 'n');
  const std::string error = ErrorOf(Format::kVw, "1 |a " + huge);
  EXPECT_NE(error.find("has a name of 2097154 bytes with its namespace; at "
                       "most 1048576"),
            std::string::npos)
      << error.substr(0, 200);
  EXPECT_LT(error.size(), 300u);  // the message quotes only the start
  // A long namespace counts too; a long but allowed name is fine.
  EXPECT_NE(ErrorOf(Format::kVw, "1 |" + huge + " x").find("at most"),
            std::string::npos);
  ExampleBlock block;
  const std::string long_name(100000, 'n');
  EXPECT_EQ(ParseGood(Format::kVw, "1 |a " + long_name, block).features[0].key,
            FeatureKeyForName("a^" + long_name));
}

TEST(VwParserTest, BinaryGarbageIsRefusedWithPrintableMessages) {
  const std::string garbage("\x00\x1b[2J\xff\xfe|a \x01:\x02", 13);
  const std::string error = ErrorOf(Format::kVw, garbage);
  EXPECT_FALSE(error.empty());
  for (char c : error) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int(c) << " in " << error;
  }
  const std::string libsvm = ErrorOf(Format::kLibsvm, "1 \x1b\x07:1");
  EXPECT_NE(libsvm.find("\\x1b"), std::string::npos) << libsvm;
}

TEST(VwParserTest, AbsurdButFiniteValuesAreReadAsTheyAre) {
  ExampleBlock block;
  ParseOptions real = NoBias();
  real.binary_labels = false;
  Example e = ParseGood(Format::kVw, "3e38 1e30 |a x:3.4e38", block, real);
  EXPECT_EQ(e.label, 3e38f);
  EXPECT_EQ(e.importance, 1e30f);
  EXPECT_EQ(e.features[0].value, 3.4e38f);
  // Past float's range is not finite: refused, not rounded to inf.
  EXPECT_NE(ErrorOf(Format::kVw, "1 |a x:3.5e38").find("not a finite"),
            std::string::npos);
}

TEST(VwParserTest, ABadFeatureLeavesEarlierExamplesIntact) {
  ExampleBlock block;
  ASSERT_TRUE(ParseLine(Format::kVw, "1 |a x y", NoBias(), &block).ok());
  EXPECT_FALSE(ParseLine(Format::kVw, "1 |a x y:bad", NoBias(), &block).ok());
  ASSERT_TRUE(ParseLine(Format::kVw, "0 |a z", NoBias(), &block).ok());
  ASSERT_EQ(block.size(), 2u);
  EXPECT_EQ(block.example(0).features.size(), 2u);
  EXPECT_EQ(block.example(1).features.size(), 1u);
  EXPECT_EQ(block.example(1).features[0].key, FeatureKeyForName("a^z"));
}

TEST(LibsvmParserTest, IndicesAreDefaultNamespaceNames) {
  ExampleBlock block;
  Example e = ParseGood(Format::kLibsvm, "+1 3:0.5 17:2 # comment", block);
  EXPECT_EQ(e.label, 1);
  ASSERT_EQ(e.features.size(), 2u);
  EXPECT_EQ(e.features[0].key, FeatureKeyForName("^3"));
  EXPECT_EQ(e.features[0].value, 0.5f);
  EXPECT_EQ(e.features[1].key, FeatureKeyForName("17"));
}

TEST(LibsvmParserTest, MalformedLines) {
  EXPECT_NE(ErrorOf(Format::kLibsvm, "1 3").find("not index:value"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(Format::kLibsvm, "1 x:1").find("not a non-negative integer"),
      std::string::npos);
  EXPECT_NE(ErrorOf(Format::kLibsvm, "1 3:").find("not a finite number"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Format::kLibsvm, "2 3:1").find("not -1, 0 or 1"),
            std::string::npos);
  EXPECT_EQ(ErrorOf(Format::kLibsvm, "3:1"), "missing label");
}

TEST(FormatTest, NamesAndGuesses) {
  EXPECT_EQ(*ParseFormat("vw"), Format::kVw);
  EXPECT_EQ(*ParseFormat("libsvm"), Format::kLibsvm);
  EXPECT_FALSE(ParseFormat("csv").ok());
  EXPECT_EQ(GuessFormat("a.libsvm.gz"), Format::kLibsvm);
  EXPECT_EQ(GuessFormat("a.svm"), Format::kLibsvm);
  EXPECT_EQ(GuessFormat("a.vw.gz"), Format::kVw);
  EXPECT_EQ(GuessFormat("-"), Format::kVw);
}

}  // namespace
}  // namespace adaline
