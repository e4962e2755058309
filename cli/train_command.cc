// adaline train: local training from data files to a model file.
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "trainer/local_trainer.h"
#include "trainer/training_report.h"

namespace adaline {

int Fail(const char* command, const char* message) {
  std::fprintf(stderr, "adaline %s: %s\n", command, message);
  return 1;
}

int Fail(const char* command, const absl::Status& status) {
  return Fail(command, std::string(status.message()).c_str());
}

void Report(const char* format, ...) {
  std::FILE* reports = ReportsFromFlags();
  if (reports == nullptr) return;
  std::va_list arguments;
  va_start(arguments, format);
  std::vfprintf(reports, format, arguments);
  va_end(arguments);
  std::fflush(reports);
}

absl::Status SaveWeightsIfAsked(const ModelConfig& config,
                                const WeightStore& store,
                                const FeatureNames* names) {
  const std::string path = absl::GetFlag(FLAGS_weights_out);
  if (path.empty()) return absl::OkStatus();
  const ModelSnapshot weights =
      WeightsOnly(SnapshotModel(config, store, names), store);
  if (absl::Status s = WriteModel(path, weights); !s.ok()) return s;
  Report("weights                %s (%zu non-zero)\n", path.c_str(),
         weights.entries.size());
  return absl::OkStatus();
}

absl::Status CheckWritableDestination(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  const size_t slash = path.rfind('/');
  const std::string directory =
      slash == std::string::npos ? "." : path.substr(0, slash + 1);
  if (::access(directory.c_str(), W_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write ", path, ": directory ", directory, " ",
                     errno == ENOENT ? "does not exist" : "is not writable"));
  }
  return absl::OkStatus();
}

std::string DescribeHoldout(const TrainOptions& options) {
  if (options.holdout_every == 0) return "";
  std::string text =
      absl::StrCat(", 1 example in ", options.holdout_every, " held out");
  if (options.early_stop > 0) {
    absl::StrAppend(&text, ", stopping after ", options.early_stop,
                    " passes without improvement");
  }
  return text;
}

std::string DescribeCrosses(const Interactions& interactions) {
  if (interactions.empty()) return "";
  std::string text =
      absl::StrCat(", crosses ", absl::StrJoin(interactions.Spellings(), ","));
  if (interactions.dropped_permutations() > 0) {
    absl::StrAppend(&text, " (", interactions.dropped_permutations(),
                    " dropped: another order of an earlier cross)");
  }
  return text;
}

int RunTrain() {
  absl::StatusOr<ModelConfig> config = ModelConfigFromFlags();
  if (!config.ok()) return Fail("train", config.status());
  absl::StatusOr<TrainOptions> options =
      TrainOptionsFromFlags(*config, /*local=*/true);
  if (!options.ok()) return Fail("train", options.status());
  // Where the model goes is checked before the training, not after it.
  for (const std::string& out :
       {absl::GetFlag(FLAGS_model_out), absl::GetFlag(FLAGS_weights_out)}) {
    if (absl::Status s = CheckWritableDestination(out); !s.ok()) {
      return Fail("train", s);
    }
  }

  absl::StatusOr<MemoryBounds> bounds = MemoryBoundsFromFlags();
  if (!bounds.ok()) return Fail("train", bounds.status());
  absl::StatusOr<std::unique_ptr<RunLog>> log = RunLogFromFlags();
  if (!log.ok()) return Fail("train", log.status());
  options->progress = ReportsFromFlags();
  options->log = log->get();
  Model model;
  const std::string model_in = absl::GetFlag(FLAGS_model_in);
  if (!model_in.empty()) {
    absl::StatusOr<Model> loaded = LoadModel(model_in, MaxKeysFromFlags());
    if (!loaded.ok()) return Fail("train", loaded.status());
    if (loaded->weights_only) {
      return Fail("train",
                  absl::StrCat("cannot resume ", model_in,
                               ": it holds weights only (--weights-out), "
                               "without the optimizer state training needs; "
                               "resume from a --model-out file")
                      .c_str());
    }
    const std::string difference = ConfigDifference(*config, loaded->config);
    if (!difference.empty()) {
      return Fail("train",
                  absl::StrCat("cannot resume ", model_in, ": ", difference,
                               "; resume with the same settings")
                      .c_str());
    }
    model = *std::move(loaded);
    // A model with names stays one: its new features are named too.
    if (model.names.size() > 0) {
      options->keep_names = true;
      options->data.parse.keep_names = true;
    }
  } else {
    model.config = *config;
    model.store =
        std::make_unique<WeightStore>(config->optimizer, MaxKeysFromFlags());
  }
  model.store->SetMemoryBounds(*bounds);

  const OptimizerOptions& o = model.config.optimizer;
  Report(
      "adaline train: %s, optimizer %s (lr %g), loss %s, lazy %s, batch %llu, "
      "%s%llu pass%s%s%s%s\n",
      absl::StrJoin(options->data.files, ",").c_str(),
      std::string(OptimizerName(o.kind)).c_str(), o.learning_rate,
      std::string(LossName(model.config.loss)).c_str(),
      std::string(LazyModeName(o.lazy)).c_str(),
      static_cast<unsigned long long>(options->batch_size),
      options->early_stop > 0 ? "up to " : "",
      static_cast<unsigned long long>(options->passes),
      options->passes == 1 ? "" : "es", DescribeHoldout(*options).c_str(),
      DescribeCrosses(config->interactions).c_str(),
      model_in.empty() ? ""
                       : absl::StrCat(", resuming ", model_in, " at step ",
                                      model.store->step())
                             .c_str());
  absl::StatusOr<TrainResult> result = Train(*options, &model);
  if (!result.ok()) return Fail("train", result.status());

  const WeightStore& store = *model.store;
  const ModelSummary summary{store.size(),
                             store.bytes(),
                             store.step(),
                             store.non_finite_updates(),
                             CountNonZeroWeights(store),
                             store.admitted_keys(),
                             store.not_admitted_updates(),
                             store.evicted_keys(),
                             store.longest_eviction_pause()};
  PrintTrainingReport(ReportsFromFlags(), *options, model.config.loss, *result,
                      summary);
  if (*log != nullptr) {
    (*log)->Write(
        TrainingReportJson(*options, model.config.loss, *result, summary));
    if (absl::Status s = (*log)->Close(); !s.ok()) return Fail("train", s);
  }

  const std::string model_out = absl::GetFlag(FLAGS_model_out);
  if (!model_out.empty()) {
    absl::Status saved =
        SaveModel(model_out, model.config, store,
                  options->keep_names ? &model.names : nullptr);
    if (!saved.ok()) return Fail("train", saved);
    Report("model                  %s\n", model_out.c_str());
  }
  absl::Status weights = SaveWeightsIfAsked(
      model.config, store, options->keep_names ? &model.names : nullptr);
  if (!weights.ok()) return Fail("train", weights);
  return 0;
}

}  // namespace adaline
