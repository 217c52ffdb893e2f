#pragma once
// The run-to-completion loop of one worker lcore (DPDK's l3fwd shape): rx burst of 32,
// prefetch, engine input per frame, bulk free, tx drained every pass, timers, the client
// generator, and a stats snapshot every few milliseconds. No lock, no allocation, no log.
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <cstdint>

#include "stats_slot.hpp"
#include "synwave/connection_generator.hpp"
#include "synwave/engine.hpp"
#include "synwave/flood_generator.hpp"
#include "tsc_clock.hpp"

namespace synwave::dpdk {

inline constexpr std::uint16_t kBurst = 32;
inline constexpr std::uint16_t kMaxWorkers = 16;

// The first packets each lcore receives and sends, written as pcapng (readable by tshark).
struct Capture {
  rte_pcapng_t* writer = nullptr;
  rte_mempool* pool = nullptr;
  std::uint32_t per_lcore_limit = 0;
};

// The software dispatcher, for ports that cannot steer flows to lcores themselves (no RSS, as
// net_tap and net_pcap, or fewer queues than lcores): whichever lcore receives a frame passes it to the lcore that owns its
// flow through a single-producer/single-consumer ring. Ownership is decided from the header
// alone, the same way on every lcore:
//   - segments to a listening port: by a hash of the remote address and port;
//   - segments to a client source port: by the port's slot in the source range, which is how the
//     connection generator split the range among lcores in the first place;
//   - ARP and Neighbor Solicitations and Advertisements: every lcore gets a copy, since each
//     engine keeps its own neighbour cache.
// IPv6 segments go by the same rules as IPv4 ones; everything else goes to the first lcore.
struct Dispatcher {
  std::uint16_t workers = 1;
  std::array<std::uint16_t, 16> listen_ports{};
  std::uint16_t listen_count = 0;
  std::uint16_t client_port_first = 1024;
  rte_mempool* clone_pool = nullptr;
  rte_ring* rings[kMaxWorkers][kMaxWorkers] = {};  // rings[from][to]
  // Keys the lcore of a listening port's flows (owner_of): an addend, then a multiplier for the
  // ports and one per word of the remote address (IPv6: four). Drawn at start-up (main.cpp); the
  // default is for tests.
  std::array<std::uint64_t, 6> steer_key{0x243f6a8885a308d3ull, 0x13198a2e03707345ull, 0xa4093822299f31d1ull,
                                         0x082efa98ec4e6c89ull, 0x452821e638d01377ull, 0xbe5466cf34e90c6dull};

