// Model file speed: keys/s of SaveModel and LoadModel at a few model sizes,
// AdaGrad state, files in TEST_TMPDIR or /tmp. Loading should be linear:
// the keys/s column should not fall as models grow.
//   bazel run -c opt //bench:model_file_bench
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "core/model_file.h"

namespace adaline {
namespace {

int Main() {
  const char* root = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(root != nullptr ? root : "/tmp") +
                           "/adaline_model_file_bench." +
                           std::to_string(::getpid()) + ".model";
  std::printf("%10s %12s %12s %10s %10s\n", "keys", "save keys/s",
              "load keys/s", "save s", "load s");
  for (const size_t keys : {250000, 500000, 1000000, 2000000, 4000000}) {
    ModelConfig config;
    config.optimizer = OptimizerOptions::Defaults(OptimizerKind::kAdagrad);
    WeightStore store(config.optimizer);
    std::vector<uint64_t> batch;
    std::vector<float> gradients;
    for (size_t k = 0; k < keys; ++k) {
      batch.push_back(k * 0x9e3779b97f4a7c15ULL + 1);
      gradients.push_back(0.01f);
      if (batch.size() == 1024 || k + 1 == keys) {
        (void)store.Push(batch, gradients);
        batch.clear();
        gradients.clear();
      }
    }
    absl::Time start = absl::Now();
    if (absl::Status s = SaveModel(path, config, store, nullptr); !s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 1;
    }
    const double save = absl::ToDoubleSeconds(absl::Now() - start);
    start = absl::Now();
    absl::StatusOr<Model> loaded = LoadModel(path);
    const double load = absl::ToDoubleSeconds(absl::Now() - start);
    if (!loaded.ok() || loaded->store->size() != keys) {
      std::fprintf(stderr, "load failed\n");
      return 1;
    }
    std::printf("%10zu %12.0f %12.0f %10.3f %10.3f\n", keys, keys / save,
                keys / load, save, load);
  }
  std::remove(path.c_str());
  return 0;
}

}  // namespace
}  // namespace adaline

int main() { return adaline::Main(); }
