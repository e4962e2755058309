#include "core/weight_store.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace adaline {
namespace {

// Slot words: key (2), last step, weight, state...
constexpr size_t kKeyWord = 0;
constexpr size_t kStepWord = 2;
constexpr size_t kWeightWord = 3;
constexpr size_t kStateWord = 4;
// A NaN weight marks an empty slot: no stored weight is ever NaN, so every
// 64-bit key stays usable and no word is spent on occupancy.
constexpr uint32_t kEmptyWeight = 0x7fbadbadu;
constexpr size_t kMinCapacity = 16;
// Pull and Push ask for the slot of the key this far ahead in batches of
// more than kLongBatch keys (a server's), to overlap their cache misses. A
// local learner's short batches are prefetched an example ahead instead.
constexpr size_t kPrefetchDistance = 8;
constexpr size_t kLongBatch = 64;

}  // namespace

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void WeightStore::PrefetchAhead(
    absl::Span<const uint64_t> keys, size_t i) const {
  if (keys.size() > kLongBatch && i + kPrefetchDistance < keys.size()) {
    Prefetch(keys[i + kPrefetchDistance]);
  }
}

namespace {
// Linear probing stays short below this load.
constexpr double kMaxLoad = 0.85;

uint64_t LoadKey(const uint32_t* slot) {
  uint64_t key;
  std::memcpy(&key, slot + kKeyWord, sizeof key);
  return key;
}

void StoreKey(uint32_t* slot, uint64_t key) {
  std::memcpy(slot + kKeyWord, &key, sizeof key);
}

bool IsEmpty(const uint32_t* slot) { return slot[kWeightWord] == kEmptyWeight; }

// Copies a coordinate's state with one store per width rather than one per
// float: the update rules load two floats at once, and a load that spans
// two separate stores waits for both to retire (about a fifth of an Adam
// step's time went there).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void CopyState(float* to, const float* from,
                                                   int width) {
  static_assert(kMaxStateWidth == 3, "CopyState covers widths up to 3");
  switch (width) {
    case 1:
      std::memcpy(to, from, sizeof(float));
      return;
    case 2:
      std::memcpy(to, from, 2 * sizeof(float));
      return;
    case 3:
      std::memcpy(to, from, 3 * sizeof(float));
      return;
  }
}

// Runs `update` on a coordinate in place, from a copy that puts the weight
// and state back if the update leaves any of them not finite; whether the
// update was kept. (A copy updated and then written back float by float
// would stall the next paired load of the state.)
template <typename Update>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool UpdateIfFinite(float& weight,
                                                        float* state, int width,
                                                        Update update) {
  const float old_weight = weight;
  float old_state[kMaxStateWidth];
  CopyState(old_state, state, width);
  update();
  bool finite = std::isfinite(weight);
  for (int s = 0; s < width; ++s) finite &= std::isfinite(state[s]);
  if (finite) return true;
  weight = old_weight;
  CopyState(state, old_state, width);
  return false;
}

float* WeightOf(uint32_t* slot) {
  return reinterpret_cast<float*>(slot + kWeightWord);
}
float* StateOf(uint32_t* slot) {
  return reinterpret_cast<float*>(slot + kStateWord);
}
const float* WeightOf(const uint32_t* slot) {
  return reinterpret_cast<const float*>(slot + kWeightWord);
}
const float* StateOf(const uint32_t* slot) {
  return reinterpret_cast<const float*>(slot + kStateWord);
}

// The full step number of a coordinate stored as its low 32 bits, given a
// later step `now`. A slot that is ahead of `now` (another thread pushed a
// later step first) reads as `now`: it needs no catch-up.
uint64_t FullStep(uint32_t stored, uint64_t now) {
  const int32_t behind =
      static_cast<int32_t>(static_cast<uint32_t>(now) - stored);
  if (behind <= 0) return now;
  return static_cast<uint64_t>(behind) > now
             ? 0
             : now - static_cast<uint64_t>(behind);
}

// The largest power of two <= `n` (n > 0): the sweep's schedule is a mask.
uint64_t PowerOfTwoAtMost(uint64_t n) {
  return uint64_t{1} << (63 - __builtin_clzll(n));
}

}  // namespace

WeightStore::WeightStore(const OptimizerOptions& options, size_t max_keys,
                         uint64_t catch_up_interval)
    : optimizer_(options),
      stride_(kStateWord + optimizer_.state_width()),
      max_keys_(max_keys),
      catch_up_interval_(PowerOfTwoAtMost(std::min(
          std::max<uint64_t>(catch_up_interval, 1), kCatchUpInterval))),
      shards_(new Shard[kShardCount]) {}

