// A shard's part of the margins of a Predict request. Each shard holds only
// the keys it owns, so it scores every example over those keys alone (the
// others count 0) and adds the example's base only on shard 0: the parts of
// all shards add up to the model's margin, computed in the same order as
// local prediction, so one shard gives exactly `adaline predict`'s margins.
//
// Thread-safe: any number of calls at once, alongside training; the scratch
// buffers are per thread.
#ifndef ADALINE_SERVER_SHARD_PREDICTIONS_H_
#define ADALINE_SERVER_SHARD_PREDICTIONS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "core/model_file.h"
#include "proto/adaline.pb.h"
#include "rpc/sharding.h"

namespace adaline {

// Checks `request` (one form of examples, sizes that add up, finite values,
// at most `max_keys` features in all), parses its lines with `config`'s
// settings, and fills `response` with this shard's part of each margin.
// Nothing of the model changes but the lazy catch-up of the keys it reads.
absl::Status AnswerPredict(const adaline::v1::PredictRequest& request,
                           const ModelConfig& config, const ShardSpec& shard,
                           size_t max_keys, WeightStore& store,
                           adaline::v1::PredictResponse* response);

}  // namespace adaline

#endif  // ADALINE_SERVER_SHARD_PREDICTIONS_H_
