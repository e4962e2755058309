#include "core/feature_key.h"

// Inlined: a feature name is a few bytes, where a call into the shared
// library costs as much as the hash.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace adaline {

uint64_t NamespaceSeed(absl::string_view name_space) {
  return XXH3_64bits(name_space.data(), name_space.size());
}

uint64_t FeatureKey(uint64_t seed, absl::string_view name) {
  return XXH3_64bits_withSeed(name.data(), name.size(), seed);
}

namespace {

uint64_t PlainFeatureKey(absl::string_view full_name) {
  const size_t caret = full_name.find('^');
  if (caret == absl::string_view::npos) {
    return FeatureKey(NamespaceSeed(""), full_name);
  }
  return FeatureKey(NamespaceSeed(full_name.substr(0, caret)),
                    full_name.substr(caret + 1));
}

}  // namespace

uint64_t FeatureKeyForName(absl::string_view full_name) {
  const std::vector<absl::string_view> parts = absl::StrSplit(full_name, '*');
  const bool cross =
      parts.size() > 1 &&
      std::all_of(parts.begin(), parts.end(), [](absl::string_view part) {
        return part.find('^') != absl::string_view::npos;
      });
  if (!cross) return PlainFeatureKey(full_name);
  uint64_t key = PlainFeatureKey(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    key = CrossKey(key, PlainFeatureKey(parts[i]));
  }
  return key;
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
