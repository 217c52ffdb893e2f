// Toeplitz (RSS) hash of an IPv4/TCP 4-tuple: per-byte tables against the bit-by-bit algorithm,
// and the cost of asking whether a source port brings its replies to our queue.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "synwave/rss_steering.hpp"
#include "synwave/toeplitz.hpp"

namespace synwave {
namespace {

constexpr std::array<std::uint8_t, 40> kKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};
constexpr std::uint32_t kLocalIp = 0xc6120001;   // 198.18.0.1
constexpr std::uint32_t kRemoteIp = 0xc6120002;  // 198.18.0.2

std::vector<std::uint16_t> round_robin_reta(std::size_t entries, std::uint16_t queues) {
  std::vector<std::uint16_t> reta(entries);
  for (std::size_t i = 0; i < entries; ++i) reta[i] = static_cast<std::uint16_t>(i % queues);
  return reta;
}

// Each hash feeds the next input, so iterations cannot overlap: latency per hash.
void BM_ToeplitzTables(benchmark::State& state) {
  const ToeplitzHasher hasher(kKey);
  std::uint32_t src_ip = 0x42099bbb;
  std::uint16_t src_port = 2794;
  for (auto _ : state) {
    const std::uint32_t h = hasher.hash(src_ip, 0xa18e6450, src_port, 1766);
    src_ip = h;
    ++src_port;
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ToeplitzTables);

void BM_ToeplitzBitwise(benchmark::State& state) {
  std::array<std::uint8_t, 12> tuple = {0x42, 0x09, 0x9b, 0xbb, 0xa1, 0x8e, 0x64, 0x50, 0x0a, 0xea, 0x06, 0xe6};
  for (auto _ : state) {
    const std::uint32_t h = toeplitz_hash_bitwise(kKey, tuple);
    tuple[0] = static_cast<std::uint8_t>(h >> 24);
    tuple[1] = static_cast<std::uint8_t>(h >> 16);
    tuple[2] = static_cast<std::uint8_t>(h >> 8);
    tuple[3] = static_cast<std::uint8_t>(h);
    ++tuple[9];
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ToeplitzBitwise);

// The generator's question for one candidate: full 4-tuple hash + RETA lookup. The remote
// address changes too, so no part of the hash can be hoisted out of the loop (throughput).
void BM_RssReplyLandsHere(benchmark::State& state) {
  const RssSteering steering(kKey, round_robin_reta(128, 4), 1);
  std::uint16_t port = 1024;
  std::uint32_t remote_ip = kRemoteIp;
  std::uint32_t landed = 0;
  for (auto _ : state) {
    landed += steering.reply_lands_here(kLocalIp, port, remote_ip, 80) ? 1 : 0;
    ++port;
    remote_ip += 0x01000193;
  }
  benchmark::DoNotOptimize(landed);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RssReplyLandsHere);

// The same with the part that does not depend on the local port computed once.
void BM_RssLocalPortLandsHere(benchmark::State& state) {
  const RssSteering steering(kKey, round_robin_reta(128, 4), 1);
  const std::uint32_t partial = steering.reply_hash_without_local_port(kLocalIp, kRemoteIp, 80);
  std::uint16_t port = 1024;
  std::uint32_t landed = 0;
  for (auto _ : state) {
    landed += steering.local_port_lands_here(partial, port) ? 1 : 0;
    ++port;
  }
  benchmark::DoNotOptimize(landed);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RssLocalPortLandsHere);

// Start-up: every port of 1024-65535 that lands on our queue, for one destination.
void BM_RssScanAllSourcePorts(benchmark::State& state) {
  const RssSteering steering(kKey, round_robin_reta(512, 4), 1);
  for (auto _ : state) {
    auto ports = steering.local_ports_landing_here(kLocalIp, kRemoteIp, 80, 1024, 65535);
    benchmark::DoNotOptimize(ports.data());
  }
  state.SetItemsProcessed(state.iterations() * (65535 - 1024 + 1));
}
BENCHMARK(BM_RssScanAllSourcePorts);

// Building the 12 KiB of tables from a key.
void BM_ToeplitzBuildTables(benchmark::State& state) {
  for (auto _ : state) {
    const ToeplitzHasher hasher(kKey);
    benchmark::DoNotOptimize(&hasher);
  }
}
BENCHMARK(BM_ToeplitzBuildTables);

}  // namespace
}  // namespace synwave
