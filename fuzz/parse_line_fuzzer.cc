// Fuzzes ParseLine directly, many times faster than the reader fuzzers (no
// file per input), for depth in the parsers themselves: every line of the
// input is parsed as VW or LIBSVM, and a line must either add one example
// with finite numbers or add nothing and say why.
#include <cmath>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "data/parser.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t choice = data[0];
  const adaline::Format format =
      choice & 1 ? adaline::Format::kLibsvm : adaline::Format::kVw;
  adaline::ParseOptions options;
  options.binary_labels = choice & 2;
  options.require_label = choice & 4;
  options.bias = choice & 8;
  options.keep_names = choice & 16;
  absl::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  adaline::ExampleBlock block;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const absl::string_view line = text.substr(0, end);
    text.remove_prefix(end == absl::string_view::npos ? text.size() : end + 1);
    const size_t before = block.size();
    const absl::Status status =
        adaline::ParseLine(format, line, options, &block);
    if (!status.ok()) {
      FUZZ_CHECK(block.size() == before);
      FUZZ_CHECK(!status.message().empty());
      continue;
    }
    FUZZ_CHECK(block.size() <= before + 1);
    if (block.size() == before) continue;  // a blank line
    const adaline::Example example = block.example(before);
    FUZZ_CHECK(std::isfinite(example.label) &&
               std::isfinite(example.importance) &&
               std::isfinite(example.base));
    FUZZ_CHECK(example.importance >= 0);
    for (const adaline::Feature& feature : example.features) {
      FUZZ_CHECK(std::isfinite(feature.value) && feature.value != 0);
    }
    // Every named feature has its name; anonymous ones (":0.5") have none.
    const auto names = block.names(before);
    FUZZ_CHECK(options.keep_names ? names.size() <= example.features.size()
                                  : names.empty());
    for (const adaline::ExampleBlock::Name& name : names) {
      bool found = false;
      for (const adaline::Feature& feature : example.features) {
        found |= feature.key == name.key;
      }
      FUZZ_CHECK(found);
    }
  }
  return 0;
}
