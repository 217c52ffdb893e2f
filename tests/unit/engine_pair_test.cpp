// Two engines wired back to back through a perfect in-memory link: the whole life of a
// connection for each workload and close policy.
#include <gtest/gtest.h>

#include "support/segments.hpp"
#include "support/test_io.hpp"

namespace synwave::test {
namespace {

const MacAddr kClientMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kServerMac{{0x02, 0, 0, 0, 0, 0x02}};
constexpr std::uint32_t kClientIp = ip4(198, 18, 0, 1);
constexpr std::uint32_t kServerIp = ip4(198, 18, 0, 2);

EngineConfig base_config(std::uint32_t ip, const MacAddr& mac, std::uint32_t peer_ip, const MacAddr& peer_mac) {
  EngineConfig c;
  c.local_ip = ip;
  c.local_mac = mac;
  c.prefix_len = 24;
  c.neighbors.push_back({peer_ip, peer_mac});
  c.max_connections = 1024;
  return c;
}

struct PolicyCase {
  WorkloadKind kind;
  ClosePolicy client_policy;
  ClosePolicy server_policy;
  std::uint32_t requests = 1;  // per connection (HTTP keeps the connection between them)
  std::uint32_t pipeline = 1;
};

class EnginePairTest : public ::testing::TestWithParam<PolicyCase> {};

TEST_P(EnginePairTest, OneHundredConnections_AllComplete_NothingLeaks) {
  const PolicyCase pc = GetParam();
  Workload cw;
  cw.kind = pc.kind;
  cw.close = pc.client_policy;
  cw.response_bytes = 5000;
  cw.requests_per_connection = pc.requests;
  cw.pipeline = pc.pipeline;
  EngineConfig cc = base_config(kClientIp, kClientMac, kServerIp, kServerMac);
  EngineConfig sc = base_config(kServerIp, kServerMac, kClientIp, kClientMac);
  cc.time_wait = 2 * kSecond;
  sc.time_wait = 2 * kSecond;
  Workload sw = cw;
  sw.close = pc.server_policy;
  cc.workload = cw;
  sc.workload = sw;
  sc.listen_ports = {80};
  TestIo cio, sio;
  Engine client(cc, cio.io(), kSecond);
  Engine server(sc, sio.io(), kSecond);
  TimeNs now = kSecond;
  for (std::uint16_t i = 0; i < 100; ++i) {
    ASSERT_EQ(client.open(kServerIp, 80, static_cast<std::uint16_t>(10000 + i), now).error, OpenError::kOk);
  }
  client.flush();
  for (int round = 0; round < 10000 && now < 20 * kSecond; ++round) {
    // In bursts, as the data plane delivers them (Engine::input_burst).
    while (!cio.sent().empty() || !sio.sent().empty()) {
      while (!cio.sent().empty()) sio.deliver_burst(server, cio, now);
      while (!sio.sent().empty()) cio.deliver_burst(client, sio, now);
    }
    now += 10 * kMillisecond;
    client.advance(now);
    server.advance(now);
  }
  EXPECT_EQ(client.counters().conn_completed, 100u);
  EXPECT_EQ(server.counters().conn_completed, 100u);
  EXPECT_EQ(client.counters().conn_failed, 0u);
  EXPECT_EQ(server.counters().conn_failed, 0u);
  EXPECT_EQ(client.gauges().connections, 0u);
  EXPECT_EQ(server.gauges().connections, 0u);
  EXPECT_EQ(client.counters().retransmits, 0u);
  EXPECT_EQ(server.counters().retransmits, 0u);
  if (pc.kind != WorkloadKind::kNone) {
    EXPECT_GE(client.counters().rx_bytes, 100u * 5000u * pc.requests);
  }
  if (pc.kind == WorkloadKind::kHttp) {
    EXPECT_EQ(client.counters().http_responses_read, 100u * pc.requests);
    EXPECT_EQ(server.counters().http_requests_read, 100u * pc.requests);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Workloads, EnginePairTest,
    ::testing::Values(PolicyCase{WorkloadKind::kHttp, ClosePolicy::kServerFirst, ClosePolicy::kServerFirst},
                      PolicyCase{WorkloadKind::kHttp, ClosePolicy::kClientFirst, ClosePolicy::kClientFirst},
                      PolicyCase{WorkloadKind::kHttp, ClosePolicy::kReset, ClosePolicy::kClientFirst},
                      PolicyCase{WorkloadKind::kHttp, ClosePolicy::kHalfClose, ClosePolicy::kServerFirst},
                      PolicyCase{WorkloadKind::kHttp, ClosePolicy::kServerFirst, ClosePolicy::kServerFirst, 5},
                      PolicyCase{WorkloadKind::kHttp, ClosePolicy::kClientFirst, ClosePolicy::kClientFirst, 5},
                      PolicyCase{WorkloadKind::kHttp, ClosePolicy::kReset, ClosePolicy::kClientFirst, 5},
                      PolicyCase{WorkloadKind::kHttp, ClosePolicy::kHalfClose, ClosePolicy::kServerFirst, 5},
                      PolicyCase{WorkloadKind::kHttp, ClosePolicy::kServerFirst, ClosePolicy::kServerFirst, 10, 4},
                      PolicyCase{WorkloadKind::kHttp, ClosePolicy::kClientFirst, ClosePolicy::kClientFirst, 10, 4},
                      PolicyCase{WorkloadKind::kRaw, ClosePolicy::kServerFirst, ClosePolicy::kServerFirst},
                      PolicyCase{WorkloadKind::kNone, ClosePolicy::kClientFirst, ClosePolicy::kClientFirst},
                      PolicyCase{WorkloadKind::kNone, ClosePolicy::kServerFirst, ClosePolicy::kServerFirst}));

// A client's segment to the server's port 80 (a SYN offers an MSS).
Bytes client_segment(std::uint16_t port, std::uint8_t flags) {
  SegmentSpec s;
  s.src_mac = kClientMac;
  s.dst_mac = kServerMac;
  s.src_ip = kClientIp;
  s.dst_ip = kServerIp;
  s.src_port = port;
  s.dst_port = 80;
  s.seq = 1000u * port;
  s.ack = (flags & tcp_flags::kAck) != 0 ? 1 : 0;
  s.flags = flags;
  s.options.mss = (flags & tcp_flags::kSyn) != 0;
  s.options.mss_value = 1460;
  return build_segment(s);
}

// A burst is the frames one by one: each kept bit says whether that frame became a reply in place.
TEST(EngineInputBurst, KeptMaskMatchesEachFrame_RepliesInPlace_OthersReturned) {
  EngineConfig sc = base_config(kServerIp, kServerMac, kClientIp, kClientMac);
  sc.listen_ports = {80};
  TestIo client_side, sio;
  Engine server(sc, sio.io(), kSecond);
  auto syn = [](std::uint16_t port) { return client_segment(port, tcp_flags::kSyn); };
  Bytes not_ip = syn(40000);
  not_ip[12] = 0x86;  // EtherType IPv6: not ours, dropped and counted
  not_ip[13] = 0xdd;
  Bytes truncated = syn(40001);
  truncated.resize(30);  // an IPv4 header cut short: never read past the frame
  std::vector<Frame> frames;
  for (const Bytes& b : {syn(40002), not_ip, syn(40003), truncated, syn(40004)}) frames.push_back(sio.rx_frame(b));
  const std::uint32_t kept = server.input_burst(frames.data(), static_cast<std::uint32_t>(frames.size()), kSecond);
  EXPECT_EQ(kept, 0b10101u);  // each SYN's SYN-ACK was built in its own frame
  server.flush();
  EXPECT_EQ(server.counters().synack_sent, 3u);
  EXPECT_EQ(server.counters().drop_eth_unknown_type, 1u);
  EXPECT_EQ(server.counters().drop_ip_truncated, 1u);
  ASSERT_EQ(sio.sent().size(), 3u);
  for (std::uint16_t port : {40002, 40003, 40004}) {
    const auto f = parse_frame(sio.pop_sent());
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->tcp.dst_port, port);
    EXPECT_TRUE(f->has(tcp_flags::kSyn | tcp_flags::kAck));
    EXPECT_TRUE(f->tcp_checksum_ok);
  }
}

// A listener on port 80 whose SYN backlog is half full after two SYNs.
EngineConfig small_backlog_listener() {
  EngineConfig sc = base_config(kServerIp, kServerMac, kClientIp, kClientMac);
  sc.listen_ports = {80};
  sc.syn_backlog = 4;
  return sc;
}

// Saturated with the backlog half full, a burst's new SYNs are shed three in four before any
// parse or table work; other frames of the same burst are processed as usual.
TEST(EngineInputBurst, Overloaded_ThreeSynsInFourShedBeforeAnyWork_OtherFramesProcessed) {
  TestIo sio;
  Engine server(small_backlog_listener(), sio.io(), kSecond);
  std::vector<Frame> frames;
  for (std::uint16_t port : {40000, 40001}) frames.push_back(sio.rx_frame(client_segment(port, tcp_flags::kSyn)));
  EXPECT_EQ(server.input_burst(frames.data(), 2, kSecond), 0b11u);  // two half-open entries: half full
  server.set_saturated(true);
  frames.clear();
  Bytes truncated = client_segment(41000, tcp_flags::kSyn);
  truncated.resize(30);
  frames.push_back(sio.rx_frame(truncated));
  for (std::uint16_t port = 42000; port < 42008; ++port) frames.push_back(sio.rx_frame(client_segment(port, tcp_flags::kSyn)));
  frames.push_back(sio.rx_frame(client_segment(43000, tcp_flags::kAck)));  // no record, no cookie: a reset
  const std::uint32_t kept = server.input_burst(frames.data(), static_cast<std::uint32_t>(frames.size()), 2 * kSecond);
  EXPECT_EQ(server.counters().drop_syn_shed_busy, 6u);
  EXPECT_EQ(server.counters().drop_ip_truncated, 1u);
  EXPECT_EQ(server.counters().drop_no_listener_rst, 1u);
  EXPECT_EQ(server.counters().rx_frames, 2u + 10u);
  EXPECT_EQ(kept, (1u << 4) | (1u << 8) | (1u << 9)) << "the fourth and eighth SYN answered in place, and the reset";
}

// With reset_shed_syns the burst's shed SYNs are refused, each answered in place with an RST: the
// same six shed, every frame counted once.
TEST(EngineInputBurst, Overloaded_ShedReset_ShedSynsAnsweredWithRstInPlace) {
  TestIo sio;
  EngineConfig sc = small_backlog_listener();
  sc.reset_shed_syns = true;
  Engine server(sc, sio.io(), kSecond);
  std::vector<Frame> frames;
  for (std::uint16_t port : {40000, 40001}) frames.push_back(sio.rx_frame(client_segment(port, tcp_flags::kSyn)));
  EXPECT_EQ(server.input_burst(frames.data(), 2, kSecond), 0b11u);
  server.set_saturated(true);
  frames.clear();
  for (std::uint16_t port = 42000; port < 42008; ++port) frames.push_back(sio.rx_frame(client_segment(port, tcp_flags::kSyn)));
  const std::uint32_t kept = server.input_burst(frames.data(), static_cast<std::uint32_t>(frames.size()), 2 * kSecond);
  EXPECT_EQ(kept, 0xffu) << "every SYN answered in place: six RSTs, two SYN-ACKs";
  EXPECT_EQ(server.counters().drop_syn_shed_busy, 6u);
  EXPECT_EQ(server.counters().rst_sent, 6u);
  EXPECT_EQ(server.counters().syn_received, 4u);
  EXPECT_EQ(server.counters().rx_frames, 2u + 8u);
}

// With cookies on overflow, a saturated lcore sheds new SYNs only while handshakes complete
// (clients beyond capacity): over an admission window of SYNs that never completed (a flood)
// every SYN is answered, with a cookie once the backlog is full; once the cookies come back as
// handshakes, the next window sheds again.
TEST(EngineInputBurst, OverloadedByAFlood_SynsAnsweredNotShed_UntilHandshakesComplete) {
  TestIo sio;
  Engine server(small_backlog_listener(), sio.io(), kSecond);
  auto syn_burst = [&](std::uint16_t first, std::uint16_t count, TimeNs at) {
    std::vector<Frame> frames;
    for (std::uint16_t p = first; p < first + count; ++p) frames.push_back(sio.rx_frame(client_segment(p, tcp_flags::kSyn)));
    (void)server.input_burst(frames.data(), count, at);
    server.flush();
  };
  TimeNs now = kSecond;
  syn_burst(40000, 4, now);  // the backlog full of entries that never complete
  server.set_saturated(true);
  ASSERT_TRUE(sio.sent().size() == 4u);
  sio.sent().clear();

  now += 100 * kMillisecond;  // the window closes: 4 SYNs, no handshake
  server.advance(now);
  server.set_saturated(true);
  syn_burst(42000, 8, now);
  EXPECT_EQ(server.counters().drop_syn_shed_busy, 0u);
  EXPECT_EQ(server.counters().cookies_sent, 8u);
  ASSERT_EQ(sio.sent().size(), 8u);

  // The cookies come back: eight handshakes complete.
  std::vector<Frame> acks;
  while (!sio.sent().empty()) {
    const auto synack = parse_frame(sio.pop_sent());
    ASSERT_TRUE(synack.has_value());
    SegmentSpec s;
    s.src_mac = kClientMac;
    s.dst_mac = kServerMac;
    s.src_ip = kClientIp;
    s.dst_ip = kServerIp;
    s.src_port = synack->tcp.dst_port;
    s.dst_port = 80;
    s.seq = 1000u * synack->tcp.dst_port + 1;
    s.ack = (synack->tcp.seq + 1).raw();
    s.flags = tcp_flags::kAck;
    acks.push_back(sio.rx_frame(build_segment(s)));
  }
  (void)server.input_burst(acks.data(), static_cast<std::uint32_t>(acks.size()), now);
  EXPECT_EQ(server.counters().cookies_valid, 8u);
  EXPECT_EQ(server.counters().conn_accepted, 8u);

  now += 100 * kMillisecond;  // 8 SYNs, 8 handshakes: clients, not a flood
  server.advance(now);
  server.set_saturated(true);
  syn_burst(43000, 8, now);
  EXPECT_EQ(server.counters().drop_syn_shed_busy, 6u);
}

}  // namespace
}  // namespace synwave::test
