#pragma once
// A deterministic network simulator: a client engine and a server engine, each lending buffers
// from its own TestIo, joined by a SimLink, on a virtual clock that jumps straight to the next
// thing that can happen (a frame arriving, an engine deadline, the driver's next open). Nothing
// reads a real clock, so a seed and a configuration name one exact run.
//
// settle_and_check() holds the invariants every run must satisfy; the scenarios in
// sim_test.cpp call it after each run.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/sim_link.hpp"
#include "support/family.hpp"
#include "support/segments.hpp"
#include "support/test_io.hpp"
#include "synwave/engine.hpp"

namespace synwave::test {

enum class Side : std::uint8_t { kClient = 0, kServer = 1 };

inline const MacAddr kSimClientMac{{0x02, 0, 0, 0, 0, 0x01}};
inline const MacAddr kSimServerMac{{0x02, 0, 0, 0, 0, 0x02}};
inline constexpr std::uint32_t kSimClientIp = ip4(198, 18, 0, 1);
inline constexpr std::uint32_t kSimServerIp = ip4(198, 18, 0, 2);
inline constexpr std::uint16_t kSimServerPort = 80;
// The run's IPv6 addresses (SYNWAVE_TEST_FAMILY=6): the scenarios name the IPv4 ones, which
// sim_address6 maps.
inline constexpr Ipv6Addr kSimClientIp6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
inline constexpr Ipv6Addr kSimServerIp6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
inline const Ipv6Addr& sim_address6(std::uint32_t ip) { return ip == kSimClientIp ? kSimClientIp6 : kSimServerIp6; }
inline bool sim_ipv6() { return family_from_environment() == Family::kIpv6; }

// One engine's settings for the simulator: the two addresses on one /24, each other's MAC known
// statically (no ARP), everything else left to the caller.
inline EngineConfig sim_engine_config(Side side) {
  EngineConfig c;
  const bool client = side == Side::kClient;
  c.local_ip = client ? kSimClientIp : kSimServerIp;
  c.local_mac = client ? kSimClientMac : kSimServerMac;
  c.prefix_len = 24;
  c.neighbors.push_back({client ? kSimServerIp : kSimClientIp, client ? kSimServerMac : kSimClientMac});
  if (!client) c.listen_ports = {kSimServerPort};
  if (sim_ipv6()) {
    c.local_ip6 = client ? kSimClientIp6 : kSimServerIp6;
    c.neighbors6.push_back({client ? kSimServerIp6 : kSimClientIp6, client ? kSimServerMac : kSimClientMac});
    c.mtu = 1520;  // the same MSS and segment sizes as over IPv4
  }
  return c;
}

// The client's connections opened by the driver: `connections` of them, one every
// `open_interval`, never more than `max_in_flight` unfinished at once, from distinct local ports
// so that no tuple is ever reused (TIME_WAIT reuse is not what these runs measure).
struct DriverPlan {
  std::uint32_t connections = 0;
  std::uint16_t first_local_port = 1024;
  std::uint16_t server_port = kSimServerPort;
  TimeNs open_interval = 100 * kMicrosecond;
  std::uint32_t max_in_flight = 4096;
};

struct RunResult {
  bool all_done = false;  // every planned connection completed or failed before the time limit
  TimeNs started_at = 0;
  TimeNs done_at = 0;     // virtual time the last one finished
};

struct EngineSnapshot {
  Counters counters;
  EngineGauges gauges;
};

class Simulator {
 public:
  static constexpr TimeNs kStart = 1 * kSecond;
  // Steps at one virtual instant before the run is declared stuck: an engine whose
  // next_deadline() stays in the past while advance() does nothing would otherwise spin forever.
  static constexpr std::uint32_t kMaxStepsAtOneInstant = 1'000'000;

