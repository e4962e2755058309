#include "server/shard_predictions.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "core/minibatch.h"
#include "data/example_block.h"
#include "data/parser.h"
#include "server/request_validation.h"

namespace adaline {
namespace {

// Reused by the calls of one server thread: no allocation once warm.
struct Scratch {
  ExampleBlock block;
  Minibatch batch;
  std::vector<uint64_t> owned_keys;
  std::vector<uint32_t> owned_at;
  std::vector<float> owned_weights;
};

absl::Status FillBlock(const adaline::v1::PredictRequest& request,
                       const ModelConfig& config, size_t max_keys,
                       ExampleBlock* block) {
  block->Clear();
  if (request.lines_size() > 0) {
    if (request.keys_size() > 0 || request.sizes_size() > 0) {
      return absl::InvalidArgumentError(
          "predict has both lines and hashed examples; send one form");
    }
    if (static_cast<size_t>(request.lines_size()) > max_keys) {
      return absl::ResourceExhaustedError(
          absl::StrCat("predict has ", request.lines_size(), " lines; at most ",
                       max_keys, " are allowed"));
    }
    ParseOptions parse;
    parse.binary_labels = false;  // labels play no part in a prediction
    parse.require_label = false;
    parse.bias = config.bias;
    parse.interactions = config.interactions;
    for (int i = 0; i < request.lines_size(); ++i) {
      const std::string& line = request.lines(i);
      if (IsBlankLine(line)) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", i,
                         " of the request is blank; send one "
                         "example per line"));
      }
      if (absl::Status s = ParseLine(Format::kVw, line, parse, block);
          !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", i, " of the request: ", s.message()));
      }
    }
    if (block->feature_count() > max_keys) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "predict's lines have ", block->feature_count(),
          " features with crosses; at most ", max_keys, " are allowed"));
    }
    return absl::OkStatus();
  }
  if (absl::Status s = ValidateHashedPredict(request, max_keys); !s.ok()) {
    return s;
  }
  int next = 0;
  for (int i = 0; i < request.sizes_size(); ++i) {
    const float base = request.bases_size() > 0 ? request.bases(i) : 0;
    block->Begin(/*label=*/0, /*importance=*/1, /*has_label=*/false, base);
    for (uint32_t f = 0; f < request.sizes(i); ++f, ++next) {
      block->AddFeature(request.keys(next), request.values(next));
    }
    block->End();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AnswerPredict(const adaline::v1::PredictRequest& request,
                           const ModelConfig& config, const ShardSpec& shard,
                           size_t max_keys, WeightStore& store,
                           adaline::v1::PredictResponse* response) {
  thread_local Scratch scratch;
  ExampleBlock& block = scratch.block;
  if (absl::Status s = FillBlock(request, config, max_keys, &block); !s.ok()) {
    return s;
  }
  Minibatch& batch = scratch.batch;
  batch.Clear();
  for (size_t i = 0; i < block.size(); ++i) {
    Example example = block.example(i);
    if (shard.index != 0) example.base = 0;  // added once, by shard 0
    batch.Add(example, /*learn=*/false);
  }
  const absl::Span<const uint64_t> keys = batch.keys();
  const absl::Span<float> weights = batch.weights();
  response->set_step(store.step());
  if (shard.count == 1) {
    store.Pull(keys, weights);
  } else {
    scratch.owned_keys.clear();
    scratch.owned_at.clear();
    for (size_t k = 0; k < keys.size(); ++k) {
      weights[k] = 0;
      if (!shard.Owns(keys[k])) continue;
      scratch.owned_keys.push_back(keys[k]);
      scratch.owned_at.push_back(static_cast<uint32_t>(k));
    }
    scratch.owned_weights.resize(scratch.owned_keys.size());
    store.Pull(scratch.owned_keys, absl::MakeSpan(scratch.owned_weights));
    for (size_t o = 0; o < scratch.owned_at.size(); ++o) {
      weights[scratch.owned_at[o]] = scratch.owned_weights[o];
    }
  }
  batch.Compute(config.loss);
  response->mutable_margins()->Resize(static_cast<int>(block.size()), 0.0f);
  for (size_t i = 0; i < block.size(); ++i) {
    response->set_margins(static_cast<int>(i), batch.margin(i));
  }
  response->set_loss(std::string(LossName(config.loss)));
  return absl::OkStatus();
}

}  // namespace adaline
