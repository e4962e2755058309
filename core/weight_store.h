// WeightStore: the sparse model. Hashed 64-bit keys to a float32 weight and
// lazy per-coordinate optimizer state, created on a key's first gradient, so
// memory grows with the features seen rather than with a fixed 2^b table.
//
// Layout: 64 independently locked shards, each an open-addressing table with
// linear probing whose slots pack key, last step, weight and state into
// 4 + state_width 32-bit words (20 bytes for Adagrad). Shards let the
// parameter server's threads work in parallel and make growth gradual: each
// shard grows by 1.5x on its own, so the whole store never doubles at once.
//
// Every operation takes spans of keys and is one batch: the local trainer and
// the gRPC service call the same Pull and Push.
//
// Thread-safe: any number of threads may Pull, Push, Lookup and Insert at
// once; each key's update is atomic, a batch as a whole is not (the
// parameter service adds that with its own lock). A store told it is not
// shared between threads (SetSharedBetweenThreads) is thread-compatible.
#ifndef ADALINE_CORE_WEIGHT_STORE_H_
#define ADALINE_CORE_WEIGHT_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/example.h"
#include "core/loss.h"
#include "core/optimizer.h"
#include "core/spin_lock.h"

namespace adaline {

// One coordinate. `last_step` is the last optimizer step its state
// includes.
struct Entry {
  uint64_t key = 0;
  uint64_t last_step = 0;
  float weight = 0;
  float state[kMaxStateWidth] = {};
};

// A slot keeps only the low 32 bits of its last step, so that a coordinate
// costs 4 + state_width words. The full step is the latest one with those
// bits, which is right while no coordinate falls 2^31 steps behind. A sweep
// keeps it so: every kCatchUpInterval steps (and when entries are inserted)
// it catches up the coordinates that are kCatchUpInterval or more behind.
// That is exact, since catching up in two parts equals catching up once,
// and cheap: one pass over the keys per 2^30 steps, touching only the rare
// coordinates idle that long.
inline constexpr uint64_t kCatchUpInterval = uint64_t{1} << 30;

// The latest step at or before `now` whose low 32 bits are `low_bits`.
inline uint64_t FullStepAtOrBefore(uint32_t low_bits, uint64_t now) {
  const uint32_t behind = static_cast<uint32_t>(now) - low_bits;
  return behind > now ? 0 : now - behind;
}

// How a store bounds its memory on a long-tailed stream, where most keys
// are seen once or twice and would each hold a slot for nothing.
struct MemoryBounds {
  // A new key gets a slot only in the admit_after-th pushed step that has
  // it; in the steps before it reads 0 and its gradients are dropped. 0 and
  // 1 admit at once. The steps are counted in a filter of fixed size whose
  // collisions can admit a key early, never late.
  uint32_t admit_after = 0;
  size_t admission_filter_bytes = size_t{16} << 20;
  // Keys not updated (nor caught up by a read) for this many steps are
  // removed; 0 never. Swept every evict_idle_steps / 4 steps.
  uint64_t evict_idle_steps = 0;
  // At the key limit, make room by removing the least recently updated
  // keys (an eighth of the full part of the store) instead of dropping new
  // keys.
  bool evict_when_full = false;
};

class WeightStore {
 public:
  // Keys a store may hold, at most, unless options say otherwise.
  static constexpr size_t kNoKeyLimit = SIZE_MAX;

  // `catch_up_interval` (a power of two, at most kCatchUpInterval) is how
  // often the sweep runs; tests choose small ones to watch it work.
  explicit WeightStore(const OptimizerOptions& options,
                       size_t max_keys = kNoKeyLimit,
                       uint64_t catch_up_interval = kCatchUpInterval);
  WeightStore(const WeightStore&) = delete;
  WeightStore& operator=(const WeightStore&) = delete;

  const Optimizer& optimizer() const { return optimizer_; }

