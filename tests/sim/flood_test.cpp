// Issue 4's flood: 1,000,000 SYNs from spoofed sources mixed with 10,000 legitimate clients, for
// each SYN cookie mode. The spoofed SYNs enter the server engine directly (Simulator::inject),
// 100 per legitimate connection, while the client engine's traffic crosses a lossless link; the
// server answers each to the frame's source MAC, which no host owns, so its SYN-ACKs reach no
// one, as they would reach no one (or a host that drops them) on a real network.
//
// With cookies (on overflow, always) the legitimate clients must all but all complete; with
// cookies off a full backlog evicts their half-open entries, and each failure must be counted
// with its reason. Whatever the mode, no pool passes its configured size at any sample.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "sim/simulator.hpp"

namespace synwave::test {
namespace {

constexpr std::uint32_t kLegitimateConnections = 10'000;
constexpr std::uint32_t kSpoofedPerLegitimate = 100;
constexpr std::uint64_t kSpoofedSyns = std::uint64_t{kLegitimateConnections} * kSpoofedPerLegitimate;  // issue 4: 1,000,000
constexpr TimeNs kOpenInterval = 100 * kMicrosecond;  // 10,000 legitimate opens per virtual second
// The flood keeps pace with the opens: 100 spoofed SYNs per open interval, 10 every 10 µs
// (1 Mpps), so it lasts as long as the legitimate opens do.
constexpr TimeNs kFloodTick = 10 * kMicrosecond;
constexpr std::uint32_t kSynsPerTick =
    static_cast<std::uint32_t>(kSpoofedPerLegitimate * kFloodTick / kOpenInterval);
constexpr std::uint32_t kSynBacklog = 1024;  // small, so the flood fills it within a millisecond
constexpr std::uint32_t kServerConnections = 4096;
constexpr std::uint32_t kTimeWaitEntries = 16384;
constexpr TimeNs kRunLimit = 600 * kSecond;  // virtual

// The simulator's own hosts live in 198.18.0.0/24; the flood comes from the rest of the /15.
constexpr std::uint32_t kFloodNet = ip4(198, 18, 0, 0);

// SYNs as a SYN flood tool sends them: random source address (198.18.0.0/15), port, MAC,
// sequence number and timestamp, with the options of an ordinary SYN so that the cookies must
// encode them. Every tuple is distinct, so every SYN meets a listener and no earlier entry: the
// tuple is a bijective mix of a counter (17 address bits, 15 port bits, ports 32768-65535).
// Deterministic for a seed, with no <random> distribution (their output differs between
// standard libraries).
class SpoofedSynFlooder {
 public:
  explicit SpoofedSynFlooder(std::uint64_t seed) : rng_(seed), salt_(static_cast<std::uint32_t>(seed)) {}

  Bytes next() {
    std::uint32_t ip = 0;
    std::uint16_t port = 0;
    do {
      const std::uint32_t m = mix(counter_++ ^ salt_);
      ip = kFloodNet | (m >> 15);
      port = static_cast<std::uint16_t>(0x8000u | (m & 0x7fffu));
    } while ((ip >> 8) == (kSimServerIp >> 8));
    const std::uint64_t r = rng_();
    SegmentSpec s;
    // A locally administered unicast MAC that neither simulated host has (theirs are 02:00:...).
    s.src_mac = MacAddr{{0x02, 0x5f, static_cast<std::uint8_t>(r >> 8), static_cast<std::uint8_t>(r >> 16),
                         static_cast<std::uint8_t>(r >> 24), static_cast<std::uint8_t>(r >> 32)}};
    s.dst_mac = kSimServerMac;
    s.src_ip = ip;
    s.dst_ip = kSimServerIp;
    s.src_port = port;
    s.dst_port = kSimServerPort;
    s.seq = static_cast<std::uint32_t>(rng_());
    s.flags = tcp_flags::kSyn;
    s.window = 64240;
    s.options.mss = true;
    s.options.mss_value = 1460;
    s.options.window_scale = true;
    s.options.window_scale_shift = 7;
    s.options.sack_permitted = true;
    s.options.timestamps = true;
    s.options.ts_val = static_cast<std::uint32_t>(r >> 40) | 1u;
    return build_segment(s);
  }

 private:
  // MurmurHash3's 32-bit finaliser: a bijection, so distinct counters give distinct tuples.
  static std::uint32_t mix(std::uint32_t x) {
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
  }

