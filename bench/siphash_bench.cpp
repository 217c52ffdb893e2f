// SipHash-2-4 cost on the inputs the TCP core hashes per SYN: ns per hash.
#include "synwave/siphash.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>

namespace synwave {
namespace {

constexpr SipKey kBenchKey{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

// Inputs change every iteration and each hash feeds the next, so the compiler can neither
// hoist the hash out of the loop nor overlap iterations: this measures latency per hash.
void BM_SipHash24Words2(benchmark::State& state) {
  std::uint64_t w0 = 0xc612000100000050ULL;
  std::uint64_t w1 = 0xc61200029c40ULL;
  for (auto _ : state) {
    const std::uint64_t h = siphash24_words(kBenchKey, w0, w1);
    w0 = h;
    ++w1;
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SipHash24Words2);

void BM_SipHash24Words3(benchmark::State& state) {
  std::uint64_t w0 = 0xc612000100000050ULL;
  std::uint64_t w1 = 0xc61200029c40ULL;
  std::uint64_t w2 = 0x1234;
  for (auto _ : state) {
    const std::uint64_t h = siphash24_words(kBenchKey, w0, w1, w2);
    w0 = h;
    ++w2;
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SipHash24Words3);

// The generic path over the same 24 bytes, for comparison with the fast path.
void BM_SipHash24Generic24Bytes(benchmark::State& state) {
  std::array<std::uint64_t, 3> words{0xc612000100000050ULL, 0xc61200029c40ULL, 0x1234};
  for (auto _ : state) {
    const std::uint64_t h = siphash24(kBenchKey, words.data(), sizeof words);
    words[0] = h;
    ++words[2];
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SipHash24Generic24Bytes);

// A burst of 32 cookie MACs at once (siphash24_words_batch), at each level this CPU has:
// 0 one at a time, 1 AVX2 lanes, 2 AVX-512 lanes. ns per hash in time_per_hash.
void BM_SipHash24WordsBatch32(benchmark::State& state) {
  const auto level = static_cast<SipBatchLevel>(state.range(0));
  if (level > sip_batch_level_supported()) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  std::array<std::uint64_t, 32> w0{}, w1{}, w2{}, out{};
  for (std::size_t i = 0; i < w0.size(); ++i) {
    w0[i] = 0xc612000100000050ULL + i;
    w1[i] = 0xc61200029c40ULL * (i + 1);
    w2[i] = 0x1234 + i;
  }
  for (auto _ : state) {
    siphash24_words_batch(level, kBenchKey, w0.data(), w1.data(), w2.data(), out.data(), out.size());
    w0[out[0] & 31] ^= out[1];  // the next burst depends on this one
    benchmark::DoNotOptimize(out.data());
  }
  const auto hashes = static_cast<double>(state.iterations()) * static_cast<double>(out.size());
  state.counters["time_per_hash"] = benchmark::Counter(hashes, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SipHash24WordsBatch32)->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace synwave
