#include "data/parser.h"

#include <array>
#include <charconv>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/feature_key.h"
#include "core/feature_names.h"
#include "data/cross_builder.h"

namespace adaline {
namespace {

// Space, \t, \r, \v and \f, looked up rather than compared five times: the
// tokenizer asks for every byte of the data.
constexpr std::array<bool, 256> kSpaces = [] {
  std::array<bool, 256> spaces{};
  for (unsigned char c : {' ', '\t', '\r', '\v', '\f'}) spaces[c] = true;
  return spaces;
}();

bool IsSpace(char c) { return kSpaces[static_cast<unsigned char>(c)]; }

// Splits off the next whitespace-separated token of `text`.
absl::string_view NextToken(absl::string_view& text) {
  size_t begin = 0;
  while (begin < text.size() && IsSpace(text[begin])) ++begin;
  size_t end = begin;
  while (end < text.size() && !IsSpace(text[end])) ++end;
  absl::string_view token = text.substr(begin, end - begin);
  text.remove_prefix(end);
  return token;
}

// NextToken that also finds the token's first ':' (npos if none) in the
// same pass, instead of a second scan per feature.
absl::string_view NextFeatureToken(absl::string_view& text, size_t* colon) {
  const char* const start = text.data();
  const char* const end = start + text.size();
  const char* p = start;
  while (p < end && IsSpace(*p)) ++p;
  const char* const begin = p;
  const char* first_colon = nullptr;
  for (; p < end && !IsSpace(*p); ++p) {
    if (*p == ':' && first_colon == nullptr) first_colon = p;
  }
  *colon = first_colon == nullptr ? absl::string_view::npos
                                  : static_cast<size_t>(first_colon - begin);
  text.remove_prefix(static_cast<size_t>(p - start));
  return absl::string_view(begin, static_cast<size_t>(p - begin));
}

// Parses all of `text` as a finite float.
bool ParseFloat(absl::string_view text, float* value) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+') ++begin;
  if (begin == end) return false;
  const std::from_chars_result result = std::from_chars(begin, end, *value);
  return result.ec == std::errc() && result.ptr == end && std::isfinite(*value);
}

// Data text in a message: cut short, and binary bytes escaped so that
// garbage in a file cannot garble the terminal.
std::string Quote(absl::string_view text) {
  constexpr size_t kShown = 40;
  if (text.size() <= kShown)
    return absl::StrCat("'", absl::CHexEscape(text), "'");
  return absl::StrCat("'", absl::CHexEscape(text.substr(0, kShown)), "...' (",
                      text.size(), " bytes)");
}

absl::Status ParseLabel(absl::string_view token, const ParseOptions& options,
                        float* label) {
  if (!ParseFloat(token, label)) {
    return absl::InvalidArgumentError(
        absl::StrCat("label ", Quote(token), " is not a finite number"));
  }
  if (options.binary_labels && *label != -1 && *label != 0 && *label != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "label ", Quote(token),
        " is not -1, 0 or 1 (use --loss squared for real-valued labels)"));
  }
  return absl::OkStatus();
}

// This thread's CrossBuilder, cleared, when the options ask for crosses.
CrossBuilder* StartCrosses(const ParseOptions& options) {
  if (options.interactions.empty()) return nullptr;
  CrossBuilder& crosses = CrossBuilder::ForThisThread();
  crosses.Clear();
  return &crosses;
}

absl::Status MissingLabel() {
  return absl::InvalidArgumentError("missing label");
}

