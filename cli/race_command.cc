// adaline race: the optimizers side by side on one stream of the user's
// data, with the weights of the features they watch.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/feature_key.h"
#include "trainer/json_line.h"
#include "trainer/race.h"
#include "trainer/run_log.h"

namespace adaline {
namespace {

// A row of the table: examples, then each entrant's mean loss so far.
void PrintRow(std::FILE* out, const RaceStanding& standing) {
  std::fprintf(out, "%12llu",
               static_cast<unsigned long long>(standing.examples));
  for (double loss : standing.average_loss) std::fprintf(out, " %10.6f", loss);
  std::fprintf(out, "\n");
  std::fflush(out);
}

// {"event":"race", examples, seconds, optimizer, losses, watched weights}.
JsonLine StandingJson(const RaceStanding& standing, size_t entrant,
                      const std::string& optimizer,
                      const std::vector<std::string>& watched) {
  JsonLine weights;
  for (size_t w = 0; w < watched.size(); ++w) {
    weights.Number(watched[w], standing.weights[entrant][w]);
  }
  return JsonLine()
      .Text("event", "race")
      .Count("examples", standing.examples)
      .Number("seconds", standing.seconds)
      .Text("optimizer", optimizer)
      .Number("average_loss", standing.average_loss[entrant])
      .Number("since_last", standing.since_last[entrant])
      .Raw("weights", weights.Finish());
}

}  // namespace

int RunRace() {
  absl::StatusOr<std::vector<RaceEntrant>> entrants = RaceEntrantsFromFlags();
  if (!entrants.ok()) return Fail("race", entrants.status());
  // Data options read the model's loss, bias and crosses: the entrants
  // share them (only optimizers differ).
  absl::StatusOr<ReaderOptions> data =
      ReaderOptionsFromFlags((*entrants)[0].model.config,
                             /*require_label=*/false);
  if (!data.ok()) return Fail("race", data.status());
  RaceOptions options;
  options.data = *std::move(data);
  const std::vector<std::string> watched = absl::GetFlag(FLAGS_watch);
  for (const std::string& name : watched) {
    options.watched_keys.push_back(FeatureKeyForName(name));
  }
  absl::StatusOr<std::unique_ptr<RunLog>> log = RunLogFromFlags();
  if (!log.ok()) return Fail("race", log.status());

  std::vector<std::string> names;
  for (const RaceEntrant& entrant : *entrants) names.push_back(entrant.name);
  std::FILE* reports = ReportsFromFlags();
  if (reports != nullptr) {
    std::fprintf(reports, "adaline race: %s on %s\n",
                 absl::StrJoin(names, ", ").c_str(),
                 absl::StrJoin(options.data.files, ",").c_str());
    std::fprintf(reports, "%12s", "examples");
    for (const std::string& name : names) {
      std::fprintf(reports, " %10s", name.c_str());
    }
    std::fprintf(reports, "\n");
  }
  // The table has a row per doubling of the examples, as `train`'s.
  absl::StatusOr<RaceStanding> final_standing =
      Race(options, *entrants, [&](const RaceStanding& standing, bool last) {
        const uint64_t n = standing.examples;
        if (reports != nullptr && ((n & (n - 1)) == 0 || last)) {
          PrintRow(reports, standing);
        }
        if (*log == nullptr) return;
        for (size_t e = 0; e < names.size(); ++e) {
          (*log)->Write(StandingJson(standing, e, names[e], watched));
        }
      });
  if (!final_standing.ok()) return Fail("race", final_standing.status());
  if (*log != nullptr) {
    if (absl::Status s = (*log)->Close(); !s.ok()) return Fail("race", s);
  }
  if (reports != nullptr && !watched.empty()) {
    std::fprintf(reports, "\nweights after %llu examples\n",
                 static_cast<unsigned long long>(final_standing->examples));
    std::fprintf(reports, "%-30s", "feature");
    for (const std::string& name : names) {
      std::fprintf(reports, " %10s", name.c_str());
    }
    std::fprintf(reports, "\n");
    for (size_t w = 0; w < watched.size(); ++w) {
      std::fprintf(reports, "%-30s", watched[w].c_str());
      for (size_t e = 0; e < names.size(); ++e) {
        std::fprintf(reports, " %10.4f", final_standing->weights[e][w]);
      }
      std::fprintf(reports, "\n");
    }
  }
  return 0;
}

}  // namespace adaline
