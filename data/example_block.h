// ExampleBlock: a few thousand parsed examples in flat arrays, handed from
// the parsing thread to the learner and recycled, so steady-state parsing
// allocates nothing.
//
// Not thread-safe: one thread owns a block at a time (the parser while it
// fills it, the learner while it reads it); ExampleStream hands it over.
#ifndef ADALINE_DATA_EXAMPLE_BLOCK_H_
#define ADALINE_DATA_EXAMPLE_BLOCK_H_

#include <bitset>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/example.h"
#include "core/key_index.h"

namespace adaline {

class ExampleBlock {
 public:
  // A feature's human name, kept only when parsing with keep_names.
  struct Name {
    uint64_t key;
    uint32_t offset;  // into the block's name text
    uint32_t size;
  };

  void Clear() {
    records_.clear();
    features_.clear();
    names_.clear();
    name_text_.clear();
    tag_text_.clear();
    letters_.reset();
  }
  size_t size() const { return records_.size(); }
  // Features of all the block's examples.
  size_t feature_count() const { return features_.size(); }

  Example example(size_t i) const {
    const Record& r = records_[i];
    Example example;
    example.label = r.label;
    example.importance = r.importance;
    example.has_label = r.has_label;
    example.base = r.base;
    example.tag = absl::string_view(tag_text_.data() + r.tag_begin,
                                    r.tag_end - r.tag_begin);
    example.features = absl::MakeConstSpan(features_.data() + r.feature_begin,
                                           r.feature_end - r.feature_begin);
    example.distinct_keys = r.distinct_keys;
    return example;
  }
  // Names of example i's features (empty without keep_names).
  absl::Span<const Name> names(size_t i) const {
    const Record& r = records_[i];
    return absl::MakeConstSpan(names_.data() + r.name_begin,
                               r.name_end - r.name_begin);
  }
  absl::string_view name_text(const Name& name) const {
    return absl::string_view(name_text_.data() + name.offset, name.size);
  }

  // Index of the first example in its pass, over all files.
  uint64_t first_index = 0;

  // The block as bytes, without names, and back: the example cache's
  // format. DecodeFrom replaces the block and is false, leaving it empty,
  // if `bytes` are not an encoded block.
  void EncodeTo(std::string* out) const;
  bool DecodeFrom(absl::string_view bytes);

  // For parsers: an example is begun, given features, then ended or dropped.
  void Begin(float label, float importance, bool has_label, float base = 0,
             absl::string_view tag = {}) {
    pending_.label = label;
    pending_.importance = importance;
    pending_.base = base;
    pending_.has_label = has_label;
    pending_.feature_begin = static_cast<uint32_t>(features_.size());
    pending_.name_begin = static_cast<uint32_t>(names_.size());
    pending_.tag_begin = static_cast<uint32_t>(tag_text_.size());
    tag_text_.append(tag.data(), tag.size());
    pending_.tag_end = static_cast<uint32_t>(tag_text_.size());
  }
  void AddFeature(uint64_t key, float value) {
    // Stored field by field: building the struct on the stack and copying
    // it whole stalls on store forwarding.
    Feature& feature = features_.emplace_back();
    feature.key = key;
    feature.value = value;
  }
  void AddName(uint64_t key, absl::string_view name_space,
               absl::string_view name) {
    const uint32_t offset = static_cast<uint32_t>(name_text_.size());
    name_text_.append(name_space.data(), name_space.size());
    name_text_.push_back('^');
    name_text_.append(name.data(), name.size());
    names_.push_back(
        Name{key, offset, static_cast<uint32_t>(name_text_.size() - offset)});
  }
  // A name already spelled in full, such as a cross's.
  void AddFullName(uint64_t key, absl::string_view full_name) {
    const uint32_t offset = static_cast<uint32_t>(name_text_.size());
    name_text_.append(full_name.data(), full_name.size());
    names_.push_back(
        Name{key, offset, static_cast<uint32_t>(full_name.size())});
  }
  // Notes that a namespace with this letter occurred (see Interactions).
  void NoteLetter(uint8_t letter) { letters_.set(letter); }
  // The namespace letters noted in the block, when parsing with crosses.
  const std::bitset<256>& letters() const { return letters_; }

  void End() {
    pending_.feature_end = static_cast<uint32_t>(features_.size());
    pending_.name_end = static_cast<uint32_t>(names_.size());
    // Checked here, on the parsing threads, so that the learner can take
    // an example's keys as they are.
    pending_.distinct_keys =
        DistinctKeys(pending_.feature_begin, pending_.feature_end);
    records_.push_back(pending_);
  }
  void Drop() {
    features_.resize(pending_.feature_begin);
    names_.resize(pending_.name_begin);
    tag_text_.resize(pending_.tag_begin);
  }

 private:
  struct Record {
    float label, importance, base;
    bool has_label;
    bool distinct_keys;
    // Ranges of the block's arrays.
    uint32_t feature_begin, feature_end;
    uint32_t name_begin, name_end;
    uint32_t tag_begin, tag_end;
  };

  // Whether features_[begin, end) hold no key twice. A 1,024-bit filter
  // answers for most examples; a key whose bit is taken is compared with
  // the keys before it. Long examples use an index instead.
  bool DistinctKeys(uint32_t begin, uint32_t end) {
    constexpr uint32_t kFilterKeys = 128;
    if (end - begin > kFilterKeys) {
      keys_seen_.Clear();
      for (uint32_t f = begin; f < end; ++f) {
        const size_t before = keys_seen_.keys().size();
        keys_seen_.IndexOf(features_[f].key);
        if (keys_seen_.keys().size() == before) return false;
      }
      return true;
    }
    uint64_t filter[16] = {};
    for (uint32_t f = begin; f < end; ++f) {
      const uint64_t key = features_[f].key;
      const uint32_t bit =
          static_cast<uint32_t>((key * 0x9e3779b97f4a7c15ULL) >> 54);
      const uint64_t mask = uint64_t{1} << (bit & 63);
      if (filter[bit >> 6] & mask) {
        for (uint32_t g = begin; g < f; ++g) {
          if (features_[g].key == key) return false;
        }
      }
      filter[bit >> 6] |= mask;
    }
    return true;
  }

  std::vector<Record> records_;
  std::vector<Feature> features_;
  std::vector<Name> names_;
  std::string name_text_;
  std::string tag_text_;
  Record pending_{};
  KeyIndex keys_seen_;
  std::bitset<256> letters_;
};

}  // namespace adaline

#endif  // ADALINE_DATA_EXAMPLE_BLOCK_H_