// One "name[:value]" token of namespace `name_space`. A token ":value" is
// the namespace's next anonymous feature, numbered by `anonymous`.
// `colon` is the place of the token's first ':', or npos.
absl::Status ParseFeature(absl::string_view token, size_t colon,
                          absl::string_view name_space, uint64_t seed,
                          float scale, const ParseOptions& options,
                          ExampleBlock* block, CrossBuilder* crosses,
                          uint64_t* anonymous = nullptr) {
  absl::string_view name = token;
  float value = 1;
  if (colon != absl::string_view::npos) {
    name = token.substr(0, colon);
    if (!ParseFloat(token.substr(colon + 1), &value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feature ", Quote(token), ": value ", Quote(token.substr(colon + 1)),
          " is not a finite number"));
    }
  }
  if (name.empty() && anonymous == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature ", Quote(token), " has no name"));
  }
  // A model file must be able to hold every name it is given.
  if (name_space.size() + 1 + name.size() > kMaxFeatureNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature ", Quote(token), " has a name of ",
                     name_space.size() + 1 + name.size(),
                     " bytes with its namespace; at most ",
                     kMaxFeatureNameBytes, " are allowed"));
  }
  // VW's rule for an anonymous feature: the namespace's seed plus its place
  // among the namespace's anonymous features, counted even when its value
  // is 0. No name can find it again, so none is kept.
  const uint64_t place = name.empty() ? (*anonymous)++ : 0;
  value *= scale;
  if (value == 0) return absl::OkStatus();
  if (name.empty()) {
    const uint64_t key = AnonymousFeatureKey(seed, place);
    block->AddFeature(key, value);
    if (crosses != nullptr) crosses->Add(key, value, name_space, name);
    return absl::OkStatus();
  }
  const uint64_t key = FeatureKey(seed, name);
  block->AddFeature(key, value);
  if (crosses != nullptr) crosses->Add(key, value, name_space, name);
  if (options.keep_names) block->AddName(key, name_space, name);
  return absl::OkStatus();
}

// What stands before a VW line's first '|': label [importance] [base]
// ['tag]. The tag is the last token when it starts with an apostrophe, or
// when it touches the bar (then the apostrophe is optional), as VW reads it.
struct VwHeader {
  float label = 0;
  float importance = 1;
  float base = 0;
  bool has_label = false;
  absl::string_view tag;
};

absl::StatusOr<VwHeader> ParseVwHeader(absl::string_view text,
                                       const ParseOptions& options) {
  absl::string_view tokens[4];
  size_t count = 0;
  const bool touches_bar = !text.empty() && !IsSpace(text.back());
  bool more = false;  // than four tokens: the fourth is then no tag
  for (absl::string_view token = NextToken(text); !token.empty();
       token = NextToken(text)) {
    if (count == 4) {
      more = true;
      break;
    }
    tokens[count++] = token;
  }
  VwHeader header;
  if (count > 0 && !more && (touches_bar || tokens[count - 1][0] == '\'')) {
    header.tag = tokens[--count];
    if (header.tag[0] == '\'') header.tag.remove_prefix(1);
  }
  if (count == 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unexpected ", Quote(tokens[3]),
        " before the first '|' (expected label [importance] [base] ['tag])"));
  }
  for (size_t i = 0; i < count; ++i) {
    if (tokens[i][0] == '\'') {
      return absl::InvalidArgumentError(
          absl::StrCat("tag ", Quote(tokens[i]),
                       " must be the last thing before the first '|'"));
    }
  }
  if (count >= 1) {
    if (absl::Status s = ParseLabel(tokens[0], options, &header.label);
        !s.ok()) {
      return s;
    }
    header.has_label = true;
  }
  if (count >= 2) {
    if (!ParseFloat(tokens[1], &header.importance)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "importance ", Quote(tokens[1]), " is not a finite number"));
    }
    if (header.importance < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("importance ", Quote(tokens[1]), " is negative"));
    }
  }
  if (count == 3 && !ParseFloat(tokens[2], &header.base)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "base ", Quote(tokens[2]),
        " is not a finite number (it is added to the prediction's margin)"));
  }
  return header;
}

