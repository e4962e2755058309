#include "core/feature_key.h"

// Inlined: a feature name is a few bytes, where a call into the shared
// library costs as much as the hash.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "absl/strings/str_cat.h"

namespace adaline {

uint64_t NamespaceSeed(absl::string_view name_space) {
  return XXH3_64bits(name_space.data(), name_space.size());
}

uint64_t FeatureKey(uint64_t seed, absl::string_view name) {
  return XXH3_64bits_withSeed(name.data(), name.size(), seed);
}

uint64_t FeatureKeyForName(absl::string_view full_name) {
  const size_t caret = full_name.find('^');
  if (caret == absl::string_view::npos) {
    return FeatureKey(NamespaceSeed(""), full_name);
  }
  return FeatureKey(NamespaceSeed(full_name.substr(0, caret)),
                    full_name.substr(caret + 1));
}

std::string FullFeatureName(absl::string_view name_space,
                            absl::string_view name) {
  return absl::StrCat(name_space, "^", name);
}

uint64_t BiasKey() {
  static const uint64_t key = FeatureKey(NamespaceSeed(""), kBiasName);
  return key;
}

}  // namespace adaline
