// The client's load generator over two engines on a perfect in-memory link: how it walks the
// tuple space, what it does when the space runs out, its rate, ramp and cap, over IPv4 and IPv6;
// and the client-side timers the generator relies on (connect timeout, think time) and source
// address ranges.
#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <tuple>

#include "support/segments.hpp"
#include "support/test_io.hpp"
#include "synwave/connection_generator.hpp"
#include "synwave/wire/arp.hpp"
#include "synwave/wire/icmpv6.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave::test {
namespace {

const MacAddr kClientMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kServerMac{{0x02, 0, 0, 0, 0, 0x02}};
constexpr std::uint32_t kClientIp = ip4(198, 18, 0, 1);
constexpr std::uint32_t kServerIp = ip4(198, 18, 0, 2);
constexpr std::uint32_t kSourceFirst = ip4(198, 18, 0, 100);

struct Pair {
  EngineConfig client_config;
  EngineConfig server_config;
  TestIo cio{4096};
  TestIo sio{4096};
  std::unique_ptr<Engine> client;
  std::unique_ptr<Engine> server;
  TimeNs now = kSecond;
  bool server_silent = false;  // drop everything the client sends

  Pair(WorkloadKind kind, ClosePolicy close) {
    for (EngineConfig* c : {&client_config, &server_config}) {
      c->prefix_len = 24;
      c->max_connections = 4096;
      c->time_wait = 10 * kSecond;
      c->workload.kind = kind;
      c->workload.close = close;
      c->workload.response_bytes = 100;
    }
    client_config.local_ip = kClientIp;
    client_config.local_mac = kClientMac;
    client_config.source_ip_first = kSourceFirst;
    client_config.source_ip_count = 3;
    client_config.neighbors.push_back({kServerIp, kServerMac});
    client_config.neighbors.push_back({kServerIp + 1, kServerMac});
    server_config.local_ip = kServerIp;
    server_config.local_mac = kServerMac;
    server_config.source_ip_first = kServerIp + 1;  // a second address: a second destination
    server_config.source_ip_count = 1;
    server_config.listen_ports = {80, 81};
    server_config.neighbors.push_back({kClientIp, kClientMac});
    for (std::uint32_t i = 0; i < 3; ++i) server_config.neighbors.push_back({kSourceFirst + i, kClientMac});
  }
  void start() {
    client = std::make_unique<Engine>(client_config, cio.io(), now);
    server = std::make_unique<Engine>(server_config, sio.io(), now);
  }
  void pump() {
    client->flush();
    server->flush();
    while (!cio.sent().empty() || !sio.sent().empty()) {
      while (!cio.sent().empty()) {
        Bytes b = cio.pop_sent();
        if (!server_silent) sio.deliver(*server, b, now);
      }
      while (!sio.sent().empty()) cio.deliver(*client, sio.pop_sent(), now);
    }
  }
  // Advances the clock in steps, polling the generator and moving every frame each step.
  void run(ConnectionGenerator* gen, TimeNs duration, TimeNs step = kMillisecond) {
    const TimeNs end = now + duration;
    while (now < end) {
      now += step;
      if (gen != nullptr) gen->poll(*client, now);
      client->advance(now);
      server->advance(now);
      pump();
    }
  }
};

GeneratorConfig two_destinations() {
  GeneratorConfig g;
  g.destinations = {{kServerIp, 80}, {kServerIp + 1, 81}};
  g.src_ip_first = kSourceFirst;
  g.src_ip_count = 3;
  g.port_first = 2000;
  g.port_last = 2009;
  g.concurrency = 100000;
  return g;
}

TEST(ConnectionGenerator, Walk_DestinationsFastest_ThenSources_ThenPorts) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  p.server_silent = true;
  p.start();
  GeneratorConfig g = two_destinations();
  g.burst = 7;
  ConnectionGenerator gen(g, p.now);
  ASSERT_EQ(gen.poll(*p.client, p.now), 7u);
  using Tuple = std::tuple<std::uint32_t, std::uint16_t, std::uint32_t, std::uint16_t>;
  const std::vector<Tuple> expected = {
      {kSourceFirst, 2000, kServerIp, 80},     {kSourceFirst, 2000, kServerIp + 1, 81},
      {kSourceFirst + 1, 2000, kServerIp, 80}, {kSourceFirst + 1, 2000, kServerIp + 1, 81},
      {kSourceFirst + 2, 2000, kServerIp, 80}, {kSourceFirst + 2, 2000, kServerIp + 1, 81},
      {kSourceFirst, 2001, kServerIp, 80},
  };
  p.client->flush();
  ASSERT_EQ(p.cio.sent().size(), expected.size());
  for (const Tuple& t : expected) {
    const auto f = parse_frame(p.cio.pop_sent());
    ASSERT_TRUE(f.has_value());
    EXPECT_TRUE(f->has(tcp_flags::kSyn));
    EXPECT_EQ(Tuple(f->ip.src, f->tcp.src_port, f->ip.dst, f->tcp.dst_port), t);
  }
  EXPECT_EQ(gen.tuples(), 3u * 10u * 2u);
}