  Simulator(const EngineConfig& client, const EngineConfig& server, const LinkFaults& faults, std::uint64_t seed)
      : link_(faults, seed), now_(kStart) {
    io_[0] = std::make_unique<TestIo>(kArenaBuffers);
    io_[1] = std::make_unique<TestIo>(kArenaBuffers);
    engines_[0] = std::make_unique<Engine>(client, io_[0]->io(), now_);
    engines_[1] = std::make_unique<Engine>(server, io_[1]->io(), now_);
    macs_[0] = client.local_mac;
    macs_[1] = server.local_mac;
  }

  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  [[nodiscard]] Engine& engine(Side s) { return *engines_[idx(s)]; }
  [[nodiscard]] Engine& client() { return engine(Side::kClient); }
  // The flow key of a tuple as side s holds it, in the run's family.
  [[nodiscard]] FlowKey key(Side s, std::uint16_t local_port, std::uint16_t remote_port) {
    const bool client = s == Side::kClient;
    if (sim_ipv6()) {
      return engine(s).flow_key(client ? kSimClientIp6 : kSimServerIp6, client ? kSimServerIp6 : kSimClientIp6,
                                local_port, remote_port);
    }
    return FlowKey{client ? kSimClientIp : kSimServerIp, client ? kSimServerIp : kSimClientIp, local_port, remote_port};
  }
  [[nodiscard]] Engine& server() { return engine(Side::kServer); }
  [[nodiscard]] TimeNs now() const { return now_; }
  [[nodiscard]] const SimLink& link() const { return link_; }
  [[nodiscard]] SimLink& link() { return link_; }
  [[nodiscard]] bool stalled() const { return stalled_; }
  [[nodiscard]] std::uint64_t open_errors() const { return open_errors_[0] + open_errors_[1]; }
  [[nodiscard]] std::uint64_t open_no_memory(Side s) const { return open_no_memory_[idx(s)]; }

  // User calls at the current virtual time; what they emit goes onto the link at once.
  OpenResult open(Side s, std::uint32_t remote_ip, std::uint16_t remote_port, std::uint16_t local_port) {
    const OpenResult r = sim_ipv6() ? engine(s).open(sim_address6(remote_ip), remote_port, local_port, now_)
                                    : engine(s).open(remote_ip, remote_port, local_port, now_);
    if (r.error != OpenError::kOk) {
      ++open_errors_[idx(s)];
      if (r.error == OpenError::kNoMemory) ++open_no_memory_[idx(s)];
    }
    engine(s).flush();
    collect();
    return r;
  }
  bool close(Side s, std::uint32_t conn) {
    const bool ok = engine(s).close(conn, now_);
    engine(s).flush();
    collect();
    return ok;
  }

  // A frame that reaches an engine at the current time without crossing the link, from a host
  // the simulator does not model (a flood's spoofed sources): what the engine answers goes the
  // usual way, and a reply to an address no engine owns is dropped (see collect()).
  bool inject(Side to, const Bytes& frame) {
    ++injected_;
    const bool kept = io_[idx(to)]->deliver(engine(to), frame, now_);
    collect();
    return kept;
  }
  // Frames an engine sent to a MAC address that is neither the other engine's nor broadcast.
  [[nodiscard]] std::uint64_t frames_to_nobody(Side from) const { return frames_to_nobody_[idx(from)]; }
  [[nodiscard]] std::uint64_t injected_frames() const { return injected_; }

  // The earliest virtual time at which something happens; kNever if nothing ever will.
  [[nodiscard]] TimeNs next_event() const {
    TimeNs t = std::min({link_.next_delivery(), engines_[0]->next_deadline(), engines_[1]->next_deadline()});
    if (driver_ && driver_may_open()) t = std::min(t, next_open_at_);
    return t;
  }

  // Moves the clock to the next event (never backwards) and handles everything due then.
  // Returns false, leaving the clock alone, when no event comes at or before `limit`.
  bool step(TimeNs limit) {
    if (stalled_) return false;
    const TimeNs next = next_event();
    if (next == kNever || next > limit) return false;
    if (next > now_) {
      now_ = next;
      steps_at_instant_ = 0;
    } else if (++steps_at_instant_ > kMaxStepsAtOneInstant) {
      stalled_ = true;
      return false;
    }
    Direction dir;
    Bytes frame;
    while (link_.pop_due(now_, dir, frame)) {
      const Side to = dir == Direction::kClientToServer ? Side::kServer : Side::kClient;
      io_[idx(to)]->deliver(engine(to), frame, now_);
      collect();
    }
    if (driver_) open_due();
    engines_[0]->advance(now_);
    engines_[1]->advance(now_);
    collect();
    return true;
  }

  // Handles every event up to `t`, then sets the clock to `t`.
  void run_until(TimeNs t) {
    while (step(t)) {
    }
    if (!stalled_ && t > now_) now_ = t;
  }

