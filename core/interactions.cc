#include "core/interactions.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace adaline {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `spelling` read as letters, for the flag `flag`.
absl::StatusOr<Interaction> ReadLetters(absl::string_view spelling,
                                        absl::string_view flag) {
  Interaction letters;
  for (size_t i = 0; i < spelling.size(); ++i) {
    uint8_t letter = static_cast<uint8_t>(spelling[i]);
    if (letter == '\\') {
      int high, low;
      if (i + 3 >= spelling.size() || spelling[i + 1] != 'x' ||
          (high = HexDigit(spelling[i + 2])) < 0 ||
          (low = HexDigit(spelling[i + 3])) < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            flag, " '", absl::CHexEscape(spelling),
            "': a backslash must start \\xHH, two hexadecimal digits"));
      }
      letters.push_back(static_cast<uint8_t>(high * 16 + low));
      i += 3;
      continue;
    }
    if (letter == '|' || letter < 0x20 || letter == ' ' || letter == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, " '", absl::CHexEscape(spelling), "': '",
          absl::CHexEscape(spelling.substr(i, 1)),
          "' cannot start a namespace (write the default namespace as \\x20)"));
    }
    letters.push_back(letter);
  }
  return letters;
}

Interaction Sorted(Interaction cross) {
  std::sort(cross.begin(), cross.end());
  return cross;
}

// Appends `cross` to `out` unless a permutation of it is in `sorted_seen`.
bool AddUnlessPermutation(const Interaction& cross,
                          std::vector<Interaction>& sorted_seen,
                          std::vector<Interaction>* out) {
  Interaction sorted = Sorted(cross);
  if (std::find(sorted_seen.begin(), sorted_seen.end(), sorted) !=
      sorted_seen.end()) {
    return false;
  }
  sorted_seen.push_back(std::move(sorted));
  out->push_back(cross);
  return true;
}

}  // namespace

std::string SpellLetter(uint8_t letter) {
  if (letter > ' ' && letter < 0x7f && letter != '\\' && letter != '|') {
    return std::string(1, static_cast<char>(letter));
  }
  return absl::StrFormat("\\x%02x", letter);
}

absl::StatusOr<Interactions> Interactions::Parse(
    absl::Span<const std::string> interactions,
    absl::Span<const std::string> quadratic,
    absl::Span<const std::string> cubic) {
  struct Group {
    absl::Span<const std::string> spellings;
    absl::string_view flag;
    size_t letters;  // 0 for two or more
  };
  Interactions parsed;
  std::vector<Interaction> sorted_seen;
  for (const Group& group :
       {Group{interactions, "--interactions", 0}, Group{quadratic, "-q", 2},
        Group{cubic, "--cubic", 3}}) {
    for (const std::string& spelling : group.spellings) {
      absl::StatusOr<Interaction> cross = ReadLetters(spelling, group.flag);
      if (!cross.ok()) return cross.status();
      if (group.letters != 0 && cross->size() != group.letters) {
        return absl::InvalidArgumentError(absl::StrCat(
            group.flag, " '", spelling, "' must name exactly ", group.letters,
            " namespaces (use --interactions for other lengths)"));
      }
      if (cross->size() < 2) {
        return absl::InvalidArgumentError(absl::StrCat(
            group.flag, " '", spelling,
            "': a cross needs at least two namespace letters, as in 'ug'"));
      }
      if (std::count(cross->begin(), cross->end(), kAnyNamespace) > 0) {
        parsed.has_wildcard_ = true;
      }
      if (!AddUnlessPermutation(*cross, sorted_seen, &parsed.crosses_)) {
        ++parsed.dropped_permutations_;
      }
    }
  }
  return parsed;
}

std::vector<std::string> Interactions::Spellings() const {
  std::vector<std::string> spellings;
  for (const Interaction& cross : crosses_) {
    std::string spelling;
    for (uint8_t letter : cross) {
      spelling += letter == kAnyNamespace ? ":" : SpellLetter(letter);
    }
    spellings.push_back(std::move(spelling));
  }
  return spellings;
}

std::vector<uint8_t> Interactions::Letters() const {
  std::vector<uint8_t> letters;
  for (const Interaction& cross : crosses_) {
    for (uint8_t letter : cross) {
      if (letter != kAnyNamespace) letters.push_back(letter);
    }
  }
  std::sort(letters.begin(), letters.end());
  letters.erase(std::unique(letters.begin(), letters.end()), letters.end());
  return letters;
}

void Interactions::Expand(absl::Span<const uint8_t> present,
                          std::vector<Interaction>* out) const {
  out->clear();
  if (!has_wildcard_) {
    *out = crosses_;
    return;
  }
  std::vector<Interaction> sorted_seen;
  Interaction cross;
  for (const Interaction& pattern : crosses_) {
    std::vector<size_t> wild;
    for (size_t i = 0; i < pattern.size(); ++i) {
      if (pattern[i] == kAnyNamespace) wild.push_back(i);
    }
    if (wild.empty()) {
      AddUnlessPermutation(pattern, sorted_seen, out);
      continue;
    }
    if (present.empty()) continue;
    // Every choice of present letters for the wild places, in order.
    std::vector<size_t> choice(wild.size(), 0);
    cross = pattern;
    while (true) {
      for (size_t w = 0; w < wild.size(); ++w) {
        cross[wild[w]] = present[choice[w]];
      }
      AddUnlessPermutation(cross, sorted_seen, out);
      size_t w = wild.size();
      while (w > 0 && ++choice[w - 1] == present.size()) choice[--w] = 0;
      if (w == 0) break;
    }
  }
}

}  // namespace adaline
