// Resource exhaustion (issue 6): every bounded resource of an engine driven past its limit. Each
// test checks four things: the overload is provoked, the counter that names it rises, nothing
// leaks (records by state add up to the records in use, every connection opened ends with an
// outcome, every frame buffer lent to an engine comes back), and service recovers: once the load
// stops, new connections complete and the counter stops rising.
//
// Two engines on a perfect in-memory link (the Pair style of connection_generator_test.cpp);
// TcpPeer where a test needs every pool filled by hand. The flood and the DPDK-level resources
// (mbuf pool, tx ring) are elsewhere: tests/sim/flood_test.cpp, tests/system/resource_exhaustion.sh.
#include <gtest/gtest.h>

#include <memory>
#include <numeric>
#include <source_location>
#include <vector>

#include "support/segments.hpp"
#include "support/tcp_peer.hpp"
#include "support/test_io.hpp"
#include "synwave/connection_generator.hpp"

namespace synwave::test {
namespace {

const MacAddr kClientMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kServerMac{{0x02, 0, 0, 0, 0, 0x02}};
const MacAddr kFloodMac{{0x02, 0, 0, 0, 0, 0x66}};
constexpr std::uint32_t kClientIp = ip4(198, 18, 0, 1);
constexpr std::uint32_t kServerIp = ip4(198, 18, 0, 2);
constexpr std::uint32_t kFloodNet = ip4(198, 18, 1, 0);  // spoofed sources, hosts that do not exist
constexpr std::uint16_t kServerPort = 80;
constexpr std::uint32_t kBuffers = 4096;  // frame buffers per side

std::uint32_t destination_ip(const Bytes& frame) {
  if (frame.size() < 34 || load_be16(frame.data() + 12) != kEtherTypeIpv4) return 0;
  return load_be32(frame.data() + 30);
}

// A client engine and a server engine on a lossless link. Each side's frames live in that side's
// own buffers (a frame crossing the link is copied into the receiver's, as a NIC does), so each
// TestIo must get back every buffer it lent once its engine is gone.
struct Net {
  EngineConfig client_config;
  EngineConfig server_config;
  TestIo cio{kBuffers};
  TestIo sio{kBuffers};
  std::unique_ptr<Engine> client;
  std::unique_ptr<Engine> server;
  std::unique_ptr<ConnectionGenerator> generator;
  TimeNs now = kSecond;
  std::uint32_t flood_per_step = 0;  // spoofed SYNs delivered to the server at each step
  std::uint32_t flood_sent = 0;
  std::uint16_t next_port = 10000;

  explicit Net(WorkloadKind kind = WorkloadKind::kHttp, ClosePolicy close = ClosePolicy::kServerFirst) {
    for (EngineConfig* c : {&client_config, &server_config}) {
      c->prefix_len = 24;
      c->max_connections = 4096;
      c->time_wait = kSecond;
      c->workload.kind = kind;
      c->workload.close = close;
      c->workload.response_bytes = 100;
    }
    client_config.local_ip = kClientIp;
    client_config.local_mac = kClientMac;
    client_config.neighbors.push_back({kServerIp, kServerMac});
    server_config.local_ip = kServerIp;
    server_config.local_mac = kServerMac;
    server_config.listen_ports = {kServerPort};
    server_config.neighbors.push_back({kClientIp, kClientMac});
  }

  void start() {
    client = std::make_unique<Engine>(client_config, cio.io(), now);
    server = std::make_unique<Engine>(server_config, sio.io(), now);
  }

  // A generator on the client: `total` connections, at `rate` per second (0: at once).
  void start_generator(std::uint64_t total, std::uint64_t rate) {
    GeneratorConfig g;
    g.destinations = {{kServerIp, kServerPort}};
    g.src_ip_first = kClientIp;
    g.port_first = 20000;
    g.port_last = 60000;
    g.concurrency = 100000;
    g.total = total;
    g.rate = rate;
    generator = std::make_unique<ConnectionGenerator>(g, now);
  }

  // Opens `count` connections at once from fresh source ports.
  void open(std::uint32_t count) {
    for (std::uint32_t i = 0; i < count; ++i) {
      EXPECT_EQ(client->open(kServerIp, kServerPort, next_port++, now).error, OpenError::kOk);
    }
  }

  Bytes flood_syn() {
    const std::uint32_t n = flood_sent++;
    SegmentSpec s;
    s.src_mac = kFloodMac;
    s.dst_mac = kServerMac;
    s.src_ip = kFloodNet + 1 + n % 250;
    s.dst_ip = kServerIp;
    s.src_port = static_cast<std::uint16_t>(1024 + n / 250);
    s.dst_port = kServerPort;
    s.seq = 0x10000000u + n;
    s.flags = tcp_flags::kSyn;
    s.options.mss = true;
    s.options.mss_value = 1460;
    return build_segment(s);
  }

