// SpinLock: the lock of one WeightStore shard. Held for a few nanoseconds
// per key, so it must cost no more than an atomic exchange when free; a
// waiter yields its core after a short spin because a holder may be growing
// its shard, which takes longer.
//
// Thread-safe: that is its purpose. Not reentrant; not fair.
#ifndef ADALINE_CORE_SPIN_LOCK_H_
#define ADALINE_CORE_SPIN_LOCK_H_

#include <atomic>
#include <thread>

#include "absl/base/thread_annotations.h"

namespace adaline {

// Tells the core that this thread is spinning, so a hyper-threaded sibling
// gets the pipeline; a no-op where the architecture has no such hint.
inline void SpinWaitHint() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#endif
}

class ABSL_LOCKABLE SpinLock {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 64) {
          SpinWaitHint();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  // Takes the lock if it is free; never waits.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    locked_.store(false, std::memory_order_release);
  }

 private:
  std::atomic<bool> locked_{false};
};

class ABSL_SCOPED_LOCKABLE SpinLockHolder {
 public:
  explicit SpinLockHolder(SpinLock& lock) ABSL_EXCLUSIVE_LOCK_FUNCTION(lock)
      : SpinLockHolder(lock, /*take=*/true) {}
  // Takes the lock only if `take`: for data that only one thread can be
  // using at the time (see WeightStore::SetSharedBetweenThreads).
  SpinLockHolder(SpinLock& lock, bool take) ABSL_EXCLUSIVE_LOCK_FUNCTION(lock)
      : lock_(lock), held_(take) {
    if (held_) lock_.Lock();
  }
  ~SpinLockHolder() ABSL_UNLOCK_FUNCTION() {
    if (held_) lock_.Unlock();
  }
  SpinLockHolder(const SpinLockHolder&) = delete;
  SpinLockHolder& operator=(const SpinLockHolder&) = delete;

 private:
  SpinLock& lock_;
  const bool held_;
};

}  // namespace adaline

#endif  // ADALINE_CORE_SPIN_LOCK_H_
