// ExampleStream: parses on a background thread while the caller learns, so
// reading, parsing and learning overlap on two cores. Blocks go round a
// fixed pool: the parser fills free ones, the caller reads and returns them.
//
// Not thread-safe for callers: one thread calls Next(); the parser thread is
// its own. bad_lines() counts the lines skipped so far (--max-bad-lines).
#ifndef ADALINE_DATA_EXAMPLE_STREAM_H_
#define ADALINE_DATA_EXAMPLE_STREAM_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "data/example_block.h"
#include "data/example_reader.h"

namespace adaline {

class ExampleStream {
 public:
  static constexpr size_t kDefaultBlockExamples = 1024;

  explicit ExampleStream(ReaderOptions options,
                         size_t block_examples = kDefaultBlockExamples,
                         int block_count = 4);
  // Stops the parser early if the caller did not read to the end.
  ~ExampleStream();
  ExampleStream(const ExampleStream&) = delete;
  ExampleStream& operator=(const ExampleStream&) = delete;

  // The next block, or nullptr at the end of the pass (then see status()).
  // The block returned before is handed back to the parser.
  const ExampleBlock* Next();

  // The pass's outcome, once Next() has returned nullptr.
  absl::Status status() const;
  uint64_t bad_lines() const;
  std::string first_bad_line() const;

 private:
  void Produce();

  ExampleReader reader_;
  const size_t block_examples_;
  std::vector<std::unique_ptr<ExampleBlock>> pool_;
  ExampleBlock* in_use_ = nullptr;

  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks,
  // not those of Debian's uninstrumented Abseil.
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<ExampleBlock*> filled_ ABSL_GUARDED_BY(mutex_);
  std::deque<ExampleBlock*> free_ ABSL_GUARDED_BY(mutex_);
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace adaline

#endif  // ADALINE_DATA_EXAMPLE_STREAM_H_