TEST(ConnectionGenerator, Shares_SplitThePortsWithoutOverlap) {
  GeneratorConfig g = two_destinations();
  g.port_first = 3000;
  g.port_last = 3006;  // 7 ports over 2 lcores: 4 and 3
  std::set<std::uint16_t> seen[2];
  for (std::uint16_t share = 0; share < 2; ++share) {
    Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
    p.server_silent = true;
    p.start();
    g.share = {2, share};
    g.burst = 1000;
    ConnectionGenerator gen(g, p.now);
    EXPECT_EQ(gen.tuples(), (share == 0 ? 4u : 3u) * 3u * 2u);
    gen.poll(*p.client, p.now);
    p.client->flush();
    while (!p.cio.sent().empty()) seen[share].insert(parse_frame(p.cio.pop_sent())->tcp.src_port);
  }
  EXPECT_EQ(seen[0], (std::set<std::uint16_t>{3000, 3002, 3004, 3006}));
  EXPECT_EQ(seen[1], (std::set<std::uint16_t>{3001, 3003, 3005}));
}

TEST(ConnectionGenerator, TupleSpaceInTimeWait_CountsExhaustionOnce_ThenResumesAsTuplesFree) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);  // the client holds TIME-WAIT
  p.start();
  GeneratorConfig g;
  g.destinations = {{kServerIp, 80}};
  g.src_ip_first = kClientIp;
  g.port_first = 4000;
  g.port_last = 4003;  // 4 tuples from the primary address
  g.concurrency = 100;
  ConnectionGenerator gen(g, p.now);
  p.run(&gen, 5 * kSecond);
  EXPECT_EQ(gen.stats().opened, 4u);
  EXPECT_EQ(p.client->counters().conn_completed, 4u);
  EXPECT_EQ(p.client->gauges().in(TcpState::kTimeWait), 4u);
  EXPECT_EQ(gen.stats().tuple_exhausted, 1u);  // said once, however long it lasts
  EXPECT_TRUE(gen.stats().exhausted_now);
  p.run(&gen, 6 * kSecond);  // TIME-WAIT (10 s) ends: the same four tuples again
  EXPECT_EQ(gen.stats().opened, 8u);
  EXPECT_EQ(p.client->counters().conn_failed, 0u);
}

TEST(ConnectionGenerator, Concurrency_CapsOpenConnections) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  p.server_silent = true;
  p.start();
  GeneratorConfig g = two_destinations();
  g.concurrency = 17;
  ConnectionGenerator gen(g, p.now);
  p.run(&gen, 100 * kMillisecond);
  EXPECT_EQ(gen.stats().opened, 17u);
  EXPECT_EQ(p.client->gauges().in(TcpState::kSynSent), 17u);
}

