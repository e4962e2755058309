// FUZZ_CHECK: a property the fuzzed code must keep. Its failure aborts, so
// libFuzzer records the input as a crash and the corpus test fails on it.
#ifndef ADALINE_FUZZ_FUZZ_CHECK_H_
#define ADALINE_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                          \
  do {                                                                 \
    if (!(condition)) {                                                \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #condition);                              \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // ADALINE_FUZZ_FUZZ_CHECK_H_
