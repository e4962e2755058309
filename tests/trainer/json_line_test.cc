// JsonLine writes what JSON parsers read, and reads back its own numbers.
#include "trainer/json_line.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace adaline {
namespace {

TEST(JsonLineTest, WritesFieldsInOrderOnOneLine) {
  JsonLine line;
  line.Text("event", "report").Count("examples", 40000).Number("loss", 0.5);
  EXPECT_EQ(line.Finish(), R"({"event":"report","examples":40000,"loss":0.5})");
}

TEST(JsonLineTest, EscapesWhatJsonMust) {
  EXPECT_EQ(JsonString("a\"b\\c\nd\te\x01"), R"("a\"b\\c\nd\te\u0001")");
}

TEST(JsonLineTest, NumbersThatAreNotFiniteAreNull) {
  JsonLine line;
  line.Number("nan", std::nan(""))
      .Number("inf", std::numeric_limits<double>::infinity());
  EXPECT_EQ(line.Finish(), R"({"nan":null,"inf":null})");
}

TEST(JsonLineTest, NestedObjectsAndLists) {
  JsonLine weights;
  weights.Number("movie^is_director_nolan", 1.25);
  JsonLine line;
  line.Raw("weights", weights.Finish()).Texts("warnings", {"one", "two"});
  EXPECT_EQ(line.Finish(), R"({"weights":{"movie^is_director_nolan":1.25},)"
                           R"("warnings":["one","two"]})");
}

TEST(JsonLineTest, ReadsBackItsNumbers) {
  JsonLine line;
  line.Count("examples", 123).Number("holdout_log_loss", 0.123456789);
  const std::string text = line.Finish();
  EXPECT_EQ(JsonNumberField(text, "examples"), 123);
  EXPECT_DOUBLE_EQ(*JsonNumberField(text, "holdout_log_loss"), 0.123456789);
  EXPECT_FALSE(JsonNumberField(text, "holdout").has_value());
  EXPECT_FALSE(JsonNumberField(text, "missing").has_value());
}

}  // namespace
}  // namespace adaline
