// Latency histogram costs: record (what every connection pays on the hot path, twice with a
// workload), merge (the control plane, once per lcore per read), percentile (once per figure
// printed), and the copy a worker makes when it publishes its histograms.
#include <benchmark/benchmark.h>

#include <cmath>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "synwave/latency_histogram.hpp"

namespace synwave {
namespace {

// Values drawn beforehand, so the loop measures the histogram and not the generator:
// "tight" is a loopback handshake (10..40 us: a few hot buckets), "wide" spans 1 us .. 1 s
// (every record lands in a different cache line).
std::vector<std::uint64_t> sample_values(bool wide) {
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> v(1 << 16);
  if (wide) {
    std::uniform_real_distribution<double> e(10.0, 30.0);
    for (auto& x : v) x = static_cast<std::uint64_t>(std::exp2(e(rng)));
  } else {
    std::uniform_int_distribution<std::uint64_t> d(10000, 40000);
    for (auto& x : v) x = d(rng);
  }
  return v;
}

void BM_Histogram_Record(benchmark::State& state) {
  const std::vector<std::uint64_t> values = sample_values(state.range(0) != 0);
  auto h = std::make_unique<LatencyHistogram>();
  std::size_t i = 0;
  for (auto _ : state) {
    h->record(values[i++ & (values.size() - 1)]);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(h->count());
  state.SetLabel(state.range(0) != 0 ? "wide 1us..1s" : "tight 10..40us");
}
BENCHMARK(BM_Histogram_Record)->Arg(0)->Arg(1);

void BM_Histogram_Merge(benchmark::State& state) {
  const std::vector<std::uint64_t> values = sample_values(true);
  auto a = std::make_unique<LatencyHistogram>();
  auto b = std::make_unique<LatencyHistogram>();
  for (std::uint64_t v : values) b->record(v);
  for (auto _ : state) {
    a->merge(*b);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(sizeof(LatencyHistogram)));
}
BENCHMARK(BM_Histogram_Merge);

// One percentile walks the buckets up to its rank: p99.9 of a wide distribution walks nearly all.
void BM_Histogram_Percentile(benchmark::State& state) {
  const std::vector<std::uint64_t> values = sample_values(true);
  auto h = std::make_unique<LatencyHistogram>();
  for (std::uint64_t v : values) h->record(v);
  const double p = static_cast<double>(state.range(0)) / 10.0;
  for (auto _ : state) benchmark::DoNotOptimize(h->value_at_percentile(p));
  state.SetLabel(state.range(0) == 500 ? "p50" : "p99.9");
}
BENCHMARK(BM_Histogram_Percentile)->Arg(500)->Arg(999);

// What a worker's publish costs: both histograms of LatencyStats copied once.
void BM_Histogram_CopyLatencyStats(benchmark::State& state) {
  auto from = std::make_unique<LatencyStats>();
  auto to = std::make_unique<LatencyStats>();
  for (std::uint64_t v : sample_values(true)) from->connect.record(v);
  for (auto _ : state) {
    *to = *from;
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(sizeof(LatencyStats)));
}
BENCHMARK(BM_Histogram_CopyLatencyStats);

}  // namespace
}  // namespace synwave
