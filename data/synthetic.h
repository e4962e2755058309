// A generator of synthetic movie-rating logs with a known true model, for the
// bundled sample, tests and benchmarks.
//
// Each row is a user rating a movie in some context: about 22 features in
// VW format, feature popularity Zipf-distributed (a few users, movies and
// title words are everywhere, most are rare), and a few rare features with
// strong weights, like movie^is_director_nolan. The label is drawn from the
// logistic model whose weights are a fixed function of each feature's name,
// so the true model's log loss is known and reported.
//
// Pure functions of their options; safe from any thread.
#ifndef ADALINE_DATA_SYNTHETIC_H_
#define ADALINE_DATA_SYNTHETIC_H_

#include <cstdint>
#include <cstdio>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace adaline {

struct SyntheticOptions {
  uint64_t rows = 100000;
  uint64_t seed = 1;
};

struct SyntheticSummary {
  uint64_t rows = 0;
  uint64_t positives = 0;
  uint64_t features = 0;
  // Mean log loss of the true probabilities against the drawn labels.
  double true_log_loss = 0;
};

// The true weight of the feature spelled "namespace^name".
double TrueWeight(absl::string_view full_name);

// Writes options.rows VW lines to `out`.
absl::StatusOr<SyntheticSummary> WriteSyntheticRatings(
    const SyntheticOptions& options, std::FILE* out);

}  // namespace adaline

#endif  // ADALINE_DATA_SYNTHETIC_H_