  std::mt19937_64 rng_;
  std::uint32_t salt_;
  std::uint32_t counter_ = 0;
};

const char* mode_name(SynCookieMode m) {
  switch (m) {
    case SynCookieMode::kOff: return "Off";
    case SynCookieMode::kOnOverflow: return "OnOverflow";
    case SynCookieMode::kAlways: return "Always";
  }
  return "?";
}

// HTTP request/response connections closed by the client. Timers as in the loss scenarios
// (200 ms first RTO, 2 s cap) so that the SYN backlog's spoofed entries, which retransmit their
// SYN-ACKs synack_retries times (1 s, then 2 s each), are gone within the drain bound.
EngineConfig flood_config(Side side, SynCookieMode mode) {
  EngineConfig c = sim_engine_config(side);
  c.max_connections = side == Side::kServer ? kServerConnections : 16384;
  c.syn_backlog = kSynBacklog;
  c.max_time_wait = kTimeWaitEntries;
  c.syn_cookies = mode;
  c.time_wait = 2 * kSecond;
  c.rto_initial = 200 * kMillisecond;
  c.rto_min = 200 * kMillisecond;
  c.rto_max = 2 * kSecond;
  c.workload.kind = WorkloadKind::kHttp;
  c.workload.close = ClosePolicy::kClientFirst;
  return c;
}

LinkFaults lossless() {
  LinkFaults f;
  f.delay = 500 * kMicrosecond;
  f.jitter = 200 * kMicrosecond;
  return f;
}

// The most of each pool the server's gauges ever showed.
struct PoolPeaks {
  std::uint32_t half_open = 0;  // SYN-RECEIVED: half-open entries (the server opens nothing)
  std::uint32_t full = 0;       // full connection records
  std::uint32_t time_wait = 0;  // compact TIME-WAIT entries
  std::uint64_t samples = 0;

