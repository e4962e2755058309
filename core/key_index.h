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
  // and new: they are hashed only if IndexOf is called before the next
  // Clear, so a batch of one example with distinct keys costs no hashing.
  void AppendDistinct(absl::Span<const Feature> features) {
    for (const Feature& feature : features) keys_.push_back(feature.key);
  }

  // The index of `key`, numbering it next if it is new.
  uint32_t IndexOf(uint64_t key) {
    HashKeys(keys_.size() + 1);
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

  // Puts the keys not yet hashed (AppendDistinct's) into the slots, with
  // room for `count` keys at half load; growing hashes every key anew.
  void HashKeys(size_t count) {
    if (count * 2 > slots_.size()) {
      size_t size = slots_.size();
      while (count * 2 > size) size *= 2;
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

  std::vector<Slot> slots_;
  std::vector<uint64_t> keys_;
  size_t hashed_ = 0;  // keys_[0, hashed_) are in slots_
  uint32_t generation_ = 1;
};

}  // namespace adaline

#endif  // ADALINE_CORE_KEY_INDEX_H_