TEST(ConnectionGenerator, Rate_WithRamp_ClimbsLinearlyThenHolds) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  p.start();
  GeneratorConfig g = two_destinations();
  g.port_first = 1024;
  g.port_last = 65535;
  g.rate = 1000;
  g.ramp = 2 * kSecond;
  ConnectionGenerator gen(g, p.now);
  p.run(&gen, 2 * kSecond);
  // The integral of a linear climb to 1000/s over 2 s is 1000 connections.
  EXPECT_NEAR(static_cast<double>(gen.stats().opened), 1000.0, 20.0);
  const std::uint64_t after_ramp = gen.stats().opened;
  p.run(&gen, 1 * kSecond);
  EXPECT_NEAR(static_cast<double>(gen.stats().opened - after_ramp), 1000.0, 20.0);
  EXPECT_EQ(p.client->counters().conn_failed, 0u);
}

// Credit earned while the next hop was unknown is not banked: once ARP answers, the rate starts
// then, not with a burst of the time spent waiting (up to the bucket's 100 ms depth: 200
// connections at 2000/s, which a server sized for the rate would shed).
TEST(ConnectionGenerator, Rate_WhileArpPending_NoBurstOnceResolved) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  p.client_config.neighbors.clear();
  p.start();
  GeneratorConfig g = two_destinations();
  g.port_first = 1024;
  g.port_last = 65535;
  g.rate = 2000;
  ConnectionGenerator gen(g, p.now);
  p.server_silent = true;  // the ARP requests go unanswered
  p.run(&gen, 300 * kMillisecond);
  EXPECT_EQ(gen.stats().opened, 0u);
  EXPECT_GT(gen.stats().neighbor_pending, 0u);
  p.server_silent = false;
  for (int i = 0; i < 5000 && gen.stats().opened == 0; ++i) p.run(&gen, kMillisecond);
  ASSERT_GT(gen.stats().opened, 0u);
  p.run(&gen, 10 * kMillisecond);
  EXPECT_LE(gen.stats().opened, 2000u * 11 / 1000 + 2);  // the rate's 11 ms, no more
}

// A profile: ramp 0 -> 1000/s over 2 s, hold 1000/s for 1 s, ramp down to 0 over 1 s, then a
// hold with a cap of 5 (the server silent, so nothing ends): each phase opens what its rate
// integrates to, the cap holds new opens back, and after the last phase nothing more opens.
TEST(ConnectionGenerator, Phases_EachOpensWhatItsRateIntegratesTo_ThenNothing) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  p.start();
  GeneratorConfig g = two_destinations();
  g.port_first = 1024;
  g.port_last = 65535;
  g.phases = {{2 * kSecond, 0, 1000, 100000}, {1 * kSecond, 1000, 1000, 100000}, {1 * kSecond, 1000, 0, 100000}};
  ConnectionGenerator gen(g, p.now);
  gen.start(p.now);
  std::vector<std::uint64_t> per_phase;
  std::uint64_t before = 0;
  for (TimeNs d : {2 * kSecond, 1 * kSecond, 1 * kSecond}) {
    EXPECT_EQ(gen.phase(), per_phase.size());
    p.run(&gen, d);
    per_phase.push_back(gen.stats().opened - before);
    before = gen.stats().opened;
  }
  EXPECT_NEAR(static_cast<double>(per_phase[0]), 1000.0, 20.0);  // 2 s climbing to 1000/s
  EXPECT_NEAR(static_cast<double>(per_phase[1]), 1000.0, 20.0);
  EXPECT_NEAR(static_cast<double>(per_phase[2]), 500.0, 20.0);   // 1 s falling from 1000/s
  EXPECT_TRUE(gen.finished());
  EXPECT_EQ(gen.phase(), 3u);
  p.run(&gen, kSecond);
  EXPECT_EQ(gen.stats().opened, before);
  EXPECT_EQ(p.client->counters().conn_failed, 0u);
}

