#include "core/minibatch.h"

namespace adaline {
namespace {

size_t SlotFor(uint64_t key, size_t mask) {
  return static_cast<size_t>((key * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

}  // namespace

Minibatch::Minibatch() : index_(64, IndexSlot{0, 0, 0}) {}

void Minibatch::Clear() {
  examples_.clear();
  terms_.clear();
  keys_.clear();
  learning_examples_ = 0;
  if (++generation_ == 0) {  // wrapped: old generations could match again
    for (IndexSlot& slot : index_) slot.generation = 0;
    generation_ = 1;
  }
}

void Minibatch::GrowIndex() {
  index_.assign(index_.size() * 2, IndexSlot{0, 0, 0});
  const size_t mask = index_.size() - 1;
  for (uint32_t i = 0; i < keys_.size(); ++i) {
    size_t slot = SlotFor(keys_[i], mask);
    while (index_[slot].generation == generation_) slot = (slot + 1) & mask;
    index_[slot] = IndexSlot{keys_[i], generation_, i};
  }
}

uint32_t Minibatch::IndexOf(uint64_t key) {
  if ((keys_.size() + 1) * 2 > index_.size()) GrowIndex();
  const size_t mask = index_.size() - 1;
  size_t slot = SlotFor(key, mask);
  while (index_[slot].generation == generation_) {
    if (index_[slot].key == key) return index_[slot].index;
    slot = (slot + 1) & mask;
  }
  const uint32_t index = static_cast<uint32_t>(keys_.size());
  index_[slot] = IndexSlot{key, generation_, index};
  keys_.push_back(key);
  return index;
}

void Minibatch::Add(const Example& example, bool learn) {
  Record record;
  record.label = example.label;
  record.importance = example.importance;
  record.learn = learn;
  record.begin = static_cast<uint32_t>(terms_.size());
  for (const Feature& feature : example.features) {
    terms_.push_back(Term{IndexOf(feature.key), feature.value});
  }
  record.end = static_cast<uint32_t>(terms_.size());
  record.margin = 0;
  examples_.push_back(record);
  if (learn) ++learning_examples_;
  weights_.resize(keys_.size());
}

void Minibatch::Compute(Loss loss) {
  gradients_.assign(keys_.size(), 0.0f);
  const float scale = learning_examples_ > 0
                          ? 1.0f / static_cast<float>(learning_examples_)
                          : 0;
  for (Record& record : examples_) {
    float margin = 0;
    for (uint32_t t = record.begin; t < record.end; ++t) {
      margin += weights_[terms_[t].index] * terms_[t].value;
    }
    record.margin = margin;
    if (!record.learn) continue;
    const float derivative =
        LossDerivative(loss, margin, record.label) * record.importance * scale;
    if (derivative == 0) continue;
    for (uint32_t t = record.begin; t < record.end; ++t) {
      gradients_[terms_[t].index] += derivative * terms_[t].value;
    }
  }
  push_keys_.clear();
  push_gradients_.clear();
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (gradients_[i] == 0) continue;
    push_keys_.push_back(keys_[i]);
    push_gradients_.push_back(gradients_[i]);
  }
}

}  // namespace adaline
