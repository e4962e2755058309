// Fuzzes request validation: whatever bytes arrive as a PushRequest, either
// they are refused, or the store applies each of its steps and stays finite.
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/optimizer.h"
#include "core/weight_store.h"
#include "fuzz/fuzz_check.h"
#include "proto/adaline.pb.h"
#include "server/request_validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Two bytes choose the shard and the optimizer (and --normalized); the
  // rest is the message.
  const uint32_t shard_count = 1 + data[0] % 4;
  const adaline::ShardSpec shard{(data[0] >> 2) % shard_count, shard_count};
  const auto kind =
      static_cast<adaline::OptimizerKind>(data[1] % 9);  // every optimizer
  adaline::v1::PushRequest request;
  if (!request.ParseFromArray(data + 2, static_cast<int>(size - 2))) return 0;

  const absl::Status valid =
      adaline::ValidatePush(request, shard, /*max_keys=*/1024);
  if (!valid.ok()) {
    FUZZ_CHECK(!valid.message().empty());
    return 0;
  }
  adaline::OptimizerOptions options = adaline::OptimizerOptions::Defaults(kind);
  options.normalized = (data[1] / 9) % 2 == 1;
  adaline::WeightStore store(options);
  const absl::Span<const uint64_t> keys(request.keys().data(),
                                        request.keys_size());
  const absl::Span<const float> gradients(request.gradients().data(),
                                          request.gradients_size());
  const absl::Span<const float> scales(request.scales().data(),
                                       request.scales_size());
  // Step by step as a shard applies it; twice, so the second pass catches
  // up state the first one made.
  for (int pass = 0; pass < 2; ++pass) {
    int index = 0;
    FUZZ_CHECK(adaline::ForEachStep(request, [&](int begin, int end) {
                 const std::optional<double> norm =
                     request.step_norms_size() > 0
                         ? std::optional<double>(request.step_norms(index))
                         : std::nullopt;
                 ++index;
                 return store
                     .Push(keys.subspan(begin, end - begin),
                           gradients.subspan(begin, end - begin), {},
                           scales.empty() ? scales
                                          : scales.subspan(begin, end - begin),
                           norm)
                     .status();
               }).ok());
  }
  std::vector<float> weights(keys.size());
  store.Pull(keys, absl::MakeSpan(weights));
  for (float weight : weights) FUZZ_CHECK(std::isfinite(weight));
  return 0;
}
