// Parser throughput: VW and LIBSVM lines to hashed features, in bytes and
// features per second, on lines like the synthetic generator's.
#include <cstdio>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "data/parser.h"
#include "data/synthetic.h"

namespace adaline {
namespace {

std::vector<std::string> VwLines() {
  static const auto* lines = [] {
    char* buffer = nullptr;
    size_t size = 0;
    std::FILE* memory = open_memstream(&buffer, &size);
    SyntheticOptions options;
    options.rows = 20000;
    (void)WriteSyntheticRatings(options, memory);
    std::fclose(memory);
    auto* result = new std::vector<std::string>();
    std::string text(buffer, size);
    free(buffer);
    size_t begin = 0;
    while (begin < text.size()) {
      const size_t end = text.find('\n', begin);
      result->push_back(text.substr(begin, end - begin));
      begin = end + 1;
    }
    return result;
  }();
  return *lines;
}

std::vector<std::string> LibsvmLines() {
  std::vector<std::string> lines;
  for (int row = 0; row < 20000; ++row) {
    std::string line = row % 2 ? "1" : "-1";
    for (int f = 0; f < 22; ++f) {
      line +=
          " " + std::to_string((row * 7919 + f * 104729) % 1000000) + ":0.5";
    }
    lines.push_back(line);
  }
  return lines;
}

void Run(benchmark::State& state, Format format,
         const std::vector<std::string>& lines) {
  ParseOptions options;
  ExampleBlock block;
  size_t bytes = 0, features = 0, i = 0;
  for (auto _ : state) {
    if (block.size() == 1024) block.Clear();
    const std::string& line = lines[i];
    if (!ParseLine(format, line, options, &block).ok())
      state.SkipWithError("bad line");
    bytes += line.size() + 1;
    features += block.example(block.size() - 1).features.size();
    if (++i == lines.size()) i = 0;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["features/s"] = benchmark::Counter(
      static_cast<double>(features), benchmark::Counter::kIsRate);
}

void BM_ParseVw(benchmark::State& state) { Run(state, Format::kVw, VwLines()); }
void BM_ParseLibsvm(benchmark::State& state) {
  static const auto* lines = new std::vector<std::string>(LibsvmLines());
  Run(state, Format::kLibsvm, *lines);
}

BENCHMARK(BM_ParseVw);
BENCHMARK(BM_ParseLibsvm);

}  // namespace
}  // namespace adaline

BENCHMARK_MAIN();
