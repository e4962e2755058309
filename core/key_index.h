// KeyIndex: numbers the distinct keys of a batch 0, 1, 2, ... in order of
// first appearance. Clearing is one increment of a generation counter, not a
// sweep, so a batch costs no allocation and no work per slot once warm.
// Minibatch uses it to gather a batch's keys; the parameter service to find
// a key repeated in one push.
//
// Not thread-safe: each user (a minibatch, a push) owns its own.
#ifndef ADALINE_CORE_KEY_INDEX_H_
#define ADALINE_CORE_KEY_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "core/example.h"

namespace adaline {

class KeyIndex {
 public:
  KeyIndex() : slots_(64, Slot{0, 0, 0}) {}

  void Clear() {
    keys_.clear();
    hashed_ = 0;
    if (++generation_ == 0) {  // wrapped: old generations could match again
      for (Slot& slot : slots_) slot.generation = 0;
      generation_ = 1;
    }
  }

  // Numbers the keys of `features` next, in order. They must be distinct
  // and new: they are hashed only if IndexOf or Contains is called before
  // the next Clear, so a batch of one example with distinct keys costs no
  // hashing at all.
  void AppendDistinct(absl::Span<const Feature> features) {
    for (const Feature& feature : features) keys_.push_back(feature.key);
  }

  // The index of `key`, numbering it next if it is new.
  uint32_t IndexOf(uint64_t key) {
    if (hashed_ < keys_.size()) HashAppended();
    if ((keys_.size() + 1) * 2 > slots_.size()) Grow();
    const size_t mask = slots_.size() - 1;
    size_t slot = SlotFor(key, mask);
    while (slots_[slot].generation == generation_) {
      if (slots_[slot].key == key) return slots_[slot].index;
      slot = (slot + 1) & mask;
    }
    const uint32_t index = static_cast<uint32_t>(keys_.size());
    slots_[slot] = Slot{key, generation_, index};
    keys_.push_back(key);
    hashed_ = keys_.size();
    return index;
  }

  // Whether `key` has been numbered since the last Clear().
  bool Contains(uint64_t key) {
    if (hashed_ < keys_.size()) HashAppended();
    const size_t mask = slots_.size() - 1;
    for (size_t slot = SlotFor(key, mask);
         slots_[slot].generation == generation_; slot = (slot + 1) & mask) {
      if (slots_[slot].key == key) return true;
    }
    return false;
  }

  // The distinct keys, by index.
  const std::vector<uint64_t>& keys() const { return keys_; }

 private:
  struct Slot {
    uint64_t key;
    uint32_t generation;
    uint32_t index;
  };

  static size_t SlotFor(uint64_t key, size_t mask) {
    return static_cast<size_t>((key * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
  }

  // Hashes the keys AppendDistinct added.
  void HashAppended() {
    if (keys_.size() * 2 > slots_.size()) {  // too full: hash all anew
      size_t size = slots_.size();
      while (keys_.size() * 2 > size) size *= 2;
      slots_.assign(size, Slot{0, 0, 0});
      hashed_ = 0;
    }
    const size_t mask = slots_.size() - 1;
    for (size_t i = hashed_; i < keys_.size(); ++i) {
      size_t slot = SlotFor(keys_[i], mask);
      while (slots_[slot].generation == generation_) slot = (slot + 1) & mask;
      slots_[slot] = Slot{keys_[i], generation_, static_cast<uint32_t>(i)};
    }
    hashed_ = keys_.size();
  }

  void Grow() {
    slots_.assign(slots_.size() * 2, Slot{0, 0, 0});
    const size_t mask = slots_.size() - 1;
    for (uint32_t i = 0; i < hashed_; ++i) {
      size_t slot = SlotFor(keys_[i], mask);
      while (slots_[slot].generation == generation_) slot = (slot + 1) & mask;
      slots_[slot] = Slot{keys_[i], generation_, i};
    }
  }

  std::vector<Slot> slots_;
  std::vector<uint64_t> keys_;
  size_t hashed_ = 0;  // keys_[0, hashed_) are in slots_
  uint32_t generation_ = 1;
};

}  // namespace adaline

#endif  // ADALINE_CORE_KEY_INDEX_H_