  void sample(const EngineGauges& g) {
    const std::uint32_t h = g.in(TcpState::kSynReceived);
    const std::uint32_t t = g.in(TcpState::kTimeWait);
    half_open = std::max(half_open, h);
    time_wait = std::max(time_wait, t);
    full = std::max(full, g.connections - h - t);
    ++samples;
  }
};

std::string failure_reasons(const Counters& c) {
  constexpr std::string_view kPrefix = "conn_failed_";
  std::string s;
  c.for_each([&](std::string_view name, std::uint64_t n) {
    if (n == 0 || !name.starts_with(kPrefix)) return;
    s.append(" ").append(name.substr(kPrefix.size())).append("=").append(std::to_string(n));
  });
  return s.empty() ? " none" : s;
}

std::uint64_t failure_reason_sum(const Counters& c) {
  std::uint64_t sum = 0;
  c.for_each([&](std::string_view name, std::uint64_t n) {
    if (name.starts_with("conn_failed_")) sum += n;
  });
  return sum;
}

unsigned long long ull(std::uint64_t x) { return static_cast<unsigned long long>(x); }

class SynFlood : public ::testing::TestWithParam<SynCookieMode> {};

TEST_P(SynFlood, MillionSpoofedSyns_LegitimateOutcomesCounted_PoolsWithinBounds) {
  const SynCookieMode mode = GetParam();
  const auto wall_start = std::chrono::steady_clock::now();
  const EngineConfig server_config = flood_config(Side::kServer, mode);
  const std::uint32_t half_open_bound = server_config.syn_backlog * static_cast<std::uint32_t>(server_config.listen_ports.size());
  Simulator sim(flood_config(Side::kClient, mode), server_config, lossless(), 0xf100d00u + static_cast<std::uint64_t>(mode));
  SpoofedSynFlooder flooder(0x5900f00u + static_cast<std::uint64_t>(mode));
  const std::size_t server_memory = sim.server().memory_bytes();

  DriverPlan plan;
  plan.connections = kLegitimateConnections;
  plan.open_interval = kOpenInterval;
  const TimeNs start = sim.now();
  sim.start_workload(plan);
  PoolPeaks peak;
  std::uint64_t spoofed = 0;
  while (spoofed < kSpoofedSyns && !sim.stalled()) {
    for (std::uint32_t k = 0; k < kSynsPerTick && spoofed < kSpoofedSyns; ++k, ++spoofed) {
      sim.inject(Side::kServer, flooder.next());
    }
    sim.run_until(sim.now() + kFloodTick);
    peak.sample(sim.server().gauges());
  }
  const TimeNs flood_end = sim.now();
  while (!sim.workload_done() && !sim.stalled() && sim.now() < start + kRunLimit) {
    sim.run_until(sim.now() + kMillisecond);
    peak.sample(sim.server().gauges());
  }
  const RunResult run = sim.finish_workload(start, kRunLimit);
  const bool memory_unchanged = sim.server().memory_bytes() == server_memory;
  const std::uint64_t to_nobody = sim.frames_to_nobody(Side::kServer);
  const std::vector<std::string> violations = settle_and_check(sim);
  const Counters& c = sim.snapshot(Side::kClient).counters;
  const Counters& s = sim.snapshot(Side::kServer).counters;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const double completed = static_cast<double>(c.conn_completed) / kLegitimateConnections;

  std::printf("[flood] cookies %-10s legitimate completed %6.2f%% (%llu/%u) failed:%s\n", mode_name(mode),
              100.0 * completed, ull(c.conn_completed), kLegitimateConnections, failure_reasons(c).c_str());
  std::printf("[flood]   server: syn_received %llu synack_sent %llu cookies sent %llu valid %llu invalid %llu stale %llu"
              " | half_open_evicted %llu syn_rcvd_timeout %llu syn_rcvd_reset %llu | accepted %llu completed %llu"
              " rst_sent %llu | SYN-ACKs to nobody %llu\n",
              ull(s.syn_received), ull(s.synack_sent), ull(s.cookies_sent), ull(s.cookies_valid), ull(s.cookies_invalid),
              ull(s.cookies_stale), ull(s.half_open_evicted), ull(s.syn_rcvd_timeout), ull(s.syn_rcvd_reset),
              ull(s.conn_accepted), ull(s.conn_completed), ull(s.rst_sent), ull(to_nobody));
  std::printf("[flood]   peaks over %llu samples: half-open %u/%u, connections %u/%u, time-wait %u/%u | flood %.2f s,"
              " run %.2f s virtual | wall %.2f s\n",
              ull(peak.samples), peak.half_open, half_open_bound, peak.full, server_config.max_connections,
              peak.time_wait, server_config.max_time_wait, static_cast<double>(flood_end - start) / kSecond,
              static_cast<double>(run.done_at - run.started_at) / kSecond, wall);

  // Every legitimate connection ended, counted as completed or failed with exactly one reason,
  // and the counters of both engines add up (settle_and_check).
  EXPECT_FALSE(sim.stalled());
  EXPECT_TRUE(run.all_done) << "not every legitimate connection ended within the virtual time limit";
  EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
  EXPECT_EQ(spoofed, kSpoofedSyns);
  EXPECT_EQ(c.conn_opened, kLegitimateConnections);
  EXPECT_EQ(c.conn_completed + c.conn_failed, kLegitimateConnections);
  EXPECT_EQ(failure_reason_sum(c), c.conn_failed);
  // Every SYN reached the listener: each spoofed one (distinct tuples) and each legitimate one.
  EXPECT_EQ(s.syn_received, kSpoofedSyns + c.syn_sent + c.syn_retransmitted);
  // Each spoofed SYN was answered once at least, and the answer reached no one.
  EXPECT_GE(to_nobody, kSpoofedSyns);

  // No pool ever passed its configured size, and nothing was allocated after construction.
  EXPECT_LE(peak.half_open, half_open_bound);
  EXPECT_LE(peak.full, server_config.max_connections);
  EXPECT_LE(peak.time_wait, server_config.max_time_wait);
  EXPECT_TRUE(memory_unchanged);
  EXPECT_EQ(s.time_wait_overflow, 0u);

  switch (mode) {
    case SynCookieMode::kOff:
      // The backlog is full from the first millisecond: each new SYN evicts the oldest entry, a
      // legitimate one included, whose final ACK then meets the listener alone and draws an RST.
      EXPECT_EQ(peak.half_open, half_open_bound);
      EXPECT_GT(s.half_open_evicted, 0u);
      EXPECT_EQ(s.cookies_sent, 0u);
      EXPECT_EQ(s.cookies_valid, 0u);
      EXPECT_GT(c.conn_failed, 0u) << "a flooded backlog without cookies should cost legitimate connections";
      break;
    case SynCookieMode::kOnOverflow:
      // The first spoofed SYNs fill the backlog; from then on every SYN is answered by a cookie.
      EXPECT_EQ(peak.half_open, half_open_bound);
      EXPECT_EQ(s.half_open_evicted, 0u);
      EXPECT_GT(s.cookies_sent, 0u);
      EXPECT_GT(s.cookies_valid, 0u);
      EXPECT_GE(completed, 0.999) << "failed:" << failure_reasons(c);
      break;
    case SynCookieMode::kAlways:
      // No half-open state at all: every SYN gets a cookie, every accept is a valid cookie.
      EXPECT_EQ(peak.half_open, 0u);
      EXPECT_EQ(s.half_open_evicted, 0u);
      EXPECT_EQ(s.cookies_sent, s.syn_received);
      EXPECT_EQ(s.cookies_valid, s.conn_accepted);
      EXPECT_GT(s.cookies_valid, 0u);
      EXPECT_GE(completed, 0.999) << "failed:" << failure_reasons(c);
      break;
  }
  if (mode != SynCookieMode::kOff) {
    // Nothing forges ACKs here and the link is lossless: no legitimate final ACK may be judged
    // forged or stale.
    EXPECT_EQ(s.cookies_invalid, 0u);
    EXPECT_EQ(s.cookies_stale, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(CookieModes, SynFlood,
                         ::testing::Values(SynCookieMode::kOff, SynCookieMode::kOnOverflow, SynCookieMode::kAlways),
                         [](const ::testing::TestParamInfo<SynCookieMode>& info) { return std::string(mode_name(info.param)); });

}  // namespace
}  // namespace synwave::test
