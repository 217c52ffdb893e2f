#pragma once
// How a worker lcore shows its numbers to the control plane without sharing a cache line on the
// hot path: every few milliseconds it copies them into its slot under a sequence lock; readers
// (the main lcore, the telemetry thread) retry until they get a copy taken between two writes.
//
// Latency histograms have a sequence lock of their own: they are 35 KiB per lcore against the
// counters' 2 KiB, so the worker publishes them every 100 ms instead of every 10 ms (a copy of
// ~2 us, 0.002 % of the lcore), and the control plane reads them only when it prints a figure
// (progress line, report, telemetry), not on the millisecond tick that checks stop conditions.
#include <atomic>
#include <cstdint>

#include "synwave/connection_generator.hpp"
#include "synwave/counters.hpp"
#include "synwave/engine.hpp"
#include "synwave/flood_generator.hpp"
#include "synwave/latency_histogram.hpp"

namespace synwave::dpdk {

// Data-plane events that happen outside the engine.
struct WorkerCounters {
  std::uint64_t rx_packets = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t rx_bursts = 0;
  std::uint64_t tx_ring_full_drops = 0;   // tx queue had no room after retries
  std::uint64_t rx_multi_segment_drops = 0;
  std::uint64_t mbuf_alloc_failures = 0;  // mempool empty when the engine asked for buffers
  std::uint64_t steered_out = 0;          // handed to another lcore by the software dispatcher
  std::uint64_t steered_in = 0;
  std::uint64_t steer_ring_full_drops = 0;
  std::uint64_t captured = 0;
  // Busy time as dperf counts it: TSC cycles of the loop passes that did work (received,
  // sent, opened or fired something), against every cycle since the loop started. Split by the
  // role of the engine that did the work, so a loopback on one lcore still shows each side.
  std::uint64_t loop_cycles = 0;
  std::uint64_t busy_cycles_server = 0;
  std::uint64_t busy_cycles_client = 0;
  // The longest pass of the poll loop, start to start. A pass takes microseconds; milliseconds
  // mean the lcore lost its CPU (another process, the hypervisor) and its queues backed up
  // meanwhile, so what follows is a burst the peer did not send. A maximum, not a sum.
  std::uint64_t longest_pass_us = 0;

  [[nodiscard]] std::uint64_t busy_cycles() const { return busy_cycles_server + busy_cycles_client; }

  template <class F>
  void for_each(F&& f) const {
    f("rx_packets", rx_packets);
    f("tx_packets", tx_packets);
    f("rx_bursts", rx_bursts);
    f("tx_ring_full_drops", tx_ring_full_drops);
    f("rx_multi_segment_drops", rx_multi_segment_drops);
    f("mbuf_alloc_failures", mbuf_alloc_failures);
    f("steered_out", steered_out);
    f("steered_in", steered_in);
    f("steer_ring_full_drops", steer_ring_full_drops);
    f("captured", captured);
    f("loop_cycles", loop_cycles);
    f("busy_cycles_server", busy_cycles_server);
    f("busy_cycles_client", busy_cycles_client);
    f("longest_pass_us", longest_pass_us);
  }
  WorkerCounters& operator+=(const WorkerCounters& o) {
    rx_packets += o.rx_packets;
    tx_packets += o.tx_packets;
    rx_bursts += o.rx_bursts;
    tx_ring_full_drops += o.tx_ring_full_drops;
    rx_multi_segment_drops += o.rx_multi_segment_drops;
    mbuf_alloc_failures += o.mbuf_alloc_failures;
    steered_out += o.steered_out;
    steered_in += o.steered_in;
    steer_ring_full_drops += o.steer_ring_full_drops;
    captured += o.captured;
    loop_cycles += o.loop_cycles;
    busy_cycles_server += o.busy_cycles_server;
    busy_cycles_client += o.busy_cycles_client;
    if (o.longest_pass_us > longest_pass_us) longest_pass_us = o.longest_pass_us;
    return *this;
  }
};

enum class Role : std::uint8_t { kServer = 0, kClient = 1 };
inline constexpr std::size_t kRoles = 2;

struct LcoreSnapshot {
  TimeNs taken_at = 0;
  // When this lcore's first connection was opened (client) or accepted (server): the start of
  // the run's active period, which the report's cps is measured over. kNever until then.
  TimeNs active_since = kNever;
  FloodStats flood;  // flood mode: the lcore's generator
  Counters counters[kRoles];  // summed over the lcore's engines of each role
  EngineGauges gauges[kRoles];
  bool has_role[kRoles] = {};
  WorkerCounters worker;
  GeneratorStats generator;
};

// One writer, any number of readers; T is trivially copyable.
template <class T>
class Seqlock {
 public:
  // write(T&) updates the data in place, so a large T needs no temporary copy.
  template <class Write>
  void publish_with(Write&& write) {
    const std::uint32_t seq = seq_.load(std::memory_order_relaxed);
    seq_.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    write(data_);
    std::atomic_thread_fence(std::memory_order_release);
    seq_.store(seq + 2, std::memory_order_release);
  }
  void publish(const T& value) {
    publish_with([&](T& data) { data = value; });
  }
  // Moves (by 2) with every publish.
  [[nodiscard]] std::uint32_t version() const { return seq_.load(std::memory_order_acquire); }
  void read_into(T& out) const {
    for (;;) {
      const std::uint32_t before = seq_.load(std::memory_order_acquire);
      if ((before & 1) != 0) continue;
      out = data_;
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == before) return;
    }
  }

 private:
  std::atomic<std::uint32_t> seq_{0};
  T data_{};
};

// The client role's latencies of one lcore, merged over its client engines.
struct LcoreLatency {
  TimeNs taken_at = 0;
  bool has_client = false;
  LatencyStats client;
};

class alignas(64) StatsSlot {
 public:
  void publish(const LcoreSnapshot& s) { snapshot_.publish(s); }
  // Changes whenever a new snapshot is published: nothing to read again while it stays.
  [[nodiscard]] std::uint32_t snapshot_version() const { return snapshot_.version(); }
  [[nodiscard]] LcoreSnapshot read() const {
    LcoreSnapshot copy;
    snapshot_.read_into(copy);
    return copy;
  }
  template <class Write>
  void publish_latency(Write&& write) {
    latency_.publish_with(write);
  }
  void read_latency(LcoreLatency& out) const { latency_.read_into(out); }

 private:
  Seqlock<LcoreSnapshot> snapshot_;
  alignas(64) Seqlock<LcoreLatency> latency_;
};

}  // namespace synwave::dpdk