  // Moves frames until both sides are quiet. What the server sends to the spoofed sources is
  // lost, as it is on a real network.
  void pump() {
    for (;;) {
      client->flush();
      server->flush();
      if (cio.sent().empty() && sio.sent().empty()) return;
      while (!cio.sent().empty()) sio.deliver(*server, cio.pop_sent(), now);
      while (!sio.sent().empty()) {
        const Bytes b = sio.pop_sent();
        const std::uint32_t dst = destination_ip(b);
        if (dst == 0 || dst == kClientIp) cio.deliver(*client, b, now);
      }
    }
  }

  void step(TimeNs dt) {
    now += dt;
    for (std::uint32_t i = 0; i < flood_per_step; ++i) sio.deliver(*server, flood_syn(), now);
    if (generator) generator->poll(*client, now);
    client->advance(now);
    server->advance(now);
    pump();
  }

  // Runs for `duration`; `each_step` (when given) checks a bound after every step.
  template <class F>
  void run(TimeNs duration, F&& each_step, TimeNs dt = kMillisecond) {
    const TimeNs end = now + duration;
    while (now < end) {
      step(dt);
      each_step();
    }
  }
  void run(TimeNs duration, TimeNs dt = kMillisecond) {
    run(duration, [] {}, dt);
  }
};

std::uint32_t sum_by_state(const EngineGauges& g) {
  return std::accumulate(g.by_state.begin(), g.by_state.end(), 0u);
}

// The gauges are consistent: records by state add up to the records in use.
void ExpectGaugesAddUp(const Engine& e, std::source_location loc = std::source_location::current()) {
  ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()), "ExpectGaugesAddUp");
  const EngineGauges g = e.gauges();
  EXPECT_EQ(sum_by_state(g), g.connections);
}

// Nothing is left: no record of any kind on either side, every connection the client opened
// ended with an outcome, and once the engines are gone every frame buffer is back.
void ExpectNothingLeaks(Net& n, std::source_location loc = std::source_location::current()) {
  ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()), "ExpectNothingLeaks");
  n.run(n.client_config.time_wait + n.server_config.time_wait + kSecond);  // TIME-WAIT ends
  for (const Engine* e : {n.client.get(), n.server.get()}) {
    ExpectGaugesAddUp(*e, loc);
    EXPECT_EQ(e->gauges().connections, 0u);
  }
  const Counters& c = n.client->counters();
  EXPECT_EQ(c.conn_opened, c.conn_completed + c.conn_failed);
  n.client.reset();
  n.server.reset();
  EXPECT_EQ(n.cio.free_buffers(), kBuffers);
  EXPECT_EQ(n.sio.free_buffers(), kBuffers);
}

// After the overload: `count` new connections (within every limit) complete on both sides, none
// fails, and the overflow counter `overflow` of `side` does not rise again.
void ExpectServiceRecovers(Net& n, std::uint32_t count, const Engine& side, std::uint64_t Counters::*overflow,
                           std::source_location loc = std::source_location::current()) {
  ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()), "ExpectServiceRecovers");
  const std::uint64_t overflow_before = side.counters().*overflow;
  const Counters client_before = n.client->counters();
  const Counters server_before = n.server->counters();
  n.open(count);
  n.run(5 * kSecond);
  EXPECT_EQ(n.client->counters().conn_completed - client_before.conn_completed, count);
  EXPECT_EQ(n.server->counters().conn_completed - server_before.conn_completed, count);
  EXPECT_EQ(n.client->counters().conn_failed, client_before.conn_failed);
  EXPECT_EQ(n.server->counters().conn_failed, server_before.conn_failed);
  EXPECT_EQ(side.counters().*overflow, overflow_before) << "the overflow counter rose after the load stopped";
}

// ===============================================================================================
// Connection records (max_connections)

// The server's records run out: a final ACK that finds none is dropped and its half-open entry
// kept, so the client's retransmission (of the ACK's request, or the ACK drawn by the SYN-ACK's)
// gets a record once one is free. Every connection completes; none fails.
TEST(ResourceExhaustion, ConnectionPool_ServerFull_FinalAcksWaitInTheBacklog_AllComplete) {
  Net n;
  n.server_config.max_connections = 4;
  n.start();
  n.open(40);
  n.run(60 * kSecond, [&] { EXPECT_LE(n.server->gauges().connections - n.server->gauges().in(TcpState::kSynReceived) -
                                          n.server->gauges().in(TcpState::kTimeWait),
                                      4u); });
  EXPECT_GT(n.server->counters().drop_pool_full, 0u);
  EXPECT_EQ(n.client->counters().conn_completed, 40u);
  EXPECT_EQ(n.server->counters().conn_completed, 40u);
  EXPECT_EQ(n.client->counters().conn_failed, 0u);
  EXPECT_EQ(n.server->counters().conn_failed, 0u);
  ExpectGaugesAddUp(*n.server);
  ExpectServiceRecovers(n, 4, *n.server, &Counters::drop_pool_full);
  ExpectNothingLeaks(n);
}