uint32_t* WeightStore::Find(const Shard& shard, uint64_t key,
                            uint64_t mixed) const {
  if (shard.capacity == 0) return nullptr;
  size_t index = SlotIndex(mixed, shard.capacity);
  uint32_t* words = shard.words.get();
  while (true) {
    uint32_t* slot = words + index * stride_;
    if (IsEmpty(slot)) return nullptr;
    if (LoadKey(slot) == key) return slot;
    if (++index == shard.capacity) index = 0;
  }
}

uint32_t* WeightStore::FindOrCreate(Shard& shard, uint64_t key, uint64_t mixed,
                                    bool* created, bool pushed) {
  *created = false;
  if (uint32_t* slot = Find(shard, key, mixed)) return slot;
  if (pushed && bounds_.admit_after > 1 && !Admit(shard, mixed)) {
    not_admitted_updates_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  while (size_.fetch_add(1, std::memory_order_relaxed) >= max_keys_) {
    size_.fetch_sub(1, std::memory_order_relaxed);
    if (!pushed || !bounds_.evict_when_full || !MakeRoom(shard)) {
      dropped_new_keys_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
  }
  if (pushed && bounds_.admit_after > 1) {
    admitted_keys_.fetch_add(1, std::memory_order_relaxed);
  }
  if (static_cast<double>(shard.size + 1) >
      static_cast<double>(shard.capacity) * kMaxLoad) {
    Grow(shard);
  }
  size_t index = SlotIndex(mixed, shard.capacity);
  uint32_t* words = shard.words.get();
  while (!IsEmpty(words + index * stride_)) {
    if (++index == shard.capacity) index = 0;
  }
  uint32_t* slot = words + index * stride_;
  StoreKey(slot, key);
  *WeightOf(slot) = 0;
  optimizer_.InitState(StateOf(slot));
  ++shard.size;
  *created = true;
  return slot;
}

void WeightStore::SetMemoryBounds(const MemoryBounds& bounds) {
  bounds_ = bounds;
  evict_every_ = bounds.evict_idle_steps == 0
                     ? 0
                     : std::max<uint64_t>(1, bounds.evict_idle_steps / 4);
  const size_t per_shard =
      bounds.admit_after > 1
          ? std::max<size_t>(64, bounds.admission_filter_bytes / kShardCount)
          : 0;
  for (int s = 0; s < kShardCount; ++s) {
    Shard& shard = shards_[s];
    SpinLockHolder lock(shard.mutex);
    shard.admission.reset(per_shard > 0 ? new uint8_t[per_shard]() : nullptr);
    shard.admission_size = per_shard;
  }
}

bool WeightStore::Admit(Shard& shard, uint64_t mixed) {
  // Two counters per key, from bits the shard's choice did not use; a key
  // has been seen at most as often as the smaller says. Only the smaller
  // ones count up (a conservative update), so collisions inflate less.
  uint8_t* counts = shard.admission.get();
  uint8_t& first = counts[static_cast<uint32_t>(mixed) % shard.admission_size];
  uint8_t& second =
      counts[static_cast<uint32_t>(mixed >> 26) % shard.admission_size];
  const uint8_t seen = std::min(first, second);
  if (seen < UINT8_MAX) {
    if (first == seen) ++first;
    if (second == seen) ++second;
  }
  return seen + 1u >= bounds_.admit_after;
}

size_t WeightStore::EvictUpTo(Shard& shard, uint64_t oldest_evicted,
                              uint64_t now) {
  std::unique_ptr<uint32_t[]> old_words = std::move(shard.words);
  const size_t capacity = shard.capacity;
  shard.words.reset(new uint32_t[capacity * stride_]);
  uint32_t* words = shard.words.get();
  for (size_t i = 0; i < capacity; ++i) {
    words[i * stride_ + kWeightWord] = kEmptyWeight;
  }
  size_t removed = 0;
  for (size_t i = 0; i < capacity; ++i) {
    const uint32_t* old_slot = old_words.get() + i * stride_;
    if (IsEmpty(old_slot)) continue;
    if (FullStep(old_slot[kStepWord], now) <= oldest_evicted) {
      ++removed;
      continue;
    }
    size_t index = SlotIndex(Mix(LoadKey(old_slot)), capacity);
    while (!IsEmpty(words + index * stride_)) {
      if (++index == capacity) index = 0;
    }
    std::memcpy(words + index * stride_, old_slot, stride_ * sizeof(uint32_t));
  }
  shard.size -= removed;
  size_.fetch_sub(removed, std::memory_order_relaxed);
  evicted_keys_.fetch_add(removed, std::memory_order_relaxed);
  shard.words_hint.store(words, std::memory_order_relaxed);
  ++shard.resizes;
  return removed;
}

void WeightStore::NotePause(absl::Time start) {
  const int64_t nanos = absl::ToInt64Nanoseconds(absl::Now() - start);
  int64_t longest = longest_eviction_pause_nanos_.load();
  while (nanos > longest &&
         !longest_eviction_pause_nanos_.compare_exchange_weak(longest, nanos)) {
  }
}

void WeightStore::EvictIdle(uint64_t now) {
  if (now <= bounds_.evict_idle_steps) return;
  const uint64_t oldest_kept = now - bounds_.evict_idle_steps;
  for (int s = 0; s < kShardCount; ++s) {
    Shard& shard = shards_[s];
    SpinLockHolder lock(shard.mutex);
    const absl::Time start = absl::Now();
    bool any = false;
    const uint32_t* words = shard.words.get();
    for (size_t i = 0; i < shard.capacity && !any; ++i) {
      const uint32_t* slot = words + i * stride_;
      any = !IsEmpty(slot) && FullStep(slot[kStepWord], now) < oldest_kept;
    }
    if (any) EvictUpTo(shard, oldest_kept - 1, now);
    NotePause(start);
  }
}

bool WeightStore::EvictOldest(Shard& shard, uint64_t now) {
  if (shard.size == 0) return false;
  const absl::Time start = absl::Now();
  // The step an eighth of the shard's keys are at or before.
  std::vector<uint64_t> steps;
  steps.reserve(shard.size);
  const uint32_t* words = shard.words.get();
  for (size_t i = 0; i < shard.capacity; ++i) {
    const uint32_t* slot = words + i * stride_;
    if (!IsEmpty(slot)) steps.push_back(FullStep(slot[kStepWord], now));
  }
  const size_t nth = steps.size() / 8;
  std::nth_element(steps.begin(), steps.begin() + nth, steps.end());
  const size_t removed = EvictUpTo(shard, steps[nth], now);
  NotePause(start);
  return removed > 0;
}

bool WeightStore::MakeRoom(Shard& shard) {
  const uint64_t now = step();
  if (EvictOldest(shard, now)) return true;
  // This part is empty: another one that is free gives room. Never wait for
  // one, which could deadlock with its holder waiting for this one.
  for (int s = 0; s < kShardCount; ++s) {
    Shard& other = shards_[s];
    if (&other == &shard || !other.mutex.TryLock()) continue;
    const bool evicted = EvictOldest(other, now);
    other.mutex.Unlock();
    if (evicted) return true;
  }
  return false;
}

void WeightStore::Grow(Shard& shard) {
  Resize(shard, std::max(kMinCapacity, shard.capacity + shard.capacity / 2));
}

void WeightStore::Resize(Shard& shard, size_t capacity) {
  const size_t old_capacity = shard.capacity;
  std::unique_ptr<uint32_t[]> old_words = std::move(shard.words);
  shard.words.reset(new uint32_t[capacity * stride_]);
  shard.capacity = capacity;
  uint32_t* words = shard.words.get();
  for (size_t i = 0; i < capacity; ++i) {
    words[i * stride_ + kWeightWord] = kEmptyWeight;
  }
  for (size_t i = 0; i < old_capacity; ++i) {
    const uint32_t* old_slot = old_words.get() + i * stride_;
    if (IsEmpty(old_slot)) continue;
    size_t index = SlotIndex(Mix(LoadKey(old_slot)), capacity);
    while (!IsEmpty(words + index * stride_)) {
      if (++index == capacity) index = 0;
    }
    std::memcpy(words + index * stride_, old_slot, stride_ * sizeof(uint32_t));
  }
  shard.words_hint.store(words, std::memory_order_relaxed);
  shard.capacity_hint.store(capacity, std::memory_order_relaxed);
  ++shard.resizes;
}

void WeightStore::Clear() {
  for (int s = 0; s < kShardCount; ++s) {
    Shard& shard = shards_[s];
    SpinLockHolder lock(shard.mutex);
    uint32_t* words = shard.words.get();
    for (size_t i = 0; i < shard.capacity; ++i) {
      words[i * stride_ + kWeightWord] = kEmptyWeight;
    }
    shard.size = 0;
    ++shard.resizes;
  }
  size_.store(0, std::memory_order_relaxed);
  step_.store(0, std::memory_order_release);
}

void WeightStore::Reserve(size_t keys) {
  // Keys spread evenly over the shards; a little headroom absorbs the
  // unevenness so that no shard has to grow while the rest is inserted.
  const double per_shard = static_cast<double>(keys) / kShardCount * 1.05 + 64;
  const size_t capacity = static_cast<size_t>(per_shard / kMaxLoad) + 1;
  for (int s = 0; s < kShardCount; ++s) {
    Shard& shard = shards_[s];
    SpinLockHolder lock(shard.mutex);
    if (shard.capacity < capacity) Resize(shard, capacity);
  }
}

void WeightStore::FiniteCatchUp(float& weight, float* state, uint64_t last_step,
                                uint64_t to_step) const {
  if (!UpdateIfFinite(weight, state, optimizer_.state_width(), [&] {
        optimizer_.CatchUp(weight, state, last_step, to_step);
      })) {
    non_finite_updates_.fetch_add(1, std::memory_order_relaxed);
  }
}

void WeightStore::CatchUp(uint32_t* slot, uint64_t to_step) const {
  const uint64_t last = FullStep(slot[kStepWord], to_step);
  if (last >= to_step) return;
  FiniteCatchUp(*WeightOf(slot), StateOf(slot), last, to_step);
  slot[kStepWord] = static_cast<uint32_t>(to_step);
}

size_t WeightStore::Pull(absl::Span<const uint64_t> keys,
                         absl::Span<float> weights, absl::Span<float> states,
                         absl::Span<SlotHint> hints) {
  size_t absent = 0;
  const uint64_t now = step();
  const bool catch_up = optimizer_.needs_catch_up();
  const int width = states.empty() ? 0 : optimizer_.state_width();
  for (size_t i = 0; i < keys.size(); ++i) {
    PrefetchAhead(keys, i);
    const uint64_t mixed = Mix(keys[i]);
    Shard& shard = ShardFor(mixed);
    SpinLockHolder lock(shard.mutex, shared_between_threads_);
    uint32_t* slot = Find(shard, keys[i], mixed);
    if (!hints.empty()) {
      hints[i] = SlotHint{slot, shard.resizes, ShardIndex(mixed)};
    }
    float* state = states.data() + i * width;
    if (slot == nullptr) {
      weights[i] = 0;
      if (width > 0) optimizer_.InitState(state);
      ++absent;
      continue;
    }
    if (catch_up) CatchUp(slot, now);
    weights[i] = *WeightOf(slot);
    const float* stored = StateOf(slot);
    for (int s = 0; s < width; ++s) state[s] = stored[s];
  }
  return absent;
}

double WeightStore::StepNorm(absl::Span<const uint64_t> keys,
                             absl::Span<const float> scales,
                             absl::Span<const SlotHint> hints) const {
  const int index = optimizer_.scale_index();
  if (index < 0 || scales.empty()) return 0;
  double norm = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const float scale = scales[i];
    if (scale <= 0) continue;
    const uint64_t mixed = Mix(keys[i]);
    Shard& shard = ShardFor(mixed);
    SpinLockHolder lock(shard.mutex, shared_between_threads_);
    const uint32_t* slot = HintedSlot(hints, i, shard);
    if (slot == nullptr) slot = Find(shard, keys[i], mixed);
    const float largest =
        slot == nullptr ? scale : std::max(StateOf(slot)[index], scale);
    const double ratio = static_cast<double>(scale) / largest;
    norm += ratio * ratio;
  }
  return norm;
}

absl::Status WeightStore::CheckStep(absl::Span<const uint64_t> keys,
                                    absl::Span<const float> gradients,
                                    absl::Span<const float> scales,
                                    std::optional<double> step_norm) {
  if (keys.size() != gradients.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("push has ", keys.size(), " keys but ", gradients.size(),
                     " gradients"));
  }
  if (step_norm.has_value() && (!std::isfinite(*step_norm) || *step_norm < 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("step norm ", *step_norm,
                     " is not finite and positive; nothing was "
                     "applied"));
  }
  if (!scales.empty() && scales.size() != keys.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "push has ", keys.size(), " keys but ", scales.size(), " scales"));
  }
  // Checked without a branch per value (the loops vectorise); the culprit
  // is looked for only when there is one.
  bool scales_ok = true;
  for (const float scale : scales) {
    scales_ok &= scale >= 0 && scale <= std::numeric_limits<float>::max();
  }
  for (size_t i = 0; !scales_ok && i < scales.size(); ++i) {
    if (!std::isfinite(scales[i]) || scales[i] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("scale ", scales[i], " for key ", keys[i],
                       " is not a finite |value|; nothing was applied"));
    }
  }
  bool gradients_ok = true;
  for (const float gradient : gradients) {
    gradients_ok &= std::abs(gradient) <= kMaxGradient;
  }
  for (size_t i = 0; !gradients_ok && i < gradients.size(); ++i) {
    if (!(std::abs(gradients[i]) <= kMaxGradient)) {
      return absl::InvalidArgumentError(
          absl::StrCat("gradient ", gradients[i], " for key ", keys[i],
                       " is not finite or beyond +-", kMaxGradient,
                       " (learners clip to it); nothing was applied"));
    }
  }
  return absl::OkStatus();
}

