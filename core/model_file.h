// Model files: the weights, optimizer state, configuration, step counter and
// optionally feature names of a WeightStore, versioned and checksummed.
//
// Saving writes a temporary file, fsyncs it and renames it into place, so a
// reader (or a crash) never sees half a file. Loading verifies everything and
// hands out a model only when the whole file is good.
//
// Free functions, safe from any thread on different files; a store being
// saved may be pushed to meanwhile (see SnapshotModel).
#ifndef ADALINE_CORE_MODEL_FILE_H_
#define ADALINE_CORE_MODEL_FILE_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/feature_names.h"
#include "core/interactions.h"
#include "core/loss.h"
#include "core/optimizer.h"
#include "core/weight_store.h"
#include "proto/model.pb.h"

namespace adaline {

// What a model is besides its weights.
struct ModelConfig {
  OptimizerOptions optimizer;
  Loss loss = Loss::kLogistic;
  bool bias = true;
  // Crosses the parser adds to every example.
  Interactions interactions;
};

struct Model {
  ModelConfig config;
  std::unique_ptr<WeightStore> store;
  FeatureNames names;
  // Read from a weights-only file: its optimizer state is lost, so it can
  // predict but not train on.
  bool weights_only = false;
  // Shard shard_index of shard_count, for a shard's checkpoint; a whole
  // model has shard_count 0.
  uint32_t shard_index = 0;
  uint32_t shard_count = 0;
};

adaline::v1::OptimizerConfig ToProto(const OptimizerOptions& options);
absl::StatusOr<OptimizerOptions> FromProto(
    const adaline::v1::OptimizerConfig& config);

// A model copied out of its store, ready to be written.
struct ModelSnapshot {
  ModelConfig config;
  uint64_t step = 0;
  int state_width = 0;
  std::vector<Entry> entries;
  const FeatureNames* names = nullptr;  // not copied; must outlive the write
  bool weights_only = false;
  double norm_sum = 0;
  uint32_t shard_index = 0;
  uint32_t shard_count = 0;  // 0: a whole model
};

// Copies `store`; entries pushed meanwhile may or may not be included, so a
// caller that needs whole batches stops pushes while it snapshots.
ModelSnapshot SnapshotModel(const ModelConfig& config, const WeightStore& store,
                            const FeatureNames* names);

// Writes a snapshot to `path` atomically: temporary file, fsync, rename.
absl::Status WriteModel(const std::string& path, const ModelSnapshot& snapshot);

// Writes `store` (and `names`, if not null) to `path` atomically.
absl::Status SaveModel(const std::string& path, const ModelConfig& config,
                       const WeightStore& store, const FeatureNames* names);

// The weights of `snapshot` caught up to its step, for prediction only: no
// optimizer state, weights of 0 (L1's) left out. `store` is the snapshot's.
ModelSnapshot WeightsOnly(ModelSnapshot snapshot, const WeightStore& store);

// Its weights that are not 0, caught up to the store's step.
uint64_t CountNonZeroWeights(const WeightStore& store);

// Whether the file at `path` starts as every model file does (its magic
// bytes): cheap, and no proof that the rest is sound.
bool StartsLikeModelFile(const std::string& path);

// Reads a model written by SaveModel. Refuses, naming the problem, a file
// that is missing, truncated, corrupt or of another format version.
absl::StatusOr<Model> LoadModel(const std::string& path,
                                size_t max_keys = WeightStore::kNoKeyLimit);

// LoadModel from an open file; `path` names it in messages.
absl::StatusOr<Model> ReadModel(std::FILE* file, const std::string& path,
                                size_t max_keys = WeightStore::kNoKeyLimit);

// The first difference between two configurations, as "--flag is X but the
// model has Y", or an empty string if they agree.
std::string ConfigDifference(const ModelConfig& flags,
                             const ModelConfig& model);

}  // namespace adaline

#endif  // ADALINE_CORE_MODEL_FILE_H_