// The client's records run out: open() says kNoMemory (counted as drop_pool_full), the generator
// counts it and tries again on its next poll, and every connection is made in the end.
TEST(ResourceExhaustion, ConnectionPool_ClientFull_OpenRefused_GeneratorRetriesUntilAllComplete) {
  Net n;
  n.client_config.max_connections = 4;
  n.start();
  n.start_generator(40, 0);
  n.run(10 * kSecond, [&] { EXPECT_LE(n.client->gauges().connections, 4u); });
  EXPECT_GT(n.client->counters().drop_pool_full, 0u);
  EXPECT_GT(n.generator->stats().no_memory, 0u);
  EXPECT_TRUE(n.generator->finished());
  EXPECT_EQ(n.client->counters().conn_completed, 40u);
  EXPECT_EQ(n.client->counters().conn_failed, 0u);
  ExpectServiceRecovers(n, 4, *n.client, &Counters::drop_pool_full);
  ExpectNothingLeaks(n);
}

// ===============================================================================================
// The flow table

// The flow table holds max_connections + syn_backlog x ports + max_time_wait entries: one per
// record of the three pools, so it can never be the resource that runs out (drop_flow_table_full
// is a guard that stays 0). Here every pool is full at once, which is the flow table's own
// limit, and every refusal is counted by the pool that refused.
TEST(ResourceExhaustion, FlowTable_EveryPoolFullAtOnce_StillHasRoom_RefusalsCountedByThePools) {
  constexpr std::uint32_t kEach = 4;
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.max_connections = kEach;
  cfg.syn_backlog = kEach;
  cfg.max_time_wait = kEach;
  cfg.syn_cookies = SynCookieMode::kOff;
  cfg.time_wait = kSecond;
  cfg.synack_timeout = 100 * kMillisecond;
  cfg.synack_retries = 1;
  cfg.shed_watermark = 1u << 30;  // never reached: this test fills every pool on purpose
  TcpPeer p(cfg);
  auto handshake = [&](std::uint16_t port) {
    p.UseTuple(TcpPeer::kListenPort, port);
    p.Send({.flags = kSyn, .seq = p.R(0)});
    p.snd_nxt = p.R(1);
    p.ExpectEmit(kSynAck, kAny, p.R(1));
    p.SendAck();
    p.ExpectNothing();
  };
  auto to_time_wait = [&](std::uint16_t port) {
    handshake(port);
    ASSERT_TRUE(p.Close());
    p.ExpectEmit(kFinAck, p.L(1), p.R(1));
    p.SendAck();
    p.SendFin();
    p.ExpectEmit(kAck, p.L(2), p.R(2));
  };
  for (std::uint16_t i = 0; i < kEach; ++i) to_time_wait(static_cast<std::uint16_t>(41000 + i));
  for (std::uint16_t i = 0; i < kEach; ++i) handshake(static_cast<std::uint16_t>(42000 + i));
  std::vector<ParsedFrame> synacks;
  for (std::uint16_t i = 0; i < kEach; ++i) {
    p.UseTuple(TcpPeer::kListenPort, static_cast<std::uint16_t>(43000 + i));
    p.Send({.flags = kSyn, .seq = p.R(0)});
    synacks.push_back(p.ExpectEmit(kSynAck, kAny, p.R(1)));
  }
  EngineGauges g = p.engine().gauges();
  EXPECT_EQ(g.in(TcpState::kTimeWait), kEach);
  EXPECT_EQ(g.in(TcpState::kEstablished), kEach);
  EXPECT_EQ(g.in(TcpState::kSynReceived), kEach);
  EXPECT_EQ(g.connections, 3 * kEach);  // one flow-table entry each: the table's limit

  // A new SYN: the backlog evicts its oldest entry.
  p.UseTuple(TcpPeer::kListenPort, 44000);
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.snd_nxt = p.R(1);
  p.ExpectEmit(kSynAck, kAny, p.R(1));
  EXPECT_EQ(p.counters().half_open_evicted, 1u);
  // Its final ACK: no record free.
  p.SendAck();
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
  EXPECT_EQ(p.counters().drop_pool_full, 1u);
  // An active open: no record free.
  EXPECT_EQ(p.Open(TcpPeer::kPeerServerPort, 30000).error, OpenError::kNoMemory);
  EXPECT_EQ(p.counters().drop_pool_full, 2u);
  // An established connection closes into a full TIME-WAIT table: skipped, record freed.
  // (The peer's L() follows the last SYN-ACK it saw; this connection's ISS is in its record.)
  p.UseTuple(TcpPeer::kListenPort, 42000);
  const std::uint32_t iss = p.Conn().iss.raw();
  p.rcv_nxt = iss + 1;
  p.snd_nxt = p.R(1);
  ASSERT_TRUE(p.Close());
  p.ExpectEmit(kFinAck, iss + 1, p.R(1));
  p.SendAck();
  p.SendFin();
  p.ExpectEmit(kAck, iss + 2, p.R(2));
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().time_wait_overflow, 1u);
  EXPECT_EQ(p.counters().drop_flow_table_full, 0u);
  ExpectGaugesAddUp(p.engine());

  // The load stops. TIME-WAIT expires, the half-open entries run out of SYN-ACK retries, the
  // application ends the established ones: nothing is left.
  p.Advance(2 * kSecond);
  for (std::uint16_t i = 1; i < kEach; ++i) {
    p.UseTuple(TcpPeer::kListenPort, static_cast<std::uint16_t>(42000 + i));
    EXPECT_TRUE(p.Abort());
  }
  p.engine().flush();
  p.io().sent().clear();  // the SYN-ACK retransmissions and the RSTs
  g = p.engine().gauges();
  EXPECT_EQ(g.connections, 0u);
  EXPECT_EQ(sum_by_state(g), 0u);
  EXPECT_GT(p.counters().syn_rcvd_timeout, 0u);

  // Service again: a connection through every pool, and no refusal of any kind.
  const Counters before = p.counters();
  to_time_wait(45000);
  EXPECT_EQ(p.engine().gauges().in(TcpState::kTimeWait), 1u);
  EXPECT_EQ(p.counters().half_open_evicted, before.half_open_evicted);
  EXPECT_EQ(p.counters().drop_pool_full, before.drop_pool_full);
  EXPECT_EQ(p.counters().time_wait_overflow, before.time_wait_overflow);
  EXPECT_EQ(p.counters().drop_flow_table_full, 0u);
}

