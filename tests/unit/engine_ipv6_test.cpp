// The engine's IPv6 paths that are not TCP state (the state machine's arrows run over IPv6 in the
// unit_ipv6 run of every TcpPeer test): Neighbor Discovery answered and used (RFC 4861), echo
// (RFC 4443 §4.2), both families on one engine, and malformed IPv6 counted and dropped.
#include <gtest/gtest.h>

#include <algorithm>

#include "support/tcp_peer.hpp"
#include "synwave/wire/icmpv6.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave::test {
namespace {

constexpr Ipv6Addr kOurs{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
constexpr Ipv6Addr kPeer{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
constexpr Ipv6Addr kOffLink{0x20, 0x01, 0x0d, 0xb8, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07};
constexpr Ipv6Addr kGateway{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe};
const MacAddr kOurMac{{0x02, 0, 0, 0, 0, 0x10}};
const MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x20}};

EngineConfig dual_stack_config() {
  EngineConfig c;
  c.local_ip = ip4(198, 18, 0, 1);
  c.local_ip6 = kOurs;
  c.prefix_len6 = 64;
  c.local_mac = kOurMac;
  c.listen_ports = {80};
  c.max_connections = 16;
  c.workload.kind = WorkloadKind::kManual;
  return c;
}

// An ICMPv6 frame from the peer: eth, IPv6 (hop limit 255 as ND requires), the message with its
// checksum.
Bytes icmpv6_frame(const MacAddr& dst_mac, const Ipv6Addr& src, const Ipv6Addr& dst, Bytes msg) {
  Bytes b(EthernetHeader::kSize + Ipv6Header::kSize + msg.size());
  write_ethernet(b.data(), dst_mac, kPeerMac, kEtherTypeIpv6);
  write_ipv6(b.data() + EthernetHeader::kSize, src, dst, kIpProtoIcmpv6, static_cast<std::uint16_t>(msg.size()),
             kNdHopLimit);
  store_be16(msg.data() + 2, 0);
  store_be16(msg.data() + 2, icmpv6_checksum(src, dst, msg.data(), static_cast<std::uint32_t>(msg.size())));
  std::copy(msg.begin(), msg.end(), b.begin() + EthernetHeader::kSize + Ipv6Header::kSize);
  return b;
}

Bytes solicitation(const Ipv6Addr& target) {
  Bytes m(kNdMessageWithLinkAddressSize);
  write_neighbor_solicitation(m.data(), kPeer, target, kPeerMac);
  return m;
}

struct Sent {
  EthernetHeader eth;
  Ipv6Header ip;
  const std::uint8_t* msg;
  std::uint32_t len;
};

Sent parse_sent(const Bytes& b) {
  Sent s{};
  EXPECT_EQ(parse_ethernet(b.data(), b.size(), s.eth), EthernetError::kOk);
  EXPECT_EQ(parse_ipv6(b.data() + EthernetHeader::kSize, b.size() - EthernetHeader::kSize, s.ip), Ipv6Error::kOk);
  s.msg = b.data() + EthernetHeader::kSize + s.ip.upper_offset;
  s.len = s.ip.upper_len();
  return s;
}

class EngineIpv6 : public ::testing::Test {
 protected:
  EngineIpv6() : engine_(dual_stack_config(), io_.io(), kSecond) {}
  void deliver(const Bytes& frame) { io_.deliver(engine_, frame, kSecond); }
  TestIo io_;
  Engine engine_;
};

// RFC 4861 §7.2.4: a solicitation for our address, sent to its solicited-node group, is answered
// by a solicited advertisement with our MAC, to the asker; its source link address is learnt.
TEST_F(EngineIpv6, SolicitationToOurGroup_AnsweredWithOurMac) {
  const Ipv6Addr group = solicited_node_multicast(kOurs);
  deliver(icmpv6_frame(multicast_mac(group), kPeer, group, solicitation(kOurs)));
  engine_.flush();
  ASSERT_EQ(io_.sent().size(), 1u);
  const Bytes reply = io_.pop_sent();
  const Sent s = parse_sent(reply);
  EXPECT_EQ(s.eth.dst, kPeerMac);
  EXPECT_TRUE(s.ip.src == kOurs);
  EXPECT_TRUE(s.ip.dst == kPeer);
  NeighborAdvertisement na;
  ASSERT_EQ(parse_neighbor_advertisement(s.ip, s.msg, s.len, na), NdError::kOk);
  EXPECT_TRUE(na.target == kOurs);
  EXPECT_TRUE(na.solicited);
  EXPECT_TRUE(na.override_entry);
  ASSERT_TRUE(na.has_target_mac);
  EXPECT_EQ(na.target_mac, kOurMac);
  EXPECT_EQ(icmpv6_checksum(s.ip.src, s.ip.dst, s.msg, s.len), 0);
  EXPECT_EQ(engine_.counters().nd_advertisements_sent, 1u);
  // Learnt from the solicitation: an active open to the peer needs no solicitation of its own.
  EXPECT_TRUE(engine_.resolve_next_hop(kPeer, kSecond));
}

TEST_F(EngineIpv6, SolicitationForAnotherAddress_Dropped) {
  const Ipv6Addr group = solicited_node_multicast(kGateway);
  deliver(icmpv6_frame(multicast_mac(group), kPeer, group, solicitation(kGateway)));
  engine_.flush();
  EXPECT_TRUE(io_.sent().empty());
  EXPECT_EQ(engine_.counters().drop_nd_not_for_us, 1u);
}

// RFC 4861 §7.1.1: a solicitation whose hop limit is not 255 crossed a router: invalid.
TEST_F(EngineIpv6, SolicitationThatCrossedARouter_Dropped) {
  Bytes frame = icmpv6_frame(kOurMac, kPeer, kOurs, solicitation(kOurs));
  frame[EthernetHeader::kSize + 7] = 64;
  deliver(frame);
  engine_.flush();
  EXPECT_TRUE(io_.sent().empty());
  EXPECT_EQ(engine_.counters().drop_icmpv6_malformed, 1u);
}

// Resolution: an open toward an unknown on-link peer solicits it (to its group) and waits; the
// advertisement completes the entry and the open goes on. Off-link peers go through the gateway.
TEST_F(EngineIpv6, OpenToUnknownPeer_SolicitsThenOpensOnTheAdvertisement) {
  EXPECT_EQ(engine_.open(kPeer, 80, 40000, kSecond).error, OpenError::kNeighborPending);
  engine_.flush();
  ASSERT_EQ(io_.sent().size(), 1u);
  const Bytes ns_frame = io_.pop_sent();
  const Sent s = parse_sent(ns_frame);
  EXPECT_TRUE(s.ip.dst == solicited_node_multicast(kPeer));
  EXPECT_EQ(s.eth.dst, multicast_mac(solicited_node_multicast(kPeer)));
  NeighborSolicitation ns;
  ASSERT_EQ(parse_neighbor_solicitation(s.ip, s.msg, s.len, ns), NdError::kOk);
  EXPECT_TRUE(ns.target == kPeer);
  Bytes na(kNdMessageWithLinkAddressSize);
  write_neighbor_advertisement(na.data(), kPeer, kOurs, kPeer, kPeerMac, true);
  deliver(icmpv6_frame(kOurMac, kPeer, kOurs, na));
  EXPECT_EQ(engine_.counters().nd_advertisements_received, 1u);
  const OpenResult r = engine_.open(kPeer, 80, 40000, kSecond);
  ASSERT_EQ(r.error, OpenError::kOk);
  EXPECT_EQ(engine_.state_of(engine_.flow_key(kOurs, kPeer, 40000, 80)), TcpState::kSynSent);
  EXPECT_TRUE(engine_.remote_ip6(r.conn) == kPeer);
  EXPECT_EQ(engine_.open(kOffLink, 80, 40001, kSecond).error, OpenError::kNoRoute);
}

TEST(EngineIpv6Gateway, OffLinkPeer_ResolvesTheGateway) {
  EngineConfig c = dual_stack_config();
  c.gateway6 = kGateway;
  TestIo io;
  Engine engine(c, io.io(), kSecond);
  EXPECT_EQ(engine.open(kOffLink, 80, 40000, kSecond).error, OpenError::kNeighborPending);
  engine.flush();
  ASSERT_EQ(io.sent().size(), 1u);
  const Bytes frame = io.pop_sent();
  const Sent s = parse_sent(frame);
  NeighborSolicitation ns;
  ASSERT_EQ(parse_neighbor_solicitation(s.ip, s.msg, s.len, ns), NdError::kOk);
  EXPECT_TRUE(ns.target == kGateway);
}

TEST_F(EngineIpv6, EchoRequest_AnsweredWithTheSameData) {
  Bytes echo = {kIcmpv6EchoRequest, 0, 0, 0, 0x12, 0x34, 0x00, 0x07, 'p', 'i', 'n', 'g'};
  deliver(icmpv6_frame(kOurMac, kPeer, kOurs, echo));
  engine_.flush();
  ASSERT_EQ(io_.sent().size(), 1u);
  const Bytes reply = io_.pop_sent();
  const Sent s = parse_sent(reply);
  EXPECT_TRUE(s.ip.src == kOurs);
  EXPECT_TRUE(s.ip.dst == kPeer);
  ASSERT_EQ(s.len, echo.size());
  EXPECT_EQ(s.msg[0], kIcmpv6EchoReply);
  EXPECT_TRUE(std::equal(echo.begin() + 4, echo.end(), s.msg + 4));
  EXPECT_EQ(icmpv6_checksum(s.ip.src, s.ip.dst, s.msg, s.len), 0);
}

// A router advertisement (and anything else we do not speak) is counted and dropped: the gateway
// is configured.
TEST_F(EngineIpv6, RouterAdvertisement_Ignored) {
  Bytes ra(16, 0);
  ra[0] = 134;
  deliver(icmpv6_frame(kOurMac, kPeer, kOurs, ra));
  engine_.flush();
  EXPECT_TRUE(io_.sent().empty());
  EXPECT_EQ(engine_.counters().drop_icmpv6_ignored, 1u);
}

TEST_F(EngineIpv6, FragmentAndTruncatedHeader_CountedAndDropped) {
  SegmentSpec spec;
  spec.src_mac = kPeerMac;
  spec.dst_mac = kOurMac;
  spec.ipv6 = true;
  spec.src_ip6 = kPeer;
  spec.dst_ip6 = kOurs;
  spec.src_port = 40000;
  spec.dst_port = 80;
  spec.flags = tcp_flags::kSyn;
  Bytes frame = build_segment(spec);
  Bytes fragment = frame;
  fragment[EthernetHeader::kSize + 6] = kIpv6Fragment;
  deliver(fragment);
  deliver(Bytes(frame.begin(), frame.begin() + EthernetHeader::kSize + 30));
  EXPECT_EQ(engine_.counters().drop_ipv6_fragment, 1u);
  EXPECT_EQ(engine_.counters().drop_ipv6_malformed, 1u);
  engine_.flush();
  EXPECT_TRUE(io_.sent().empty());
}

// A SYN from the peer with an 8-byte extension header of `type` (next header TCP) inserted after
// the IPv6 header: `body` is its 6 bytes after next-header and length.
Bytes syn_with_extension(std::uint8_t type, std::array<std::uint8_t, 6> body, const Ipv6Addr& src = kPeer) {
  SegmentSpec spec;
  spec.src_mac = kPeerMac;
  spec.dst_mac = kOurMac;
  spec.ipv6 = true;
  spec.src_ip6 = src;
  spec.dst_ip6 = kOurs;
  spec.src_port = 40000;
  spec.dst_port = 80;
  spec.seq = 1000;
  spec.flags = tcp_flags::kSyn;
  Bytes frame = build_segment(spec);
  constexpr std::size_t kIp = EthernetHeader::kSize;
  Bytes ext = {kIpProtoTcp, 0};
  ext.insert(ext.end(), body.begin(), body.end());
  frame.insert(frame.begin() + kIp + Ipv6Header::kSize, ext.begin(), ext.end());
  frame[kIp + 6] = type;
  store_be16(frame.data() + kIp + 4, static_cast<std::uint16_t>(load_be16(frame.data() + kIp + 4) + 8));
  return frame;
}

// RFC 8200 §4.2: an option of unknown type with action 10 discards the packet and draws a
// Parameter Problem, code 2, pointing at the option; action 01 discards silently; 00 skips it.
TEST_F(EngineIpv6, UnrecognizedOptions_ActedOnAsTheirTypeSays) {
  deliver(syn_with_extension(kIpv6DestinationOptions, {0x9e, 2, 'a', 'b', 1, 0}));  // action 10, then PadN
  engine_.flush();
  ASSERT_EQ(io_.sent().size(), 1u);
  const Bytes reply = io_.pop_sent();
  const Sent s = parse_sent(reply);
  EXPECT_TRUE(s.ip.src == kOurs);
  EXPECT_TRUE(s.ip.dst == kPeer);
  ASSERT_GE(s.len, 8u + Ipv6Header::kSize);
  EXPECT_EQ(s.msg[0], kIcmpv6ParameterProblem);
  EXPECT_EQ(s.msg[1], 2);
  EXPECT_EQ(load_be32(s.msg + 4), Ipv6Header::kSize + 2);  // the option's type byte
  EXPECT_EQ(icmpv6_checksum(s.ip.src, s.ip.dst, s.msg, s.len), 0);
  EXPECT_EQ(engine_.counters().drop_ipv6_unrecognized_option, 1u);
  EXPECT_EQ(engine_.counters().icmpv6_errors_sent, 1u);

  deliver(syn_with_extension(kIpv6DestinationOptions, {0x5e, 2, 'a', 'b', 1, 0}));  // action 01
  engine_.flush();
  EXPECT_TRUE(io_.sent().empty());
  EXPECT_EQ(engine_.counters().drop_ipv6_unrecognized_option, 2u);

  deliver(syn_with_extension(kIpv6DestinationOptions, {0x1e, 2, 'a', 'b', 1, 0}));  // action 00
  engine_.flush();
  ASSERT_EQ(io_.sent().size(), 1u);
  EXPECT_TRUE(parse_frame(io_.pop_sent())->has(tcp_flags::kSyn | tcp_flags::kAck));
  EXPECT_EQ(engine_.counters().syn_received, 1u);
}

// RFC 8200 §4.4 (and RFC 5095 for type 0): segments left means the packet is on its way to
// another node; an endpoint discards it with a Parameter Problem, code 0, at the routing type.
TEST_F(EngineIpv6, RoutingHeaderWithSegmentsLeft_DiscardedWithParameterProblem) {
  deliver(syn_with_extension(kIpv6Routing, {0, 1, 0, 0, 0, 0}));
  engine_.flush();
  ASSERT_EQ(io_.sent().size(), 1u);
  const Bytes reply = io_.pop_sent();
  const Sent s = parse_sent(reply);
  EXPECT_EQ(s.msg[0], kIcmpv6ParameterProblem);
  EXPECT_EQ(s.msg[1], 0);
  EXPECT_EQ(load_be32(s.msg + 4), Ipv6Header::kSize + 2);
  EXPECT_EQ(engine_.counters().drop_ipv6_routing_header, 1u);
}

// RFC 6946 §4: an atomic fragment (offset 0, M clear) is processed as the whole packet it is.
TEST_F(EngineIpv6, AtomicFragment_ProcessedAsAWholePacket) {
  deliver(syn_with_extension(kIpv6Fragment, {0, 0, 0, 0, 0, 9}));
  engine_.flush();
  ASSERT_EQ(io_.sent().size(), 1u);
  EXPECT_TRUE(parse_frame(io_.pop_sent())->has(tcp_flags::kSyn | tcp_flags::kAck));
  EXPECT_EQ(engine_.counters().drop_ipv6_fragment, 0u);
}

// RFC 4291 §2.5.3, §2.5.5.2; RFC 1122 §3.2.1.3(g): loopback and IPv4-mapped sources are dropped.
TEST_F(EngineIpv6, LoopbackAndMappedSources_Dropped) {
  constexpr Ipv6Addr kLoopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  constexpr Ipv6Addr kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 3};
  deliver(syn_with_extension(kIpv6DestinationOptions, {1, 4, 0, 0, 0, 0}, kLoopback));
  deliver(syn_with_extension(kIpv6DestinationOptions, {1, 4, 0, 0, 0, 0}, kMapped));
  SegmentSpec v4;
  v4.src_mac = kPeerMac;
  v4.dst_mac = kOurMac;
  v4.src_ip = ip4(127, 0, 0, 1);
  v4.dst_ip = ip4(198, 18, 0, 1);
  v4.src_port = 40000;
  v4.dst_port = 80;
  v4.flags = tcp_flags::kSyn;
  deliver(build_segment(v4));
  engine_.flush();
  EXPECT_TRUE(io_.sent().empty());
  EXPECT_EQ(engine_.counters().drop_ip_bad_source, 3u);
}

