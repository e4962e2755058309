// ReadAhead: fills example blocks on a background thread while the caller
// learns from the ones before, so that reading and decoding a pass's blocks
// (the example cache's later passes) costs the learner no time. Blocks come
// out in the order they were filled, from a small fixed pool: once warm,
// nothing is allocated.
//
// Not thread-safe for callers: one thread calls Next(). `fill` runs on the
// background thread only, one call at a time; whatever it owns (a
// CacheReader) may be read by the caller once Next() has returned nullptr.
#ifndef ADALINE_DATA_READ_AHEAD_H_
#define ADALINE_DATA_READ_AHEAD_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "data/example_block.h"

namespace adaline {

class ReadAhead {
 public:
  // Fills the block it is given with the next one; false at the end (the
  // block is then not handed out).
  using Fill = std::function<bool(ExampleBlock*)>;

  // Starts filling at once, up to `blocks` blocks ahead of the caller.
  explicit ReadAhead(Fill fill, size_t blocks = 3);
  // Stops the thread, after the block it is filling, if the caller did not
  // read to the end.
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // The next block, or nullptr at the end. The block returned before goes
  // back to the pool.
  const ExampleBlock* Next();

 private:
  void Run();

  // Blocks go round the pool in order: block n is pool_[n % size].
  const Fill fill_;
  std::vector<ExampleBlock> pool_;
  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t filled_ = 0;      // guarded by mutex_
  uint64_t returned_ = 0;    // guarded by mutex_: done with by the caller
  bool ended_ = false;       // guarded by mutex_: fill said false
  bool stopping_ = false;    // guarded by mutex_
  uint64_t handed_out_ = 0;  // the caller's thread only
  std::thread thread_;       // last: starts once the rest is ready
};

}  // namespace adaline

#endif  // ADALINE_DATA_READ_AHEAD_H_
