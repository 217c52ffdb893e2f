// TimeWaitTable in steady state at 1M and 10M live entries, and time_wait_decide().
//
// The steady state of a server closing first: connections enter TIME-WAIT at a constant rate and
// leave 2MSL (60 s) later, so the table holds rate * 60 s entries. One item = one connection
// entering TIME-WAIT plus, on average, one leaving it; the ms clock advances every N / 60000
// items, and expire() is called once per item as the engine calls it once per loop pass. Tables
// are filled once per size and reused across runs (the fill is not timed).
#include "synwave/flow_table.hpp"
#include "synwave/time_wait_table.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <utility>

namespace synwave {
namespace {

constexpr std::uint32_t kTwoMslMs = 60'000;
constexpr std::uint32_t kExpireBudget = 64;
constexpr std::uint32_t kFlowTag = 0x80000000u;  // how an engine could tag TIME-WAIT slots in its FlowTable

FlowKey bench_key(std::uint64_t n) {
  return FlowKey{0xC6120001u, 0xC6130000u + static_cast<std::uint32_t>(n >> 16) % 0x10000u, 80,
                 static_cast<std::uint16_t>(n)};
}

TimeWaitEntry bench_entry(std::uint64_t n, std::uint32_t expires_ms) {
  TimeWaitEntry e{};
  e.key = bench_key(n);
  e.snd_nxt = static_cast<std::uint32_t>(n);
  e.rcv_nxt = static_cast<std::uint32_t>(n * 7);
  e.ts_recent = static_cast<std::uint32_t>(n * 3);
  e.expires_ms = expires_ms;
  e.flags = time_wait_flags::kTimestamps;
  e.rcv_wscale = 7;
  return e;
}

// A table holding `entries` live entries spread evenly over the last 2MSL, plus the position of
// the simulated clock, so consecutive runs continue the same steady state.
struct SteadyState {
  explicit SteadyState(std::uint32_t entries, bool with_flows)
      : table(entries), flows(with_flows ? entries + kExpireBudget : 0), entries_per_2msl(entries) {
    // Items 0 .. entries-1 entered during the 2MSL before item `entries`.
    for (std::uint64_t n = 0; n < entries; ++n) {
      const std::uint32_t slot = table.insert(bench_entry(n, now_ms + kTwoMslMs));
      if (slot == kNoIndex) std::abort();
      if (with_flows) {
        const FlowKey k = bench_key(n);
        if (!flows.insert(k, flow_hash(k), slot | kFlowTag)) std::abort();
      }
      advance();
    }
  }
  // Moves to the next item. The clock advances 2MSL over every `entries` items, kept as an exact
  // fraction (a 64-bit division per item would cost about as much as the table). It wraps after
  // 2^32 ms, which the table handles.
  void advance() {
    ++next;
    fraction += kTwoMslMs;
    while (fraction >= entries_per_2msl) {
      fraction -= entries_per_2msl;
      ++now_ms;
    }
  }

  TimeWaitTable table;
  FlowTable flows;
  std::uint64_t entries_per_2msl;
  std::uint64_t next = 0;      // the item about to enter TIME-WAIT
  std::uint32_t now_ms = 0;    // the clock when it does
  std::uint64_t fraction = 0;  // of a ms, in units of 1 / entries_per_2msl
  std::uint64_t overflows = 0;  // inserts refused: must stay 0 in this steady state
};

SteadyState& steady_state(std::uint32_t entries, bool with_flows) {
  static std::map<std::pair<std::uint32_t, bool>, std::unique_ptr<SteadyState>> states;
  std::unique_ptr<SteadyState>& s = states[{entries, with_flows}];
  if (!s) s = std::make_unique<SteadyState>(entries, with_flows);
  return *s;
}

void report(benchmark::State& state, const SteadyState& s) {
  state.SetItemsProcessed(state.iterations());
  state.counters["live"] = static_cast<double>(s.table.size());
  state.counters["overflows"] = static_cast<double>(s.overflows);
  const std::size_t flow_bytes = s.flows.max_entries() > 0 ? s.flows.memory_bytes() : 0;
  state.counters["MiB"] = static_cast<double>(s.table.memory_bytes() + flow_bytes) / (1024.0 * 1024.0);
}

// The ring alone: insert at the tail, expire from the head.
void BM_TimeWaitTable_InsertExpire(benchmark::State& state) {
  SteadyState& s = steady_state(static_cast<std::uint32_t>(state.range(0)), false);
  std::uint64_t expired_sum = 0;
  for (auto _ : state) {
    const std::uint32_t now = s.now_ms;
    s.table.expire(now, kExpireBudget, [&](const TimeWaitEntry& e, std::uint32_t slot) {
      expired_sum += e.snd_nxt + slot;
    });
    const std::uint32_t slot = s.table.insert(bench_entry(s.next, now + kTwoMslMs));
    benchmark::DoNotOptimize(slot);
    if (slot == kNoIndex) ++s.overflows;
    s.advance();
  }
  benchmark::DoNotOptimize(expired_sum);
  report(state, s);
}

// What the engine pays: the ring plus the (key -> slot) entry in a FlowTable of the same size,
// inserted on entry and erased on expiry.
void BM_TimeWaitTable_InsertExpireWithFlowTable(benchmark::State& state) {
  SteadyState& s = steady_state(static_cast<std::uint32_t>(state.range(0)), true);
  for (auto _ : state) {
    const std::uint32_t now = s.now_ms;
    s.table.expire(now, kExpireBudget, [&](const TimeWaitEntry& e, std::uint32_t) {
      s.flows.erase(e.key, flow_hash(e.key));
    });
    const TimeWaitEntry e = bench_entry(s.next, now + kTwoMslMs);
    const std::uint32_t slot = s.table.insert(e);
    if (slot == kNoIndex) {
      ++s.overflows;
    } else {
      benchmark::DoNotOptimize(s.flows.insert(e.key, flow_hash(e.key), slot | kFlowTag));
    }
    s.advance();
  }
  report(state, s);
}

// One item = one decision, over a cycle of the segment kinds TIME-WAIT sees.
void BM_TimeWaitDecide(benchmark::State& state) {
  TimeWaitEntry e = bench_entry(1, 0);
  e.rcv_nxt = 5000;
  e.ts_recent = 700;
  std::array<TcpSegment, 8> segs{};
  const std::uint8_t flag_cycle[8] = {tcp_flags::kSyn, tcp_flags::kFin | tcp_flags::kAck, tcp_flags::kAck,
                                      tcp_flags::kRst, tcp_flags::kSyn, tcp_flags::kAck,
                                      tcp_flags::kAck, tcp_flags::kSyn | tcp_flags::kAck};
  const std::uint32_t seq_cycle[8] = {5001, 4999, 5000, 5000, 4000, 4000, 5000, 6000};
  for (std::size_t i = 0; i < segs.size(); ++i) {
    segs[i].flags = flag_cycle[i];
    segs[i].seq = SeqNum(seq_cycle[i]);
    segs[i].options.has_timestamps = true;
    segs[i].options.ts_val = 690 + static_cast<std::uint32_t>(i) * 3;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(time_wait_decide(e, segs[i]));
    i = (i + 1) & 7;
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_TimeWaitTable_InsertExpire)->Arg(1'000'000)->Arg(10'000'000);
BENCHMARK(BM_TimeWaitTable_InsertExpireWithFlowTable)->Arg(1'000'000)->Arg(10'000'000);
BENCHMARK(BM_TimeWaitDecide);

}  // namespace
}  // namespace synwave