TEST(ConnectionGenerator, Phases_ConcurrencyPerPhase_CapsNewOpens) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  p.server_silent = true;
  p.start();
  GeneratorConfig g = two_destinations();
  g.phases = {{100 * kMillisecond, 0, 0, 7}, {100 * kMillisecond, 0, 0, 12}, {100 * kMillisecond, 0, 0, 3}};
  ConnectionGenerator gen(g, p.now);
  gen.start(p.now);
  p.run(&gen, 99 * kMillisecond);  // (at 100 ms the second phase begins)
  EXPECT_EQ(gen.stats().opened, 7u);
  p.run(&gen, 100 * kMillisecond);
  EXPECT_EQ(gen.stats().opened, 12u);
  p.run(&gen, 100 * kMillisecond);
  EXPECT_EQ(gen.stats().opened, 12u);  // a lower cap closes nothing; it only holds opens back
}

TEST(ConnectionGenerator, Total_StopsAfterThatMany) {
  Pair p(WorkloadKind::kHttp, ClosePolicy::kServerFirst);
  p.start();
  GeneratorConfig g = two_destinations();
  g.total = 25;
  ConnectionGenerator gen(g, p.now);
  p.run(&gen, kSecond);
  EXPECT_TRUE(gen.finished());
  EXPECT_EQ(p.client->counters().conn_completed, 25u);
  EXPECT_EQ(p.server->counters().conn_completed, 25u);
}

// With RSS steering (a port whose NIC spreads flows over the lcores' queues), an lcore opens only
// the tuples whose replies the NIC brings back to its queue, each once, and counts only those as
// its tuple space.
constexpr std::array<std::uint8_t, 40> kRssKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

std::vector<std::uint16_t> two_queue_reta() {
  std::vector<std::uint16_t> reta(128);
  for (std::size_t i = 0; i < reta.size(); ++i) reta[i] = static_cast<std::uint16_t>(i % 2);
  return reta;
}

// Polls until `want` are open (bounded), then returns every SYN the client sent.
std::vector<Bytes> open_all(Pair& p, ConnectionGenerator& gen, std::uint64_t want) {
  for (int i = 0; i < 1000 && gen.stats().opened < want; ++i) gen.poll(*p.client, p.now);
  p.client->flush();
  std::vector<Bytes> syns;
  while (!p.cio.sent().empty()) syns.push_back(p.cio.pop_sent());
  return syns;
}

TEST(ConnectionGenerator, RssSteering_OpensOnlyTuplesWhoseRepliesLandOnItsQueue) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  p.server_silent = true;
  p.start();
  const RssSteering steering(kRssKey, two_queue_reta(), 1);
  GeneratorConfig g = two_destinations();
  g.port_last = 2099;  // 3 sources x 100 ports x 2 destinations
  g.steering = &steering;
  std::uint64_t landing = 0;
  for (const Destination& d : g.destinations) {
    for (std::uint32_t i = 0; i < g.src_ip_count; ++i) {
      landing += steering.local_ports_landing_here(g.src_ip_first + i, d.ip, d.port, g.port_first, g.port_last).size();
    }
  }
  ConnectionGenerator gen(g, p.now);
  EXPECT_EQ(gen.tuples(), landing);
  ASSERT_GT(landing, 600u / 4);
  const std::vector<Bytes> syns = open_all(p, gen, landing);
  EXPECT_EQ(syns.size(), landing);
  std::set<std::tuple<std::uint32_t, std::uint16_t, std::uint32_t, std::uint16_t>> seen;
  for (const Bytes& b : syns) {
    const auto f = parse_frame(b);
    ASSERT_TRUE(f.has_value());
    EXPECT_TRUE(steering.reply_lands_here(f->ip.src, f->tcp.src_port, f->ip.dst, f->tcp.dst_port));
    EXPECT_TRUE(seen.emplace(f->ip.src, f->tcp.src_port, f->ip.dst, f->tcp.dst_port).second);
  }
}