  // Optimizer steps applied so far.
  uint64_t step() const { return step_.load(std::memory_order_acquire); }

  // Where a Pull found a key, so that a Push of the same key soon after need
  // not find it again. Push uses it only if the key's shard has not been
  // resized (or cleared) since, so a stale hint is harmless.
  struct SlotHint {
    uint32_t* slot = nullptr;  // nullptr: the key was not held
    uint64_t resizes = 0;
    uint32_t shard = 0;  // the part of the store that holds the key
  };

  // Writes each key's weight as of the current step into `weights`, catching
  // the stored state up in place. Unknown keys read 0 and create nothing.
  // With `states`, also each key's state_width() floats of state (an
  // unknown key gets the state a new key starts with); with `hints`, where
  // each key was found. Returns how many of the keys the store does not
  // hold.
  size_t Pull(absl::Span<const uint64_t> keys, absl::Span<float> weights,
              absl::Span<float> states = {}, absl::Span<SlotHint> hints = {});

  // Applies one optimizer step: `gradients[i]` to `keys[i]`. Keys must be
  // distinct. Refuses gradients that are not finite or beyond kMaxGradient
  // before changing anything. New keys
  // past the key limit are dropped and counted, existing keys still learn.
  // Returns the step number, or an error with nothing applied.
  // `hints`, if given, hold hints[i] from a Pull of keys[i] (or empty ones).
  // `scales`, if given, hold each key's largest |value| in the step's
  // examples, for --normalized; they must be finite and not negative. The
  // step then adds `step_norm` (if not given, StepNorm of its keys) to the
  // normalizer.
  absl::StatusOr<uint64_t> Push(absl::Span<const uint64_t> keys,
                                absl::Span<const float> gradients,
                                absl::Span<const SlotHint> hints = {},
                                absl::Span<const float> scales = {},
                                std::optional<double> step_norm = {});

  // One example as one optimizer step, the way local training with batches
  // of one takes it; with `learn` false the example is only scored. It does
  // what Pull, Minibatch::Compute (with `scales` for --normalized) and Push
  // do, in the same order and arithmetic, so the model is bit for bit the
  // same, but finds each key once and keeps no arrays in between (a pass
  // over cached examples takes an eighth less time). The features' keys
  // must be distinct.
  //
  // With `pushed`, a worker's copy of the servers' keys learns and records
  // the step to send on: what it pushed and the step's norm. An example
  // with a key the copy lacks is then only counted (`absent`): the key must
  // be fetched before the example can learn.
  struct PushedStep {
    std::vector<uint64_t> keys;
    std::vector<float> gradients;
    std::vector<float> scales;  // with `scales`
    double norm = 0;            // summed over the keys, with `scales`
  };
  struct ExampleResult {
    float margin = 0;
    uint64_t step = 0;  // the step taken, if the example learned
    // Gradients left out because they were not finite, and clipped to
    // +-kMaxGradient, as Minibatch counts them.
    uint32_t non_finite_gradients = 0;
    uint32_t clipped_gradients = 0;
    uint32_t absent = 0;  // with `pushed`: keys the store lacks
  };
  ExampleResult LearnExample(absl::Span<const Feature> features, float base,
                             float label, float importance, Loss loss,
                             bool learn, bool scales,
                             PushedStep* pushed = nullptr);

  // Applies consecutive optimizer steps, as a Push per step would (a
  // server's batch from one worker): step i holds the next step_sizes[i]
  // keys, gradients and scales, and, with scales, the norm step_norms[i].
  // Each part of the store is locked once and its keys applied together, in
  // step order: no lock per key for concurrent batches to pass between
  // cores, and the part's slots stay in cache. Returns the last step, or an
  // error with nothing applied.
  absl::StatusOr<uint64_t> PushSteps(absl::Span<const uint64_t> keys,
                                     absl::Span<const float> gradients,
                                     absl::Span<const float> scales,
                                     absl::Span<const uint32_t> step_sizes,
                                     absl::Span<const double> step_norms);

