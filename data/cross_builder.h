// CrossBuilder: one example's features grouped by namespace letter while it
// is parsed, then the crosses that Interactions asks for, appended to the
// example. Keys are mixed from the parts' keys (CrossKey), values multiplied;
// no text is built unless names are kept.
//
// Not thread-safe: each parsing thread uses its own (ForThisThread).
#ifndef ADALINE_DATA_CROSS_BUILDER_H_
#define ADALINE_DATA_CROSS_BUILDER_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/interactions.h"
#include "data/example_block.h"

namespace adaline {

class CrossBuilder {
 public:
  // This thread's builder: its buffers are reused from line to line.
  static CrossBuilder& ForThisThread();

  // Forgets the features of the previous example.
  void Clear();
  // A feature of the example being parsed. `name` is empty for an anonymous
  // feature, whose crosses have no name; both views must live until
  // AppendCrosses.
  void Add(uint64_t key, float value, absl::string_view name_space,
           absl::string_view name);
  // Appends the crosses of the features added since Clear to `block`'s
  // pending example (and their names if `keep_names`), and notes the
  // example's namespace letters in the block.
  void AppendCrosses(const Interactions& interactions, bool keep_names,
                     ExampleBlock* block);

 private:
  struct Part {
    uint64_t key;
    float value;
    absl::string_view name_space;
    absl::string_view name;
  };

  // Appends every cross of `cross` from place `place` on, given the key,
  // value and (with names) spelling of the places before it. `first` is
  // the part chosen at the place before, where a repeated letter resumes.
  void Cross(const Interaction& cross, size_t place, size_t first, uint64_t key,
             float value, bool named, ExampleBlock* block);
  // Pairs without names: the common case, as one tight loop.
  void CrossPair(uint8_t left, uint8_t right, ExampleBlock* block);

  std::array<std::vector<Part>, 256> parts_;
  std::vector<uint8_t> present_;  // letters with parts, as they came
  std::vector<uint8_t> sorted_present_;
  std::vector<Interaction> expanded_;
  bool keep_names_ = false;
  std::string name_;
};

}  // namespace adaline

#endif  // ADALINE_DATA_CROSS_BUILDER_H_
