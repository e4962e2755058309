// The progress table printed while training: a line at doubling example
// counts with the progressive validation loss (each example scored before it
// is learned from), the loss since the previous line and the speed; each
// line also goes to the run's JSON log when there is one.
//
// Not thread-safe: the learner thread owns it.
#ifndef ADALINE_TRAINER_PROGRESS_H_
#define ADALINE_TRAINER_PROGRESS_H_

#include <cstdint>
#include <cstdio>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "trainer/run_log.h"

namespace adaline {

class ProgressTable {
 public:
  // Either may be null: no table, no JSON lines.
  ProgressTable(std::FILE* out, RunLog* log)
      : out_(out), log_(log), start_(absl::Now()) {}

  // Records one learned example's loss and importance.
  void Add(double loss, double importance) {
    loss_sum_ += loss * importance;
    weight_sum_ += importance;
    ++examples_;
    if (examples_ == next_line_) PrintLine();
  }
  void PrintHeader() const;
  // A last line for the examples since the last one, if any.
  void Finish() {
    if (examples_ != last_line_examples_) PrintLine();
  }
  uint64_t examples() const { return examples_; }
  // Importance-weighted sums of the examples' losses and importances.
  double loss_sum() const { return loss_sum_; }
  double weight_sum() const { return weight_sum_; }
  double seconds() const { return absl::ToDoubleSeconds(absl::Now() - start_); }

 private:
  void PrintLine();

  std::FILE* out_;
  RunLog* log_;
  absl::Time start_;
  uint64_t examples_ = 0;
  uint64_t next_line_ = 1;
  uint64_t last_line_examples_ = 0;
  double loss_sum_ = 0, weight_sum_ = 0;
  double last_loss_sum_ = 0, last_weight_sum_ = 0;
};

}  // namespace adaline

#endif  // ADALINE_TRAINER_PROGRESS_H_