  // --normalized (after Ross, Mineiro and Langford's NAG): a step's norm,
  // the sum over its keys of (scale / s)^2 with s the key's scale once this
  // step has raised it. Step t is scaled by sqrt((t - 1) / N), N the sum of
  // the norms of the steps before it (the first step by 1 / sqrt(its own
  // norm)): steps of examples with many features are smaller. A worker
  // computes it on its copy, which holds all of a step's keys, and sends it
  // to every shard. 0 for an optimizer without --normalized.
  double StepNorm(absl::Span<const uint64_t> keys,
                  absl::Span<const float> scales,
                  absl::Span<const SlotHint> hints = {}) const;
  // N, as model files keep it.
  double norm_sum() const { return norm_sum_.load(std::memory_order_acquire); }
  void SetNormSum(double sum) {
    norm_sum_.store(sum, std::memory_order_release);
  }

  // Asks the memory system for `key`'s slot ahead of a Pull or Push, so that
  // the learner overlaps the next example's cache misses with this one's
  // work. Only a hint: it changes nothing and takes no lock.
  void Prefetch(uint64_t key) const {
    const uint64_t mixed = Mix(key);
    const Shard& shard = ShardFor(mixed);
    const uint32_t* words = shard.words_hint.load(std::memory_order_relaxed);
    const size_t capacity = shard.capacity_hint.load(std::memory_order_relaxed);
    if (capacity == 0) return;
    // A stale pointer and a newer capacity may meet here; prefetching a
    // wrong address is harmless. The line after the home slot's too: a slot
    // can straddle two lines, and probing walks on into the next one.
    const char* slot = reinterpret_cast<const char*>(
        words + SlotIndex(mixed, capacity) * stride_);
    __builtin_prefetch(slot);
    __builtin_prefetch(slot + 64);
  }

  // How many of `keys` the store does not hold.
  size_t CountAbsent(absl::Span<const uint64_t> keys) const;

  // The entry for `key` caught up to the current step (on a copy: the store
  // is unchanged), or nullopt if the key has never had a gradient.
  std::optional<Entry> Lookup(uint64_t key) const;

  // `entry` brought up to the current step, as Lookup returns it.
  Entry CaughtUp(Entry entry) const;

  // Calls `visit` for every entry as stored (not caught up), shard by shard,
  // holding the shard's lock: `visit` must not call back into the store.
  // Entries pushed meanwhile may or may not be seen.
  void ForEach(const std::function<void(const Entry&)>& visit) const;

  // Adds or replaces an entry, as loading a model does; one at least
  // catch_up_interval steps behind the store's step is caught up as it goes
  // in. Fails past the key limit.
  absl::Status Insert(const Entry& entry);
  // Removes every entry and sets the step to 0, keeping the tables' memory
  // for reuse (a worker's copy of a round's keys).
  void Clear();
  // Sizes the tables for `keys` keys in all, so that inserting them grows
  // nothing: loading a model calls it with the model's entry count.
  void Reserve(size_t keys);
  // Sets the step counter, as loading a model does before it inserts the
  // model's entries. Entries already held must not be 2^31 steps behind it.
  void SetStep(uint64_t step) { step_.store(step, std::memory_order_release); }
  // Takes `count` steps in which no coordinate gets a gradient, as that many
  // empty pushes would, in at most one sweep per catch_up_interval steps.
  void AdvanceIdleSteps(uint64_t count);

  // Sets how the store bounds its memory; call before the first push.
  void SetMemoryBounds(const MemoryBounds& bounds);

