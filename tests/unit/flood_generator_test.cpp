// The flood generator: every frame it builds must parse as a well-formed TCP/IPv4 segment with
// correct checksums (through the same wire parsers the engine uses), its sources must stay in
// the configured ranges, and its rate must follow the token bucket over a simulated clock.
#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

#include "support/test_io.hpp"
#include "synwave/checksum.hpp"
#include "synwave/flood_generator.hpp"
#include "synwave/wire/arp.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave::test {
namespace {

constexpr std::uint32_t ip4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

const MacAddr kOurMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x03}};
const MacAddr kTargetMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
constexpr std::uint32_t kOurIp = ip4(198, 18, 0, 3);
constexpr std::uint32_t kTargetIp = ip4(198, 18, 0, 2);
constexpr std::uint16_t kTargetPort = 80;

FloodConfig resolved_config(FloodKind kind) {
  FloodConfig c;
  c.local_mac = kOurMac;
  c.local_ip = kOurIp;
  c.next_hop_ip = kTargetIp;
  c.next_hop_mac = kTargetMac;
  c.src_ip_first = ip4(198, 19, 0, 0);
  c.src_ip_last = ip4(198, 19, 255, 255);
  c.src_port_first = 1024;
  c.src_port_last = 65535;
  c.dst_ip = kTargetIp;
  c.dst_port = kTargetPort;
  c.kind = kind;
  c.pps = kFloodUnlimitedPps;
  c.seed = 42;
  return c;
}

// A frame parsed as the engine would parse it; `ok` only when every layer and checksum is right.
struct Parsed {
  bool ok = false;
  EthernetHeader eth;
  Ipv4Header ip;
  TcpSegment tcp;
  std::uint16_t tcp_checksum_field = 0;
};

Parsed parse_frame(const Bytes& b) {
  Parsed p;
  if (parse_ethernet(b.data(), b.size(), p.eth) != EthernetError::kOk) return p;
  if (p.eth.ether_type != kEtherTypeIpv4) return p;
  const std::uint8_t* ip = b.data() + EthernetHeader::kSize;
  const std::size_t ip_len = b.size() - EthernetHeader::kSize;
  if (parse_ipv4(ip, ip_len, p.ip, /*verify_checksum=*/true) != Ipv4Error::kOk) return p;
  const std::uint8_t* tcp = ip + p.ip.header_len;
  const std::size_t tcp_len = p.ip.total_len - p.ip.header_len;
  if (parse_tcp(tcp, tcp_len, p.tcp) != TcpError::kOk) return p;
  p.tcp_checksum_field = load_be16(tcp + 16);
  const std::uint64_t pseudo =
      pseudo_header_sum(p.ip.src, p.ip.dst, kIpProtoTcp, static_cast<std::uint16_t>(tcp_len));
  if (checksum_fold(checksum_add(tcp, tcp_len, pseudo)) != 0xffff) return p;
  p.ok = true;
  return p;
}

std::vector<Bytes> send(FloodGenerator& g, TestIo& io, std::uint32_t polls, TimeNs now = 0) {
  for (std::uint32_t i = 0; i < polls; ++i) g.poll(now);
  std::vector<Bytes> out(io.sent().begin(), io.sent().end());
  io.sent().clear();
  return out;
}

TEST(FloodKindNames, RoundTripAndRejectOthers) {
  for (FloodKind k : {FloodKind::kSyn, FloodKind::kAck, FloodKind::kRst, FloodKind::kFin}) {
    FloodKind parsed = FloodKind::kSyn;
    ASSERT_TRUE(parse_flood_kind(to_string(k), parsed));
    EXPECT_EQ(parsed, k);
  }
  FloodKind out = FloodKind::kAck;
  EXPECT_FALSE(parse_flood_kind("SYN", out));
  EXPECT_FALSE(parse_flood_kind("synack", out));
  EXPECT_FALSE(parse_flood_kind("", out));
  EXPECT_EQ(out, FloodKind::kAck);
}

