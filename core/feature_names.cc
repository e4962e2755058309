#include "core/feature_names.h"

#include "absl/strings/str_cat.h"

namespace adaline {

void FeatureNames::AddPieces(uint64_t key, absl::string_view name_space,
                             absl::string_view name) {
  if (names_.find(key) != names_.end()) return;
  names_.emplace(key, absl::StrCat(name_space, "^", name));
}

}  // namespace adaline
