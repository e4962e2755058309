#include "data/cross_builder.h"

#include <algorithm>

#include "core/feature_key.h"

namespace adaline {

CrossBuilder& CrossBuilder::ForThisThread() {
  static thread_local CrossBuilder builder;
  return builder;
}

void CrossBuilder::Clear() {
  for (uint8_t letter : present_) parts_[letter].clear();
  present_.clear();
}

void CrossBuilder::Add(uint64_t key, float value, absl::string_view name_space,
                       absl::string_view name) {
  std::vector<Part>& parts = parts_[NamespaceLetter(name_space)];
  if (parts.empty()) present_.push_back(NamespaceLetter(name_space));
  Part& part = parts.emplace_back();
  part.key = key;
  part.value = value;
  part.name_space = name_space;
  part.name = name;
}

void CrossBuilder::AppendCrosses(const Interactions& interactions,
                                 bool keep_names, ExampleBlock* block) {
  for (uint8_t letter : present_) block->NoteLetter(letter);
  keep_names_ = keep_names;
  const std::vector<Interaction>* crosses = &interactions.crosses();
  if (interactions.has_wildcard()) {
    sorted_present_ = present_;
    std::sort(sorted_present_.begin(), sorted_present_.end());
    interactions.Expand(sorted_present_, &expanded_);
    crosses = &expanded_;
  }
  for (const Interaction& cross : *crosses) {
    if (cross.size() == 2 && !keep_names) {
      CrossPair(cross[0], cross[1], block);
    } else {
      name_.clear();
      Cross(cross, 0, 0, 0, 1, true, block);
    }
  }
}

void CrossBuilder::CrossPair(uint8_t left, uint8_t right, ExampleBlock* block) {
  const std::vector<Part>& lefts = parts_[left];
  const std::vector<Part>& rights = parts_[right];
  for (size_t i = 0; i < lefts.size(); ++i) {
    const uint64_t key = lefts[i].key;
    const float value = lefts[i].value;
    for (size_t j = left == right ? i : 0; j < rights.size(); ++j) {
      block->AddFeature(CrossKey(key, rights[j].key), value * rights[j].value);
    }
  }
}

void CrossBuilder::Cross(const Interaction& cross, size_t place, size_t first,
                         uint64_t key, float value, bool named,
                         ExampleBlock* block) {
  const std::vector<Part>& parts = parts_[cross[place]];
  const bool repeated = place > 0 && cross[place] == cross[place - 1];
  const bool last = place + 1 == cross.size();
  const size_t name_size = name_.size();
  for (size_t i = repeated ? first : 0; i < parts.size(); ++i) {
    const Part& part = parts[i];
    const uint64_t crossed = place == 0 ? part.key : CrossKey(key, part.key);
    const float product = value * part.value;
    const bool part_named = named && !part.name.empty();
    if (keep_names_ && part_named) {
      name_.resize(name_size);
      if (place > 0) name_.push_back('*');
      name_.append(part.name_space.data(), part.name_space.size());
      name_.push_back('^');
      name_.append(part.name.data(), part.name.size());
    }
    if (last) {
      block->AddFeature(crossed, product);
      if (keep_names_ && part_named) block->AddFullName(crossed, name_);
    } else {
      Cross(cross, place + 1, i, crossed, product, part_named, block);
    }
  }
  name_.resize(name_size);
}

}  // namespace adaline
