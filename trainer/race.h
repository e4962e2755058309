// Race: one model per optimizer, trained side by side on a single parse of
// the data. Every model scores an example before it learns from it
// (progressive validation), so their losses compare like for like; the
// weights of watched features show how each optimizer treats a rare one.
// This is `adaline race`, the project's story told on the user's data.
//
// Race runs on the calling thread (plus the stream's parsing threads) and
// owns the models it is given for the duration.
#ifndef ADALINE_TRAINER_RACE_H_
#define ADALINE_TRAINER_RACE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model_file.h"
#include "data/example_reader.h"

namespace adaline {

struct RaceEntrant {
  std::string name;  // as the table and the JSON lines show it
  Model model;       // config and an empty (or resumed) store
};

// The state of the race after `examples` examples.
struct RaceStanding {
  uint64_t examples = 0;
  double seconds = 0;
  // Per entrant: importance-weighted mean progressive loss so far, and
  // since the previous standing.
  std::vector<double> average_loss;
  std::vector<double> since_last;
  // weights[e][w]: entrant e's weight of watched feature w now.
  std::vector<std::vector<float>> weights;
};

struct RaceOptions {
  ReaderOptions data;
  std::vector<uint64_t> watched_keys;
  // Standings are taken at this many example counts per doubling (at
  // 2^(k/n), rounded: the powers of two among them), and at the end.
  int standings_per_doubling = 4;
};

// Called with each standing as it is taken; `last` for the final one.
using RaceObserver = std::function<void(const RaceStanding&, bool last)>;

// Trains every entrant on options.data. Returns the final standing.
absl::StatusOr<RaceStanding> Race(const RaceOptions& options,
                                  std::vector<RaceEntrant>& entrants,
                                  const RaceObserver& observe);

}  // namespace adaline

#endif  // ADALINE_TRAINER_RACE_H_