// ===============================================================================================
// The SYN backlog (half-open queue)

// A SYN flood from spoofed sources fills the backlog: with cookies off the oldest entry is
// evicted (half_open_evicted), with cookies on overflow the SYN gets a cookie (cookies_sent).
// The backlog never passes its size; once the flood stops its entries run out of SYN-ACK
// retries, and new clients are served from an empty backlog.
class HalfOpenQueue : public ::testing::TestWithParam<SynCookieMode> {};

TEST_P(HalfOpenQueue, SynFlood_OverflowCounted_BacklogBounded_ServiceRecovers) {
  constexpr std::uint32_t kBacklog = 16;
  const SynCookieMode mode = GetParam();
  Net n;
  n.server_config.syn_cookies = mode;
  n.server_config.syn_backlog = kBacklog;
  n.server_config.synack_timeout = 100 * kMillisecond;
  n.server_config.synack_retries = 2;  // a flood entry is gone 0.7 s after its SYN
  n.start();
  n.start_generator(200, 200);  // legitimate clients all through the flood: 1 s at 200/s
  n.flood_per_step = 20;         // 20,000 SYN/s
  n.run(kSecond, [&] { EXPECT_LE(n.server->gauges().in(TcpState::kSynReceived), kBacklog); });
  n.flood_per_step = 0;
  EXPECT_EQ(n.server->counters().syn_received, n.flood_sent + n.generator->stats().opened);
  if (mode == SynCookieMode::kOff) {
    EXPECT_GT(n.server->counters().half_open_evicted, 0u);
    EXPECT_EQ(n.server->counters().cookies_sent, 0u);
  } else {
    EXPECT_GT(n.server->counters().cookies_sent, 0u);
    EXPECT_EQ(n.server->counters().half_open_evicted, 0u);
  }
  ExpectGaugesAddUp(*n.server);

  n.run(2 * kSecond);  // the flood's entries time out
  EXPECT_EQ(n.server->gauges().in(TcpState::kSynReceived), 0u);
  EXPECT_GT(n.server->counters().syn_rcvd_timeout, 0u);
  EXPECT_EQ(n.client->counters().conn_completed, 200u);
  EXPECT_EQ(n.client->counters().conn_failed, 0u);
  ExpectServiceRecovers(n, kBacklog / 2, *n.server,
                        mode == SynCookieMode::kOff ? &Counters::half_open_evicted : &Counters::cookies_sent);
  ExpectNothingLeaks(n);
}

INSTANTIATE_TEST_SUITE_P(ResourceExhaustion, HalfOpenQueue,
                         ::testing::Values(SynCookieMode::kOff, SynCookieMode::kOnOverflow),
                         [](const ::testing::TestParamInfo<SynCookieMode>& info) {
                           return info.param == SynCookieMode::kOff ? "CookiesOff_EvictsOldest"
                                                                    : "CookiesOnOverflow_SendsCookies";
                         });

