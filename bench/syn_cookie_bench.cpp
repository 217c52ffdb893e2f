// SYN-cookie cost per SYN (encode) and per final ACK (validate), in ns per operation. Each
// result feeds the next input, so iterations cannot overlap: these are latencies, as a flooded
// listener pays them one segment after another.
#include "synwave/syn_cookie.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace synwave {
namespace {

constexpr SipKey kCurrent{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
constexpr SipKey kPrevious{0x1716151413121110ULL, 0x1f1e1d1c1b1a1918ULL};
constexpr FlowKey kTuple{0xc6120001, 0xc6120002, 80, 40000};
constexpr TimeNs kNow = 1000 * SynCookieCodec::kDefaultPeriod + 12345;

// One SYN answered with a cookie: counter, SipHash over 24 bytes, packing.
void BM_SynCookieEncode(benchmark::State& state) {
  const SynCookieCodec codec;
  CookieInput syn{kTuple, 0x12345678};
  TimeNs now = kNow;
  for (auto _ : state) {
    const std::uint32_t cookie = codec.encode(kCurrent, syn, 7, now);
    syn.client_isn = cookie;
    now += 1000;
    benchmark::DoNotOptimize(cookie);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SynCookieEncode);

// The same per SYN when a 32-packet rx burst holds independent SYNs, the throughput a flooded
// lcore sees. SipHash's four lanes already keep the core busy, so overlapping hashes gains
// little over the latency above.
void BM_SynCookieEncodeBurst32(benchmark::State& state) {
  const SynCookieCodec codec;
  std::array<std::uint32_t, 32> isns{};
  for (std::size_t i = 0; i < isns.size(); ++i) isns[i] = 0x12345678u + static_cast<std::uint32_t>(i) * 0x9e3779b9u;
  TimeNs now = kNow;
  for (auto _ : state) {
    for (std::uint32_t& isn : isns) {
      isn = codec.encode(kCurrent, CookieInput{kTuple, isn}, 7, now);
    }
    now += 1000;
    benchmark::DoNotOptimize(isns.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(isns.size()));
}
BENCHMARK(BM_SynCookieEncodeBurst32);

// The options for our TSval: the other per-SYN step when the SYN has timestamps.
void BM_SynCookieTsval(benchmark::State& state) {
  const CookieOptions options{1460, true, 7, true};
  std::uint32_t clock = 0x12345678;
  for (auto _ : state) {
    const std::uint32_t tsval = cookie_tsval(clock, options);
    clock = tsval + 65;
    benchmark::DoNotOptimize(tsval);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SynCookieTsval);

// A genuine final ACK made under the current secret: one SipHash.
void BM_SynCookieValidateCurrent(benchmark::State& state) {
  const SynCookieCodec codec;
  const CookieKeys keys{1, kCurrent, kPrevious};
  const std::uint32_t client_isn = 0x12345678;
  const std::uint32_t cookie = codec.encode(kCurrent, CookieInput{kTuple, client_isn}, 7, kNow);
  std::uint32_t ack = cookie + 1;
  for (auto _ : state) {
    const CookieCheck check = codec.validate(keys, ack, client_isn + 1, kTuple, kNow);
    // Data dependence on the verdict, without changing the ACK (accepted adds 0).
    ack += static_cast<std::uint32_t>(check.verdict);
    benchmark::DoNotOptimize(check);
  }
  if (ack != cookie + 1) state.SkipWithError("the genuine ACK was not accepted");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SynCookieValidateCurrent);

// A forged ACK (or one after a rotation): both secrets are tried, two SipHashes.
void BM_SynCookieValidateForged(benchmark::State& state) {
  const SynCookieCodec codec;
  const CookieKeys keys{1, kCurrent, kPrevious};
  std::uint32_t ack = 0x9e3779b9;
  for (auto _ : state) {
    const CookieCheck check = codec.validate(keys, ack, 0x12345679, kTuple, kNow);
    ack = ack * 2654435761u + static_cast<std::uint32_t>(check.verdict);
    benchmark::DoNotOptimize(check);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SynCookieValidateForged);

// A worker lcore taking a consistent snapshot of the secrets (no rotation running).
void BM_CookieSecretsKeys(benchmark::State& state) {
  CookieSecrets secrets(kCurrent);
  secrets.rotate(kPrevious);
  for (auto _ : state) {
    const CookieKeys keys = secrets.keys();
    benchmark::DoNotOptimize(keys);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CookieSecretsKeys);

}  // namespace
}  // namespace synwave