float WeightStore::StepRate(uint64_t t, double norms_before, double own_norm) {
  if (t > 1 && norms_before > 0) {
    return static_cast<float>(
        std::sqrt(static_cast<double>(t - 1) / norms_before));
  }
  return own_norm > 0 ? static_cast<float>(1 / std::sqrt(own_norm)) : 1.0f;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool WeightStore::ApplyAt(
    uint32_t* slot, bool created, float gradient, const StepFactors& factors,
    float scale) const {
  const uint64_t t = factors.step;
  if (created) {
    slot[kStepWord] = static_cast<uint32_t>(t - 1);
  } else if (optimizer_.needs_catch_up()) {
    CatchUp(slot, t - 1);
  }
  float& weight = *WeightOf(slot);
  float* state = StateOf(slot);
  if (!UpdateIfFinite(weight, state, optimizer_.state_width(), [&] {
        optimizer_.Apply(weight, state, gradient, factors, scale);
      })) {
    non_finite_updates_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (static_cast<int32_t>(static_cast<uint32_t>(t) - slot[kStepWord]) > 0) {
    slot[kStepWord] = static_cast<uint32_t>(t);
  }
  return true;
}

void WeightStore::AddToNormSum(double norm) {
  double sum = norm_sum_.load(std::memory_order_relaxed);
  while (!norm_sum_.compare_exchange_weak(sum, sum + norm,
                                          std::memory_order_acq_rel)) {
  }
}

absl::StatusOr<uint64_t> WeightStore::Push(absl::Span<const uint64_t> keys,
                                           absl::Span<const float> gradients,
                                           absl::Span<const SlotHint> hints,
                                           absl::Span<const float> scales,
                                           std::optional<double> step_norm) {
  if (absl::Status s = CheckStep(keys, gradients, scales, step_norm); !s.ok()) {
    return s;
  }
  return ApplyStep(keys, gradients, hints, scales, step_norm);
}

uint64_t WeightStore::ApplyStep(absl::Span<const uint64_t> keys,
                                absl::Span<const float> gradients,
                                absl::Span<const SlotHint> hints,
                                absl::Span<const float> scales,
                                std::optional<double> step_norm,
                                double* summed_norm) {
  const uint64_t t = step_.fetch_add(1, std::memory_order_acq_rel) + 1;
  // Exactly one push sees each multiple of the interval.
  if ((t & (catch_up_interval_ - 1)) == 0) CatchUpIdle(t - 1);
  if (evict_every_ > 0 && t % evict_every_ == 0) EvictIdle(t - 1);
  StepFactors factors = optimizer_.Factors(t);
  // --normalized: the step's rate comes from the steps before it (the
  // first step, with none, from its own norm), so this step's norm is summed
  // as the keys are applied, in the same pass.
  const int scale_index = optimizer_.scale_index();
  // A worker's norm covers the step's keys on every shard and counts on
  // each, one that holds none of them too, so the shards' sums stay equal;
  // without one the store sums its own.
  const bool normalizing =
      scale_index >= 0 && (!scales.empty() || step_norm.has_value());
  const bool summing = normalizing && !step_norm.has_value();
  double norm = step_norm.value_or(0);
  if (normalizing) {
    const double before = norm_sum_.load(std::memory_order_acquire);
    // The step's own norm counts only when no step before it has one.
    double own = 0;
    if (t == 1 || before <= 0) {
      own = step_norm.has_value() ? *step_norm : StepNorm(keys, scales, hints);
    }
    factors.rate = StepRate(t, before, own);
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    PrefetchAhead(keys, i);
    // A key found before names its part of the store: it is mixed only if
    // its slot must be looked for again.
    const bool hinted = !hints.empty() && hints[i].slot != nullptr;
    uint64_t mixed = hinted ? 0 : Mix(keys[i]);
    Shard& shard = hinted ? shards_[hints[i].shard] : ShardFor(mixed);
    SpinLockHolder lock(shard.mutex, shared_between_threads_);
    bool created = false;
    uint32_t* slot = HintedSlot(hints, i, shard);
    if (slot == nullptr) {
      if (hinted) mixed = Mix(keys[i]);
      slot = FindOrCreate(shard, keys[i], mixed, &created, /*pushed=*/true);
    }
    if (slot == nullptr) continue;
    const float scale = scales.empty() ? 0.0f : scales[i];
    if (!ApplyAt(slot, created, gradients[i], factors, scale)) continue;
    const float largest = summing ? StateOf(slot)[scale_index] : 0;
    if (summing && scale > 0 && largest > 0) {
      const double ratio = static_cast<double>(scale) / largest;
      norm += ratio * ratio;
    }
  }
  if (normalizing) AddToNormSum(norm);
  if (summed_norm != nullptr) *summed_norm = norm;
  return t;
}

WeightStore::ExampleResult WeightStore::LearnExample(
    absl::Span<const Feature> features, float base, float label,
    float importance, Loss loss, bool learn, bool scales, PushedStep* pushed) {
  // Reused from example to example: no allocation once warm.
  thread_local std::vector<SlotHint> found;
  thread_local PushedStep own_step;
  PushedStep& record = pushed != nullptr ? *pushed : own_step;
  std::vector<uint64_t>& keys = record.keys;
  std::vector<float>& gradients = record.gradients;
  std::vector<float>& key_scales = record.scales;
  found.resize(features.size());
  // Pull's part: each key's weight as of the current step, caught up in
  // place, summed into the margin in the features' order.
  const uint64_t now = step();
  const bool catch_up = optimizer_.needs_catch_up();
  uint32_t absent = 0;
  float margin = base;
  for (size_t i = 0; i < features.size(); ++i) {
    const uint64_t key = features[i].key;
    const uint64_t mixed = Mix(key);
    Shard& shard = ShardFor(mixed);
    SpinLockHolder lock(shard.mutex, shared_between_threads_);
    uint32_t* slot = Find(shard, key, mixed);
    found[i] = SlotHint{slot, shard.resizes, ShardIndex(mixed)};
    if (slot == nullptr) ++absent;
    float weight = 0;
    if (slot != nullptr) {
      if (catch_up) CatchUp(slot, now);
      weight = *WeightOf(slot);
    }
    margin += weight * features[i].value;
  }
  ExampleResult result;
  result.margin = margin;
  if (pushed != nullptr) {
    result.absent = absent;
    if (absent > 0) return result;
  }
  if (!learn) return result;
  // Minibatch::Compute's part, for a batch of one.
  keys.clear();
  gradients.clear();
  key_scales.clear();
  const float derivative = LossDerivative(loss, margin, label) * importance;
  if (derivative != 0) {
    for (size_t i = 0; i < features.size(); ++i) {
      float gradient = derivative * features[i].value;
      if (gradient == 0) continue;
      const GradientCheck check = CheckGradient(gradient);
      if (check == GradientCheck::kNotFinite) {
        ++result.non_finite_gradients;
        continue;
      }
      if (check == GradientCheck::kClipped) ++result.clipped_gradients;
      // The pushed keys' hints move to the front of `found`, in order.
      found[keys.size()] = found[i];
      keys.push_back(features[i].key);
      gradients.push_back(gradient);
      if (scales) key_scales.push_back(std::abs(features[i].value));
    }
  }
  // Push's part. Such gradients and scales pass CheckStep by construction:
  // finite, clipped, and the |value| of a finite gradient's feature.
  result.step =
      ApplyStep(keys, gradients, absl::MakeConstSpan(found.data(), keys.size()),
                key_scales, std::nullopt, &record.norm);
  return result;
}

absl::StatusOr<uint64_t> WeightStore::PushSteps(
    absl::Span<const uint64_t> keys, absl::Span<const float> gradients,
    absl::Span<const float> scales, absl::Span<const uint32_t> step_sizes,
    absl::Span<const double> step_norms) {
  const size_t steps = step_sizes.size();
  if (steps == 0 && keys.empty()) return step();
  size_t total = 0;
  for (const uint32_t size : step_sizes) total += size;
  if (total != keys.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "push has ", keys.size(), " keys but its steps hold ", total));
  }
  if (!step_norms.empty() && step_norms.size() != steps) {
    return absl::InvalidArgumentError(absl::StrCat(
        "push has ", steps, " steps but ", step_norms.size(), " step norms"));
  }
  for (size_t i = 0; i < step_norms.size(); ++i) {
    if (absl::Status s = CheckStep({}, {}, {}, step_norms[i]); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = CheckStep(keys, gradients, scales, std::nullopt);
      !s.ok()) {
    return s;
  }
  const int scale_index = optimizer_.scale_index();
  // Step norms count where none of their keys are held (ApplyStep).
  const bool normalizing =
      scale_index >= 0 && (!scales.empty() || !step_norms.empty());
  // Steps whose order across keys matters, or whose store sums its own
  // norms, go one by one: a limit or a memory bound decides which keys a
  // step keeps by what the steps before it left.
  const bool bounded = max_keys_ != kNoKeyLimit || bounds_.admit_after > 1 ||
                       evict_every_ > 0 || bounds_.evict_when_full;
  if (bounded || (normalizing && step_norms.empty())) {
    absl::StatusOr<uint64_t> t = step();
    size_t begin = 0;
    for (size_t i = 0; i < steps; ++i) {
      const size_t end = begin + step_sizes[i];
      t = Push(keys.subspan(begin, end - begin),
               gradients.subspan(begin, end - begin), {},
               scales.empty() ? scales : scales.subspan(begin, end - begin),
               step_norms.empty() ? std::nullopt
                                  : std::optional<double>(step_norms[i]));
      if (!t.ok()) return t;
      begin = end;
    }
    return t;
  }
  const uint64_t first = step_.fetch_add(steps, std::memory_order_acq_rel) + 1;
  const uint64_t last = first + steps - 1;
  // Every step's factors, its rate from the norms of the steps before it.
  thread_local std::vector<StepFactors> factors;
  factors.resize(steps);
  double norms = normalizing ? norm_sum_.load(std::memory_order_acquire) : 0;
  const double norms_at_start = norms;
  for (size_t i = 0; i < steps; ++i) {
    factors[i] = optimizer_.Factors(first + i);
    if (normalizing) {
      factors[i].rate = StepRate(first + i, norms, step_norms[i]);
      norms += step_norms[i];
    }
  }
  // The keys sorted by the part of the store that holds them, each part's in
  // step order: a part is locked once, and its slots stay in cache while
  // its keys are applied.
  struct Pending {
    uint64_t mixed;
    uint32_t index;  // into keys
    uint32_t step;   // into factors
  };
  thread_local std::vector<uint64_t> mixes;
  thread_local std::vector<Pending> pending;
  thread_local std::vector<uint32_t> starts;
  mixes.resize(keys.size());
  pending.resize(keys.size());
  starts.assign(kShardCount + 1, 0);
  for (size_t i = 0; i < keys.size(); ++i) {
    mixes[i] = Mix(keys[i]);
    ++starts[(mixes[i] >> (64 - kShardBits)) + 1];
  }
  for (int s = 0; s < kShardCount; ++s) starts[s + 1] += starts[s];
  {
    thread_local std::vector<uint32_t> next;
    next.assign(starts.begin(), starts.end() - 1);
    uint32_t index = 0;
    for (size_t i = 0; i < steps; ++i) {
      for (uint32_t k = 0; k < step_sizes[i]; ++k, ++index) {
        const uint64_t mixed = mixes[index];
        pending[next[mixed >> (64 - kShardBits)]++] = {
            mixed, index, static_cast<uint32_t>(i)};
      }
    }
  }
  for (int s = 0; s < kShardCount; ++s) {
    if (starts[s] == starts[s + 1]) continue;
    Shard& shard = shards_[s];
    SpinLockHolder lock(shard.mutex, shared_between_threads_);
    for (uint32_t p = starts[s]; p < starts[s + 1]; ++p) {
      if (p + kPrefetchDistance < starts[s + 1]) {
        const uint64_t ahead = pending[p + kPrefetchDistance].mixed;
        __builtin_prefetch(shard.words.get() +
                           SlotIndex(ahead, shard.capacity) * stride_);
      }
      const Pending& key = pending[p];
      bool created = false;
      uint32_t* slot = FindOrCreate(shard, keys[key.index], key.mixed, &created,
                                    /*pushed=*/true);
      if (slot == nullptr) continue;
      ApplyAt(slot, created, gradients[key.index], factors[key.step],
              scales.empty() ? 0.0f : scales[key.index]);
    }
  }
  if (normalizing) {
    // Summed as step-by-step pushes would have, unless another push added
    // its norms meanwhile.
    double expected = norms_at_start;
    if (!norm_sum_.compare_exchange_strong(expected, norms,
                                           std::memory_order_acq_rel)) {
      for (const double norm : step_norms) AddToNormSum(norm);
    }
  }
  // The sweep that keeps slots' short steps valid runs after the batch that
  // crossed its multiple; catching up later is as exact as catching up then.
  if ((first - 1) / catch_up_interval_ != last / catch_up_interval_) {
    CatchUpIdle(last);
  }
  return last;
}

void WeightStore::CatchUpIdle(uint64_t now) {
  if (!optimizer_.needs_catch_up()) return;
  for (int s = 0; s < kShardCount; ++s) {
    Shard& shard = shards_[s];
    SpinLockHolder lock(shard.mutex);
    uint32_t* words = shard.words.get();
    for (size_t i = 0; i < shard.capacity; ++i) {
      uint32_t* slot = words + i * stride_;
      if (IsEmpty(slot)) continue;
      if (now - FullStep(slot[kStepWord], now) >= catch_up_interval_) {
        CatchUp(slot, now);
      }
    }
  }
}

void WeightStore::AdvanceIdleSteps(uint64_t count) {
  while (count > 0) {
    const uint64_t now = step();
    const uint64_t to_sweep =
        catch_up_interval_ - (now & (catch_up_interval_ - 1));
    const uint64_t taken = std::min(count, to_sweep);
    step_.fetch_add(taken, std::memory_order_acq_rel);
    count -= taken;
    if (taken == to_sweep) CatchUpIdle(now + taken);
  }
}

void WeightStore::ReadEntry(const uint32_t* slot, uint64_t now,
                            Entry* entry) const {
  entry->key = LoadKey(slot);
  entry->last_step = FullStep(slot[kStepWord], now);
  entry->weight = *WeightOf(slot);
  std::memcpy(entry->state, StateOf(slot),
              optimizer_.state_width() * sizeof(float));
}

size_t WeightStore::CountAbsent(absl::Span<const uint64_t> keys) const {
  size_t absent = 0;
  for (const uint64_t key : keys) {
    const uint64_t mixed = Mix(key);
    Shard& shard = ShardFor(mixed);
    SpinLockHolder lock(shard.mutex);
    absent += Find(shard, key, mixed) == nullptr;
  }
  return absent;
}

std::optional<Entry> WeightStore::Lookup(uint64_t key) const {
  const uint64_t mixed = Mix(key);
  Shard& shard = ShardFor(mixed);
  SpinLockHolder lock(shard.mutex);
  const uint32_t* slot = Find(shard, key, mixed);
  if (slot == nullptr) return std::nullopt;
  Entry entry;
  ReadEntry(slot, step(), &entry);
  return CaughtUp(entry);
}

Entry WeightStore::CaughtUp(Entry entry) const {
  const uint64_t now = step();
  if (entry.last_step < now) {
    FiniteCatchUp(entry.weight, entry.state, entry.last_step, now);
    entry.last_step = now;
  }
  return entry;
}

void WeightStore::ForEach(
    const std::function<void(const Entry&)>& visit) const {
  Entry entry;
  const uint64_t now = step();
  for (int s = 0; s < kShardCount; ++s) {
    Shard& shard = shards_[s];
    SpinLockHolder lock(shard.mutex);
    const uint32_t* words = shard.words.get();
    for (size_t i = 0; i < shard.capacity; ++i) {
      const uint32_t* slot = words + i * stride_;
      if (IsEmpty(slot)) continue;
      ReadEntry(slot, now, &entry);
      visit(entry);
    }
  }
}

absl::Status WeightStore::Insert(const Entry& entry) {
  const int width = optimizer_.state_width();
  if (!std::isfinite(entry.weight) || !optimizer_.IsValidState(entry.state)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entry for key ", entry.key, " has weight ", entry.weight,
        " and optimizer state (",
        absl::StrJoin(entry.state, entry.state + width, ", "), ") that ",
        OptimizerName(optimizer_.options().kind),
        " cannot have: not finite, or a negative average of squares"));
  }
  const uint64_t mixed = Mix(entry.key);
  Shard& shard = ShardFor(mixed);
  SpinLockHolder lock(shard.mutex);
  bool created;
  uint32_t* slot =
      FindOrCreate(shard, entry.key, mixed, &created, /*pushed=*/false);
  if (slot == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the store is full: it holds at most ", max_keys_, " keys"));
  }
  Entry stored = entry;
  const uint64_t now = step();
  if (optimizer_.needs_catch_up() && stored.last_step < now &&
      now - stored.last_step >= catch_up_interval_) {
    stored = CaughtUp(stored);
  }
  slot[kStepWord] = static_cast<uint32_t>(stored.last_step);
  *WeightOf(slot) = stored.weight;
  std::memcpy(StateOf(slot), stored.state, width * sizeof(float));
  return absl::OkStatus();
}

size_t WeightStore::size() const {
  return size_.load(std::memory_order_relaxed);
}

size_t WeightStore::bytes() const {
  size_t total = 0;
  for (int s = 0; s < kShardCount; ++s) {
    SpinLockHolder lock(shards_[s].mutex);
    total += shards_[s].capacity * stride_ * sizeof(uint32_t);
  }
  return total;
}

}  // namespace adaline
