// The one main() of the core benchmarks; each concept registers its benchmarks in its own file.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