  // Whether several threads may use the store at once (the default). A
  // store that one thread alone touches, as in local training, may say
  // false: Pull and Push then skip the per-key locks, about 6% of local
  // training's time. Call before the store is used.
  void SetSharedBetweenThreads(bool shared) {
    shared_between_threads_ = shared;
  }
  bool shared_between_threads() const { return shared_between_threads_; }
  const MemoryBounds& memory_bounds() const { return bounds_; }
  // Keys given a slot through admission, updates dropped before it, keys
  // evicted, and the longest a sweep held one part of the store (what a
  // push may wait for).
  uint64_t admitted_keys() const { return admitted_keys_.load(); }
  uint64_t not_admitted_updates() const { return not_admitted_updates_.load(); }
  uint64_t evicted_keys() const { return evicted_keys_.load(); }
  absl::Duration longest_eviction_pause() const {
    return absl::Nanoseconds(longest_eviction_pause_nanos_.load());
  }

  size_t size() const;
  // Bytes held by the tables: every slot, used or not.
  size_t bytes() const;
  size_t max_keys() const { return max_keys_; }
  // Updates refused: keys over the limit, or updates whose result was not
  // finite (the coordinate keeps its old value).
  uint64_t dropped_new_keys() const { return dropped_new_keys_.load(); }
  uint64_t non_finite_updates() const { return non_finite_updates_.load(); }

 private:
  static constexpr int kShardBits = 6;
  static constexpr int kShardCount = 1 << kShardBits;

  struct alignas(64) Shard {
    mutable SpinLock mutex;
    std::unique_ptr<uint32_t[]> words ABSL_GUARDED_BY(mutex);
    size_t capacity ABSL_GUARDED_BY(mutex) = 0;
    size_t size ABSL_GUARDED_BY(mutex) = 0;
    // Times the slots moved or were emptied: what a SlotHint is checked by.
    uint64_t resizes ABSL_GUARDED_BY(mutex) = 0;
    // Admission counts of keys not yet admitted (MemoryBounds).
    std::unique_ptr<uint8_t[]> admission ABSL_GUARDED_BY(mutex);
    size_t admission_size ABSL_GUARDED_BY(mutex) = 0;
    // Copies of words and capacity for Prefetch, which reads them unlocked.
    std::atomic<const uint32_t*> words_hint{nullptr};
    std::atomic<size_t> capacity_hint{0};
  };

  // hints[i]'s slot if there is one and `shard` has not moved its slots
  // since; else nullptr.
  static uint32_t* HintedSlot(absl::Span<const SlotHint> hints, size_t i,
                              const Shard& shard)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex) {
    return !hints.empty() && hints[i].slot != nullptr &&
                   hints[i].resizes == shard.resizes
               ? hints[i].slot
               : nullptr;
  }
  // While at keys[i] of a long batch, prefetches a key further on.
  void PrefetchAhead(absl::Span<const uint64_t> keys, size_t i) const;

