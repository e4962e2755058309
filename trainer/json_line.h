// JsonLine: one JSON object on one line, built field by field. It is the
// machine-readable form of progress rows, reports and predictions
// (--metrics-out, predict --out-format jsonl), so programs need not parse
// the tables people read. Numbers that are not finite are written as null:
// JSON has no NaN or infinity.
//
// A value type; not thread-safe.
#ifndef ADALINE_TRAINER_JSON_LINE_H_
#define ADALINE_TRAINER_JSON_LINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace adaline {

class JsonLine {
 public:
  JsonLine& Number(absl::string_view key, double value);
  JsonLine& Count(absl::string_view key, uint64_t value);
  JsonLine& Text(absl::string_view key, absl::string_view value);
  JsonLine& Texts(absl::string_view key,
                  const std::vector<std::string>& values);
  // A value that is JSON already (an object of further fields).
  JsonLine& Raw(absl::string_view key, absl::string_view json);

  // "{...}", without a newline.
  std::string Finish() const {
    std::string text;
    AppendTo(&text);
    return text;
  }
  // Appends "{...}" to `out`: with Clear, a line reused per record allocates
  // nothing once warm (predictions write one per example).
  void AppendTo(std::string* out) const;
  void Clear() { fields_.clear(); }

 private:
  void Key(absl::string_view key);

  std::string fields_;
};

// `text` as a quoted JSON string.
std::string JsonString(absl::string_view text);
void AppendJsonString(absl::string_view text, std::string* out);

// The number `key` holds in a line JsonLine wrote (a flat object), if any:
// how `cluster` reads its workers' reports.
std::optional<double> JsonNumberField(absl::string_view line,
                                      absl::string_view key);

}  // namespace adaline

#endif  // ADALINE_TRAINER_JSON_LINE_H_