  // Handles events until done() holds or the clock would pass `limit`. Returns done().
  template <class Done>
  bool run_until(Done&& done, TimeNs limit) {
    while (!done()) {
      if (!step(limit)) return done();
    }
    return true;
  }

  // Opens plan.connections from the client to the server and runs until each has completed or
  // failed, or until `time_limit` of virtual time has passed.
  RunResult run_workload(const DriverPlan& plan, TimeNs time_limit) {
    const TimeNs started = now_;
    start_workload(plan);
    return finish_workload(started, time_limit);
  }

  // The same in two halves, for tests that change the link while the driver runs.
  void start_workload(const DriverPlan& plan) {
    driver_ = plan;
    opened_ = 0;
    next_open_at_ = now_;
    done_base_ = finished_client_connections();
  }
  RunResult finish_workload(TimeNs started, TimeNs time_limit) {
    RunResult r;
    r.started_at = started;
    r.all_done = run_until([&] { return workload_done(); }, started + time_limit);
    r.done_at = now_;
    driver_.reset();
    return r;
  }
  [[nodiscard]] bool workload_done() const {
    return driver_ && opened_ == driver_->connections &&
           finished_client_connections() - done_base_ == driver_->connections;
  }

  // Long enough for any record to end by its own timers once nothing new starts: the longest
  // retransmission sequence at the capped RTO, then FIN-WAIT-2 and TIME-WAIT back to back,
  // each restarted at most by that sequence.
  [[nodiscard]] TimeNs drain_bound() const {
    TimeNs bound = 0;
    for (const auto& e : engines_) {
      const EngineConfig& c = e->config();
      const std::uint32_t tries = std::max({c.syn_retries, c.synack_retries, c.max_retries}) + 1u;
      bound = std::max(bound, tries * c.rto_max + c.fin_wait2_timeout + c.time_wait + c.delayed_ack);
    }
    return bound + 1 * kSecond;
  }

  // Final readings, then the engines are destroyed so they hand back the frames they hold.
  void shutdown() {
    for (std::size_t i = 0; i < 2; ++i) {
      snapshots_[i] = EngineSnapshot{engines_[i]->counters(), engines_[i]->gauges()};
      engines_[i].reset();
    }
  }
  [[nodiscard]] const EngineSnapshot& snapshot(Side s) const { return *snapshots_[idx(s)]; }
  [[nodiscard]] std::uint32_t arena_free(Side s) const { return io_[idx(s)]->free_buffers(); }
  static constexpr std::uint32_t kArenaBuffers = 512;

 private:
  static std::size_t idx(Side s) { return static_cast<std::size_t>(s); }

  std::uint64_t finished_client_connections() const {
    const Counters& c = engines_[0]->counters();
    return c.conn_completed + c.conn_failed;
  }

  bool driver_may_open() const {
    if (opened_ >= driver_->connections) return false;
    const std::uint64_t finished = finished_client_connections() - done_base_;
    return opened_ - finished < driver_->max_in_flight;
  }

  void open_due() {
    while (driver_may_open() && next_open_at_ <= now_) {
      const auto port = static_cast<std::uint16_t>(driver_->first_local_port + opened_);
      open(Side::kClient, kSimServerIp, driver_->server_port, port);
      ++opened_;
      next_open_at_ += driver_->open_interval;
    }
    // A paused driver (in-flight cap) resumes at the time it is let go, not in a burst.
    if (next_open_at_ < now_) next_open_at_ = now_;
  }

  // Everything the engines have transmitted goes onto the link, stamped with the current time;
  // as on a switched segment, a frame whose destination MAC no host owns reaches no one.
  void collect() {
    for (std::size_t i = 0; i < 2; ++i) {
      const Direction dir = i == 0 ? Direction::kClientToServer : Direction::kServerToClient;
      const MacAddr& peer = macs_[1 - i];
      auto& sent = io_[i]->sent();
      while (!sent.empty()) {
        Bytes& f = sent.front();
        EthernetHeader eth;
        const bool addressed = parse_ethernet(f.data(), f.size(), eth) == EthernetError::kOk &&
                               (eth.dst == peer || eth.dst.is_broadcast());
        if (addressed) link_.send(dir, std::move(f), now_);
        else ++frames_to_nobody_[i];
        sent.pop_front();
      }
    }
  }