TEST(FloodGenerator, SynsAreValidSegmentsWithTheOptionsOfALinuxSyn) {
  TestIo io;
  FloodGenerator g(resolved_config(FloodKind::kSyn), io.io(), 0);
  const auto frames = send(g, io, 10);
  ASSERT_EQ(frames.size(), 10u * FloodGenerator::kBurst);
  EXPECT_EQ(g.stats().sent, frames.size());
  for (const Bytes& b : frames) {
    ASSERT_EQ(b.size(), FloodGenerator::kSynFrameSize);
    const Parsed p = parse_frame(b);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.eth.dst, kTargetMac);
    EXPECT_EQ(p.eth.src, kOurMac);
    EXPECT_EQ(p.ip.dst, kTargetIp);
    EXPECT_EQ(p.ip.protocol, kIpProtoTcp);
    EXPECT_EQ(p.ip.ttl, 64);
    EXPECT_TRUE(p.ip.dont_fragment);
    EXPECT_EQ(p.tcp.dst_port, kTargetPort);
    EXPECT_EQ(p.tcp.flags, tcp_flags::kSyn);
    EXPECT_EQ(p.tcp.payload_len, 0u);
    EXPECT_EQ(p.tcp.window, 64240);
    const TcpOptions& o = p.tcp.options;
    EXPECT_FALSE(o.malformed);
    EXPECT_TRUE(o.has_mss);
    EXPECT_EQ(o.mss, 1460);
    EXPECT_TRUE(o.sack_permitted);
    EXPECT_TRUE(o.has_timestamps);
    EXPECT_EQ(o.ts_ecr, 0u);
    EXPECT_TRUE(o.has_window_scale);
    EXPECT_EQ(o.window_scale, 7);
  }
}

TEST(FloodGenerator, AckRstAndFinFloodsCarryTheirFlagsAndValidChecksums) {
  const std::pair<FloodKind, std::uint8_t> kinds[] = {
      {FloodKind::kAck, tcp_flags::kAck},
      {FloodKind::kRst, tcp_flags::kRst},
      {FloodKind::kFin, static_cast<std::uint8_t>(tcp_flags::kFin | tcp_flags::kAck)},
  };
  for (const auto& [kind, flags] : kinds) {
    SCOPED_TRACE(std::string(to_string(kind)));
    TestIo io;
    FloodGenerator g(resolved_config(kind), io.io(), 0);
    const auto frames = send(g, io, 4);
    ASSERT_EQ(frames.size(), 4u * FloodGenerator::kBurst);
    std::set<std::uint32_t> acks;
    for (const Bytes& b : frames) {
      ASSERT_EQ(b.size(), FloodGenerator::kPlainFrameSize);
      const Parsed p = parse_frame(b);
      ASSERT_TRUE(p.ok);
      EXPECT_EQ(p.tcp.flags, flags);
      EXPECT_EQ(p.tcp.header_len, 20);
      EXPECT_EQ(p.tcp.payload_len, 0u);
      acks.insert(p.tcp.ack.raw());
    }
    if (kind == FloodKind::kRst) {
      EXPECT_EQ(acks, std::set<std::uint32_t>{0});  // no ACK flag, no acknowledgment number
    } else {
      EXPECT_GT(acks.size(), frames.size() - 2);  // random-looking, not a constant
    }
  }
}

TEST(FloodGenerator, SequenceNumbersAndTimestampsLookRandomAndRepeatForASeed) {
  auto run = [](std::uint64_t seed) {
    TestIo io;
    FloodConfig c = resolved_config(FloodKind::kSyn);
    c.seed = seed;
    FloodGenerator g(c, io.io(), 0);
    return send(g, io, 8);
  };
  const auto a = run(7);
  const auto b = run(7);
  const auto c = run(8);
  EXPECT_EQ(a, b);
  std::set<std::uint32_t> seqs;
  std::set<std::uint32_t> tsvals;
  for (const Bytes& f : a) {
    const Parsed p = parse_frame(f);
    seqs.insert(p.tcp.seq.raw());
    tsvals.insert(p.tcp.options.ts_val);
  }
  EXPECT_EQ(seqs.size(), a.size());
  EXPECT_GT(tsvals.size(), a.size() - 2);
  EXPECT_NE(parse_frame(a[0]).tcp.seq.raw(), parse_frame(c[0]).tcp.seq.raw());
}

