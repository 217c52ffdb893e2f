// The flood generator: every frame it builds must parse as a well-formed TCP/IPv4 or TCP/IPv6
// segment with correct checksums (through the same wire parsers the engine uses), its sources
// must stay in the configured ranges, and its rate must follow the token bucket over a simulated
// clock. Over IPv6 it resolves its next hop by Neighbor Discovery, and an engine answers every
// SYN it floods with a cookie that validates.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "support/test_io.hpp"
#include "synwave/byte_order.hpp"
#include "synwave/checksum.hpp"
#include "synwave/engine.hpp"
#include "synwave/flood_generator.hpp"
#include "synwave/wire/arp.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/icmpv6.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/ipv6.hpp"
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
  for (FloodKind k : kFloodKinds) {
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

TEST(FloodGenerator, PlainSynsCarryNoOptionsAndNoAcknowledgmentNumber) {
  TestIo io;
  FloodGenerator g(resolved_config(FloodKind::kSynPlain), io.io(), 0);
  const auto frames = send(g, io, 4);
  ASSERT_EQ(frames.size(), 4u * FloodGenerator::kBurst);
  std::set<std::uint32_t> seqs;
  for (const Bytes& b : frames) {
    ASSERT_EQ(b.size(), FloodGenerator::kPlainFrameSize);
    const Parsed p = parse_frame(b);  // checksums verified
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.tcp.flags, tcp_flags::kSyn);
    EXPECT_EQ(p.tcp.header_len, 20);
    EXPECT_EQ(p.tcp.ack.raw(), 0u);
    EXPECT_EQ(p.tcp.window, 64240);
    EXPECT_FALSE(p.tcp.options.has_mss);
    EXPECT_FALSE(p.tcp.options.has_timestamps);
    seqs.insert(p.tcp.seq.raw());
  }
  EXPECT_GT(seqs.size(), frames.size() - 2);
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

// With FrameIo::offer the frames a full queue did not take are kept and offered first in the
// next pass, not built again; what the rate calls for beyond the room they leave is refused
// unbuilt. Each frame is still counted once: sent, refused by the full queue, or without a buffer.
TEST(FloodGenerator, FramesAFullQueueDidNotTakeAreOfferedAgainNotBuiltAgain) {
  TestIo io;
  const std::uint32_t buffers = io.free_buffers();
  FloodConfig c = resolved_config(FloodKind::kSyn);
  c.pps = 1'000'000;
  auto g = std::make_unique<FloodGenerator>(c, io.offering_io(), 0);
  io.set_tx_accept(10);
  EXPECT_EQ(g->poll(32 * kMicrosecond), 32u + 10u);  // 32 built, 10 taken
  EXPECT_EQ(g->stats().sent, 10u);
  EXPECT_EQ(g->stats().tx_queue_full, 0u);
  EXPECT_EQ(io.free_buffers(), buffers - 22);  // the 22 not taken are still held
  io.set_tx_accept(1);
  g->poll(32 * kMicrosecond);  // nothing more due: one held frame goes
  EXPECT_EQ(g->stats().sent, 11u);
  // 32 more due while 21 are held: 11 are built, 21 refused unbuilt.
  io.set_tx_accept(0);
  EXPECT_EQ(g->poll(64 * kMicrosecond), 11u);
  EXPECT_EQ(g->stats().tx_queue_full, 21u);
  EXPECT_EQ(io.free_buffers(), buffers - 32);
  io.set_tx_accept(~0u);
  EXPECT_EQ(g->poll(64 * kMicrosecond), 32u);
  EXPECT_EQ(g->stats().sent, 43u);
  EXPECT_EQ(g->stats().attempted(), 64u);
  EXPECT_EQ(io.free_buffers(), buffers);
  // 43 frames built, each sent once: every source tuple differs.
  std::set<std::uint64_t> tuples;
  for (const Bytes& f : io.sent()) tuples.insert(std::uint64_t{load_be32(f.data() + 26)} << 16 | load_be16(f.data() + 34));
  EXPECT_EQ(tuples.size(), 43u);
  // Held frames at the end of the run go back, counted as the full queue's.
  io.set_tx_accept(0);
  g->poll(70 * kMicrosecond);
  EXPECT_EQ(io.free_buffers(), buffers - 6);
  g->release_held();
  EXPECT_EQ(io.free_buffers(), buffers);
  EXPECT_EQ(g->stats().attempted(), 70u);
  EXPECT_EQ(g->stats().sent + g->stats().tx_queue_full, 70u);
  // And the destructor gives back what is held.
  g->poll(80 * kMicrosecond);
  EXPECT_LT(io.free_buffers(), buffers);
  g.reset();
  EXPECT_EQ(io.free_buffers(), buffers);
}

TEST(FloodGenerator, AFloodOfNFramesCountsHeldFramesAgainstN) {
  TestIo io;
  FloodConfig c = resolved_config(FloodKind::kAck);
  c.total = 100;
  FloodGenerator g(c, io.offering_io(), 0);
  const std::uint32_t buffers = io.free_buffers();
  io.set_tx_accept(16);
  while (!g.finished()) g.poll(0);
  EXPECT_EQ(g.stats().attempted(), 100u);
  EXPECT_EQ(g.stats().sent + g.stats().tx_queue_full, 100u);
  EXPECT_EQ(io.sent().size(), g.stats().sent);
  EXPECT_EQ(io.free_buffers(), buffers);  // nothing is left held once it is finished
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
  ASSERT_TRUE(g.build_next_hop_request(req));
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

// --- IPv6 ------------------------------------------------------------------------------------

constexpr Ipv6Addr v6(std::uint16_t g0, std::uint16_t g1, std::uint16_t g2, std::uint32_t low) {
  return Ipv6Addr{static_cast<std::uint8_t>(g0 >> 8), static_cast<std::uint8_t>(g0), static_cast<std::uint8_t>(g1 >> 8),
                  static_cast<std::uint8_t>(g1), static_cast<std::uint8_t>(g2 >> 8), static_cast<std::uint8_t>(g2), 0, 0, 0,
                  0, 0, 0, static_cast<std::uint8_t>(low >> 24), static_cast<std::uint8_t>(low >> 16),
                  static_cast<std::uint8_t>(low >> 8), static_cast<std::uint8_t>(low)};
}
constexpr Ipv6Addr kOurIp6 = v6(0x2001, 0xdb8, 0, 3);
constexpr Ipv6Addr kTargetIp6 = v6(0x2001, 0xdb8, 0, 2);

std::uint32_t low32(const Ipv6Addr& a) { return load_be32(a.data() + 12); }

FloodConfig resolved_config6(FloodKind kind) {
  FloodConfig c = resolved_config(kind);
  c.ipv6 = true;
  c.local_ip = 0;
  c.next_hop_ip = 0;
  c.dst_ip = 0;
  c.local_ip6 = kOurIp6;
  c.next_hop_ip6 = kTargetIp6;
  c.dst_ip6 = kTargetIp6;
  c.src_ip6_first = v6(0x2001, 0xdb8, 1, 1);  // 2001:db8:1::1-2001:db8:1::ffff
  c.src_ip6_last = v6(0x2001, 0xdb8, 1, 0xffff);
  return c;
}

// A TCP/IPv6 frame parsed as the engine would parse it; `ok` only when every layer is right and
// the checksum over the IPv6 pseudo-header is.
struct Parsed6 {
  bool ok = false;
  EthernetHeader eth;
  Ipv6Header ip;
  TcpSegment tcp;
};

Parsed6 parse_frame6(const Bytes& b) {
  Parsed6 p;
  if (parse_ethernet(b.data(), b.size(), p.eth) != EthernetError::kOk || p.eth.ether_type != kEtherTypeIpv6) return p;
  const std::uint8_t* ip = b.data() + EthernetHeader::kSize;
  if (parse_ipv6(ip, b.size() - EthernetHeader::kSize, p.ip) != Ipv6Error::kOk || p.ip.next_header != kIpProtoTcp) return p;
  const std::uint8_t* tcp = ip + p.ip.upper_offset;
  const std::uint32_t tcp_len = p.ip.upper_len();
  if (parse_tcp(tcp, tcp_len, p.tcp) != TcpError::kOk) return p;
  if (checksum_fold(checksum_add(tcp, tcp_len, pseudo_header_sum_ipv6(p.ip.src, p.ip.dst, kIpProtoTcp, tcp_len))) != 0xffff) {
    return p;
  }
  p.ok = true;
  return p;
}

TEST(FloodGeneratorIpv6, SynsAreValidSegmentsWithTheOptionsOfALinuxSyn) {
  TestIo io;
  FloodGenerator g(resolved_config6(FloodKind::kSyn), io.io(), 0);
  const auto frames = send(g, io, 10);
  ASSERT_EQ(frames.size(), 10u * FloodGenerator::kBurst);
  EXPECT_EQ(g.frame_size(), FloodGenerator::kSynFrameSize6);
  for (const Bytes& b : frames) {
    ASSERT_EQ(b.size(), FloodGenerator::kSynFrameSize6);
    const Parsed6 p = parse_frame6(b);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.eth.dst, kTargetMac);
    EXPECT_EQ(p.eth.src, kOurMac);
    EXPECT_EQ(p.ip.dst, kTargetIp6);
    EXPECT_EQ(p.ip.hop_limit, 64);
    EXPECT_EQ(p.ip.payload_len, 40);
    EXPECT_EQ(p.ip.upper_offset, Ipv6Header::kSize);  // no extension header
    EXPECT_EQ(p.ip.traffic_class, 0);
    EXPECT_EQ(p.tcp.dst_port, kTargetPort);
    EXPECT_EQ(p.tcp.flags, tcp_flags::kSyn);
    EXPECT_EQ(p.tcp.payload_len, 0u);
    EXPECT_EQ(p.tcp.window, 64240);
    const TcpOptions& o = p.tcp.options;
    EXPECT_FALSE(o.malformed);
    EXPECT_TRUE(o.has_mss);
    EXPECT_EQ(o.mss, 1440);  // a Linux host's over IPv6 on a 1500-byte MTU
    EXPECT_TRUE(o.sack_permitted);
    EXPECT_TRUE(o.has_timestamps);
    EXPECT_EQ(o.ts_ecr, 0u);
    EXPECT_TRUE(o.has_window_scale);
    EXPECT_EQ(o.window_scale, 7);
  }
}

TEST(FloodGeneratorIpv6, AckRstAndFinFloodsCarryTheirFlagsAndValidChecksums) {
  const std::pair<FloodKind, std::uint8_t> kinds[] = {
      {FloodKind::kAck, tcp_flags::kAck},
      {FloodKind::kRst, tcp_flags::kRst},
      {FloodKind::kFin, static_cast<std::uint8_t>(tcp_flags::kFin | tcp_flags::kAck)},
  };
  for (const auto& [kind, flags] : kinds) {
    SCOPED_TRACE(std::string(to_string(kind)));
    TestIo io;
    FloodGenerator g(resolved_config6(kind), io.io(), 0);
    const auto frames = send(g, io, 4);
    ASSERT_EQ(frames.size(), 4u * FloodGenerator::kBurst);
    std::set<std::uint32_t> acks;
    for (const Bytes& b : frames) {
      ASSERT_EQ(b.size(), FloodGenerator::kPlainFrameSize6);
      const Parsed6 p = parse_frame6(b);
      ASSERT_TRUE(p.ok);
      EXPECT_EQ(p.ip.payload_len, 20);
      EXPECT_EQ(p.tcp.flags, flags);
      EXPECT_EQ(p.tcp.header_len, 20);
      acks.insert(p.tcp.ack.raw());
    }
    if (kind == FloodKind::kRst) {
      EXPECT_EQ(acks, std::set<std::uint32_t>{0});
    } else {
      EXPECT_GT(acks.size(), frames.size() - 2);
    }
  }
}

TEST(FloodGeneratorIpv6, OffloadLeavesThePseudoHeaderSumForTheNic) {
  for (FloodKind kind : {FloodKind::kSyn, FloodKind::kAck}) {
    SCOPED_TRACE(std::string(to_string(kind)));
    TestIo plain_io;
    TestIo offload_io;
    FloodConfig c = resolved_config6(kind);
    // Addresses whose last 32 bits carry into the upper half: the incremental sums must fold right.
    c.src_ip6_first = v6(0x2001, 0xdb8, 1, 0xfff0);
    c.src_ip6_last = v6(0x2001, 0xdb8, 1, 0x1000f);
    FloodGenerator plain(c, plain_io.io(), 0);
    c.checksum_offload = true;
    FloodGenerator offloaded(c, offload_io.io(), 0);
    plain.poll(0);
    offloaded.poll(0);
    ASSERT_EQ(offload_io.sent().size(), FloodGenerator::kBurst);
    for (std::size_t i = 0; i < FloodGenerator::kBurst; ++i) {
      Bytes f = offload_io.sent()[i];
      const Bytes& expected = plain_io.sent()[i];
      ASSERT_TRUE(parse_frame6(expected).ok);
      std::uint8_t* ip = f.data() + EthernetHeader::kSize;
      std::uint8_t* tcp = ip + Ipv6Header::kSize;
      Ipv6Addr src{};
      std::memcpy(src.data(), ip + 8, 16);
      const auto tcp_len = static_cast<std::uint32_t>(f.size() - EthernetHeader::kSize - Ipv6Header::kSize);
      EXPECT_EQ(load_be16(tcp + 16), checksum_fold(pseudo_header_sum_ipv6(src, kTargetIp6, kIpProtoTcp, tcp_len)));
      // What the NIC does: sum the segment with the pseudo-header sum in the field.
      store_be16(tcp + 16, checksum_finish(checksum_add(tcp, tcp_len)));
      EXPECT_EQ(f, expected);
    }
    EXPECT_EQ(offload_io.tx_flags().front(), frame_flags::kTxIpv6 | frame_flags::kTxTcpChecksum);
    EXPECT_EQ(plain_io.tx_flags().front(), 0);
  }
}

TEST(FloodGeneratorIpv6, SourcesStayInTheirRangesAndCoverThemBeforeRepeating) {
  TestIo io;
  FloodConfig c = resolved_config6(FloodKind::kSyn);
  c.src_ip6_first = v6(0x2001, 0xdb8, 1, 0xfffb);  // 10 addresses across ::ffff -> ::1:0
  c.src_ip6_last = v6(0x2001, 0xdb8, 1, 0x10004);
  c.src_port_first = 5000;
  c.src_port_last = 5009;
  c.total = 100 * 3 + 5;
  FloodGenerator g(c, io.io(), 0);
  EXPECT_EQ(g.tuples(), 100u);
  const auto frames = send(g, io, 20);
  ASSERT_EQ(frames.size(), c.total);
  std::vector<std::pair<Ipv6Addr, std::uint16_t>> tuples;
  for (const Bytes& b : frames) {
    const Parsed6 p = parse_frame6(b);
    ASSERT_TRUE(p.ok);
    ASSERT_EQ(std::memcmp(p.ip.src.data(), c.src_ip6_first.data(), 12), 0);  // the first 96 bits never change
    ASSERT_GE(low32(p.ip.src), low32(c.src_ip6_first));
    ASSERT_LE(low32(p.ip.src), low32(c.src_ip6_last));
    ASSERT_GE(p.tcp.src_port, c.src_port_first);
    ASSERT_LE(p.tcp.src_port, c.src_port_last);
    tuples.emplace_back(p.ip.src, p.tcp.src_port);
  }
  const std::set<std::pair<Ipv6Addr, std::uint16_t>> first_pass(tuples.begin(), tuples.begin() + 100);
  EXPECT_EQ(first_pass.size(), 100u);
  for (std::size_t i = 100; i < tuples.size(); ++i) EXPECT_EQ(tuples[i], tuples[i % 100]);
  EXPECT_NE(tuples[0].first, tuples[1].first);
}

TEST(FloodGeneratorIpv6, TheWholeDefaultRangeIsCoveredAcrossSharedGenerators) {
  // 2001:db8:1::1-2001:db8:1::ffff, one port: 65535 tuples split over 3 generators.
  constexpr std::uint16_t kShares = 3;
  std::set<Ipv6Addr> all;
  std::size_t sent = 0;
  for (std::uint16_t i = 0; i < kShares; ++i) {
    TestIo io;
    FloodConfig c = resolved_config6(FloodKind::kSyn);
    c.src_port_first = c.src_port_last = 40000;
    c.share_count = kShares;
    c.share_index = i;
    FloodGenerator probe(c, io.io(), 0);
    c.total = probe.tuples();
    FloodGenerator g(c, io.io(), 0);
    while (!g.finished()) {
      g.poll(0);
      for (const Bytes& b : io.sent()) {
        const Parsed6 p = parse_frame6(b);
        ASSERT_TRUE(p.ok);
        all.insert(p.ip.src);
        ++sent;
      }
      io.sent().clear();
    }
  }
  EXPECT_EQ(sent, 0xffffu);
  EXPECT_EQ(all.size(), 0xffffu);
  EXPECT_EQ(*all.begin(), v6(0x2001, 0xdb8, 1, 1));
  EXPECT_EQ(*all.rbegin(), v6(0x2001, 0xdb8, 1, 0xffff));
}

TEST(FloodGeneratorIpv6, ARangeThatDiffersBeforeItsLast32BitsIsItsFirstAddressAlone) {
  TestIo io;
  FloodConfig c = resolved_config6(FloodKind::kSyn);
  c.src_ip6_last = v6(0x2001, 0xdb8, 2, 5);
  c.src_port_first = c.src_port_last = 1234;
  FloodGenerator g(c, io.io(), 0);
  EXPECT_EQ(g.tuples(), 1u);
  for (const Bytes& b : send(g, io, 1)) EXPECT_EQ(parse_frame6(b).ip.src, c.src_ip6_first);
}

// ICMPv6 frames as the target would send them: hop limit 255, the checksum over this frame's
// pseudo-header.
Bytes icmpv6_frame(const MacAddr& dst_mac, const MacAddr& src_mac, const Ipv6Addr& src, const Ipv6Addr& dst, Bytes msg) {
  store_be16(msg.data() + 2, 0);
  store_be16(msg.data() + 2, icmpv6_checksum(src, dst, msg.data(), static_cast<std::uint32_t>(msg.size())));
  Bytes b(EthernetHeader::kSize + Ipv6Header::kSize + msg.size());
  if (b.size() < EthernetHeader::kSize + Ipv6Header::kSize) return b;  // never: tells g++ 12 the size did not wrap
  write_ethernet(b.data(), dst_mac, src_mac, kEtherTypeIpv6);
  write_ipv6(b.data() + EthernetHeader::kSize, src, dst, kIpProtoIcmpv6, static_cast<std::uint16_t>(msg.size()), kNdHopLimit);
  std::copy(msg.begin(), msg.end(), b.begin() + EthernetHeader::kSize + Ipv6Header::kSize);
  return b;
}

Bytes advertisement(const Ipv6Addr& src, const Ipv6Addr& dst, const Ipv6Addr& target, const MacAddr& mac) {
  Bytes m(kNdMessageWithLinkAddressSize);
  write_neighbor_advertisement(m.data(), src, dst, target, mac, true);
  return m;
}

Bytes solicitation(const Ipv6Addr& src, const Ipv6Addr& target, const MacAddr& mac) {
  Bytes m(kNdMessageWithLinkAddressSize);
  write_neighbor_solicitation(m.data(), src, target, mac);
  return m;
}

struct Nd {
  EthernetHeader eth;
  Ipv6Header ip;
  const std::uint8_t* msg = nullptr;
  std::uint32_t len = 0;
};

Nd parse_nd(const std::uint8_t* data, std::size_t size) {
  Nd n;
  EXPECT_EQ(parse_ethernet(data, size, n.eth), EthernetError::kOk);
  EXPECT_EQ(parse_ipv6(data + EthernetHeader::kSize, size - EthernetHeader::kSize, n.ip), Ipv6Error::kOk);
  EXPECT_EQ(n.ip.next_header, kIpProtoIcmpv6);
  n.msg = data + EthernetHeader::kSize + n.ip.upper_offset;
  n.len = n.ip.upper_len();
  EXPECT_EQ(icmpv6_checksum(n.ip.src, n.ip.dst, n.msg, n.len), 0);
  return n;
}

TEST(FloodGeneratorIpv6, NeighborSolicitationForTheNextHopAndItsAdvertisementResolveIt) {
  TestIo io;
  FloodConfig c = resolved_config6(FloodKind::kSyn);
  c.next_hop_mac = MacAddr{};
  c.pps = 1000;
  FloodGenerator g(c, io.io(), 0);
  EXPECT_EQ(g.poll(kSecond), 0u);  // nothing before the next hop is known

  Frame req = io.rx_frame(Bytes(64));
  req.capacity = 80;  // too small for the 86 bytes of a solicitation
  EXPECT_FALSE(g.build_next_hop_request(req));
  req.capacity = TestIo::kBufferSize;
  ASSERT_TRUE(g.build_next_hop_request(req));
  const Nd ns_frame = parse_nd(req.data, req.len);
  const Ipv6Addr group = solicited_node_multicast(kTargetIp6);
  EXPECT_EQ(ns_frame.eth.dst, multicast_mac(group));
  EXPECT_EQ(ns_frame.eth.src, kOurMac);
  EXPECT_EQ(ns_frame.ip.src, kOurIp6);
  EXPECT_EQ(ns_frame.ip.dst, group);
  NeighborSolicitation ns;
  ASSERT_EQ(parse_neighbor_solicitation(ns_frame.ip, ns_frame.msg, ns_frame.len, ns), NdError::kOk);
  EXPECT_EQ(ns.target, kTargetIp6);
  ASSERT_TRUE(ns.has_source_mac);
  EXPECT_EQ(ns.source_mac, kOurMac);
  EXPECT_EQ(g.stats().nd_solicitations_sent, 1u);
  EXPECT_EQ(g.stats().arp_requests_sent, 0u);

  // Another host's advertisement, and one that crossed a router (hop limit not 255), do not count.
  const MacAddr other{{0x02, 0, 0, 0, 0, 0x77}};
  const Ipv6Addr other_ip = v6(0x2001, 0xdb8, 0, 0x77);
  Frame from_other = io.rx_frame(icmpv6_frame(kOurMac, other, other_ip, kOurIp6, advertisement(other_ip, kOurIp6, other_ip, other)));
  EXPECT_EQ(g.input(from_other), FloodInput::kIgnored);
  Bytes routed = icmpv6_frame(kOurMac, kTargetMac, kTargetIp6, kOurIp6, advertisement(kTargetIp6, kOurIp6, kTargetIp6, kTargetMac));
  routed[EthernetHeader::kSize + 7] = 64;
  Frame routed_frame = io.rx_frame(routed);
  EXPECT_EQ(g.input(routed_frame), FloodInput::kIgnored);
  Bytes corrupt = icmpv6_frame(kOurMac, kTargetMac, kTargetIp6, kOurIp6, advertisement(kTargetIp6, kOurIp6, kTargetIp6, kTargetMac));
  corrupt.back() ^= 1;  // the checksum no longer matches
  Frame corrupt_frame = io.rx_frame(corrupt);
  EXPECT_EQ(g.input(corrupt_frame), FloodInput::kIgnored);
  EXPECT_FALSE(g.resolved());

  Frame na = io.rx_frame(icmpv6_frame(kOurMac, kTargetMac, kTargetIp6, kOurIp6,
                                      advertisement(kTargetIp6, kOurIp6, kTargetIp6, kTargetMac)));
  EXPECT_EQ(g.input(na), FloodInput::kLearnedNextHop);
  EXPECT_TRUE(g.resolved());
  EXPECT_EQ(g.next_hop_mac(), kTargetMac);
  EXPECT_EQ(g.poll(kSecond + 3 * kMillisecond), 3u);
  const Parsed6 p = parse_frame6(io.sent().back());
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.eth.dst, kTargetMac);
}

