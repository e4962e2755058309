// The human names of hashed features, kept with --keep-names so that a
// model can answer "which feature is this key" and list its top weights.
//
// Not thread-safe: one thread adds names (the learner); readers wait until
// it is done.
#ifndef ADALINE_CORE_FEATURE_NAMES_H_
#define ADALINE_CORE_FEATURE_NAMES_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace adaline {

// The longest "namespace^name" a model can hold; the parser refuses longer.
constexpr size_t kMaxFeatureNameBytes = size_t{1} << 20;

class FeatureNames {
 public:
  // Records `full_name` ("ns^name") for `key` unless the key has a name.
  void Add(uint64_t key, absl::string_view full_name) {
    if (names_.find(key) == names_.end()) names_.emplace(key, full_name);
  }
  // The name of `key`, or nullptr.
  const std::string* Find(uint64_t key) const {
    auto it = names_.find(key);
    return it == names_.end() ? nullptr : &it->second;
  }
  size_t size() const { return names_.size(); }
  const absl::flat_hash_map<uint64_t, std::string>& all() const {
    return names_;
  }

 private:
  absl::flat_hash_map<uint64_t, std::string> names_;
};

}  // namespace adaline

#endif  // ADALINE_CORE_FEATURE_NAMES_H_
