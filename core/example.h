// An example as the learner sees it: a label, an importance weight and hashed
// sparse features. The features belong to whoever parsed the example.
//
// A view: copy it freely; it is valid while its owner's buffer is.
#ifndef ADALINE_CORE_EXAMPLE_H_
#define ADALINE_CORE_EXAMPLE_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace adaline {

struct Feature {
  uint64_t key;
  float value;
};

struct Example {
  float label = 0;
  float importance = 1;
  bool has_label = true;
  // Added to the margin: an initial prediction (VW's "base"), for residual
  // learning and offsets.
  float base = 0;
  // The example's name in the data, empty if it has none.
  absl::string_view tag;
  absl::Span<const Feature> features;
  // Known to hold no key twice, so a learner need not check again.
  bool distinct_keys = false;
};

}  // namespace adaline

#endif  // ADALINE_CORE_EXAMPLE_H_