// IPv6 (issue 13): the same walk, exhaustion and completion over IPv6 tuples. Addresses from
// 2001:db8::/32: the client ::1 with sources ::100-::102, the server ::2 with a second address ::3.
Ipv6Addr addr6(std::uint16_t last) {
  Ipv6Addr a{0x20, 0x01, 0x0d, 0xb8};
  a[14] = static_cast<std::uint8_t>(last >> 8);
  a[15] = static_cast<std::uint8_t>(last);
  return a;
}
const Ipv6Addr kClientIp6 = addr6(0x1);
const Ipv6Addr kServerIp6 = addr6(0x2);
const Ipv6Addr kSourceFirst6 = addr6(0x100);

// Gives both engines their IPv6 addresses and neighbours; ipv4_too: dual stack, else IPv6 only.
void use_ipv6(Pair& p, bool ipv4_too) {
  EngineConfig& c = p.client_config;
  EngineConfig& s = p.server_config;
  if (!ipv4_too) {
    c.local_ip = s.local_ip = 0;
    c.source_ip_count = s.source_ip_count = 0;
    c.neighbors.clear();
    s.neighbors.clear();
  }
  c.local_ip6 = kClientIp6;
  c.source_ip6_first = kSourceFirst6;
  c.source_ip6_count = 3;
  c.neighbors6 = {{kServerIp6, kServerMac}, {addr6(0x3), kServerMac}};
  s.local_ip6 = kServerIp6;
  s.source_ip6_first = addr6(0x3);  // a second address: a second destination
  s.source_ip6_count = 1;
  s.neighbors6 = {{kClientIp6, kClientMac}};
  for (std::uint16_t i = 0; i < 3; ++i) s.neighbors6.push_back({addr6(static_cast<std::uint16_t>(0x100 + i)), kClientMac});
}

GeneratorConfig two_destinations6() {
  GeneratorConfig g;
  g.destinations6 = {{kServerIp6, 80}, {addr6(0x3), 81}};
  g.src_ip6_first = kSourceFirst6;
  g.src_ip_count = 3;
  g.port_first = 2000;
  g.port_last = 2009;
  g.concurrency = 100000;
  return g;
}

struct Segment6 {
  Ipv6Addr src{};
  Ipv6Addr dst{};
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint8_t flags = 0;
};

std::optional<Segment6> parse_segment6(const Bytes& b) {
  if (b.size() < 14 + Ipv6Header::kSize + 20 || load_be16(b.data() + 12) != kEtherTypeIpv6) return std::nullopt;
  Ipv6Header h;
  if (parse_ipv6(b.data() + 14, b.size() - 14, h) != Ipv6Error::kOk || h.next_header != kIpProtoTcp) return std::nullopt;
  const std::uint8_t* t = b.data() + 14 + h.upper_offset;
  return Segment6{h.src, h.dst, load_be16(t), load_be16(t + 2), t[13]};
}

TEST(ConnectionGenerator, Ipv6_Walk_DestinationsFastest_ThenSources_ThenPorts) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  use_ipv6(p, false);
  p.server_silent = true;
  p.start();
  GeneratorConfig g = two_destinations6();
  g.burst = 7;
  ConnectionGenerator gen(g, p.now);
  ASSERT_EQ(gen.poll(*p.client, p.now), 7u);
  using Tuple = std::tuple<Ipv6Addr, std::uint16_t, Ipv6Addr, std::uint16_t>;
  const std::vector<Tuple> expected = {
      {addr6(0x100), 2000, kServerIp6, 80}, {addr6(0x100), 2000, addr6(0x3), 81},
      {addr6(0x101), 2000, kServerIp6, 80}, {addr6(0x101), 2000, addr6(0x3), 81},
      {addr6(0x102), 2000, kServerIp6, 80}, {addr6(0x102), 2000, addr6(0x3), 81},
      {addr6(0x100), 2001, kServerIp6, 80},
  };
  p.client->flush();
  ASSERT_EQ(p.cio.sent().size(), expected.size());
  for (const Tuple& t : expected) {
    const auto f = parse_segment6(p.cio.pop_sent());
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->flags, tcp_flags::kSyn);
    EXPECT_EQ(Tuple(f->src, f->src_port, f->dst, f->dst_port), t);
  }
  EXPECT_EQ(gen.tuples(), 3u * 10u * 2u);
}