TEST(FloodGeneratorIpv6, TheNextHopsOwnSolicitationTellsItsMacToo) {
  TestIo io;
  FloodConfig c = resolved_config6(FloodKind::kSyn);
  c.next_hop_mac = MacAddr{};
  FloodGenerator g(c, io.io(), 0);
  const Ipv6Addr group = solicited_node_multicast(kOurIp6);
  Frame ns = io.rx_frame(icmpv6_frame(multicast_mac(group), kTargetMac, kTargetIp6, group,
                                      solicitation(kTargetIp6, kOurIp6, kTargetMac)));
  EXPECT_EQ(g.input(ns), FloodInput::kReplied);  // answered, and learnt from
  EXPECT_TRUE(g.resolved());
  EXPECT_EQ(g.next_hop_mac(), kTargetMac);
}

TEST(FloodGeneratorIpv6, AnswersSolicitationsForItsOwnAddressInPlace) {
  TestIo io;
  FloodGenerator g(resolved_config6(FloodKind::kSyn), io.io(), 0);
  const MacAddr asker{{0x02, 0, 0, 0, 0, 0x01}};
  const Ipv6Addr asker_ip = v6(0x2001, 0xdb8, 0, 1);
  const Ipv6Addr group = solicited_node_multicast(kOurIp6);
  for (const Ipv6Addr& dst : {group, kOurIp6}) {  // to our group (resolution) or to us (reachability)
    const MacAddr dst_mac = dst == group ? multicast_mac(group) : kOurMac;
    Frame f = io.rx_frame(icmpv6_frame(dst_mac, asker, asker_ip, dst, solicitation(asker_ip, kOurIp6, asker)));
    ASSERT_EQ(g.input(f), FloodInput::kReplied);
    const Nd reply = parse_nd(f.data, f.len);
    EXPECT_EQ(reply.eth.dst, asker);
    EXPECT_EQ(reply.eth.src, kOurMac);
    EXPECT_EQ(reply.ip.src, kOurIp6);
    EXPECT_EQ(reply.ip.dst, asker_ip);
    NeighborAdvertisement na;
    ASSERT_EQ(parse_neighbor_advertisement(reply.ip, reply.msg, reply.len, na), NdError::kOk);
    EXPECT_EQ(na.target, kOurIp6);
    EXPECT_TRUE(na.solicited);
    EXPECT_TRUE(na.override_entry);
    ASSERT_TRUE(na.has_target_mac);
    EXPECT_EQ(na.target_mac, kOurMac);
  }
  EXPECT_EQ(g.stats().nd_advertisements_sent, 2u);

  // Duplicate address detection (from ::) is answered to all nodes, unsolicited.
  Bytes dad_msg(kNdMessageSize);
  dad_msg[0] = kIcmpv6NeighborSolicitation;
  std::memcpy(dad_msg.data() + 8, kOurIp6.data(), 16);
  Frame dad = io.rx_frame(icmpv6_frame(multicast_mac(group), asker, Ipv6Addr{}, group, dad_msg));
  ASSERT_EQ(g.input(dad), FloodInput::kReplied);
  const Nd dad_reply = parse_nd(dad.data, dad.len);
  constexpr Ipv6Addr kAllNodes{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  EXPECT_EQ(dad_reply.ip.dst, kAllNodes);
  EXPECT_EQ(dad_reply.eth.dst, multicast_mac(kAllNodes));
  NeighborAdvertisement dad_na;
  ASSERT_EQ(parse_neighbor_advertisement(dad_reply.ip, dad_reply.msg, dad_reply.len, dad_na), NdError::kOk);
  EXPECT_FALSE(dad_na.solicited);

  // Solicitations for another address, ARP, and the target's SYN-ACKs are not ours.
  const Ipv6Addr someone = v6(0x2001, 0xdb8, 0, 9);
  const Ipv6Addr their_group = solicited_node_multicast(someone);
  Frame not_ours = io.rx_frame(icmpv6_frame(multicast_mac(their_group), asker, asker_ip, their_group,
                                            solicitation(asker_ip, someone, asker)));
  EXPECT_EQ(g.input(not_ours), FloodInput::kIgnored);
  Frame arp = io.rx_frame(arp_frame(kArpRequest, asker, kOurIp, kOurIp, MacAddr::broadcast()));
  EXPECT_EQ(g.input(arp), FloodInput::kIgnored);  // an IPv6 flood has no IPv4 address to answer for
  TestIo syn_io;
  FloodGenerator syns(resolved_config6(FloodKind::kSyn), syn_io.io(), 0);
  syns.poll(0);
  Frame tcp = io.rx_frame(syn_io.sent().front());
  EXPECT_EQ(g.input(tcp), FloodInput::kIgnored);
  EXPECT_EQ(g.stats().nd_advertisements_sent, 3u);
}

// Which frames on a flood lcore belong to the probes' engine: their TCP, and resolution of their
// own address when it is not the generator's. Neighbor Discovery for the generator's address stays
// with the generator even when the probes share it (else nobody would answer: the probes' engine
// does not, then).
TEST(FloodGeneratorIpv6, FramesForTheProbesAreToldFromTheGenerators) {
  TestIo io;
  const FloodGenerator g4(resolved_config(FloodKind::kSyn), io.io(), 0);
  const FloodGenerator g6(resolved_config6(FloodKind::kSyn), io.io(), 0);
  const std::uint32_t probe4 = ip4(198, 18, 0, 4);
  const Ipv6Addr probe6 = v6(0x2001, 0xdb8, 0, 4);
  const MacAddr peer{{0x02, 0, 0, 0, 0, 0x01}};
  auto tcp4 = [&](std::uint32_t dst) {
    Bytes b(FloodGenerator::kPlainFrameSize);
    write_ethernet(b.data(), kOurMac, peer, kEtherTypeIpv4);
    write_ipv4(b.data() + EthernetHeader::kSize, kTargetIp, dst, kIpProtoTcp, 40, 0, 64, true);
    return io.rx_frame(b);
  };
  auto tcp6 = [&](const Ipv6Addr& dst) {
    Bytes b(FloodGenerator::kPlainFrameSize6);
    write_ethernet(b.data(), kOurMac, peer, kEtherTypeIpv6);
    write_ipv6(b.data() + EthernetHeader::kSize, kTargetIp6, dst, kIpProtoTcp, 20, 64);
    return io.rx_frame(b);
  };
  auto ns = [&](const Ipv6Addr& target) {
    const Ipv6Addr group = solicited_node_multicast(target);
    return io.rx_frame(icmpv6_frame(multicast_mac(group), peer, kTargetIp6, group, solicitation(kTargetIp6, target, peer)));
  };
  // IPv4, as before.
  EXPECT_TRUE(g4.for_probes(tcp4(probe4), probe4, Ipv6Addr{}));
  EXPECT_FALSE(g4.for_probes(tcp4(ip4(198, 19, 0, 7)), probe4, Ipv6Addr{}));
  EXPECT_TRUE(g4.for_probes(io.rx_frame(arp_frame(kArpRequest, peer, kTargetIp, probe4, MacAddr::broadcast())), probe4, Ipv6Addr{}));
  EXPECT_FALSE(g4.for_probes(io.rx_frame(arp_frame(kArpRequest, peer, kTargetIp, kOurIp, MacAddr::broadcast())), kOurIp, Ipv6Addr{}));
  EXPECT_FALSE(g4.for_probes(tcp6(probe6), probe4, Ipv6Addr{}));
  // IPv6.
  EXPECT_TRUE(g6.for_probes(tcp6(probe6), 0, probe6));
  EXPECT_FALSE(g6.for_probes(tcp6(v6(0x2001, 0xdb8, 1, 7)), 0, probe6));  // a SYN-ACK to a spoofed source
  EXPECT_TRUE(g6.for_probes(ns(probe6), 0, probe6));
  EXPECT_FALSE(g6.for_probes(ns(kOurIp6), 0, probe6));
  EXPECT_FALSE(g6.for_probes(ns(kOurIp6), 0, kOurIp6));  // shared address: the generator answers
  EXPECT_TRUE(g6.for_probes(tcp6(kOurIp6), 0, kOurIp6));  // but the TCP is the probes'
  Frame na = io.rx_frame(icmpv6_frame(kOurMac, kTargetMac, kTargetIp6, kOurIp6,
                                      advertisement(kTargetIp6, kOurIp6, kTargetIp6, kTargetMac)));
  EXPECT_FALSE(g6.for_probes(na, 0, kOurIp6));
  EXPECT_FALSE(g6.for_probes(tcp4(probe4), 0, probe6));
}

// The point of the flood: a dual-stack engine with cookies always answers every flooded SYN, of
// either family, with a cookie SYN-ACK to the spoofed tuple, keeps no state for it, and each
// cookie validates: the final ACK a real host at that source would send rebuilds the connection.
class FloodIntoEngine : public ::testing::TestWithParam<bool> {};

TEST_P(FloodIntoEngine, EverySynGetsACookieSynAckThatValidates) {
  const bool ipv6 = GetParam();
  constexpr std::uint32_t kSyns = 4 * FloodGenerator::kBurst;
  EngineConfig e;
  e.local_mac = kTargetMac;
  e.local_ip = kTargetIp;
  e.local_ip6 = kTargetIp6;
  e.prefix_len6 = 64;
  e.listen_ports = {kTargetPort};
  e.syn_cookies = SynCookieMode::kAlways;
  e.max_connections = 1024;
  e.workload.kind = WorkloadKind::kManual;
  e.secret0 = 0x5eed;
  e.secret1 = 0xc0ffee;
  TestIo server_io(512);
  Engine engine(e, server_io.io(), kSecond);

  TestIo flood_io;
  FloodConfig c = ipv6 ? resolved_config6(FloodKind::kSyn) : resolved_config(FloodKind::kSyn);
  c.total = kSyns;
  FloodGenerator g(c, flood_io.io(), 0);
  while (!g.finished()) g.poll(0);
  ASSERT_EQ(flood_io.sent().size(), kSyns);
  std::vector<Bytes> syns(flood_io.sent().begin(), flood_io.sent().end());
  while (!flood_io.sent().empty()) server_io.deliver_burst(engine, flood_io, kSecond);

  EXPECT_EQ(engine.counters().syn_received, kSyns);
  EXPECT_EQ(engine.counters().cookies_sent, kSyns);
  ASSERT_EQ(server_io.sent().size(), kSyns);
  std::vector<Bytes> acks;
  for (std::uint32_t i = 0; i < kSyns; ++i) {
    SCOPED_TRACE(i);
    const Bytes synack = server_io.pop_sent();
    EthernetHeader eth;
    ASSERT_EQ(parse_ethernet(synack.data(), synack.size(), eth), EthernetError::kOk);
    EXPECT_EQ(eth.dst, kOurMac);  // back where the SYN came from
    TcpSegment seg;
    std::uint32_t syn_seq = 0;
    std::uint16_t syn_port = 0;
    if (ipv6) {
      const Parsed6 p = parse_frame6(synack);
      ASSERT_TRUE(p.ok);
      const Parsed6 syn = parse_frame6(syns[i]);
      EXPECT_EQ(p.ip.src, kTargetIp6);
      EXPECT_EQ(p.ip.dst, syn.ip.src);
      seg = p.tcp;
      syn_seq = syn.tcp.seq.raw();
      syn_port = syn.tcp.src_port;
    } else {
      const Parsed p = parse_frame(synack);
      ASSERT_TRUE(p.ok);
      const Parsed syn = parse_frame(syns[i]);
      EXPECT_EQ(p.ip.dst, syn.ip.src);
      seg = p.tcp;
      syn_seq = syn.tcp.seq.raw();
      syn_port = syn.tcp.src_port;
    }
    ASSERT_EQ(seg.flags, tcp_flags::kSyn | tcp_flags::kAck);
    EXPECT_EQ(seg.src_port, kTargetPort);
    EXPECT_EQ(seg.dst_port, syn_port);
    EXPECT_EQ(seg.ack.raw(), syn_seq + 1);
    ASSERT_TRUE(seg.options.has_mss);
    EXPECT_EQ(seg.options.mss, ipv6 ? 1440 : 1460);  // the server's own: 20 bytes less over IPv6
    ASSERT_TRUE(seg.options.has_timestamps);
    // The final ACK a host at the spoofed source would send: the SYN's tuple, seq + 1, the cookie + 1,
    // our timestamp echoed (it carries the window scale and SACK the cookie agreed to).
    Bytes ack = syns[i];
    std::uint8_t* t = ack.data() + EthernetHeader::kSize + (ipv6 ? Ipv6Header::kSize : Ipv4Header::kMinSize);
    store_be32(t + 4, syn_seq + 1);
    store_be32(t + 8, seg.seq.raw() + 1);
    t[13] = tcp_flags::kAck;
    // The SYN's options block (MSS, SACK-permitted, timestamps, window scale): keep it, with the
    // timestamp echo filled in and MSS, SACK-permitted and window scale turned into no-ops.
    std::uint8_t* o = t + TcpSegment::kMinHeaderSize;
    std::fill(o, o + 6, std::uint8_t{1});                 // MSS (4) + SACK-permitted (2)
    store_be32(o + 12, seg.options.ts_val);              // TSecr
    std::fill(o + 16, o + 20, std::uint8_t{1});           // NOP + window scale (3)
    store_be16(t + 16, 0);
    const std::uint32_t len = 40;
    std::uint64_t pseudo = 0;
    if (ipv6) {
      Ipv6Addr src{}, dst{};
      std::memcpy(src.data(), ack.data() + EthernetHeader::kSize + 8, 16);
      std::memcpy(dst.data(), ack.data() + EthernetHeader::kSize + 24, 16);
      pseudo = pseudo_header_sum_ipv6(src, dst, kIpProtoTcp, len);
    } else {
      pseudo = pseudo_header_sum(load_be32(ack.data() + EthernetHeader::kSize + 12), kTargetIp, kIpProtoTcp, len);
    }
    store_be16(t + 16, checksum_finish(checksum_add(t, len, pseudo)));
    acks.push_back(std::move(ack));
  }
  // No state was kept for the SYNs: no half-open entry, no record.
  EXPECT_EQ(engine.counters().half_open_evicted, 0u);
  EXPECT_EQ(engine.counters().conn_accepted, 0u);
  for (const Bytes& ack : acks) flood_io.sent().push_back(ack);
  while (!flood_io.sent().empty()) server_io.deliver_burst(engine, flood_io, kSecond + kMillisecond);
  EXPECT_EQ(engine.counters().cookies_valid, kSyns);
  EXPECT_EQ(engine.counters().cookies_invalid, 0u);
  EXPECT_EQ(engine.counters().cookies_stale, 0u);
  EXPECT_EQ(engine.counters().conn_accepted, kSyns);
  if (ipv6) {
    EXPECT_EQ(engine.counters().rx_ipv6_segments, 2 * kSyns);
    const Parsed6 first = parse_frame6(acks.front());
    EXPECT_EQ(engine.state_of(engine.flow_key(kTargetIp6, first.ip.src, kTargetPort, first.tcp.src_port)),
              TcpState::kEstablished);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, FloodIntoEngine, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "Ipv6" : "Ipv4"; });

}  // namespace
}  // namespace synwave::test