  [[nodiscard]] std::uint16_t owner_of(const rte_mbuf* m) const;  // kAllWorkers for ARP and ND
  static constexpr std::uint16_t kAllWorkers = 0xffff;
};

// One engine attached to one port queue.
struct EngineBinding {
  Engine* engine = nullptr;
  std::uint16_t port = 0;
  std::uint16_t queue = 0;
  rte_mempool* pool = nullptr;
  ConnectionGenerator* generator = nullptr;
  Role role = Role::kServer;
  struct Worker* worker = nullptr;
  // A worker without a queue of its own (the port has fewer queues than lcores) neither polls nor
  // sends on the port: the dispatcher brings its frames, and its output goes through this ring
  // to the worker that owns `queue`, which sends it.
  bool has_queue = true;
  std::uint16_t rx_frame_flags = 0;  // or'ed into each received frame's (a memory link's checksums)
  rte_ring* tx_forward = nullptr;
  std::uint32_t full_bursts = 0;  // rx bursts that came back full in a row
};

// When an lcore counts as saturated (Engine::set_saturated): it was busy at least kSaturatedShare
// of the last kSaturationWindow, and its rx bursts have come back full kSaturatedBursts times in a
// row (1024 frames without the queue falling under a burst). A queue that fills for a moment is
// not overload: dperf's client sends each 10 ms of connections at once, so below the server's
// capacity a 10 ms window can be 80 % busy with the SYN backlog half full, and shedding then only
// turns into SYN retransmissions (0.66M-1.64M SYNs shed in 10 s at 700K/s offered, 2026-12-04).
// An offered load above what the lcore completes keeps it busy all the time with a queue that
// only grows: 95 % of 50 ms tells the two apart. The price is a later verdict: memif's 16K-frame
// ring holds 8 ms of an excess of 2M frames/s, so at the onset of overload it can overflow once
// before the shedding starts.
inline constexpr TimeNs kSaturationWindow = 50 * kMillisecond;
inline constexpr double kSaturatedShare = 0.95;
inline constexpr std::uint32_t kSaturatedBursts = 32;

using ControlFn = void (*)(void* ctx, TimeNs now);

struct alignas(64) Worker {
  unsigned lcore_id = 0;
  std::uint16_t index = 0;  // worker number, 0..workers-1 (dispatcher ownership)
  std::array<EngineBinding, 2> bindings{};
  std::uint32_t binding_count = 0;
  const TscClock* clock = nullptr;
  const std::atomic<bool>* stop = nullptr;
  Dispatcher* dispatcher = nullptr;
  Capture* capture = nullptr;
  std::uint32_t capture_left = 0;
  StatsSlot* slot = nullptr;
  std::array<rte_ring*, kMaxWorkers> tx_forwarded{};  // output of queueless workers to send on our queue
  std::uint32_t tx_forwarded_count = 0;
  FloodGenerator* flood = nullptr;  // flood mode: the lcore's generator (bindings[0] is its queue, no engine)
  ControlFn control = nullptr;  // set on the lcore that is also the control plane
  void* control_ctx = nullptr;
  WorkerCounters counters;
  std::uint64_t loop_started_tsc = 0;  // counters.loop_cycles is measured from here
  std::uint64_t pass_started_tsc = 0;
  std::uint64_t longest_pass_cycles = 0;  // counters.longest_pass_us, in TSC cycles
  // The saturation window (kSaturationWindow): where it started, the busy cycles then, and the
  // verdict on the last one.
  std::uint64_t window_cycles = 0;
  std::uint64_t window_start_tsc = 0;
  std::uint64_t window_busy_start = 0;
  bool busy_last_window = false;
  TimeNs active_since = kNever;        // LcoreSnapshot::active_since
  // After a pass that found nothing to do, wait this long before polling again (--idle-pause).
  // Below saturation a loop that polls back to back takes bursts of one or two frames, and each
  // pass pays its fixed cost (the ring's indices, which the peer wrote last, the timers, the tx
  // flush) for them: a memif pair at 800K connections/s, 2 us: 5 -> 10 frames a burst, -24 % busy
  // time per connection, +3 us median connect. A saturated loop never idles, so it never waits.
  std::uint64_t idle_pause_cycles = 0;

  // Called at the start of each pass of the loop with its TSC. The first pass is start-up
  // (first touches of the tables, the device's first burst): not counted.
  void begin_pass(std::uint64_t tsc) {
    const std::uint64_t last = tsc - pass_started_tsc;
    if (last > longest_pass_cycles && pass_started_tsc != 0) longest_pass_cycles = last;
    pass_started_tsc = tsc;
  }
};

// Builds the FrameIo that lends mbufs of the binding's pool to its engine and sends on its queue.
FrameIo make_frame_io(EngineBinding& binding);

// lcore entry point (rte_eal_remote_launch); arg is a Worker*.
int worker_main(void* arg);

// Flood mode's lcore entry point: rx only for ARP or Neighbor Discovery and the probes (everything
// else is freed), the generator's bursts on the lcore's own queue, stats and control as
// worker_main does. arg is a Worker*.
int flood_main(void* arg);

// Before the flood starts, on the main lcore: ARP requests (IPv6: Neighbor Solicitations) for the
// next hop through the first worker's queue every 100 ms, every worker's queue polled for the
// answer (a multi-queue port may deliver it to any), until it comes, `timeout` passes or
// `give_up` is set. On success every worker's generator knows the MAC.
bool flood_resolve_next_hop(Worker* const* workers, std::size_t count, TimeNs timeout, const std::atomic<bool>& give_up);

// Publishes the worker's numbers now (also called once when the loop ends); with_latency: the
// latency histograms too (stats_slot.hpp: they go out less often).
void publish_snapshot(Worker& w, TimeNs now, bool with_latency = true);

}  // namespace synwave::dpdk