TEST(ConnectionGenerator, Ipv6_DualStackClient_OpensToItsIpv6Destinations) {
  Pair p(WorkloadKind::kHttp, ClosePolicy::kServerFirst);
  use_ipv6(p, true);
  p.start();
  GeneratorConfig g = two_destinations6();
  g.total = 25;
  ConnectionGenerator gen(g, p.now);
  p.run(&gen, kSecond);
  EXPECT_TRUE(gen.finished());
  EXPECT_EQ(p.client->counters().conn_completed, 25u);
  EXPECT_EQ(p.server->counters().conn_completed, 25u);
  EXPECT_EQ(p.client->counters().conn_failed, 0u);
}

TEST(ConnectionGenerator, Ipv6_TupleSpaceInTimeWait_CountsExhaustionOnce_ThenResumesAsTuplesFree) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);  // the client holds TIME-WAIT
  use_ipv6(p, false);
  p.start();
  GeneratorConfig g;
  g.destinations6 = {{kServerIp6, 80}};
  g.src_ip6_first = kClientIp6;
  g.port_first = 4000;
  g.port_last = 4003;  // 4 tuples from the primary address
  g.concurrency = 100;
  ConnectionGenerator gen(g, p.now);
  p.run(&gen, 5 * kSecond);
  EXPECT_EQ(gen.stats().opened, 4u);
  EXPECT_EQ(p.client->counters().conn_completed, 4u);
  EXPECT_EQ(p.client->gauges().in(TcpState::kTimeWait), 4u);
  EXPECT_EQ(gen.stats().tuple_exhausted, 1u);
  EXPECT_TRUE(gen.stats().exhausted_now);
  p.run(&gen, 6 * kSecond);  // TIME-WAIT (10 s) ends: the same four tuples again
  EXPECT_EQ(gen.stats().opened, 8u);
  EXPECT_EQ(p.client->counters().conn_failed, 0u);
}

// Before a later start (--start-at) the generator opens nothing and asks for its next hops: over
// IPv6 by Neighbor Solicitation, to the target's solicited-node group.
TEST(ConnectionGenerator, Ipv6_BeforeTheStart_SolicitsTheNextHop) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  use_ipv6(p, false);
  p.client_config.neighbors6.clear();
  p.start();
  GeneratorConfig g = two_destinations6();
  g.destinations6.resize(1);
  ConnectionGenerator gen(g, p.now);
  gen.start(p.now + kSecond);
  EXPECT_EQ(gen.poll(*p.client, p.now), 0u);
  p.client->flush();
  ASSERT_FALSE(p.cio.sent().empty());
  const Bytes b = p.cio.pop_sent();
  ASSERT_GT(b.size(), 14 + Ipv6Header::kSize);
  ASSERT_EQ(load_be16(b.data() + 12), kEtherTypeIpv6);
  Ipv6Header h;
  ASSERT_EQ(parse_ipv6(b.data() + 14, b.size() - 14, h), Ipv6Error::kOk);
  ASSERT_EQ(h.next_header, kIpProtoIcmpv6);
  EXPECT_EQ(h.dst, solicited_node_multicast(kServerIp6));
  const std::uint8_t* msg = b.data() + 14 + h.upper_offset;
  NeighborSolicitation ns;
  ASSERT_EQ(parse_neighbor_solicitation(h, msg, h.upper_len(), ns), NdError::kOk);
  EXPECT_EQ(ns.target, kServerIp6);
  EXPECT_EQ(gen.stats().opened, 0u);
}