// ===============================================================================================
// The TIME-WAIT table (max_time_wait)

// More connections close into TIME-WAIT than the table holds: the rest skip it (Linux's
// tcp_max_tw_buckets), counted as time_wait_overflow, and still complete. When the entries
// expire the table takes new ones again.
TEST(ResourceExhaustion, TimeWaitTable_Full_TimeWaitSkippedAndCounted_ConnectionsStillComplete) {
  constexpr std::uint32_t kTimeWaitEntries = 4;
  Net n;  // the server closes first: it holds the TIME-WAIT
  n.server_config.max_time_wait = kTimeWaitEntries;
  n.start();
  n.open(40);
  n.run(100 * kMillisecond, [&] { EXPECT_LE(n.server->gauges().in(TcpState::kTimeWait), kTimeWaitEntries); });
  EXPECT_EQ(n.server->counters().time_wait_entered, 40u);
  EXPECT_EQ(n.server->counters().time_wait_overflow, 40u - kTimeWaitEntries);
  EXPECT_EQ(n.server->gauges().in(TcpState::kTimeWait), kTimeWaitEntries);
  EXPECT_EQ(n.client->counters().conn_completed, 40u);
  EXPECT_EQ(n.server->counters().conn_completed, 40u);
  EXPECT_EQ(n.client->counters().conn_failed, 0u);
  ExpectGaugesAddUp(*n.server);

  n.run(2 * kSecond);  // time_wait is 1 s
  EXPECT_EQ(n.server->gauges().in(TcpState::kTimeWait), 0u);
  ExpectServiceRecovers(n, kTimeWaitEntries, *n.server, &Counters::time_wait_overflow);
  ExpectNothingLeaks(n);
}

// ===============================================================================================
// The accept queue (backlog, accept_rate)

// A slow application (accept_rate) and a short accept queue: final ACKs that find it full are
// counted (accept_queue_overflow). Dropped (the default), the SYN-ACK retransmission or the
// client's retransmitted request brings them back, and every connection completes; answered
// with RST (abort_on_overflow), those clients fail at once, as reset connections.
class AcceptQueue : public ::testing::TestWithParam<bool> {};

TEST_P(AcceptQueue, SlowApplication_OverflowCounted_ServiceRecovers) {
  constexpr std::uint32_t kBacklog = 2;
  constexpr std::uint32_t kClients = 10;
  const bool abort_on_overflow = GetParam();
  Net n;
  n.server_config.accept_rate = 20;
  n.server_config.backlog = kBacklog;
  n.server_config.abort_on_overflow = abort_on_overflow;
  n.start();
  n.open(kClients);
  n.run(60 * kSecond);
  const Counters& s = n.server->counters();
  const Counters& c = n.client->counters();
  EXPECT_GT(s.accept_queue_overflow, 0u);
  if (abort_on_overflow) {
    EXPECT_GT(s.rst_sent, 0u);
    EXPECT_GT(c.conn_failed_reset, 0u);
    EXPECT_EQ(c.conn_completed + c.conn_failed, kClients);
    EXPECT_EQ(s.accepted_by_app, c.conn_completed);
  } else {
    EXPECT_EQ(c.conn_completed, kClients);
    EXPECT_EQ(c.conn_failed, 0u);
    EXPECT_EQ(s.accepted_by_app, kClients);
  }
  ExpectGaugesAddUp(*n.server);
  ExpectServiceRecovers(n, kBacklog, *n.server, &Counters::accept_queue_overflow);
  ExpectNothingLeaks(n);
}

INSTANTIATE_TEST_SUITE_P(ResourceExhaustion, AcceptQueue, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "AbortOnOverflow_Rst" : "Default_DropsFinalAck";
                         });

// ===============================================================================================
// Frame buffers (the driver's pool, an mbuf pool under DPDK)

// The server's driver lends no empty frame (FrameIo::refill returns 0) while connections run:
// every segment that needs a fresh buffer (a response's second and third segments: the first is
// built in the request's own frame) is lost and counted (drop_tx_no_buffer); replies built in a
// received frame (SYN-ACKs, ACKs, first segments) still go. When buffers are lent again the
// retransmission timers resend what was lost and every connection completes.
TEST(ResourceExhaustion, FrameBuffers_ServerStarved_SegmentsCounted_RetransmissionsRecoverEveryConnection) {
  constexpr std::uint32_t kClients = 20;
  Net n;
  n.server_config.workload.response_bytes = 4000;
  n.client_config.workload.response_bytes = 4000;
  n.sio.set_refill_allowed(false);
  n.start();
  n.open(kClients);
  n.run(2 * kSecond);
  EXPECT_GT(n.server->counters().drop_tx_no_buffer, 0u);
  EXPECT_EQ(n.client->counters().conn_completed, 0u);
  ExpectGaugesAddUp(*n.client);
  ExpectGaugesAddUp(*n.server);

  n.sio.set_refill_allowed(true);
  n.run(30 * kSecond);
  EXPECT_EQ(n.client->counters().conn_completed, kClients);
  EXPECT_EQ(n.server->counters().conn_completed, kClients);
  EXPECT_EQ(n.client->counters().conn_failed, 0u);
  EXPECT_EQ(n.server->counters().conn_failed, 0u);
  EXPECT_GT(n.server->counters().retransmits, 0u);
  ExpectServiceRecovers(n, kClients, *n.server, &Counters::drop_tx_no_buffer);
  ExpectNothingLeaks(n);
}

