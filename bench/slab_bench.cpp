// Slab alloc/free: the LIFO hot case, and random churn over a pool larger than the caches.
#include "synwave/slab.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace synwave {
namespace {

struct alignas(64) ConnectionSizedRecord {
  std::array<std::uint64_t, 8> words;
};
static_assert(sizeof(ConnectionSizedRecord) == 64);

// One item = one alloc followed by one free of the same record (always warm: LIFO).
void BM_Slab_AllocFree(benchmark::State& state) {
  Slab<ConnectionSizedRecord> slab(1024);
  for (auto _ : state) {
    const std::uint32_t idx = slab.alloc();
    benchmark::DoNotOptimize(slab[idx]);
    slab.free(idx);
  }
  state.SetItemsProcessed(state.iterations());
}

// One item = one alloc (and its later free) in bursts of 32.
void BM_Slab_AllocFreeBurst32(benchmark::State& state) {
  Slab<ConnectionSizedRecord> slab(1024);
  std::array<std::uint32_t, 32> held;
  for (auto _ : state) {
    for (std::uint32_t& idx : held) idx = slab.alloc();
    benchmark::DoNotOptimize(held.data());
    for (const std::uint32_t idx : held) slab.free(idx);
  }
  state.SetItemsProcessed(state.iterations() * 32);
}

// One item = free a random live record, then alloc. LIFO hands the same record straight back,
// so the cost measured is value-initialising a record that is cold (1M x 64 B is beyond the
// caches), as when one connection closes and the next opens.
void BM_Slab_RandomChurn(benchmark::State& state) {
  const auto capacity = static_cast<std::uint32_t>(state.range(0));
  Slab<ConnectionSizedRecord> slab(capacity);
  std::vector<std::uint32_t> live(capacity / 2);
  for (std::uint32_t& idx : live) idx = slab.alloc();
  std::uint32_t rng = 2463534242u;
  auto next_random = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
  };
  for (auto _ : state) {
    const std::uint32_t pick = next_random() % static_cast<std::uint32_t>(live.size());
    slab.free(live[pick]);
    live[pick] = slab.alloc();
    if (live[pick] == kNoIndex) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Slab_AllocFree);
BENCHMARK(BM_Slab_AllocFreeBurst32);
BENCHMARK(BM_Slab_RandomChurn)->Arg(1 << 20);

}  // namespace
}  // namespace synwave