  SimLink link_;
  TimeNs now_;
  std::unique_ptr<TestIo> io_[2];
  std::unique_ptr<Engine> engines_[2];
  MacAddr macs_[2];
  std::uint64_t frames_to_nobody_[2] = {0, 0};
  std::uint64_t injected_ = 0;
  std::optional<EngineSnapshot> snapshots_[2];
  bool stalled_ = false;
  std::uint32_t steps_at_instant_ = 0;
  std::uint64_t open_errors_[2] = {0, 0};
  std::uint64_t open_no_memory_[2] = {0, 0};

  std::optional<DriverPlan> driver_;
  std::uint32_t opened_ = 0;
  TimeNs next_open_at_ = kNever;
  std::uint64_t done_base_ = 0;
};

// Frames an engine dropped as damaged before any state was touched: with a single flipped byte
// under the checksums, each corrupted copy lands in exactly one of these.
// IPv6 has no header checksum: a flipped destination, next header or source shows up as a
// packet not for us, not TCP, or with a bad source (IPv4's header checksum catches those first).
inline std::uint64_t damaged_frame_drops(const Counters& c) {
  return c.drop_ip_truncated + c.drop_ip_bad_version + c.drop_ip_bad_header_length + c.drop_ip_bad_total_length +
         c.drop_ip_bad_checksum + c.drop_ip_fragment + c.drop_tcp_truncated + c.drop_tcp_bad_data_offset +
         c.drop_tcp_bad_checksum + c.drop_ipv6_malformed + c.drop_ipv6_fragment + c.drop_ip_not_for_us +
         c.drop_ip_not_tcp + c.drop_ip_bad_source + c.drop_icmpv6_malformed;
}

// The invariants of every run. Lets the clock run past the drain bound (TIME-WAIT and every
// retransmission sequence expired, nothing new started), shuts the engines down, and returns
// one line per violation (empty: all hold).
inline std::vector<std::string> settle_and_check(Simulator& sim) {
  std::vector<std::string> v;
  auto fail = [&](const std::string& what) { v.push_back(what); };
  auto num = [](std::uint64_t x) { return std::to_string(x); };

  sim.run_until(sim.now() + sim.drain_bound());
  if (sim.stalled()) fail("simulator stalled: an engine deadline stayed in the past");
  if (!sim.link().empty()) fail("frames still in flight after the drain");
  const LinkStats link = sim.link().total();
  sim.shutdown();

  std::uint64_t damaged = 0;
  for (Side s : {Side::kClient, Side::kServer}) {
    const std::string who = s == Side::kClient ? "client: " : "server: ";
    const Counters& c = sim.snapshot(s).counters;
    // By family: a run's connections are all of its family.
    const bool v6 = sim_ipv6();
    if (c.ipv6_conn_established != (v6 ? c.conn_established : 0) || c.ipv6_conn_completed != (v6 ? c.conn_completed : 0) ||
        c.ipv6_conn_failed != (v6 ? c.conn_failed : 0)) {
      fail(who + "IPv6 connection counts do not match the run's family");
    }
    const EngineGauges& g = sim.snapshot(s).gauges;
    damaged += damaged_frame_drops(c);

    // Every record that was ever a connection ended exactly once, as a success or a failure.
    // (The client only opens and the server only accepts, so this reads opened == completed +
    // failed on one and accepted == completed + failed on the other.)
    if (c.conn_opened + c.conn_accepted != c.conn_completed + c.conn_failed) {
      fail(who + "opened " + num(c.conn_opened) + " + accepted " + num(c.conn_accepted) + " != completed " +
           num(c.conn_completed) + " + failed " + num(c.conn_failed));
    }
    // Every failure has exactly one reason: the reasons are every counter named conn_failed_*,
    // read from the counter list itself so that a reason added later is never left out.
    std::uint64_t reasons = 0;
    c.for_each([&](std::string_view name, std::uint64_t value) {
      if (name.starts_with("conn_failed_")) reasons += value;
    });
    if (reasons != c.conn_failed) fail(who + "sum of conn_failed_* " + num(reasons) + " != conn_failed " + num(c.conn_failed));

    // The listener's books (listener.cpp). Each SYN for a listening port with no record of its
    // tuple (syn_received) gets exactly one of: a half-open entry, sent its first SYN-ACK; a
    // cookie SYN-ACK (cookies_sent), keeping nothing; or nothing, for want of a free entry or
    // flow slot (drop_pool_full, drop_flow_table_full, which also count an open() refused for
    // want of memory, subtracted here, and a final ACK that found the connection pool full: the
    // scenarios size the pools so that never happens, and if it did it would show as a
    // violation here). synack_sent counts first SYN-ACKs only, one per entry created and one
    // per cookie, so the entries created are synack_sent - cookies_sent.
    const auto sgn = [](std::uint64_t x) { return static_cast<std::int64_t>(x); };
    const std::int64_t half_open_created = sgn(c.synack_sent) - sgn(c.cookies_sent);
    const std::int64_t syn_no_room = sgn(c.drop_pool_full) + sgn(c.drop_flow_table_full) - sgn(sim.open_no_memory(s));
    if (sgn(c.syn_received) != half_open_created + sgn(c.cookies_sent) + syn_no_room) {
      fail(who + "syn_received " + num(c.syn_received) + " != half-open entries created " +
           std::to_string(half_open_created) + " + cookies_sent " + num(c.cookies_sent) + " + no room " +
           std::to_string(syn_no_room));
    }
    // Each half-open entry ends exactly once: promoted to a connection by its final ACK (every
    // accepted connection except those rebuilt from a cookie), expired after the SYN-ACK
    // retries (syn_rcvd_timeout), ended by an RST, a different SYN or a refused final ACK
    // (syn_rcvd_reset), or evicted from a full backlog (half_open_evicted); or it is still live,
    // counted as SYN-RECEIVED by the gauges (zero after the drain: checked below).
    const std::int64_t promoted = sgn(c.conn_accepted) - sgn(c.cookies_valid);
    const std::int64_t live = g.in(TcpState::kSynReceived);
    if (half_open_created !=
        promoted + sgn(c.syn_rcvd_timeout) + sgn(c.syn_rcvd_reset) + sgn(c.half_open_evicted) + live) {
      fail(who + "half-open entries created " + std::to_string(half_open_created) + " != promoted " +
           std::to_string(promoted) + " (accepted " + num(c.conn_accepted) + " - cookies_valid " + num(c.cookies_valid) +
           ") + syn_rcvd_timeout " + num(c.syn_rcvd_timeout) + " + syn_rcvd_reset " + num(c.syn_rcvd_reset) +
           " + half_open_evicted " + num(c.half_open_evicted) + " + live " + std::to_string(live));
    }
    // No record outlives TIME-WAIT and the retransmission limits.
    if (g.connections != 0) {
      std::string states;
      for (std::size_t i = 0; i < g.by_state.size(); ++i) {
        if (g.by_state[i] == 0) continue;
        states.append(" ").append(to_string(static_cast<TcpState>(i))).append("=").append(num(g.by_state[i]));
      }
      fail(who + num(g.connections) + " records still in use after the drain:" + states);
    }
    std::uint64_t by_state_sum = 0;
    for (std::uint32_t n : g.by_state) by_state_sum += n;
    if (by_state_sum != g.connections) {
      fail(who + "per-state gauges sum to " + num(by_state_sum) + " but " + num(g.connections) + " records are in use");
    }
    // Between the two engines alone every frame is addressed to the other one: only frames
    // injected from hosts the simulator does not model may draw replies to nobody.
    if (sim.injected_frames() == 0 && sim.frames_to_nobody(s) != 0) {
      fail(who + num(sim.frames_to_nobody(s)) + " frames sent to a MAC address no host owns");
    }
    // Every buffer lent to the engine came back: none leaked in a queue or a dropped path.
    if (sim.arena_free(s) != Simulator::kArenaBuffers) {
      fail(who + "arena has " + num(sim.arena_free(s)) + " of " + num(Simulator::kArenaBuffers) + " buffers back");
    }
  }
  // Each corrupted copy was dropped by a validity check (checksum, mostly), never processed, but
  // for those flipped where IPv6 has no check.
  if (damaged != link.corrupted - link.corrupted_unchecked) {
    fail("corrupted frames " + num(link.corrupted) + " (" + num(link.corrupted_unchecked) +
         " in unchecked IPv6 fields) != frames dropped as damaged " + num(damaged));
  }
  return v;
}

}  // namespace synwave::test
