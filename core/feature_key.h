// Feature keys: the stable 64-bit identity of a feature in every model.
//
// A feature is (namespace, name). Its key is XXH3-64 of the name seeded with
// XXH3-64 of the namespace, so a parser hashes each namespace once per line
// and each name once. XXH3's output is frozen since xxHash 0.8.0, so keys are
// the same on every machine and in every run. The human spelling of a feature
// is "namespace^name" ("^name" for the default, unnamed namespace).
//
// Pure functions; safe from any thread.
#ifndef ADALINE_CORE_FEATURE_KEY_H_
#define ADALINE_CORE_FEATURE_KEY_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace adaline {

// The bias feature, on unless --no-bias: default namespace, this name.
inline constexpr absl::string_view kBiasName = "__bias__";

// The seed that stands for a namespace when hashing its feature names.
uint64_t NamespaceSeed(absl::string_view name_space);

// The key of feature `name` in the namespace whose seed is `seed`.
uint64_t FeatureKey(uint64_t seed, absl::string_view name);

// The key of the namespace's `index`-th anonymous feature (a VW token
// ":value" with no name): the seed plus the index, VW's rule.
inline uint64_t AnonymousFeatureKey(uint64_t seed, uint64_t index) {
  return seed + index;
}

// The key of the cross of a feature (or cross) keyed `left` with one keyed
// `right`: a mix of the two keys, so crosses are keyed without hashing text
// and "a*b" differs from "b*a".
inline uint64_t CrossKey(uint64_t left, uint64_t right) {
  uint64_t x = left * 0x9e3779b97f4a7c15ULL ^ right;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

// The key of a feature spelled "namespace^name"; a spelling without '^' is a
// name in the default namespace. The namespace ends at the first '^'. A
// cross is its features' spellings joined by '*' ("u^id=3*g^Drama"); a '*'
// splits only when every part has a '^', so "^a*b" is one feature.
uint64_t FeatureKeyForName(absl::string_view full_name);

// "namespace^name".
std::string FullFeatureName(absl::string_view name_space,
                            absl::string_view name);

// The bias feature's key.
uint64_t BiasKey();

}  // namespace adaline

#endif  // ADALINE_CORE_FEATURE_KEY_H_
