#include "data/example_block.h"

#include <cstring>

namespace adaline {
namespace {

template <typename T>
void Put(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof value);
}

// Reads a T off the front of `bytes`; false if too few are left.
template <typename T>
bool Take(absl::string_view& bytes, T* value) {
  if (bytes.size() < sizeof *value) return false;
  std::memcpy(value, bytes.data(), sizeof *value);
  bytes.remove_prefix(sizeof *value);
  return true;
}

constexpr uint8_t kHasLabel = 1, kDistinctKeys = 2;
constexpr size_t kRecordBytes = 3 * sizeof(float) + 1 + 2 * sizeof(uint32_t);
constexpr size_t kFeatureBytes = sizeof(uint64_t) + sizeof(float);

}  // namespace

void ExampleBlock::EncodeTo(std::string* out) const {
  Put(out, first_index);
  Put(out, static_cast<uint32_t>(records_.size()));
  Put(out, static_cast<uint32_t>(features_.size()));
  Put(out, static_cast<uint32_t>(tag_text_.size()));
  for (const Record& r : records_) {
    Put(out, r.label);
    Put(out, r.importance);
    Put(out, r.base);
    Put(out, static_cast<uint8_t>((r.has_label ? kHasLabel : 0) |
                                  (r.distinct_keys ? kDistinctKeys : 0)));
    Put(out, r.feature_end - r.feature_begin);
    Put(out, r.tag_end - r.tag_begin);
  }
  // Key and value apart: a Feature's padding is not data.
  const size_t start = out->size();
  out->resize(start + features_.size() * kFeatureBytes);
  char* place = out->data() + start;
  for (const Feature& feature : features_) {
    std::memcpy(place, &feature.key, sizeof feature.key);
    std::memcpy(place + sizeof feature.key, &feature.value,
                sizeof feature.value);
    place += kFeatureBytes;
  }
  out->append(tag_text_);
}

bool ExampleBlock::DecodeFrom(absl::string_view bytes) {
  Clear();
  uint32_t examples, features, tag_bytes;
  if (!Take(bytes, &first_index) || !Take(bytes, &examples) ||
      !Take(bytes, &features) || !Take(bytes, &tag_bytes) ||
      bytes.size() != uint64_t{examples} * kRecordBytes +
                          uint64_t{features} * kFeatureBytes + tag_bytes) {
    Clear();
    return false;
  }
  records_.resize(examples);
  uint32_t feature_end = 0, tag_end = 0;
  for (Record& r : records_) {
    // The sizes were checked above, so every Take succeeds.
    uint8_t flags = 0;
    uint32_t feature_count = 0, tag_size = 0;
    Take(bytes, &r.label);
    Take(bytes, &r.importance);
    Take(bytes, &r.base);
    Take(bytes, &flags);
    Take(bytes, &feature_count);
    Take(bytes, &tag_size);
    r.has_label = (flags & kHasLabel) != 0;
    r.distinct_keys = (flags & kDistinctKeys) != 0;
    r.feature_begin = feature_end;
    r.tag_begin = tag_end;
    // Counts that overrun the block's totals are not a block.
    if (feature_count > features - feature_end ||
        tag_size > tag_bytes - tag_end) {
      Clear();
      return false;
    }
    feature_end += feature_count;
    tag_end += tag_size;
    r.feature_end = feature_end;
    r.tag_end = tag_end;
    r.name_begin = r.name_end = 0;
  }
  if (feature_end != features || tag_end != tag_bytes) {
    Clear();
    return false;
  }
  features_.resize(features);
  const char* place = bytes.data();
  for (Feature& feature : features_) {
    std::memcpy(&feature.key, place, sizeof feature.key);
    std::memcpy(&feature.value, place + sizeof feature.key,
                sizeof feature.value);
    place += kFeatureBytes;
  }
  bytes.remove_prefix(features_.size() * kFeatureBytes);
  tag_text_.assign(bytes.data(), bytes.size());
  return true;
}

}  // namespace adaline