// One engine, both families at once: the same ports from an IPv4 and an IPv6 peer are two
// connections, each answered in its own family.
TEST_F(EngineIpv6, DualStack_SamePortsInBothFamilies_TwoConnections) {
  SegmentSpec v4;
  v4.src_mac = kPeerMac;
  v4.dst_mac = kOurMac;
  v4.src_ip = ip4(198, 18, 0, 2);
  v4.dst_ip = ip4(198, 18, 0, 1);
  v4.src_port = 40000;
  v4.dst_port = 80;
  v4.seq = 1000;
  v4.flags = tcp_flags::kSyn;
  SegmentSpec v6 = v4;
  v6.ipv6 = true;
  v6.src_ip6 = kPeer;
  v6.dst_ip6 = kOurs;
  deliver(build_segment(v4));
  deliver(build_segment(v6));
  engine_.flush();
  ASSERT_EQ(io_.sent().size(), 2u);
  const std::optional<ParsedFrame> a = parse_frame(io_.pop_sent());
  const std::optional<ParsedFrame> b = parse_frame(io_.pop_sent());
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->ipv6);
  EXPECT_TRUE(b->ipv6);
  EXPECT_TRUE(a->tcp_checksum_ok && b->tcp_checksum_ok);
  EXPECT_EQ(b->tcp.options.mss, 1440);  // MTU 1500 less 60
  EXPECT_EQ(engine_.state_of(FlowKey{ip4(198, 18, 0, 1), ip4(198, 18, 0, 2), 80, 40000}), TcpState::kSynReceived);
  EXPECT_EQ(engine_.state_of(engine_.flow_key(kOurs, kPeer, 80, 40000)), TcpState::kSynReceived);
}

