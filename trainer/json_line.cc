#include "trainer/json_line.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace adaline {

void JsonLine::Key(absl::string_view key) {
  if (!fields_.empty()) fields_ += ',';
  AppendJsonString(key, &fields_);
  fields_ += ':';
}

void JsonLine::AppendTo(std::string* out) const {
  out->push_back('{');
  out->append(fields_);
  out->push_back('}');
}

JsonLine& JsonLine::Number(absl::string_view key, double value) {
  Key(key);
  // Nine significant digits tell apart losses that agree to six.
  if (std::isfinite(value)) {
    absl::StrAppendFormat(&fields_, "%.9g", value);
  } else {
    fields_ += "null";
  }
  return *this;
}

JsonLine& JsonLine::Count(absl::string_view key, uint64_t value) {
  Key(key);
  absl::StrAppend(&fields_, value);
  return *this;
}

JsonLine& JsonLine::Text(absl::string_view key, absl::string_view value) {
  Key(key);
  AppendJsonString(value, &fields_);
  return *this;
}

JsonLine& JsonLine::Texts(absl::string_view key,
                          const std::vector<std::string>& values) {
  Key(key);
  fields_ += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) fields_ += ',';
    AppendJsonString(values[i], &fields_);
  }
  fields_ += ']';
  return *this;
}

JsonLine& JsonLine::Raw(absl::string_view key, absl::string_view json) {
  Key(key);
  absl::StrAppend(&fields_, json);
  return *this;
}

std::string JsonString(absl::string_view text) {
  std::string quoted;
  AppendJsonString(text, &quoted);
  return quoted;
}

void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

std::optional<double> JsonNumberField(absl::string_view line,
                                      absl::string_view key) {
  const std::string pattern = absl::StrCat(JsonString(key), ":");
  const size_t at = line.find(pattern);
  if (at == absl::string_view::npos) return std::nullopt;
  const char* begin = line.data() + at + pattern.size();
  const char* end = line.data() + line.size();
  double value;
  const auto [rest, error] = std::from_chars(begin, end, value);
  if (error != std::errc()) return std::nullopt;
  return value;
}

}  // namespace adaline