// The client's driver lends no empty frame: an open whose SYN could not leave is refused
// (kNoMemory) rather than left to wait out a retransmission timeout, so no
// connection is stuck in SYN-SENT; the generator counts the refusal and opens the connections
// as soon as buffers are back, without a single retransmission.
TEST(ResourceExhaustion, FrameBuffers_ClientStarved_OpensRefused_GeneratorOpensThemWhenBuffersReturn) {
  constexpr std::uint32_t kClients = 20;
  Net n;
  n.cio.set_refill_allowed(false);
  n.start();
  n.start_generator(kClients, 0);
  n.run(2 * kSecond);
  EXPECT_GT(n.generator->stats().no_memory, 0u);
  EXPECT_EQ(n.client->counters().drop_tx_no_buffer, 0u);  // nothing was built, so nothing lost
  EXPECT_EQ(n.client->counters().conn_opened, 0u);
  EXPECT_EQ(n.client->gauges().connections, 0u);

  n.cio.set_refill_allowed(true);
  n.run(100 * kMillisecond);
  EXPECT_EQ(n.client->counters().conn_completed, kClients);
  EXPECT_EQ(n.server->counters().conn_completed, kClients);
  EXPECT_EQ(n.client->counters().conn_failed, 0u);
  EXPECT_EQ(n.client->counters().retransmits, 0u);
  ExpectServiceRecovers(n, kClients, *n.client, &Counters::drop_tx_no_buffer);
  ExpectNothingLeaks(n);
}

// ---------------------------------------------------------------------------------------------
// Overload shedding (DESIGN "Overload: shed cheap work first, never stall")

// A passive handshake on the peer port given (TcpPeer's fixtures use one fixed tuple).
void EstablishOn(TcpPeer& p, std::uint16_t peer_port) {
  p.UseTuple(TcpPeer::kListenPort, peer_port);
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.snd_nxt = p.R(1);
  (void)p.ExpectEmit(kSynAck, kAny, p.R(1));
  p.SendAck();
  p.ExpectNothing();
  ASSERT_EQ(p.State(), TcpState::kEstablished);
}

// Takes every frame the engine sent, whatever its tuple: how many had exactly these flags.
int TakeSent(TcpPeer& p, std::uint8_t flags) {
  int n = 0;
  while (!p.io().sent().empty()) {
    const auto f = parse_frame(p.io().pop_sent());
    if (f && f->tcp.flags == flags) ++n;
  }
  return n;
}

// A new SYN from each of `count` consecutive client ports.
void SendSyns(TcpPeer& p, std::uint16_t first_port, std::uint16_t count) {
  for (std::uint16_t port = first_port; port < first_port + count; ++port) {
    p.UseTuple(TcpPeer::kListenPort, port);
    p.Send({.flags = kSyn, .seq = p.R(0)});
  }
}

// Four records, shedding from the third: SYNs are dropped unprocessed and counted while
// established connections are served; below the watermark again, SYNs are answered.
TEST(Overload, PoolAtWatermark_NoCookies_NewSynsDroppedBeforeAnyTableWork_EstablishedServed) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.max_connections = 4;
  cfg.shed_watermark = 3;
  cfg.syn_cookies = SynCookieMode::kOff;
  TcpPeer p(cfg);
  EstablishOn(p, 41000);
  EstablishOn(p, 41001);
  EstablishOn(p, 41002);
  const std::uint32_t peer_snd = p.snd_nxt;
  const std::uint32_t peer_rcv = p.rcv_nxt;
  const std::uint64_t syns_before = p.counters().syn_received;
  p.UseTuple(TcpPeer::kListenPort, 42000);
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.ExpectNothing();
  EXPECT_EQ(p.counters().drop_syn_shed_pool, 1u);
  EXPECT_EQ(p.counters().syn_received, syns_before) << "dropped before the listener saw it";
  EXPECT_TRUE(p.Gone());
  // An established connection still gets its FIN answered, and closes.
  p.UseTuple(TcpPeer::kListenPort, 41002);
  p.snd_nxt = peer_snd;
  p.rcv_nxt = peer_rcv;
  p.SendFin();
  (void)p.ExpectEmit(kAck, kAny, p.snd_nxt);
  EXPECT_EQ(p.State(), TcpState::kCloseWait);
  ASSERT_TRUE(p.Close());
  (void)p.ExpectEmit(kFinAck, kAny, p.snd_nxt);
  p.SendAck();
  EXPECT_TRUE(p.Gone());
  // Below the watermark again: SYNs are served.
  p.UseTuple(TcpPeer::kListenPort, 42001);
  p.Send({.flags = kSyn, .seq = p.R(0)});
  (void)p.ExpectEmit(kSynAck, kAny, p.R(1));
  EXPECT_EQ(p.counters().drop_syn_shed_pool, 1u);
}