// A source range beside local_ip6 (a client's --src-ip) and one that holds it: every address of
// each is ours, each with its own handle, and nothing past the range is.
TEST(EngineIpv6Config, SourceRange_EveryAddressOurs) {
  auto addr = [](std::uint8_t last) {
    Ipv6Addr a = kOurs;
    a[15] = last;
    return a;
  };
  for (const std::uint8_t first : {0x10, 0x00}) {  // beside ::1, then ::0-::3 around it
    EngineConfig c = dual_stack_config();
    c.source_ip6_first = addr(first);
    c.source_ip6_count = 4;
    TestIo io;
    Engine e(c, io.io(), kSecond);
    std::vector<std::uint32_t> handles{e.local_handle(kOurs)};
    for (std::uint8_t i = 0; i < 4; ++i) {
      const std::uint32_t h = e.local_handle(addr(static_cast<std::uint8_t>(first + i)));
      if (addr(static_cast<std::uint8_t>(first + i)) == kOurs) continue;
      EXPECT_NE(h, 0u) << "range address " << int(first + i);
      EXPECT_EQ(e.local_ip6(FlowKey{h, 0, 0, 0}), addr(static_cast<std::uint8_t>(first + i)));
      handles.push_back(h);
    }
    std::sort(handles.begin(), handles.end());
    EXPECT_EQ(std::unique(handles.begin(), handles.end()), handles.end());
    EXPECT_EQ(e.local_handle(addr(static_cast<std::uint8_t>(first + 4))), 0u);
  }
}

TEST(EngineIpv6Config, LocalIpv4InThisNetwork_Refused) {
  EngineConfig c = dual_stack_config();
  c.local_ip = ip4(0, 0, 0, 5);
  TestIo io;
  EXPECT_THROW(Engine(c, io.io(), kSecond), std::invalid_argument);
}

}  // namespace
}  // namespace synwave::test