TEST(FloodGenerator, OffloadLeavesThePseudoHeaderSumForTheNic) {
  TestIo plain_io;
  TestIo offload_io;
  FloodConfig c = resolved_config(FloodKind::kSyn);
  FloodGenerator plain(c, plain_io.io(), 0);
  c.checksum_offload = true;
  FloodGenerator offloaded(c, offload_io.io(), 0);
  plain.poll(0);
  offloaded.poll(0);
  ASSERT_EQ(offload_io.sent().size(), FloodGenerator::kBurst);
  for (std::size_t i = 0; i < FloodGenerator::kBurst; ++i) {
    Bytes f = offload_io.sent()[i];
    const Bytes& expected = plain_io.sent()[i];
    std::uint8_t* ip = f.data() + EthernetHeader::kSize;
    std::uint8_t* tcp = ip + Ipv4Header::kMinSize;
    EXPECT_EQ(load_be16(ip + 10), 0);  // the IP checksum is the NIC's
    const std::uint32_t src = load_be32(ip + 12);
    const auto tcp_len = static_cast<std::uint16_t>(f.size() - EthernetHeader::kSize - Ipv4Header::kMinSize);
    EXPECT_EQ(load_be16(tcp + 16), checksum_fold(pseudo_header_sum(src, kTargetIp, kIpProtoTcp, tcp_len)));
    // What the NIC does: sum the segment with the pseudo-header sum in the field; and the IP header.
    store_be16(tcp + 16, checksum_finish(checksum_add(tcp, tcp_len)));
    store_be16(ip + 10, checksum_finish(checksum_add(ip, Ipv4Header::kMinSize)));
    EXPECT_EQ(f, expected);
  }
}

TEST(FloodGenerator, SourcesStayInTheirRangesAndCoverThemBeforeRepeating) {
  TestIo io;
  FloodConfig c = resolved_config(FloodKind::kSyn);
  c.src_ip_first = ip4(198, 18, 1, 10);
  c.src_ip_last = ip4(198, 18, 1, 19);
  c.src_port_first = 5000;
  c.src_port_last = 5009;
  c.total = 100 * 3 + 5;  // three passes over the 100 tuples and a bit
  FloodGenerator g(c, io.io(), 0);
  EXPECT_EQ(g.tuples(), 100u);
  const auto frames = send(g, io, 20);
  ASSERT_EQ(frames.size(), c.total);
  EXPECT_TRUE(g.finished());
  std::vector<std::pair<std::uint32_t, std::uint16_t>> tuples;
  for (const Bytes& b : frames) {
    const Parsed p = parse_frame(b);
    ASSERT_TRUE(p.ok);
    ASSERT_GE(p.ip.src, c.src_ip_first);
    ASSERT_LE(p.ip.src, c.src_ip_last);
    ASSERT_GE(p.tcp.src_port, c.src_port_first);
    ASSERT_LE(p.tcp.src_port, c.src_port_last);
    tuples.emplace_back(p.ip.src, p.tcp.src_port);
  }
  const std::set<std::pair<std::uint32_t, std::uint16_t>> first_pass(tuples.begin(), tuples.begin() + 100);
  EXPECT_EQ(first_pass.size(), 100u);
  for (std::size_t i = 100; i < tuples.size(); ++i) EXPECT_EQ(tuples[i], tuples[i % 100]);
  // Addresses vary fastest: consecutive segments come from different hosts.
  EXPECT_NE(tuples[0].first, tuples[1].first);
}

