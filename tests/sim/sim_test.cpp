// Simulation scenarios: a client engine and a server engine through a faulty link on a virtual
// clock (simulator.hpp). Every run ends with settle_and_check(), which lets TIME-WAIT and every
// retransmission sequence expire and then demands that the counters add up, no record is left
// and every frame buffer is back in its arena.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/simulator.hpp"

namespace synwave::test {
namespace {

constexpr std::uint32_t kConnections = 10'000;
constexpr TimeNs kRunLimit = 600 * kSecond;  // virtual

const char* policy_name(ClosePolicy p) {
  switch (p) {
    case ClosePolicy::kClientFirst: return "ClientFirst";
    case ClosePolicy::kServerFirst: return "ServerFirst";
    case ClosePolicy::kReset: return "Reset";
    case ClosePolicy::kHalfClose: return "HalfClose";
  }
  return "?";
}

// The server's half of a client policy (app_behavior.cpp): kReset and kHalfClose name what the
// client does; the server then simply answers and closes once the client has, which is its
// kClientFirst behaviour.
ClosePolicy server_policy_for(ClosePolicy client) {
  return client == ClosePolicy::kServerFirst ? ClosePolicy::kServerFirst : ClosePolicy::kClientFirst;
}

// Settings for lossy runs, chosen so that 30 % loss in each direction still completes > 99 %:
// - One exchange (a segment and the segment that acknowledges it) fails with p = 1 - 0.7^2 = 0.51
//   at 30 % loss. The handshake survives unless 11 SYNs in a row fail (syn_retries = 10):
//   0.51^11 ~ 6e-4; the server's own SYN-ACK retries (synack_retries = 10) only lower that.
//   Linux's 6 retries would lose ~1 % here. Each data or FIN segment survives unless 16 tries
//   fail (max_retries = 15): 0.51^16 ~ 2e-5. A connection has about 6 such exchanges, so the
//   expected completion is ~99.9 %; the 90 % floor asserted at 30 % leaves room for the
//   correlated losses (go-back-N drops everything after a hole) this estimate ignores.
// - The link's round trip is ~1-2 ms, so the first RTO (rto_initial) is 200 ms instead of
//   RFC 6298's 1 s, and backoff is capped at 2 s: the number of tries decides survival, and
//   shorter gaps keep the virtual time (and the drain bound) small.
// - fin_wait2_timeout stays at its 60 s default (it is also the workload's idle limit), longer
//   than the peer's whole retry sequence (16 tries x 2 s), so a side waiting on a peer that is
//   still retransmitting never gives up first.
// - time_wait = 2 s keeps the records of finished connections short-lived.
EngineConfig scenario_config(Side side, WorkloadKind kind, ClosePolicy client_policy) {
  EngineConfig c = sim_engine_config(side);
  c.max_connections = 16384;
  c.time_wait = 2 * kSecond;
  c.rto_initial = 200 * kMillisecond;
  c.rto_min = 200 * kMillisecond;
  c.rto_max = 2 * kSecond;
  c.syn_retries = 10;
  c.synack_retries = 10;
  c.max_retries = 15;
  c.workload.kind = kind;
  c.workload.close = side == Side::kClient ? client_policy : server_policy_for(client_policy);
  c.workload.response_bytes = 3000;  // three segments: losses inside the response exercise recovery
  return c;
}

LinkFaults loss_only(double loss) {
  LinkFaults f;
  f.loss = loss;
  f.delay = 500 * kMicrosecond;
  f.jitter = 200 * kMicrosecond;
  return f;
}

LinkFaults hostile_link() {
  LinkFaults f;
  f.loss = 0.05;
  f.duplicate = 0.05;
  f.reorder = 0.05;
  f.corrupt = 0.05;
  f.delay = 500 * kMicrosecond;
  f.jitter = 300 * kMicrosecond;
  f.reorder_delay = 5 * kMillisecond;
  return f;
}

DriverPlan plan_for(std::uint32_t connections) {
  DriverPlan p;
  p.connections = connections;
  p.open_interval = 100 * kMicrosecond;  // 10,000 opens per virtual second
  p.max_in_flight = 12000;                // below max_connections: TIME-WAIT records count too
  return p;
}

double ratio(std::uint64_t part, std::uint64_t whole) { return whole == 0 ? 0.0 : static_cast<double>(part) / whole; }

// Every non-zero conn_failed_* reason, named without its prefix, read from the counter list so
// that a reason added later shows up here too.
std::string failure_breakdown(const Counters& c) {
  constexpr std::string_view kPrefix = "conn_failed_";
  std::string s;
  c.for_each([&](std::string_view name, std::uint64_t n) {
    if (n == 0 || !name.starts_with(kPrefix)) return;
    s.append(" ").append(name.substr(kPrefix.size())).append("=").append(std::to_string(n));
  });
  return s.empty() ? " none" : s;
}

std::vector<std::pair<std::string, std::uint64_t>> all_counters(const Counters& c) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  c.for_each([&](std::string_view name, std::uint64_t value) { out.emplace_back(std::string(name), value); });
  return out;
}

// What a finished workload run reports, read after settle_and_check().
struct Outcome {
  RunResult run;
  Counters client;
  Counters server;
  LinkStats link;
  std::vector<std::string> violations;
  double wall_seconds = 0;
};

Outcome run_scenario(WorkloadKind kind, ClosePolicy policy, const LinkFaults& faults, std::uint64_t seed,
                     std::uint32_t connections) {
  const auto wall_start = std::chrono::steady_clock::now();
  Simulator sim(scenario_config(Side::kClient, kind, policy), scenario_config(Side::kServer, kind, policy), faults, seed);
  Outcome o;
  o.run = sim.run_workload(plan_for(connections), kRunLimit);
  if (sim.open_errors() != 0) o.violations.push_back("open() failed " + std::to_string(sim.open_errors()) + " times");
  const std::vector<std::string> v = settle_and_check(sim);
  o.violations.insert(o.violations.end(), v.begin(), v.end());
  o.client = sim.snapshot(Side::kClient).counters;
  o.server = sim.snapshot(Side::kServer).counters;
  o.link = sim.link().total();
  o.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return o;
}

void report(const std::string& name, const Outcome& o, std::uint32_t connections) {
  std::printf("[sim] %-28s completed %6.2f%% (client %llu/%u, server %llu) failed:%s | retransmits c=%llu s=%llu | "
              "link sent=%llu lost=%llu dup=%llu reord=%llu corrupt=%llu | virtual %.1f s | wall %.2f s\n",
              name.c_str(), 100.0 * ratio(o.client.conn_completed, connections),
              static_cast<unsigned long long>(o.client.conn_completed), connections,
              static_cast<unsigned long long>(o.server.conn_completed), failure_breakdown(o.client).c_str(),
              static_cast<unsigned long long>(o.client.retransmits), static_cast<unsigned long long>(o.server.retransmits),
              static_cast<unsigned long long>(o.link.sent), static_cast<unsigned long long>(o.link.lost),
              static_cast<unsigned long long>(o.link.duplicated), static_cast<unsigned long long>(o.link.reordered),
              static_cast<unsigned long long>(o.link.corrupted),
              static_cast<double>(o.run.done_at - o.run.started_at) / kSecond, o.wall_seconds);
}

// ---------------------------------------------------------------------------------------------
// 10,000 request/response connections for each close policy at 0, 1, 10 and 30 % loss.

struct LossCase {
  ClosePolicy policy;
  double loss;
};

class LossScenario : public ::testing::TestWithParam<LossCase> {};

TEST_P(LossScenario, TenThousandConnections_EachEndsCounted_NothingLeaks) {
  const LossCase lc = GetParam();
  // One seed per case, so the sixteen runs are independent samples.
  const std::uint64_t seed = 0x5eed0000u + 0x100u * static_cast<std::uint64_t>(lc.policy) +
                             static_cast<std::uint64_t>(lc.loss * 100);
  const Outcome o = run_scenario(WorkloadKind::kHttp, lc.policy, loss_only(lc.loss), seed, kConnections);
  report(std::string(policy_name(lc.policy)) + " loss " + std::to_string(static_cast<int>(lc.loss * 100)) + "%", o,
         kConnections);

  EXPECT_TRUE(o.run.all_done) << "not every connection finished within the virtual time limit";
  EXPECT_TRUE(o.violations.empty()) << ::testing::PrintToString(o.violations);
  EXPECT_EQ(o.client.conn_opened, kConnections);
  const double completed = ratio(o.client.conn_completed, kConnections);
  if (lc.loss == 0.0) {
    EXPECT_EQ(o.client.conn_completed, kConnections) << "failed:" << failure_breakdown(o.client);
    EXPECT_EQ(o.server.conn_completed, kConnections) << "failed:" << failure_breakdown(o.server);
    EXPECT_EQ(o.client.retransmits, 0u);
    EXPECT_EQ(o.server.retransmits, 0u);
  } else if (lc.loss <= 0.10) {
    EXPECT_GE(completed, 0.99) << "failed:" << failure_breakdown(o.client);
  } else {
    EXPECT_GE(completed, 0.90) << "failed:" << failure_breakdown(o.client);
  }
  if (lc.policy == ClosePolicy::kReset) {
    // The client ends each completed exchange with RST, on purpose.
    EXPECT_EQ(o.client.conn_aborted_by_policy, o.client.conn_completed);
  }
}

std::vector<LossCase> loss_cases() {
  std::vector<LossCase> cases;
  for (ClosePolicy p : {ClosePolicy::kServerFirst, ClosePolicy::kClientFirst, ClosePolicy::kReset, ClosePolicy::kHalfClose}) {
    for (double loss : {0.0, 0.01, 0.10, 0.30}) cases.push_back({p, loss});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(PolicyByLoss, LossScenario, ::testing::ValuesIn(loss_cases()),
                         [](const ::testing::TestParamInfo<LossCase>& info) {
                           return std::string(policy_name(info.param.policy)) + "_Loss" +
                                  std::to_string(static_cast<int>(info.param.loss * 100));
                         });

// ---------------------------------------------------------------------------------------------
// Every fault at once: loss, duplication, reordering and corruption.

class HostileLinkScenario : public ::testing::TestWithParam<ClosePolicy> {};

TEST_P(HostileLinkScenario, CorruptedFramesDroppedByChecksum_EachConnectionEndsCounted) {
  constexpr std::uint32_t kN = 2000;
  const Outcome o = run_scenario(WorkloadKind::kHttp, GetParam(), hostile_link(), 0xbadc0de, kN);
  report(std::string(policy_name(GetParam())) + " hostile link", o, kN);

  EXPECT_TRUE(o.run.all_done);
  EXPECT_TRUE(o.violations.empty()) << ::testing::PrintToString(o.violations);
  EXPECT_GT(o.link.corrupted, 0u);
  // Most flipped bytes are under the TCP checksum; the rest land in the IP header.
  EXPECT_GT(o.client.drop_tcp_bad_checksum + o.server.drop_tcp_bad_checksum, 0u);
  if (!sim_ipv6()) {
    EXPECT_GT(o.client.drop_ip_bad_checksum + o.server.drop_ip_bad_checksum, 0u);
  }
  EXPECT_GE(ratio(o.client.conn_completed, kN), 0.99) << "failed:" << failure_breakdown(o.client);
}

INSTANTIATE_TEST_SUITE_P(Policies, HostileLinkScenario,
                         ::testing::Values(ClosePolicy::kServerFirst, ClosePolicy::kClientFirst, ClosePolicy::kReset,
                                           ClosePolicy::kHalfClose),
                         [](const ::testing::TestParamInfo<ClosePolicy>& info) { return std::string(policy_name(info.param)); });

// ---------------------------------------------------------------------------------------------
// The peer vanishes: from one instant on, the link loses every frame in one direction or both.
// Whatever state each connection is in, its own timers must end it with a counted reason and
// leave no record: the retransmission limits, FIN-WAIT-2's limit, TIME-WAIT and the workload's
// idle limit between them cover every state. Cutting only server-to-client leaves clients whose
// request was acknowledged waiting for the rest of a response that never comes: nothing of
// theirs is outstanding, so only the idle limit can end them.

enum class Cut : std::uint8_t { kBoth, kServerToClient, kClientToServer };

struct BlackholeCase {
  ClosePolicy policy;
  Cut cut;
};

const char* cut_name(Cut c) {
  switch (c) {
    case Cut::kBoth: return "BothWays";
    case Cut::kServerToClient: return "ServerToClient";
    case Cut::kClientToServer: return "ClientToServer";
  }
  return "?";
}

class BlackholeScenario : public ::testing::TestWithParam<BlackholeCase> {};

TEST_P(BlackholeScenario, LinkDiesMidRun_EveryRecordEndsByItsOwnTimers) {
  constexpr std::uint32_t kN = 2000;
  const BlackholeCase bc = GetParam();
  LinkFaults slow = loss_only(0.0);
  slow.delay = 20 * kMillisecond;  // a long path keeps hundreds of connections mid-exchange
  EngineConfig cc = scenario_config(Side::kClient, WorkloadKind::kHttp, bc.policy);
  EngineConfig sc = scenario_config(Side::kServer, WorkloadKind::kHttp, bc.policy);
  cc.workload.response_bytes = sc.workload.response_bytes = 100'000;  // several round trips long
  Simulator sim(cc, sc, slow, 99);
  const TimeNs start = sim.now();
  sim.start_workload(plan_for(kN));
  sim.run_until(start + 150 * kMillisecond);
  const std::uint32_t in_use_at_cut = sim.client().gauges().connections + sim.server().gauges().connections;
  LinkFaults dead = slow;
  dead.loss = 1.0;
  if (bc.cut != Cut::kClientToServer) sim.link().set_faults(Direction::kServerToClient, dead);
  if (bc.cut != Cut::kServerToClient) sim.link().set_faults(Direction::kClientToServer, dead);
  const RunResult r = sim.finish_workload(start, kRunLimit);
  EXPECT_TRUE(r.all_done);
  const std::vector<std::string> violations = settle_and_check(sim);
  EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
  const Counters& c = sim.snapshot(Side::kClient).counters;
  const Counters& s = sim.snapshot(Side::kServer).counters;
  EXPECT_GT(in_use_at_cut, 100u);
  EXPECT_EQ(c.conn_opened, kN);
  EXPECT_GT(c.conn_failed, 0u);
  std::printf("[sim] blackhole %-11s %-14s records at the cut %4u; client completed %3llu failed:%s; "
              "server completed %3llu failed:%s syn_rcvd_timeout=%llu\n",
              policy_name(bc.policy), cut_name(bc.cut), in_use_at_cut, static_cast<unsigned long long>(c.conn_completed),
              failure_breakdown(c).c_str(), static_cast<unsigned long long>(s.conn_completed), failure_breakdown(s).c_str(),
              static_cast<unsigned long long>(s.syn_rcvd_timeout));
}

std::vector<BlackholeCase> blackhole_cases() {
  std::vector<BlackholeCase> cases;
  for (ClosePolicy p : {ClosePolicy::kServerFirst, ClosePolicy::kClientFirst, ClosePolicy::kReset, ClosePolicy::kHalfClose}) {
    for (Cut cut : {Cut::kBoth, Cut::kServerToClient, Cut::kClientToServer}) cases.push_back({p, cut});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(PolicyByCut, BlackholeScenario, ::testing::ValuesIn(blackhole_cases()),
                         [](const ::testing::TestParamInfo<BlackholeCase>& info) {
                           return std::string(policy_name(info.param.policy)) + "_" + cut_name(info.param.cut);
                         });

// ---------------------------------------------------------------------------------------------
// Determinism: a seed names one run.

TEST(Determinism, SameSeedTwice_IdenticalCounters) {
  constexpr std::uint32_t kN = 1000;
  const Outcome a = run_scenario(WorkloadKind::kHttp, ClosePolicy::kClientFirst, hostile_link(), 42, kN);
  const Outcome b = run_scenario(WorkloadKind::kHttp, ClosePolicy::kClientFirst, hostile_link(), 42, kN);
  EXPECT_TRUE(a.violations.empty()) << ::testing::PrintToString(a.violations);
  EXPECT_EQ(all_counters(a.client), all_counters(b.client));
  EXPECT_EQ(all_counters(a.server), all_counters(b.server));
  EXPECT_EQ(a.link, b.link);
  EXPECT_EQ(a.run.done_at, b.run.done_at);
}

TEST(Determinism, OtherSeed_OtherRun) {
  constexpr std::uint32_t kN = 1000;
  const Outcome a = run_scenario(WorkloadKind::kHttp, ClosePolicy::kClientFirst, hostile_link(), 42, kN);
  const Outcome b = run_scenario(WorkloadKind::kHttp, ClosePolicy::kClientFirst, hostile_link(), 43, kN);
  EXPECT_TRUE(b.violations.empty()) << ::testing::PrintToString(b.violations);
  EXPECT_NE(a.link, b.link);
}

// ---------------------------------------------------------------------------------------------
// Simultaneous open and simultaneous close (RFC 9293 §3.5 figure 8, §3.6 figure 13), with the
// manual workload: the test makes every user call.

EngineConfig manual_config(Side side, bool listen) {
  EngineConfig c = sim_engine_config(side);
  if (!listen) c.listen_ports.clear();
  c.max_connections = 4096;
  c.time_wait = 2 * kSecond;
  c.rto_initial = 200 * kMillisecond;
  c.rto_max = 2 * kSecond;
  c.syn_retries = 10;
  c.synack_retries = 10;
  c.max_retries = 15;
  c.workload.kind = WorkloadKind::kManual;
  return c;
}



// Whatever holds the tuple: a full record, a listener's half-open entry (SYN-RECEIVED) or a
// compact TIME-WAIT entry; nullopt once nothing does.
std::optional<TcpState> state_of(Engine& e, const FlowKey& key) {
  const TcpState s = e.state_of(key);
  if (s == TcpState::kClosed) return std::nullopt;
  return s;
}

// The states one connection passes through, as seen after every simulator step ("gone" once
// its record is freed).
class StateTrace {
 public:
  void observe(Engine& e, const FlowKey& key) {
    const std::optional<TcpState> s = state_of(e, key);
    const std::string name = s ? std::string(to_string(*s)) : "gone";
    if (states_.empty() || states_.back() != name) states_.push_back(name);
  }
  [[nodiscard]] const std::vector<std::string>& states() const { return states_; }

 private:
  std::vector<std::string> states_;
};

TEST(SimultaneousOpen, BothOpenMirroredTuples_BothReachEstablished_ThenCloseCleanly) {
  Simulator sim(manual_config(Side::kClient, false), manual_config(Side::kServer, false), loss_only(0.0), 7);
  constexpr std::uint16_t kPortA = 5000;
  constexpr std::uint16_t kPortB = 6000;
  const FlowKey ka = sim.key(Side::kClient, kPortA, kPortB);
  const FlowKey kb = sim.key(Side::kServer, kPortB, kPortA);
  // Both SYNs leave at the same virtual instant, so they cross on the wire.
  ASSERT_EQ(sim.open(Side::kClient, kSimServerIp, kPortB, kPortA).error, OpenError::kOk);
  ASSERT_EQ(sim.open(Side::kServer, kSimClientIp, kPortA, kPortB).error, OpenError::kOk);
  StateTrace ta, tb;
  const bool established = sim.run_until(
      [&] {
        ta.observe(sim.client(), ka);
        tb.observe(sim.server(), kb);
        return state_of(sim.client(), ka) == TcpState::kEstablished && state_of(sim.server(), kb) == TcpState::kEstablished;
      },
      sim.now() + 5 * kSecond);
  ASSERT_TRUE(established);
  const std::vector<std::string> expected{"SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"};
  EXPECT_EQ(ta.states(), expected);
  EXPECT_EQ(tb.states(), expected);
  EXPECT_EQ(sim.client().counters().conn_established, 1u);
  EXPECT_EQ(sim.server().counters().conn_established, 1u);
  EXPECT_EQ(sim.client().counters().rst_sent + sim.server().counters().rst_sent, 0u);
  EXPECT_EQ(sim.client().counters().retransmits + sim.server().counters().retransmits, 0u);

  EXPECT_TRUE(sim.close(Side::kClient, sim.client().find(ka)));
  sim.run_until(sim.now() + 100 * kMillisecond);
  EXPECT_TRUE(sim.close(Side::kServer, sim.server().find(kb)));
  const std::vector<std::string> violations = settle_and_check(sim);
  EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
  EXPECT_EQ(sim.snapshot(Side::kClient).counters.conn_completed, 1u);
  EXPECT_EQ(sim.snapshot(Side::kServer).counters.conn_completed, 1u);
}

// Many simultaneous opens through a lossy link: each pair either synchronises or fails with a
// counted reason; each end closes as soon as it is synchronised (ESTABLISHED, or CLOSE-WAIT when
// the peer's FIN came first).
class SimultaneousOpenLossy : public ::testing::TestWithParam<double> {};

TEST_P(SimultaneousOpenLossy, ManyPairs_EachEndsCounted_NothingLeaks) {
  constexpr std::uint16_t kPairs = 300;
  Simulator sim(manual_config(Side::kClient, false), manual_config(Side::kServer, false), loss_only(GetParam()), 11);
  std::vector<std::uint8_t> closed(2 * kPairs, 0);
  for (std::uint16_t i = 0; i < kPairs; ++i) {
    const auto pa = static_cast<std::uint16_t>(20000 + i);
    const auto pb = static_cast<std::uint16_t>(30000 + i);
    ASSERT_EQ(sim.open(Side::kClient, kSimServerIp, pb, pa).error, OpenError::kOk);
    ASSERT_EQ(sim.open(Side::kServer, kSimClientIp, pa, pb).error, OpenError::kOk);
  }
  auto close_established = [&] {
    for (std::uint16_t i = 0; i < kPairs; ++i) {
      const auto pa = static_cast<std::uint16_t>(20000 + i);
      const auto pb = static_cast<std::uint16_t>(30000 + i);
      const std::pair<Side, FlowKey> ends[2] = {{Side::kClient, sim.key(Side::kClient, pa, pb)},
                                                {Side::kServer, sim.key(Side::kServer, pb, pa)}};
      for (std::size_t e = 0; e < 2; ++e) {
        std::uint8_t& done = closed[2 * i + e];
        const std::optional<TcpState> st = state_of(sim.engine(ends[e].first), ends[e].second);
        if (done == 0 && (st == TcpState::kEstablished || st == TcpState::kCloseWait)) {
          done = 1;
          sim.close(ends[e].first, sim.engine(ends[e].first).find(ends[e].second));
        }
      }
    }
    return false;
  };
  sim.run_until(close_established, sim.now() + 120 * kSecond);
  const std::vector<std::string> violations = settle_and_check(sim);
  EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
  const Counters& a = sim.snapshot(Side::kClient).counters;
  const Counters& b = sim.snapshot(Side::kServer).counters;
  EXPECT_EQ(a.conn_opened, kPairs);
  EXPECT_EQ(b.conn_opened, kPairs);
  std::printf("[sim] simultaneous open, loss %2.0f%%: completed %llu + %llu of %u pairs; failed a:%s b:%s\n",
              GetParam() * 100, static_cast<unsigned long long>(a.conn_completed),
              static_cast<unsigned long long>(b.conn_completed), kPairs, failure_breakdown(a).c_str(),
              failure_breakdown(b).c_str());
  if (GetParam() == 0.0) {
    EXPECT_EQ(a.conn_completed, kPairs);
    EXPECT_EQ(b.conn_completed, kPairs);
  }
}

INSTANTIATE_TEST_SUITE_P(Loss, SimultaneousOpenLossy, ::testing::Values(0.0, 0.10, 0.30),
                         [](const ::testing::TestParamInfo<double>& info) {
                           return "Loss" + std::to_string(static_cast<int>(info.param * 100));
                         });

TEST(SimultaneousClose, BothCloseInEstablishedAtOnce_BothPassClosingAndTimeWait) {
  Simulator sim(manual_config(Side::kClient, false), manual_config(Side::kServer, true), loss_only(0.0), 3);
  constexpr std::uint16_t kPort = 40000;
  const FlowKey kc = sim.key(Side::kClient, kPort, kSimServerPort);
  const FlowKey ks = sim.key(Side::kServer, kSimServerPort, kPort);
  ASSERT_EQ(sim.open(Side::kClient, kSimServerIp, kSimServerPort, kPort).error, OpenError::kOk);
  ASSERT_TRUE(sim.run_until(
      [&] {
        return state_of(sim.client(), kc) == TcpState::kEstablished && state_of(sim.server(), ks) == TcpState::kEstablished;
      },
      sim.now() + 5 * kSecond));
  // Let the handshake's last ACK settle, then both users close at the same virtual instant.
  sim.run_until(sim.now() + 100 * kMillisecond);
  ASSERT_TRUE(sim.close(Side::kClient, sim.client().find(kc)));
  ASSERT_TRUE(sim.close(Side::kServer, sim.server().find(ks)));
  StateTrace tc, ts;
  sim.run_until(
      [&] {
        tc.observe(sim.client(), kc);
        ts.observe(sim.server(), ks);
        return !state_of(sim.client(), kc) && !state_of(sim.server(), ks);
      },
      sim.now() + 10 * kSecond);
  const std::vector<std::string> expected{"FIN-WAIT-1", "CLOSING", "TIME-WAIT", "gone"};
  EXPECT_EQ(tc.states(), expected);
  EXPECT_EQ(ts.states(), expected);
  EXPECT_EQ(sim.client().counters().time_wait_entered, 1u);
  EXPECT_EQ(sim.server().counters().time_wait_entered, 1u);
  EXPECT_EQ(sim.client().counters().retransmits + sim.server().counters().retransmits, 0u);
  const std::vector<std::string> violations = settle_and_check(sim);
  EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
  EXPECT_EQ(sim.snapshot(Side::kClient).counters.conn_completed, 1u);
  EXPECT_EQ(sim.snapshot(Side::kServer).counters.conn_completed, 1u);
}

// Many connections closed by both ends at once through a lossy link: a lost FIN turns some
// into ordinary closes, but every one ends counted and nothing is left.
class SimultaneousCloseLossy : public ::testing::TestWithParam<double> {};

TEST_P(SimultaneousCloseLossy, ManyConnections_EachEndsCounted_NothingLeaks) {
  constexpr std::uint16_t kConns = 300;
  Simulator sim(manual_config(Side::kClient, false), manual_config(Side::kServer, true), loss_only(GetParam()), 13);
  for (std::uint16_t i = 0; i < kConns; ++i) {
    ASSERT_EQ(sim.open(Side::kClient, kSimServerIp, kSimServerPort, static_cast<std::uint16_t>(40000 + i)).error,
              OpenError::kOk);
  }
  auto all_established = [&] {
    for (std::uint16_t i = 0; i < kConns; ++i) {
      const auto port = static_cast<std::uint16_t>(40000 + i);
      if (state_of(sim.client(), sim.key(Side::kClient, port, kSimServerPort)) != TcpState::kEstablished) return false;
      if (state_of(sim.server(), sim.key(Side::kServer, kSimServerPort, port)) != TcpState::kEstablished) return false;
    }
    return true;
  };
  // Under loss a handshake may still be unfinished (or given up) when the time is up: whatever
  // record exists is closed, at the same instant on both ends.
  const bool synchronised = sim.run_until(all_established, sim.now() + 60 * kSecond);
  if (GetParam() == 0.0) {
    EXPECT_TRUE(synchronised);
  }
  for (std::uint16_t i = 0; i < kConns; ++i) {
    const auto port = static_cast<std::uint16_t>(40000 + i);
    const std::uint32_t c = sim.client().find(sim.key(Side::kClient, port, kSimServerPort));
    const std::uint32_t s = sim.server().find(sim.key(Side::kServer, kSimServerPort, port));
    if (c != kNoIndex) sim.close(Side::kClient, c);
    if (s != kNoIndex) sim.close(Side::kServer, s);
  }
  const std::vector<std::string> violations = settle_and_check(sim);
  EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
  const Counters& a = sim.snapshot(Side::kClient).counters;
  const Counters& b = sim.snapshot(Side::kServer).counters;
  std::printf("[sim] simultaneous close, loss %2.0f%%: completed %llu + %llu of %u; time_wait %llu + %llu\n",
              GetParam() * 100, static_cast<unsigned long long>(a.conn_completed),
              static_cast<unsigned long long>(b.conn_completed), kConns,
              static_cast<unsigned long long>(a.time_wait_entered), static_cast<unsigned long long>(b.time_wait_entered));
  if (GetParam() == 0.0) {
    EXPECT_EQ(a.conn_completed, kConns);
    EXPECT_EQ(b.conn_completed, kConns);
    EXPECT_EQ(a.time_wait_entered, kConns);  // both ends pass CLOSING into TIME-WAIT
    EXPECT_EQ(b.time_wait_entered, kConns);
  }
}

INSTANTIATE_TEST_SUITE_P(Loss, SimultaneousCloseLossy, ::testing::Values(0.0, 0.10, 0.30),
                         [](const ::testing::TestParamInfo<double>& info) {
                           return "Loss" + std::to_string(static_cast<int>(info.param * 100));
                         });


// ---------------------------------------------------------------------------------------------
// One long transfer through a lossy link (issue 12, throughput): every byte of the response
// arrives, in order, once; each lost segment was sent again.

struct BulkCase {
  std::uint32_t bytes;
  double loss;
};

class BulkTransfer : public ::testing::TestWithParam<BulkCase> {};

TEST_P(BulkTransfer, OneStreamThroughLoss_EveryByteAccountedFor) {
  const BulkCase bc = GetParam();
  const auto wall_start = std::chrono::steady_clock::now();
  EngineConfig client = scenario_config(Side::kClient, WorkloadKind::kRaw, ClosePolicy::kServerFirst);
  EngineConfig server = scenario_config(Side::kServer, WorkloadKind::kRaw, ClosePolicy::kServerFirst);
  client.workload.response_bytes = server.workload.response_bytes = bc.bytes;
  Simulator sim(client, server, loss_only(bc.loss), 0xb01c + static_cast<std::uint64_t>(bc.loss * 1000));
  DriverPlan plan;
  plan.connections = 1;
  const RunResult run = sim.run_workload(plan, 36000 * kSecond);
  const std::vector<std::string> violations = settle_and_check(sim);
  const Counters c = sim.snapshot(Side::kClient).counters;
  const Counters s = sim.snapshot(Side::kServer).counters;
  const double virtual_s = static_cast<double>(run.done_at - run.started_at) / kSecond;
  std::printf("[sim] bulk %u bytes, loss %.0f%%: %.1f virtual s = %.1f Mbit/s | server retransmitted %llu bytes "
              "(%llu fast, %llu in recovery, %llu timeouts) | client held %llu segments past holes | link lost %llu of %llu "
              "| wall %.1f s\n",
              bc.bytes, bc.loss * 100, virtual_s, static_cast<double>(bc.bytes) * 8 / virtual_s / 1e6,
              static_cast<unsigned long long>(s.tx_retransmitted_bytes), static_cast<unsigned long long>(s.fast_retransmits),
              static_cast<unsigned long long>(s.recovery_retransmits), static_cast<unsigned long long>(s.rto_expired),
              static_cast<unsigned long long>(c.rx_out_of_order_held), static_cast<unsigned long long>(sim.link().total().lost),
              static_cast<unsigned long long>(sim.link().total().sent),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());
  EXPECT_TRUE(run.all_done);
  EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
  EXPECT_EQ(c.conn_completed, 1u) << "failed:" << failure_breakdown(c);
  EXPECT_EQ(s.conn_completed, 1u) << "failed:" << failure_breakdown(s);
  // Every byte once, in order (rx_bytes counts in-order payload only), nothing more.
  EXPECT_EQ(c.rx_bytes, bc.bytes);
  EXPECT_EQ(s.tx_bytes, bc.bytes);
  if (bc.loss > 0) {
    EXPECT_GT(s.tx_retransmitted_bytes, 0u);
  } else {
    EXPECT_EQ(s.tx_retransmitted_bytes, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, BulkTransfer,
                         ::testing::Values(BulkCase{100'000'000, 0.0}, BulkCase{1'000'000'000, 0.01}),
                         [](const ::testing::TestParamInfo<BulkCase>& i) {
                           return std::to_string(i.param.bytes / 1'000'000) + "MB_loss" +
                                  std::to_string(static_cast<int>(i.param.loss * 100));
                         });
}  // namespace
}  // namespace synwave::test
