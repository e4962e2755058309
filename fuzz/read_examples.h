// Fuzzes the example reader on a file of the fuzzer's bytes: line splitting,
// gzip detection and the parser, as `adaline train` reads a data file.
#ifndef ADALINE_FUZZ_READ_EXAMPLES_H_
#define ADALINE_FUZZ_READ_EXAMPLES_H_

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "data/example_reader.h"
#include "fuzz/fuzz_check.h"

namespace adaline {

inline void ReadExamplesOf(const uint8_t* data, size_t size, Format format) {
  if (size == 0) return;
  // The first byte picks the parse options; the rest is the file.
  const uint8_t choice = data[0];
  static const std::string path = absl::StrCat(
      ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", "/adaline_fuzz_",
      ::getpid(), format == Format::kVw ? ".vw" : ".libsvm");
  std::FILE* file = std::fopen(path.c_str(), "wb");
  FUZZ_CHECK(file != nullptr);
  FUZZ_CHECK(std::fwrite(data + 1, 1, size - 1, file) == size - 1);
  std::fclose(file);

  ReaderOptions options;
  options.files = {path};
  options.format = format;
  options.parse.binary_labels = choice & 1;
  options.parse.require_label = choice & 2;
  options.parse.bias = choice & 4;
  options.parse.keep_names = choice & 8;
  options.max_bad_lines = (choice & 16) ? UINT64_MAX : 0;
  options.part_count = 1 + (choice >> 6);
  options.part_index = (choice >> 5) & 1 ? options.part_count - 1 : 0;
  ExampleReader reader(options);
  ExampleBlock block;
  while (reader.Fill(&block, 64)) {
    for (size_t i = 0; i < block.size(); ++i) {
      const Example example = block.example(i);
      FUZZ_CHECK(std::isfinite(example.label));
      FUZZ_CHECK(std::isfinite(example.importance));
      if (options.parse.binary_labels && example.has_label) {
        FUZZ_CHECK(example.label == -1 || example.label == 0 ||
                   example.label == 1);
      }
      for (const Feature& feature : example.features) {
        FUZZ_CHECK(std::isfinite(feature.value));
        FUZZ_CHECK(feature.value != 0);
      }
      for (const ExampleBlock::Name& name : block.names(i)) {
        FUZZ_CHECK(block.name_text(name).find('^') != absl::string_view::npos);
      }
    }
  }
  // A pass ends cleanly or with a message that names the file.
  FUZZ_CHECK(reader.status().ok() ||
             reader.status().message().find(path) != absl::string_view::npos);
}

}  // namespace adaline

#endif  // ADALINE_FUZZ_READ_EXAMPLES_H_
