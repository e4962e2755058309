#include "fuzz/read_examples.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  adaline::ReadExamplesOf(data, size, adaline::Format::kVw);
  return 0;
}
