// Feature crosses named as Vowpal Wabbit names them: "ug" crosses every
// feature of the namespaces whose name starts with 'u' with every feature of
// those starting with 'g'; longer strings cross more; ':' stands for any
// namespace seen in the example. A namespace's letter is the first byte of
// its name; the default (unnamed) namespace's letter is ' ', written \x20.
//
// As in VW: a letter repeated in adjacent places crosses a namespace with
// itself without repeating a pair in another order (x*y, not also y*x; x*x
// is kept), and a cross that is another one's permutation ("gu" after "ug")
// is dropped.
//
// Immutable once parsed; safe to share between threads.
#ifndef ADALINE_CORE_INTERACTIONS_H_
#define ADALINE_CORE_INTERACTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace adaline {

// A cross: the letter of each place, kAnyNamespace for ':'.
using Interaction = std::vector<uint8_t>;
inline constexpr uint8_t kAnyNamespace = ':';
inline constexpr uint8_t kDefaultNamespaceLetter = ' ';

// The letter of a namespace name.
inline uint8_t NamespaceLetter(absl::string_view name_space) {
  return name_space.empty() ? kDefaultNamespaceLetter
                            : static_cast<uint8_t>(name_space[0]);
}

class Interactions {
 public:
  // No crosses.
  Interactions() = default;

  // Reads VW spellings, each at least two letters; \xHH spells any byte.
  // Refuses an empty spelling, one letter, white space, '|' and control
  // bytes, naming the spelling. `quadratic` and `cubic` (-q and --cubic)
  // must have exactly two and three letters.
  static absl::StatusOr<Interactions> Parse(
      absl::Span<const std::string> interactions,
      absl::Span<const std::string> quadratic = {},
      absl::Span<const std::string> cubic = {});

  bool empty() const { return crosses_.empty(); }
  // The crosses kept, in the order given.
  const std::vector<Interaction>& crosses() const { return crosses_; }
  // Permutations of earlier crosses that were dropped.
  size_t dropped_permutations() const { return dropped_permutations_; }
  bool has_wildcard() const { return has_wildcard_; }
  // Each cross spelled as Parse reads it: what model files store.
  std::vector<std::string> Spellings() const;
  // Every letter named (not ':'), for the report of letters never seen.
  std::vector<uint8_t> Letters() const;

  // The crosses for an example whose namespaces' letters are `present`
  // (sorted, distinct): ':' becomes each of them in turn, and permutations
  // of an earlier cross are dropped. Without wildcards, crosses().
  void Expand(absl::Span<const uint8_t> present,
              std::vector<Interaction>* out) const;

  friend bool operator==(const Interactions& a, const Interactions& b) {
    return a.crosses_ == b.crosses_;
  }
  friend bool operator!=(const Interactions& a, const Interactions& b) {
    return !(a == b);
  }

 private:
  std::vector<Interaction> crosses_;
  size_t dropped_permutations_ = 0;
  bool has_wildcard_ = false;
};

// A letter as Parse reads it back: itself, or \xHH when not printable.
std::string SpellLetter(uint8_t letter);

}  // namespace adaline

#endif  // ADALINE_CORE_INTERACTIONS_H_
