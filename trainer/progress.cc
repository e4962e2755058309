#include "trainer/progress.h"

namespace adaline {

void ProgressTable::PrintHeader() const {
  if (out_ == nullptr) return;
  std::fprintf(out_, "%14s %14s %14s %14s\n", "examples", "average loss",
               "since last", "examples/s");
}

void ProgressTable::PrintLine() {
  const double since_weight = weight_sum_ - last_weight_sum_;
  const double since =
      since_weight > 0 ? (loss_sum_ - last_loss_sum_) / since_weight : 0;
  const double average = weight_sum_ > 0 ? loss_sum_ / weight_sum_ : 0;
  const double elapsed = seconds();
  const double speed =
      elapsed > 0 ? static_cast<double>(examples_) / elapsed : 0.0;
  if (out_ != nullptr) {
    std::fprintf(out_, "%14llu %14.6f %14.6f %14.0f\n",
                 static_cast<unsigned long long>(examples_), average, since,
                 speed);
    std::fflush(out_);
  }
  if (log_ != nullptr) {
    log_->Write(JsonLine()
                    .Text("event", "progress")
                    .Count("examples", examples_)
                    .Number("average_loss", average)
                    .Number("since_last", since)
                    .Number("examples_per_second", speed)
                    .Number("seconds", elapsed));
  }
  last_line_examples_ = examples_;
  last_loss_sum_ = loss_sum_;
  last_weight_sum_ = weight_sum_;
  next_line_ = examples_ * 2;
}

}  // namespace adaline
