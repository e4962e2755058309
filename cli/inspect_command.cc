// adaline inspect: weights and optimizer state of a model's features.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/feature_line.h"
#include "cli/flags.h"
#include "core/feature_key.h"
#include "core/hyperparameters.h"
#include "core/model_file.h"

namespace adaline {
namespace {

std::string NameOf(const Model& model, uint64_t key) {
  const std::string* name = model.names.Find(key);
  return name != nullptr ? *name : absl::StrCat("#", key);
}

// What the model is: its settings, size and what it stores.
void PrintSummary(const std::string& path, const Model& model) {
  const OptimizerOptions& o = model.config.optimizer;
  std::vector<std::string> settings;
  for (const Hyperparameter& h : Hyperparameters()) {
    if (Uses(h, o.kind)) {
      settings.push_back(absl::StrCat(DashedFlag(h.flag), " ", h.get(o)));
    }
  }
  const WeightStore& store = *model.store;
  std::printf("model              %s\n", path.c_str());
  std::printf("loss               %s\n",
              std::string(LossName(model.config.loss)).c_str());
  std::printf("optimizer          %s (%s, lazy %s)\n",
              std::string(OptimizerName(o.kind)).c_str(),
              absl::StrJoin(settings, ", ").c_str(),
              std::string(LazyModeName(o.lazy)).c_str());
  std::printf("bias               %s\n", model.config.bias ? "yes" : "no");
  std::printf(
      "crosses            %s\n",
      model.config.interactions.empty()
          ? "none"
          : absl::StrJoin(model.config.interactions.Spellings(), ",").c_str());
  std::printf("steps              %llu\n",
              static_cast<unsigned long long>(store.step()));
  std::printf("keys               %zu\n", store.size());
  std::printf("non-zero weights   %llu\n",
              static_cast<unsigned long long>(CountNonZeroWeights(store)));
  std::printf("names stored       %zu%s\n", model.names.size(),
              model.names.size() == 0 ? " (train with --keep-names)" : "");
  std::printf("optimizer state    %s\n",
              model.weights_only ? "none (weights only: predicts, cannot "
                                   "resume)"
                                 : "kept (training can resume)");
}

// Stored names that are `name` in another namespace ("nolan" for
// "movie^nolan"), sorted, at most three: what a feature asked for without
// its namespace probably meant.
std::vector<std::string> SameNameElsewhere(const Model& model,
                                           absl::string_view name) {
  const size_t caret = name.find('^');
  const absl::string_view bare =
      caret == absl::string_view::npos ? name : name.substr(caret + 1);
  std::vector<std::string> found;
  for (const auto& [key, full] : model.names.all()) {
    const size_t at = full.find('^');
    if (at != std::string::npos &&
        absl::string_view(full).substr(at + 1) == bare && full != name) {
      found.push_back(full);
    }
  }
  std::sort(found.begin(), found.end());
  if (found.size() > 3) found.resize(3);
  return found;
}

}  // namespace

int RunInspect() {
  const std::string path = absl::GetFlag(FLAGS_model);
  if (path.empty()) return Fail("inspect", "--model is required");
  const std::vector<std::string> features = absl::GetFlag(FLAGS_feature);
  const uint64_t top = absl::GetFlag(FLAGS_top);
  const bool all = absl::GetFlag(FLAGS_all);
  const std::string format = absl::GetFlag(FLAGS_format);
  if (!format.empty() && format != "text" && format != "tsv") {
    return Fail("inspect",
                ("--format for inspect is text or tsv, not " + format).c_str());
  }
  absl::StatusOr<Model> model = LoadModel(path);
  if (!model.ok())
    return Fail("inspect", std::string(model.status().message()).c_str());
  const WeightStore& store = *model->store;
  if (features.empty() && top == 0 && !all) {
    PrintSummary(path, *model);
    return 0;
  }

  for (const std::string& name : features) {
    const uint64_t key = FeatureKeyForName(name);
    const std::optional<Entry> entry = store.Lookup(key);
    const Entry found = entry.value_or(Entry());
    const std::vector<absl::string_view> state_names =
        StateNames(model->config.optimizer);
    std::printf("%s\n", FeatureLine(name, entry.has_value(), found.weight,
                                    absl::MakeConstSpan(state_names),
                                    absl::MakeConstSpan(found.state,
                                                        state_names.size()),
                                    found.last_step)
                            .c_str());
    if (entry.has_value() || model->names.size() == 0) continue;
    if (const std::vector<std::string> guesses =
            SameNameElsewhere(*model, name);
        !guesses.empty()) {
      std::fprintf(stderr, "adaline inspect: did you mean %s?%s\n",
                   absl::StrJoin(guesses, " or ").c_str(),
                   name.find('^') == std::string::npos
                       ? " (a name without '^' is in the default namespace)"
                       : "");
    }
  }
  if (top > 0 || all) {
    // Weights as of the model's step: catch each entry up.
    std::vector<std::pair<float, uint64_t>> weights;
    store.ForEach([&](const Entry& stored) {
      if (all && model->names.Find(stored.key) == nullptr) return;
      weights.emplace_back(store.CaughtUp(stored).weight, stored.key);
    });
    auto by_magnitude = [](const auto& a, const auto& b) {
      return std::abs(a.first) > std::abs(b.first);
    };
    if (top > 0 && !all) {
      const size_t k = std::min<size_t>(top, weights.size());
      std::partial_sort(weights.begin(), weights.begin() + k, weights.end(),
                        by_magnitude);
      weights.resize(k);
    } else {
      std::sort(weights.begin(), weights.end(), by_magnitude);
    }
    for (const auto& [weight, key] : weights) {
      if (format == "tsv") {
        std::printf("%s\t%.9g\n", NameOf(*model, key).c_str(), weight);
      } else {
        std::printf("%-40s %12.6f\n", NameOf(*model, key).c_str(), weight);
      }
    }
  }
  return 0;
}

}  // namespace adaline