// With SYN cookies a pool at its watermark sheds nothing: a SYN costs no record until its last
// ACK, and one that finds the pool full is dropped and retried (drop_pool_full).
TEST(Overload, PoolAtWatermark_WithCookies_SynsStillAnswered) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.max_connections = 4;
  cfg.shed_watermark = 3;
  TcpPeer p(cfg);
  EstablishOn(p, 41000);
  EstablishOn(p, 41001);
  EstablishOn(p, 41002);
  p.UseTuple(TcpPeer::kListenPort, 42000);
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.snd_nxt = p.R(1);
  (void)p.ExpectEmit(kSynAck, kAny, p.R(1));
  p.SendAck();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.counters().drop_syn_shed_pool, 0u);
}

// A saturated lcore (the data plane's verdict) whose SYN backlog is half full sheds three SYNs in
// four before any work, and answers the fourth: the connections already admitted drain first, and
// a flood that keeps it saturated still cannot shut out every legitimate client.
TEST(Overload, Saturated_BacklogHalfFull_ThreeSynsInFourShed_TheFourthAnswered) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.syn_backlog = 4;
  TcpPeer p(cfg);
  SendSyns(p, 41000, 2);  // two half-open entries: the backlog is half full
  EXPECT_EQ(TakeSent(p, kSynAck), 2);
  p.engine().set_saturated(true);
  SendSyns(p, 42000, 8);
  EXPECT_EQ(p.counters().drop_syn_shed_busy, 6u);
  EXPECT_EQ(TakeSent(p, kSynAck), 2) << "one SYN in four answered";
  p.engine().set_saturated(false);
  p.UseTuple(TcpPeer::kListenPort, 42100);
  p.Send({.flags = kSyn, .seq = p.R(0)});
  EXPECT_EQ(TakeSent(p, kSynAck), 1);
  EXPECT_EQ(p.counters().drop_syn_shed_busy, 6u);
}

// With reset_shed_syns (--shed-reset) the shed SYNs are refused, <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>
// as from a closed port, instead of dropped: an open-loop client fails them at once rather than
// retrying into the overload. The fourth is still answered, and every frame is counted once.
TEST(Overload, Saturated_ShedReset_ShedSynsRefusedWithRst) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.syn_backlog = 4;
  cfg.reset_shed_syns = true;
  TcpPeer p(cfg);
  SendSyns(p, 41000, 2);
  EXPECT_EQ(TakeSent(p, kSynAck), 2);
  const std::uint64_t rx_before = p.counters().rx_frames;
  p.engine().set_saturated(true);
  std::vector<ParsedFrame> sent;
  for (std::uint16_t port = 42000; port < 42008; ++port) {
    p.UseTuple(TcpPeer::kListenPort, port);
    p.Send({.flags = kSyn, .seq = p.R(0)});
    while (!p.io().sent().empty()) sent.push_back(*parse_frame(p.io().pop_sent()));
  }
  ASSERT_EQ(sent.size(), 8u);
  int resets = 0;
  for (const ParsedFrame& f : sent) {
    if (f.tcp.flags != (kRst | kAck)) continue;
    ++resets;
    EXPECT_EQ(f.tcp.seq.raw(), 0u);
    EXPECT_EQ(f.tcp.ack.raw(), p.R(1));
  }
  EXPECT_EQ(resets, 6);
  EXPECT_EQ(p.counters().drop_syn_shed_busy, 6u);
  EXPECT_EQ(p.counters().syn_received, 4u) << "the refused SYNs never reach the listener";
  EXPECT_EQ(p.counters().rx_frames - rx_before, 8u);
  EXPECT_EQ(p.engine().gauges().connections, 4u) << "the two half-open before and the two admitted";
}

