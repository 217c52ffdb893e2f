#pragma once
// A violated invariant in a fuzz harness is a finding: say which, and abort so that libFuzzer
// stops and keeps the input that led there (an assert would vanish under NDEBUG).
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                       \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "fuzz: invariant violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)