TEST(FloodGenerator, GeneratorsSharingARangeTakeDisjointTuples) {
  constexpr std::uint16_t kShares = 3;
  std::set<std::pair<std::uint32_t, std::uint16_t>> all;
  std::size_t sent = 0;
  for (std::uint16_t i = 0; i < kShares; ++i) {
    TestIo io;
    FloodConfig c = resolved_config(FloodKind::kSyn);
    c.src_ip_first = ip4(198, 18, 2, 0);
    c.src_ip_last = ip4(198, 18, 2, 6);  // 7 addresses: not a multiple of the shares
    c.src_port_first = 40000;
    c.src_port_last = 40012;             // 13 ports: 91 tuples
    c.share_count = kShares;
    c.share_index = i;
    FloodGenerator g(c, io.io(), 0);
    const std::uint64_t mine = g.tuples();
    EXPECT_EQ(mine, i == 0 ? 31u : 30u);
    FloodConfig limited = c;
    limited.total = mine;
    FloodGenerator once(limited, io.io(), 0);
    for (const Bytes& b : send(once, io, 4)) {
      const Parsed p = parse_frame(b);
      ASSERT_TRUE(p.ok);
      all.emplace(p.ip.src, p.tcp.src_port);
      ++sent;
    }
  }
  EXPECT_EQ(sent, 91u);
  EXPECT_EQ(all.size(), 91u);  // no tuple twice across the generators, none missing
}

TEST(FloodGenerator, RateFollowsTheBucketOverASimulatedClock) {
  TestIo io;
  FloodConfig c = resolved_config(FloodKind::kSyn);
  c.pps = 100'000;
  FloodGenerator g(c, io.io(), 0);
  // Polls every 7 µs for two simulated seconds: 200,000 segments are due, at most one short.
  TimeNs now = 0;
  while (now < 2 * kSecond) {
    now += 7 * kMicrosecond;
    g.poll(now);
    io.sent().clear();
  }
  const double expected = 100'000.0 * static_cast<double>(now) / 1e9;
  EXPECT_LE(static_cast<double>(g.stats().sent), expected);
  EXPECT_GE(static_cast<double>(g.stats().sent), expected - 1);
  EXPECT_EQ(g.stats().no_buffer, 0u);
}

