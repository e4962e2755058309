// The benchmarks' one percentile: the value below which `fraction` of
// `values` lie (nearest rank; reorders `values`). 0 for none.
//
// A pure function; safe from any thread on its own vector.
#ifndef ADALINE_BENCH_PERCENTILE_H_
#define ADALINE_BENCH_PERCENTILE_H_

#include <algorithm>
#include <vector>

namespace adaline {

inline double Percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  const size_t index = std::min(values.size() - 1,
                                static_cast<size_t>(fraction * values.size()));
  std::nth_element(values.begin(), values.begin() + index, values.end());
  return values[index];
}

}  // namespace adaline

#endif  // ADALINE_BENCH_PERCENTILE_H_