// Steering by the IPv6 hash: the same RETA, the reply's 36-byte tuple.
TEST(ConnectionGenerator, Ipv6_RssSteering_OpensOnlyTuplesWhoseRepliesLandOnItsQueue) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  use_ipv6(p, false);
  p.server_silent = true;
  p.start();
  const RssSteering steering(kRssKey, two_queue_reta(), 0);
  GeneratorConfig g = two_destinations6();
  g.port_last = 2099;
  g.steering = &steering;
  std::uint64_t landing = 0;
  for (const Destination6& d : g.destinations6) {
    for (std::uint16_t i = 0; i < g.src_ip_count; ++i) {
      landing += steering.local_ports_landing_here_ipv6(addr6(static_cast<std::uint16_t>(0x100 + i)), d.ip, d.port,
                                                        g.port_first, g.port_last).size();
    }
  }
  ConnectionGenerator gen(g, p.now);
  EXPECT_EQ(gen.tuples(), landing);
  ASSERT_GT(landing, 600u / 4);
  const std::vector<Bytes> syns = open_all(p, gen, landing);
  EXPECT_EQ(syns.size(), landing);
  std::set<std::tuple<Ipv6Addr, std::uint16_t, Ipv6Addr, std::uint16_t>> seen;
  for (const Bytes& b : syns) {
    const auto f = parse_segment6(b);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->flags, tcp_flags::kSyn);
    EXPECT_TRUE(steering.reply_lands_here_ipv6(f->src, f->src_port, f->dst, f->dst_port));
    EXPECT_TRUE(seen.emplace(f->src, f->src_port, f->dst, f->dst_port).second);
  }
  // Every other tuple is the other queue's.
  const RssSteering other(kRssKey, two_queue_reta(), 1);
  GeneratorConfig rest = g;
  rest.steering = &other;
  EXPECT_EQ(gen.tuples() + ConnectionGenerator(rest, p.now).tuples(), 3u * 100u * 2u);
}

// A key too short for the IPv6 hash cannot steer an IPv6 run: refused, not ignored (its replies
// would land anywhere).
TEST(ConnectionGenerator, Ipv6_RssSteeringWithoutAnIpv6Key_IsRefused) {
  const RssSteering ipv4_only{std::span(kRssKey).first(16), two_queue_reta(), 0};
  GeneratorConfig g = two_destinations6();
  g.steering = &ipv4_only;
  EXPECT_THROW(ConnectionGenerator(g, kSecond), std::invalid_argument);
  g.destinations6.clear();
  g.destinations = two_destinations().destinations;
  EXPECT_NO_THROW(ConnectionGenerator(g, kSecond));
}

TEST(ClientTimers, ConnectTimeout_EndsTheOpenBeforeTheSynRetries) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  p.client_config.connect_timeout = 3 * kSecond;
  p.server_silent = true;
  p.start();
  ASSERT_EQ(p.client->open(kServerIp, 80, 5000, p.now).error, OpenError::kOk);
  p.run(nullptr, 2900 * kMillisecond, 10 * kMillisecond);
  EXPECT_EQ(p.client->counters().conn_failed, 0u);
  EXPECT_EQ(p.client->counters().syn_retransmitted, 1u);  // at 1 s; the next would be at 3 s
  p.run(nullptr, 200 * kMillisecond, 10 * kMillisecond);
  EXPECT_EQ(p.client->counters().conn_failed_connect_timeout, 1u);
  EXPECT_EQ(p.client->gauges().connections, 0u);
}

TEST(ClientTimers, ConnectTimeout_DoesNotOutliveTheHandshake) {
  Pair p(WorkloadKind::kManual, ClosePolicy::kClientFirst);
  p.client_config.connect_timeout = 1 * kSecond;
  p.start();
  ASSERT_EQ(p.client->open(kServerIp, 80, 5000, p.now).error, OpenError::kOk);
  p.run(nullptr, 5 * kSecond, 10 * kMillisecond);
  EXPECT_EQ(p.client->counters().conn_failed, 0u);
  EXPECT_EQ(p.client->gauges().in(TcpState::kEstablished), 1u);
}

