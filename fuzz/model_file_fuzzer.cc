// Fuzzes the model and checkpoint loader. Half the inputs get their trailing
// checksum recomputed, so mutations reach the code behind the checksum check
// (a deliberately crafted file passes it too).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/model_file.h"
#include "fuzz/fuzz_check.h"
#include "google/protobuf/stubs/logging.h"
#include "xxhash.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Mutated headers hold invalid UTF-8 at every turn; the loader's own
  // message is what matters, not protobuf's log line.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  if (size == 0) return 0;
  const bool fix_checksum = data[0] & 1;
  std::vector<uint8_t> bytes(data + 1, data + size);
  if (fix_checksum && bytes.size() >= sizeof(uint64_t)) {
    const size_t body = bytes.size() - sizeof(uint64_t);
    const uint64_t checksum = XXH3_64bits(bytes.data(), body);
    std::memcpy(bytes.data() + body, &checksum, sizeof checksum);
  }
  std::FILE* file = fmemopen(bytes.data(), bytes.size(), "rb");
  if (file == nullptr) return 0;  // fmemopen refuses empty buffers
  // A key limit keeps a crafted entry count from exhausting memory.
  absl::StatusOr<adaline::Model> model =
      adaline::ReadModel(file, "fuzzed.model", /*max_keys=*/1 << 16);
  std::fclose(file);
  if (!model.ok()) {
    FUZZ_CHECK(model.status().message().find("fuzzed.model") !=
               absl::string_view::npos);
    return 0;
  }
  // A model that loads is usable: every weight finite, and it trains on.
  adaline::WeightStore& store = *model->store;
  std::vector<uint64_t> keys;
  store.ForEach([&](const adaline::Entry& entry) {
    FUZZ_CHECK(std::isfinite(entry.weight));
    if (keys.size() < 16) keys.push_back(entry.key);
  });
  std::vector<float> gradients(keys.size(), 0.5f);
  FUZZ_CHECK(store.Push(keys, gradients).ok());
  std::vector<float> weights(keys.size());
  store.Pull(keys, absl::MakeSpan(weights));
  for (float weight : weights) FUZZ_CHECK(std::isfinite(weight));
  return 0;
}