  static uint64_t Mix(uint64_t key) {
    // Keys are usually hashes already; mixing keeps crafted keys from piling
    // into one shard or one probe run.
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ULL;
    key ^= key >> 33;
    return key;
  }
  // The first slot to probe for a key whose mix is `mixed`. Multiply-shift
  // maps onto any capacity, so shards can grow by 1.5x; the shard's own bits
  // are shifted out first.
  static size_t SlotIndex(uint64_t mixed, size_t capacity) {
    const unsigned __int128 product =
        static_cast<unsigned __int128>(mixed << kShardBits) * capacity;
    return static_cast<size_t>(product >> 64);
  }
  static uint32_t ShardIndex(uint64_t mixed) {
    return static_cast<uint32_t>(mixed >> (64 - kShardBits));
  }
  Shard& ShardFor(uint64_t mixed) const { return shards_[ShardIndex(mixed)]; }
  // The slot holding `key`, or nullptr.
  uint32_t* Find(const Shard& shard, uint64_t key, uint64_t mixed) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex);
  // The slot for `key`, created empty-of-state if new; nullptr at the limit.
  // A `pushed` key also passes admission, and may evict to make room
  // (MemoryBounds); a loaded one neither.
  uint32_t* FindOrCreate(Shard& shard, uint64_t key, uint64_t mixed,
                         bool* created, bool pushed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex);
  void Grow(Shard& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex);
  // Counts a step that has the absent key `mixed`; whether it is admitted.
  bool Admit(Shard& shard, uint64_t mixed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex);
  // Rebuilds the shard's table without the slots whose full step (against
  // `now`) is at or below `oldest_evicted`; how many went.
  size_t EvictUpTo(Shard& shard, uint64_t oldest_evicted, uint64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex);
  // Removes, shard by shard, every key idle for evict_idle_steps at `now`.
  void EvictIdle(uint64_t now);
  // Makes room in a full store by evicting the shard's least recently
  // updated keys; whether any went.
  bool EvictOldest(Shard& shard, uint64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex);
  // EvictOldest on `shard`, or on another part that is free if `shard` has
  // nothing to evict; whether any key went.
  bool MakeRoom(Shard& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex);
  void NotePause(absl::Time start);
  // Moves the shard's slots into a table of `capacity` slots.
  void Resize(Shard& shard, size_t capacity)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex);
  // Push once its input passed CheckStep; the step taken. `summed_norm`,
  // if given, gets the norm the step added to the normalizer.
  uint64_t ApplyStep(absl::Span<const uint64_t> keys,
                     absl::Span<const float> gradients,
                     absl::Span<const SlotHint> hints,
                     absl::Span<const float> scales,
                     std::optional<double> step_norm,
                     double* summed_norm = nullptr);
  // The refusals Push makes before it changes anything.
  static absl::Status CheckStep(absl::Span<const uint64_t> keys,
                                absl::Span<const float> gradients,
                                absl::Span<const float> scales,
                                std::optional<double> step_norm);
  // --normalized: step t's rate, from the norms of the steps before it or,
  // with none, from its own.
  static float StepRate(uint64_t t, double norms_before, double own_norm);
  // Catches the slot up to the step before factors.step and applies
  // `gradient` at it; false, with the slot unchanged, if the result is not
  // finite.
  bool ApplyAt(uint32_t* slot, bool created, float gradient,
               const StepFactors& factors, float scale) const;
  void AddToNormSum(double norm);
  // Brings a slot's state to `to_step`.
  void CatchUp(uint32_t* slot, uint64_t to_step) const;
  // Catches up, to `now`, every coordinate catch_up_interval_ or more steps
  // behind it; one shard at a time, so pushes to other shards go on.
  void CatchUpIdle(uint64_t now);
  // Optimizer::CatchUp, unless its result is not finite: then the weight and
  // state keep their values and the update is counted as non-finite.
  void FiniteCatchUp(float& weight, float* state, uint64_t last_step,
                     uint64_t to_step) const;
  // The slot as stored, its step made whole against `now`.
  void ReadEntry(const uint32_t* slot, uint64_t now, Entry* entry) const;

  const Optimizer optimizer_;
  const size_t stride_;  // words per slot
  const size_t max_keys_;
  const uint64_t catch_up_interval_;
  std::atomic<uint64_t> step_{0};
  std::atomic<double> norm_sum_{0};
  std::atomic<size_t> size_{0};
  std::atomic<uint64_t> dropped_new_keys_{0};
  MemoryBounds bounds_;
  bool shared_between_threads_ = true;
  uint64_t evict_every_ = 0;  // steps between idle sweeps; 0 for none
  std::atomic<uint64_t> admitted_keys_{0};
  std::atomic<uint64_t> not_admitted_updates_{0};
  std::atomic<uint64_t> evicted_keys_{0};
  std::atomic<int64_t> longest_eviction_pause_nanos_{0};
  mutable std::atomic<uint64_t> non_finite_updates_{0};
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace adaline

#endif  // ADALINE_CORE_WEIGHT_STORE_H_
