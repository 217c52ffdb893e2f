// Timer wheel costs at engine-like sizes: 4096 slots of 2^20 ns (~1.05 ms), so the horizon is
// ~4.3 s and the timeouts used here (0.2 .. 8.2 s) reach into the second revolution.
#include "synwave/timer_wheel.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

namespace synwave {
namespace {

constexpr std::uint32_t kBenchSlots = 4096;
constexpr TimeNs kBenchWidth = TimeNs{1} << 20;
constexpr TimeNs kMaxTimeout = 8 * kSecond;

// A record shaped like a connection: the node plus enough payload to spread over cache lines.
struct BenchRecord {
  TimerNode timer;
  std::uint8_t payload[112];
};

struct ArmedWheel {
  explicit ArmedWheel(std::uint32_t count, std::uint32_t slots = kBenchSlots,
                      TimeNs width = kBenchWidth)
      : records(count), wheel(slots, width, 0), timeouts(count) {
    wheel.bind(&records[0].timer, sizeof(BenchRecord));
    std::mt19937_64 rng(42);
    for (auto& t : timeouts) t = 200 * kMillisecond + rng() % kMaxTimeout;
    // Each id re-arms with its own timeout, so in steady state its next expiry is uniform
    // over one period: start there rather than with every timer armed at time 0.
    for (std::uint32_t id = 0; id < count; ++id) wheel.arm(id, 1 + rng() % timeouts[id]);
  }
  std::vector<BenchRecord> records;
  TimerWheel wheel;
  std::vector<TimeNs> timeouts;  // precomputed so the loop measures the wheel, not the RNG
};

// The common connection path: arm a retransmit timer, then cancel it when the ACK arrives.
void BM_TimerWheel_ArmCancelPair(benchmark::State& state) {
  const auto armed = static_cast<std::uint32_t>(state.range(0));
  ArmedWheel w(armed + 1024);
  for (std::uint32_t id = armed; id < armed + 1024; ++id) w.wheel.cancel(id);
  std::uint32_t i = 0;
  for (auto _ : state) {
    const std::uint32_t id = armed + (i & 1023);
    w.wheel.arm(id, w.timeouts[i & 1023]);
    w.wheel.cancel(id);
    ++i;
  }
  benchmark::DoNotOptimize(w.wheel.armed_count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerWheel_ArmCancelPair)->Arg(0)->Arg(1 << 20);

// Re-arming an armed node (RTO restart on every ACK) with 1M timers armed: random records,
// so this includes the cache misses of touching a cold record and its list neighbours.
void BM_TimerWheel_Rearm_1MArmed(benchmark::State& state) {
  constexpr std::uint32_t kCount = 1 << 20;
  ArmedWheel w(kCount);
  std::uint32_t i = 0;
  TimeNs now = 0;
  for (auto _ : state) {
    const std::uint32_t id = (i * 2654435761u) & (kCount - 1);
    w.wheel.arm(id, now + w.timeouts[id]);
    now += 1000;
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerWheel_Rearm_1MArmed);

// Steady state with 1M armed: each iteration advances time by `step_ns` and calls expire();
// every fired timer is re-armed, so the population stays at 1M (~460K firings/s of simulated
// time). Items are firings, so ns/item is one expiry plus its re-arm with slot walks amortised.
// A 1 us step is an engine calling expire() on every loop pass. Each call that finds a node due
// walks the whole current slot, so the cost per firing grows with firings per slot width:
// 2^20 ns slots hold ~490 firings each, 2^16 ns slots ~30.
void BM_TimerWheel_ArmExpire_1MArmed(benchmark::State& state) {
  constexpr std::uint32_t kCount = 1 << 20;
  ArmedWheel w(kCount, static_cast<std::uint32_t>(state.range(0)), TimeNs{1} << state.range(1));
  const auto step = static_cast<TimeNs>(state.range(2));
  TimeNs now = 0;
  std::int64_t fired = 0;
  for (auto _ : state) {
    now += step;
    fired += w.wheel.expire(now, 256, [&](std::uint32_t id) { w.wheel.arm(id, now + w.timeouts[id]); });
  }
  state.SetItemsProcessed(fired);
  state.counters["fired_per_call"] =
      benchmark::Counter(static_cast<double>(fired) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_TimerWheel_ArmExpire_1MArmed)
    ->ArgNames({"slots", "width_log2", "step_ns"})
    ->Args({4096, 20, 64000})
    ->Args({4096, 20, 1000})
    ->Args({65536, 16, 64000})
    ->Args({65536, 16, 1000});

// next_deadline() worst case: one timer armed in the slot just behind the cursor, so the scan
// covers the whole wheel. The engine may call this once per idle loop pass.
void BM_TimerWheel_NextDeadline_SparseWorstCase(benchmark::State& state) {
  std::vector<TimerNode> nodes(1);
  TimerWheel wheel(kBenchSlots, kBenchWidth, 0);
  wheel.bind(nodes.data(), sizeof(TimerNode));
  wheel.arm(0, (kBenchSlots - 1) * kBenchWidth);
  for (auto _ : state) benchmark::DoNotOptimize(wheel.next_deadline());
}
BENCHMARK(BM_TimerWheel_NextDeadline_SparseWorstCase);

}  // namespace
}  // namespace synwave