// With --syn-cookies off and the pool at its watermark, a refused SYN is refused all the same: it
// takes no record, so the pool's shedding does not swallow it silently. The fourth SYN, which the
// busy shedding lets through, meets the pool's.
TEST(Overload, Saturated_ShedReset_PoolAtWatermark_StillRefusedWithRst) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.max_connections = 4;
  cfg.shed_watermark = 3;
  cfg.syn_cookies = SynCookieMode::kOff;
  cfg.syn_backlog = 4;
  cfg.reset_shed_syns = true;
  TcpPeer p(cfg);
  EstablishOn(p, 41000);
  SendSyns(p, 41001, 2);  // two half-open entries: backlog half full, pool at 3
  EXPECT_EQ(TakeSent(p, kSynAck), 2);
  p.engine().set_saturated(true);
  SendSyns(p, 42000, 4);
  EXPECT_EQ(TakeSent(p, kRst | kAck), 3);
  EXPECT_EQ(p.counters().drop_syn_shed_busy, 3u);
  EXPECT_EQ(p.counters().drop_syn_shed_pool, 1u);
}

// Saturated but with its backlog under half full (a closed-loop client at the lcore's capacity),
// or with cookies always (no state per SYN: under a flood every SYN is worth answering), nothing is
// shed.
TEST(Overload, Saturated_BacklogUnderHalf_OrCookiesAlways_NothingShed) {
  for (const SynCookieMode mode : {SynCookieMode::kOnOverflow, SynCookieMode::kAlways}) {
    EngineConfig cfg = TcpPeer::DefaultConfig();
    cfg.syn_backlog = mode == SynCookieMode::kAlways ? 4 : 64;
    cfg.syn_cookies = mode;
    TcpPeer p(cfg);
    p.engine().set_saturated(true);
    SendSyns(p, 42000, 8);
    EXPECT_EQ(TakeSent(p, kSynAck), 8) << static_cast<int>(mode);
    EXPECT_EQ(p.counters().drop_syn_shed_busy, 0u);
  }
}

// A record in LAST-ACK whose peer vanished retransmits its FIN with backoff for minutes. Under
// pressure, advance() reclaims such records at once wherever their timers stand; a record with
// no retransmission pending is never touched. Their exchange was over (only the FIN is
// unacknowledged), so they count as complete, not as failed.
TEST(Overload, UnderPressure_RecordsStuckRetransmittingAreResetAndFreed_HealthyOnesKept) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.max_connections = 4;
  cfg.shed_watermark = 4;
  cfg.rto_min = 200 * kMillisecond;
  TcpPeer p(cfg);
  for (std::uint16_t port : {41000, 41001}) {
    EstablishOn(p, port);
    p.SendFin();
    (void)p.ExpectEmit(kAck, kAny, p.snd_nxt);
    ASSERT_TRUE(p.Close());
    (void)p.ExpectEmit(kFinAck, kAny, p.snd_nxt);  // never acknowledged: the peer is gone
    ASSERT_EQ(p.State(), TcpState::kLastAck);
  }
  // Below the watermark the FINs are retransmitted as usual.
  p.Advance(3 * kSecond);
  EXPECT_GE(TakeSent(p, kFinAck), 2);
  EXPECT_GT(p.counters().retransmits, 0u);
  EXPECT_EQ(p.counters().conn_failed_overload, 0u);
  // Two healthy connections bring the pool to its watermark.
  EstablishOn(p, 41002);
  EstablishOn(p, 41003);
  ASSERT_EQ(p.engine().gauges().connections, 4u);
  p.Advance(kMillisecond);  // the next advance() sweeps
  EXPECT_EQ(p.counters().reclaimed_exchange_over, 2u);
  EXPECT_EQ(p.counters().conn_completed, 2u);
  EXPECT_EQ(p.counters().conn_failed, 0u);
  EXPECT_EQ(TakeSent(p, kRst | kAck), 2) << "each stuck peer is told";
  EXPECT_EQ(p.engine().gauges().connections, 2u);
  EXPECT_EQ(p.engine().gauges().in(TcpState::kEstablished), 2u);
  EXPECT_EQ(p.engine().gauges().in(TcpState::kLastAck), 0u);
}

// Under pressure, the first retransmission timeout of a connection gives it up (RST, failure
// counted) instead of retransmitting.
TEST(Overload, UnderPressure_FirstTimeoutResetsInsteadOfRetransmitting) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.max_connections = 2;
  cfg.shed_watermark = 2;
  cfg.rto_min = 200 * kMillisecond;
  TcpPeer p(cfg);
  EstablishOn(p, 41000);
  ASSERT_TRUE(p.Write(100));
  EXPECT_EQ(TakeSent(p, kAck | kPsh), 1);  // never acknowledged
  EstablishOn(p, 41001);
  p.Advance(2 * kSecond);
  EXPECT_EQ(p.counters().retransmits, 0u);
  EXPECT_EQ(p.counters().conn_failed_overload, 1u);
  EXPECT_EQ(p.counters().reclaimed_exchange_over, 0u);  // its data was never acknowledged
  EXPECT_EQ(TakeSent(p, kRst | kAck), 1);
  EXPECT_EQ(p.engine().gauges().in(TcpState::kEstablished), 1u);
}

}  // namespace
}  // namespace synwave::test