absl::Status ParseVw(absl::string_view line, const ParseOptions& options,
                     ExampleBlock* block) {
  const size_t bar = line.find('|');
  if (bar == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "no '|' in the line: a VW example is 'label [importance] ['tag]| "
        "features'");
  }
  absl::StatusOr<VwHeader> header = ParseVwHeader(line.substr(0, bar), options);
  if (!header.ok()) return header.status();
  if (!header->has_label && options.require_label) return MissingLabel();

  block->Begin(header->label, header->importance, header->has_label,
               header->base, header->tag);
  CrossBuilder* crosses = StartCrosses(options);
  absl::string_view rest = line.substr(bar + 1);
  while (true) {
    const size_t next_bar = rest.find('|');
    absl::string_view segment = rest.substr(0, next_bar);
    absl::string_view name_space;
    float scale = 1;
    if (!segment.empty() && !IsSpace(segment[0])) {
      name_space = NextToken(segment);
      const size_t colon = name_space.find(':');
      if (colon != absl::string_view::npos) {
        if (!ParseFloat(name_space.substr(colon + 1), &scale)) {
          block->Drop();
          return absl::InvalidArgumentError(
              absl::StrCat("namespace ", Quote(name_space),
                           ": scale is not a finite number"));
        }
        name_space = name_space.substr(0, colon);
      }
    }
    const uint64_t seed = NamespaceSeed(name_space);
    uint64_t anonymous = 0;
    size_t colon;
    for (absl::string_view feature = NextFeatureToken(segment, &colon);
         !feature.empty(); feature = NextFeatureToken(segment, &colon)) {
      absl::Status s = ParseFeature(feature, colon, name_space, seed, scale,
                                    options, block, crosses, &anonymous);
      if (!s.ok()) {
        block->Drop();
        return s;
      }
    }
    if (next_bar == absl::string_view::npos) break;
    rest.remove_prefix(next_bar + 1);
  }
  if (crosses != nullptr) {
    crosses->AppendCrosses(options.interactions, options.keep_names, block);
  }
  return absl::OkStatus();
}

absl::Status ParseLibsvm(absl::string_view line, const ParseOptions& options,
                         ExampleBlock* block) {
  const size_t hash = line.find('#');
  if (hash != absl::string_view::npos) line = line.substr(0, hash);
  absl::string_view token = NextToken(line);
  float label = 0;
  bool has_label = false;
  if (!token.empty() && token.find(':') == absl::string_view::npos) {
    if (absl::Status s = ParseLabel(token, options, &label); !s.ok()) return s;
    has_label = true;
    token = NextToken(line);
  }
  if (!has_label && options.require_label) return MissingLabel();
  block->Begin(label, 1, has_label);
  CrossBuilder* crosses = StartCrosses(options);
  static const uint64_t kSeed = NamespaceSeed("");
  for (; !token.empty(); token = NextToken(line)) {
    const size_t colon = token.find(':');
    absl::Status s;
    if (colon == absl::string_view::npos || colon == 0) {
      s = absl::InvalidArgumentError(
          absl::StrCat("feature ", Quote(token), " is not index:value"));
    } else {
      for (char c : token.substr(0, colon)) {
        if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
          s = absl::InvalidArgumentError(
              absl::StrCat("feature index ", Quote(token.substr(0, colon)),
                           " is not a non-negative integer"));
          break;
        }
      }
    }
    if (s.ok()) {
      s = ParseFeature(token, colon, "", kSeed, 1, options, block, crosses);
    }
    if (!s.ok()) {
      block->Drop();
      return s;
    }
  }
  if (crosses != nullptr) {
    crosses->AppendCrosses(options.interactions, options.keep_names, block);
  }
  return absl::OkStatus();
}

}  // namespace

bool IsBlankLine(absl::string_view line) {
  for (char c : line) {
    if (!IsSpace(c)) return false;
  }
  return true;
}

absl::StatusOr<Format> ParseFormat(absl::string_view name) {
  if (name == "vw") return Format::kVw;
  if (name == "libsvm") return Format::kLibsvm;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown format '", name, "'; choose vw or libsvm"));
}

Format GuessFormat(absl::string_view path) {
  if (absl::EndsWith(path, ".gz")) path.remove_suffix(3);
  for (absl::string_view suffix : {".libsvm", ".svm", ".svmlight"}) {
    if (absl::EndsWith(path, suffix)) return Format::kLibsvm;
  }
  return Format::kVw;
}

absl::Status ParseLine(Format format, absl::string_view line,
                       const ParseOptions& options, ExampleBlock* block) {
  if (IsBlankLine(line)) return absl::OkStatus();
  absl::Status status = format == Format::kVw
                            ? ParseVw(line, options, block)
                            : ParseLibsvm(line, options, block);
  if (!status.ok()) return status;
  if (options.bias) {
    block->AddFeature(BiasKey(), 1);
    if (options.keep_names) block->AddName(BiasKey(), "", kBiasName);
  }
  block->End();
  return absl::OkStatus();
}

}  // namespace adaline