TEST(FloodGenerator, LatePollsCatchUpWithinTheBucketDepthOnly) {
  TestIo io;
  FloodConfig c = resolved_config(FloodKind::kAck);
  c.pps = 1'000'000;
  c.catch_up = 10 * kMillisecond;  // 10,000 segments of credit at most
  FloodGenerator g(c, io.io(), 0);
  // Polls 5 ms apart (within the depth): every segment due is sent, 32 per poll, across the gap.
  TimeNs now = 0;
  std::uint64_t polls_in_burst = 0;
  for (int gap = 0; gap < 10; ++gap) {
    now += 5 * kMillisecond;
    while (g.poll(now) == FloodGenerator::kBurst) ++polls_in_burst;
  }
  EXPECT_EQ(g.stats().sent, 50'000u);
  // One stall of a second: only the depth's worth is made up, the rest is not owed.
  now += kSecond;
  const std::uint64_t before = g.stats().sent;
  while (g.poll(now) != 0) {}
  EXPECT_EQ(g.stats().sent - before, 10'000u);
  EXPECT_GT(polls_in_burst, 0u);
}

TEST(FloodGenerator, SegmentsWithoutABufferAreCountedAndNotOwed) {
  TestIo io;
  FloodConfig c = resolved_config(FloodKind::kSyn);
  c.pps = 1'000'000;
  FloodGenerator g(c, io.io(), 0);
  io.set_refill_allowed(false);
  g.poll(32 * kMicrosecond);
  EXPECT_EQ(g.stats().sent, 0u);
  EXPECT_EQ(g.stats().no_buffer, 32u);
  io.set_refill_allowed(true);
  g.poll(33 * kMicrosecond);  // one more due, not 33
  EXPECT_EQ(g.stats().sent, 1u);
  EXPECT_EQ(io.sent().size(), 1u);
}

// Issue 15: a frame the device refuses is not "sent". Each frame the rate called for is counted
// once, as sent, refused by the full queue, or without a buffer, and none of them is owed later.
TEST(FloodGenerator, FramesAFullTxQueueRefusesAreCountedApartFromSent) {
  TestIo io;
  FloodConfig c = resolved_config(FloodKind::kSyn);
  c.pps = 1'000'000;
  FloodGenerator g(c, io.io(), 0);
  io.set_tx_accept(10);
  EXPECT_EQ(g.poll(32 * kMicrosecond), 32u);  // 32 built and handed over
  EXPECT_EQ(g.stats().sent, 10u);
  EXPECT_EQ(g.stats().tx_queue_full, 22u);
  EXPECT_EQ(io.sent().size(), 10u);
  EXPECT_EQ(io.free_buffers(), TestIo().free_buffers());  // the refused frames' buffers came back
  io.set_refill_allowed(false);
  g.poll(40 * kMicrosecond);
  EXPECT_EQ(g.stats().no_buffer, 8u);
  io.set_refill_allowed(true);
  io.set_tx_accept(~0u);
  g.poll(41 * kMicrosecond);  // one more due: the refused ones are not owed
  EXPECT_EQ(g.stats().sent, 11u);
  EXPECT_EQ(g.stats().attempted(), 41u);
}

TEST(FloodGenerator, AFloodOfNFramesEndsAfterNAttemptsWhateverTheDeviceTook) {
  TestIo io;
  FloodConfig c = resolved_config(FloodKind::kAck);
  c.total = 100;
  FloodGenerator g(c, io.io(), 0);
  io.set_tx_accept(16);
  while (!g.finished()) g.poll(0);
  EXPECT_EQ(g.stats().attempted(), 100u);
  EXPECT_EQ(g.stats().sent, 16u * 3 + 4);  // 32 + 32 + 32 + 4 attempted, 16 of each burst taken
  EXPECT_EQ(g.stats().tx_queue_full, 100u - g.stats().sent);
}

TEST(FloodGenerator, SendsNothingUntilTheNextHopIsKnown) {
  TestIo io;
  FloodConfig c = resolved_config(FloodKind::kSyn);
  c.next_hop_mac = MacAddr{};
  c.pps = 1000;
  FloodGenerator g(c, io.io(), 0);
  EXPECT_FALSE(g.resolved());
  EXPECT_EQ(g.poll(10 * kSecond), 0u);
  EXPECT_TRUE(io.sent().empty());
  // The time spent unresolved is not credit: once resolved, the flood starts at its rate.
  g.set_next_hop_mac(kTargetMac);
  EXPECT_EQ(g.poll(10 * kSecond + 3 * kMillisecond), 3u);
  const Parsed p = parse_frame(io.sent().front());
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.eth.dst, kTargetMac);
}

TEST(FloodGenerator, RestartingTheRateDropsCreditAccruedBeforeTheStart) {
  TestIo io;
  FloodConfig c = resolved_config(FloodKind::kSyn);
  c.pps = 10'000;
  FloodGenerator g(c, io.io(), 0);
  // Constructed at 0, started at 5 s (after ARP): without the restart, the first poll would send
  // the bucket's whole depth at once.
  g.restart_rate(5 * kSecond);
  EXPECT_EQ(g.poll(5 * kSecond + 1 * kMillisecond), 10u);
}

Bytes arp_frame(std::uint16_t op, const MacAddr& sender_mac, std::uint32_t sender_ip, std::uint32_t target_ip,
                const MacAddr& eth_dst) {
  Bytes b(EthernetHeader::kSize + ArpPacket::kSize);
  write_ethernet(b.data(), eth_dst, sender_mac, kEtherTypeArp);
  ArpPacket a;
  a.operation = op;
  a.sender_mac = sender_mac;
  a.sender_ip = sender_ip;
  a.target_ip = target_ip;
  a.target_mac = op == kArpReply ? kOurMac : MacAddr{};
  write_arp(b.data() + EthernetHeader::kSize, a);
  return b;
}

TEST(FloodGenerator, ArpRequestForTheNextHopAndItsReplyResolveIt) {
  TestIo io;
  FloodConfig c = resolved_config(FloodKind::kSyn);
  c.next_hop_mac = MacAddr{};
  FloodGenerator g(c, io.io(), 0);

  Frame req = io.rx_frame(Bytes(64));
  ASSERT_TRUE(g.build_arp_request(req));
  ArpPacket a;
  EthernetHeader eth;
  ASSERT_EQ(parse_ethernet(req.data, req.len, eth), EthernetError::kOk);
  EXPECT_TRUE(eth.dst.is_broadcast());
  EXPECT_EQ(eth.ether_type, kEtherTypeArp);
  ASSERT_EQ(parse_arp(req.data + EthernetHeader::kSize, req.len - EthernetHeader::kSize, a), ArpError::kOk);
  EXPECT_EQ(a.operation, kArpRequest);
  EXPECT_EQ(a.sender_ip, kOurIp);
  EXPECT_EQ(a.sender_mac, kOurMac);
  EXPECT_EQ(a.target_ip, kTargetIp);
  EXPECT_EQ(g.stats().arp_requests_sent, 1u);

  const MacAddr other{{0x02, 0, 0, 0, 0, 0x77}};
  Frame from_other = io.rx_frame(arp_frame(kArpReply, other, ip4(198, 18, 0, 77), kOurIp, kOurMac));
  EXPECT_EQ(g.input(from_other), FloodInput::kIgnored);
  EXPECT_FALSE(g.resolved());

  Frame reply = io.rx_frame(arp_frame(kArpReply, kTargetMac, kTargetIp, kOurIp, kOurMac));
  EXPECT_EQ(g.input(reply), FloodInput::kLearnedNextHop);
  EXPECT_TRUE(g.resolved());
  EXPECT_EQ(g.next_hop_mac(), kTargetMac);
}

TEST(FloodGenerator, AnswersArpRequestsForItsOwnAddressInPlace) {
  TestIo io;
  FloodGenerator g(resolved_config(FloodKind::kSyn), io.io(), 0);
  const MacAddr asker{{0x02, 0, 0, 0, 0, 0x01}};
  Frame f = io.rx_frame(arp_frame(kArpRequest, asker, ip4(198, 18, 0, 1), kOurIp, MacAddr::broadcast()));
  ASSERT_EQ(g.input(f), FloodInput::kReplied);
  EthernetHeader eth;
  ArpPacket a;
  ASSERT_EQ(parse_ethernet(f.data, f.len, eth), EthernetError::kOk);
  EXPECT_EQ(eth.dst, asker);
  EXPECT_EQ(eth.src, kOurMac);
  ASSERT_EQ(parse_arp(f.data + EthernetHeader::kSize, f.len - EthernetHeader::kSize, a), ArpError::kOk);
  EXPECT_EQ(a.operation, kArpReply);
  EXPECT_EQ(a.sender_ip, kOurIp);
  EXPECT_EQ(a.sender_mac, kOurMac);
  EXPECT_EQ(a.target_ip, ip4(198, 18, 0, 1));
  EXPECT_EQ(a.target_mac, asker);
  EXPECT_EQ(g.stats().arp_replies_sent, 1u);

  // A request for someone else, and the target's answers to spoofed sources, are not ours.
  Frame not_ours = io.rx_frame(arp_frame(kArpRequest, asker, ip4(198, 18, 0, 1), ip4(198, 18, 0, 9), MacAddr::broadcast()));
  EXPECT_EQ(g.input(not_ours), FloodInput::kIgnored);
  TestIo syn_io;
  FloodGenerator syns(resolved_config(FloodKind::kSyn), syn_io.io(), 0);
  syns.poll(0);
  Frame tcp = io.rx_frame(syn_io.sent().front());
  EXPECT_EQ(g.input(tcp), FloodInput::kIgnored);
}

}  // namespace
}  // namespace synwave::test