TEST(ClientTimers, ThinkTime_HoldsTheConnectionBeforeTheRequest) {
  Pair p(WorkloadKind::kHttp, ClosePolicy::kServerFirst);
  p.client_config.workload.think_time_ns = 500 * kMillisecond;
  p.client_config.idle_timeout = 100 * kMillisecond;  // shorter than the think time: must not fire
  p.start();
  ASSERT_EQ(p.client->open(kServerIp, 80, 5000, p.now).error, OpenError::kOk);
  p.run(nullptr, 400 * kMillisecond);
  EXPECT_EQ(p.client->gauges().in(TcpState::kEstablished), 1u);
  EXPECT_EQ(p.client->counters().tx_bytes, 0u);
  p.run(nullptr, 200 * kMillisecond);
  EXPECT_GT(p.client->counters().tx_bytes, 0u);
  EXPECT_EQ(p.client->counters().conn_completed, 1u);
  EXPECT_EQ(p.client->counters().conn_failed, 0u);
}

TEST(ClientTimers, ResponseTimeout_GivesUpOnAServerThatNeverAnswers_WithRst) {
  Pair p(WorkloadKind::kHttp, ClosePolicy::kServerFirst);
  p.server_config.workload.kind = WorkloadKind::kManual;  // accepts, reads, never answers
  p.client_config.response_timeout = 2 * kSecond;
  p.start();
  ASSERT_EQ(p.client->open(kServerIp, 80, 5000, p.now).error, OpenError::kOk);
  p.run(nullptr, 1900 * kMillisecond, 10 * kMillisecond);
  EXPECT_EQ(p.client->counters().conn_failed, 0u);
  EXPECT_EQ(p.server->gauges().in(TcpState::kEstablished), 1u);
  p.run(nullptr, 200 * kMillisecond, 10 * kMillisecond);
  EXPECT_EQ(p.client->counters().conn_failed_response_timeout, 1u);
  EXPECT_EQ(p.client->counters().conn_failed, 1u);
  EXPECT_EQ(p.client->counters().rst_sent, 1u);
  EXPECT_EQ(p.server->counters().rst_received, 1u);
  EXPECT_EQ(p.client->gauges().connections, 0u);
}

TEST(ClientTimers, ResponseTimeout_NotHitByAResponseInTime) {
  Pair p(WorkloadKind::kHttp, ClosePolicy::kServerFirst);
  p.client_config.response_timeout = 2 * kSecond;
  p.start();
  GeneratorConfig g = two_destinations();
  g.total = 50;
  ConnectionGenerator gen(g, p.now);
  p.run(&gen, 5 * kSecond);
  EXPECT_EQ(p.client->counters().conn_completed, 50u);
  EXPECT_EQ(p.client->counters().conn_failed, 0u);
}

TEST(SourceAddresses, ArpForASourceAddress_AnsweredWithThatAddress) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  p.start();
  Bytes req(14 + ArpPacket::kSize);
  write_ethernet(req.data(), MacAddr::broadcast(), kServerMac, kEtherTypeArp);
  ArpPacket a;
  a.operation = kArpRequest;
  a.sender_mac = kServerMac;
  a.sender_ip = kServerIp;
  a.target_ip = kSourceFirst + 2;
  write_arp(req.data() + 14, a);
  p.cio.deliver(*p.client, req, p.now);
  ASSERT_EQ(p.cio.sent().size(), 1u);
  const Bytes reply = p.cio.pop_sent();
  ArpPacket r;
  ASSERT_EQ(parse_arp(reply.data() + 14, reply.size() - 14, r), ArpError::kOk);
  EXPECT_EQ(r.operation, kArpReply);
  EXPECT_EQ(r.sender_ip, kSourceFirst + 2);
  EXPECT_EQ(r.sender_mac, kClientMac);
}

TEST(SourceAddresses, OpenFromAnAddressNotOurs_Refused) {
  Pair p(WorkloadKind::kNone, ClosePolicy::kClientFirst);
  p.start();
  EXPECT_EQ(p.client->open(kServerIp, 80, kSourceFirst + 3, 5000, p.now).error, OpenError::kNotLocal);
  EXPECT_EQ(p.client->open(kServerIp, 80, kSourceFirst + 1, 5000, p.now).error, OpenError::kOk);
}

}  // namespace
}  // namespace synwave::test
