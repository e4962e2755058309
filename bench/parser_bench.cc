// Parser throughput: VW and LIBSVM lines to hashed features, in bytes and
// features per second, on lines like the synthetic generator's; and a whole
// file through ExampleStream with 1, 2, ... parsing threads (no learner).
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "data/example_stream.h"
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

// A synthetic file of 200,000 rows, written once.
const std::string& SyntheticFile() {
  static const auto* path = [] {
    auto* result = new std::string("/tmp/adaline_parser_bench_" +
                                   std::to_string(::getpid()) + ".vw");
    std::FILE* file = std::fopen(result->c_str(), "w");
    SyntheticOptions options;
    options.rows = 200000;
    (void)WriteSyntheticRatings(options, file);
    std::fclose(file);
    std::atexit([] { std::remove(SyntheticFile().c_str()); });
    return result;
  }();
  return *path;
}

// One pass over the file per iteration, with range(0) parsing threads.
void BM_StreamPass(benchmark::State& state) {
  ReaderOptions options;
  options.files = {SyntheticFile()};
  options.threads = static_cast<int>(state.range(0));
  uint64_t features = 0;
  for (auto _ : state) {
    ExampleStream stream(options);
    while (const ExampleBlock* block = stream.Next()) {
      for (size_t i = 0; i < block->size(); ++i) {
        features += block->example(i).features.size();
      }
    }
    if (!stream.status().ok()) state.SkipWithError("stream failed");
  }
  state.counters["features/s"] = benchmark::Counter(
      static_cast<double>(features), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_ParseVw);
BENCHMARK(BM_ParseLibsvm);
// 1, 2 and every core.
void ThreadCounts(benchmark::internal::Benchmark* benchmark) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  for (int threads : {1, 2}) benchmark->Arg(threads);
  if (cores > 2) benchmark->Arg(cores);
}

BENCHMARK(BM_StreamPass)
    ->Apply(ThreadCounts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace adaline

BENCHMARK_MAIN();
