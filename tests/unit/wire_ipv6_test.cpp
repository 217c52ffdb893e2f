// IPv6 wire formats (issue 13, item 1): Scapy-made frames parsed field by field with their
// upper-layer checksums verified over the IPv6 pseudo-header, malformed extension chains and
// truncation at every length refused, and the ICMPv6 messages synwave writes compared byte for
// byte with Scapy's.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>

#include "data/scapy_ipv6_frames.hpp"
#include "hex_bytes.hpp"
#include "synwave/checksum.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/icmpv6.hpp"
#include "synwave/wire/ipv4.hpp"  // kIpProtoTcp
#include "synwave/wire/ipv6.hpp"

namespace synwave::test::scapy_ipv6 {
void PrintTo(const Ipv6Frame& f, std::ostream* os) { *os << f.name; }
}  // namespace synwave::test::scapy_ipv6

namespace synwave {
namespace {

using test::Bytes;
using test::exact_copy;
using test::from_hex;
using test::scapy_ipv6::Ipv6Frame;
using test::scapy_ipv6::kFrames;
using test::scapy_ipv6::kOurMac;
using test::scapy_ipv6::kPeer;
using test::scapy_ipv6::kPeerMac;
using test::scapy_ipv6::kUs;

constexpr std::size_t kEthernet = 14;

const Ipv6Frame& frame_named(const std::string& name) {
  for (const Ipv6Frame& f : kFrames)
    if (name == f.name) return f;
  ADD_FAILURE() << "no Scapy IPv6 frame named " << name;
  return kFrames[0];
}

// The frame's IPv6 packet parsed; the bytes stay alive in `frame`.
struct Parsed {
  Bytes frame;
  Ipv6Header ip;
  Ipv6Error error = Ipv6Error::kOk;
  [[nodiscard]] std::uint8_t* packet() { return frame.data() + kEthernet; }
  [[nodiscard]] std::uint8_t* upper() { return packet() + ip.upper_offset; }
};

Parsed parse(const Ipv6Frame& f) {
  Parsed p;
  p.frame = from_hex(f.bytes);
  p.error = parse_ipv6(p.packet(), p.frame.size() - kEthernet, p.ip);
  return p;
}

// RFC 8200 §4.2 and §4.4: where the Parameter Problem points (the option's type byte, the
// routing type, both 42 bytes in: 40 of header and 2 into the extension) and whether it is due.
TEST(Ipv6Problem, PointsAtTheOffendingField_ReportedAsTheRfcSays) {
  const struct {
    const char* name;
    bool report;
    std::uint8_t code;
  } cases[] = {{"routing_header_in_transit", true, 0}, {"unknown_option_problem", true, 2}, {"unknown_option_discard", false, 2}};
  for (const auto& c : cases) {
    Bytes frame = from_hex(frame_named(c.name).bytes);
    Ipv6Header ip;
    Ipv6Problem problem;
    EXPECT_NE(parse_ipv6(frame.data() + kEthernet, frame.size() - kEthernet, ip, &problem), Ipv6Error::kOk) << c.name;
    EXPECT_EQ(problem.report, c.report) << c.name;
    EXPECT_EQ(problem.code, c.code) << c.name;
    EXPECT_EQ(problem.pointer, 42u) << c.name;
  }
}

class ScapyIpv6Frame : public testing::TestWithParam<Ipv6Frame> {};

TEST_P(ScapyIpv6Frame, ParsesAsScapyDissectsIt) {
  const Ipv6Frame& f = GetParam();
  Parsed p = parse(f);
  EthernetHeader eth;
  ASSERT_EQ(parse_ethernet(p.frame.data(), p.frame.size(), eth), EthernetError::kOk);
  EXPECT_EQ(eth.ether_type, kEtherTypeIpv6);
  ASSERT_EQ(p.error, f.error);
  if (f.error != Ipv6Error::kOk) return;
  EXPECT_EQ(p.ip.traffic_class, f.traffic_class);
  EXPECT_EQ(p.ip.flow_label, f.flow_label);
  EXPECT_EQ(p.ip.payload_len, f.payload_len);
  EXPECT_EQ(p.ip.next_header, f.next_header);
  EXPECT_EQ(p.ip.upper_offset, f.upper_offset);
  EXPECT_EQ(p.ip.hop_limit, f.hop_limit);
  EXPECT_EQ(p.ip.src, f.src);
  EXPECT_EQ(p.ip.dst, f.dst);
  // The upper layer's checksum, as Scapy computed it, verifies over our pseudo-header: the sum of
  // pseudo-header and message folds to all ones (RFC 8200 §8.1).
  const std::uint64_t sum =
      checksum_add(p.upper(), p.ip.upper_len(), pseudo_header_sum_ipv6(p.ip.src, p.ip.dst, p.ip.next_header, p.ip.upper_len()));
  EXPECT_EQ(checksum_fold(sum), 0xffff) << "checksum on the wire 0x" << std::hex << f.upper_checksum;
}

TEST_P(ScapyIpv6Frame, EveryTruncationRefusedWithinTheBytesGiven) {
  const Ipv6Frame& f = GetParam();
  const Bytes frame = from_hex(f.bytes);
  const std::size_t packet = frame.size() - kEthernet;
  for (std::size_t n = 0; n < packet; ++n) {
    const auto block = exact_copy(frame.data() + kEthernet, n);
    Ipv6Header ip;
    const Ipv6Error e = parse_ipv6(block.get(), n, ip);
    // Ethernet padding may be cut without harm; nothing of the packet itself may.
    if (f.error == Ipv6Error::kOk && n >= Ipv6Header::kSize + f.payload_len) {
      EXPECT_EQ(e, Ipv6Error::kOk) << n;
    } else if (f.error == Ipv6Error::kOk) {
      EXPECT_NE(e, Ipv6Error::kOk) << n << " of " << packet << " bytes";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Scapy, ScapyIpv6Frame, testing::ValuesIn(kFrames),
                         [](const testing::TestParamInfo<Ipv6Frame>& info) { return std::string(info.param.name); });

TEST(Ipv6Parse, BadVersionJumbogramAndShortPayloadRefused) {
  Parsed p = parse(frame_named("tcp_syn"));
  Ipv6Header ip;
  Bytes v4 = Bytes(p.packet(), p.packet() + p.frame.size() - kEthernet);
  v4[0] = 0x45;
  EXPECT_EQ(parse_ipv6(v4.data(), v4.size(), ip), Ipv6Error::kBadVersion);
  Bytes jumbo = Bytes(p.packet(), p.packet() + p.frame.size() - kEthernet);
  jumbo[4] = jumbo[5] = 0;
  EXPECT_EQ(parse_ipv6(jumbo.data(), jumbo.size(), ip), Ipv6Error::kBadPayloadLength);
  Bytes longer = Bytes(p.packet(), p.packet() + p.frame.size() - kEthernet);
  longer[5] = static_cast<std::uint8_t>(longer[5] + 1);  // says one byte more than arrived
  EXPECT_EQ(parse_ipv6(longer.data(), longer.size(), ip), Ipv6Error::kBadPayloadLength);
}

// A chain of destination-options headers, each 8 bytes, then an 8-byte "upper layer".
Bytes chain_of(unsigned headers) {
  Bytes p(Ipv6Header::kSize + 8 * headers + 8, 0);
  write_ipv6(p.data(), kPeer, kUs, headers == 0 ? kIpProtoTcp : kIpv6DestinationOptions,
             static_cast<std::uint16_t>(p.size() - Ipv6Header::kSize), 64);
  for (unsigned i = 0; i < headers; ++i) {
    p[Ipv6Header::kSize + 8 * i] = i + 1 == headers ? kIpProtoTcp : kIpv6DestinationOptions;
    p[Ipv6Header::kSize + 8 * i + 1] = 0;
  }
  return p;
}

TEST(Ipv6Parse, ExtensionChainBounded) {
  Ipv6Header ip;
  Bytes ok = chain_of(kIpv6MaxExtensionHeaders);
  ASSERT_EQ(parse_ipv6(ok.data(), ok.size(), ip), Ipv6Error::kOk);
  EXPECT_EQ(ip.next_header, kIpProtoTcp);
  EXPECT_EQ(ip.upper_offset, Ipv6Header::kSize + 8 * kIpv6MaxExtensionHeaders);
  EXPECT_EQ(ip.upper_len(), 8u);
  Bytes too_many = chain_of(kIpv6MaxExtensionHeaders + 1);
  EXPECT_EQ(parse_ipv6(too_many.data(), too_many.size(), ip), Ipv6Error::kTooManyExtensions);
  Bytes overlong = chain_of(1);
  overlong[Ipv6Header::kSize + 1] = 2;  // 24 bytes claimed, 16 left in the payload
  EXPECT_EQ(parse_ipv6(overlong.data(), overlong.size(), ip), Ipv6Error::kTruncated);
}

TEST(Ipv6Write, RoundTripsThroughTheParser) {
  Bytes p(Ipv6Header::kSize + 20, 0);
  write_ipv6(p.data(), kUs, kPeer, kIpProtoTcp, 20, 64);
  Ipv6Header ip;
  ASSERT_EQ(parse_ipv6(p.data(), p.size(), ip), Ipv6Error::kOk);
  EXPECT_EQ(ip.src, kUs);
  EXPECT_EQ(ip.dst, kPeer);
  EXPECT_EQ(ip.next_header, kIpProtoTcp);
  EXPECT_EQ(ip.payload_len, 20);
  EXPECT_EQ(ip.hop_limit, 64);
  EXPECT_EQ(ip.traffic_class, 0);
  EXPECT_EQ(ip.flow_label, 0u);
}

TEST(Icmpv6, EchoRequestVerifiedAndAnsweredAsScapyWould) {
  Parsed p = parse(frame_named("echo_request"));
  ASSERT_EQ(p.error, Ipv6Error::kOk);
  Icmpv6Header h;
  ASSERT_EQ(parse_icmpv6(p.ip, p.upper(), p.ip.upper_len(), h), Icmpv6Error::kOk);
  EXPECT_EQ(h.type, kIcmpv6EchoRequest);
  Bytes reply(p.ip.upper_len());
  ASSERT_EQ(write_echo_reply(reply.data(), kUs, kPeer, p.upper(), p.ip.upper_len()), p.ip.upper_len());
  EXPECT_EQ(reply, from_hex(test::scapy_ipv6::kEchoReply));
  // In place, as the data plane would answer in the request's own buffer.
  write_echo_reply(p.upper(), kUs, kPeer, p.upper(), p.ip.upper_len());
  EXPECT_EQ(Bytes(p.upper(), p.upper() + p.ip.upper_len()), reply);
  p.upper()[7] ^= 1;
  EXPECT_EQ(parse_icmpv6(p.ip, p.upper(), p.ip.upper_len(), h), Icmpv6Error::kBadChecksum);
}

TEST(NeighborDiscovery, SolicitationForUsGivesTheTargetAndTheAskersMac) {
  Parsed p = parse(frame_named("ns_for_us"));
  ASSERT_EQ(p.error, Ipv6Error::kOk);
  Icmpv6Header h;
  ASSERT_EQ(parse_icmpv6(p.ip, p.upper(), p.ip.upper_len(), h), Icmpv6Error::kOk);
  EXPECT_EQ(h.type, kIcmpv6NeighborSolicitation);
  EXPECT_EQ(p.ip.dst, solicited_node_multicast(kUs));
  NeighborSolicitation ns;
  ASSERT_EQ(parse_neighbor_solicitation(p.ip, p.upper(), p.ip.upper_len(), ns), NdError::kOk);
  EXPECT_EQ(ns.target, kUs);
  ASSERT_TRUE(ns.has_source_mac);
  EXPECT_EQ(ns.source_mac, MacAddr{kPeerMac});
  // RFC 4861 §7.1.1: one that crossed a router, or has a zero-length option, is dropped.
  p.ip.hop_limit = 64;
  EXPECT_EQ(parse_neighbor_solicitation(p.ip, p.upper(), p.ip.upper_len(), ns), NdError::kBadHopLimit);
  p.ip.hop_limit = kNdHopLimit;
  p.upper()[kNdMessageSize + 1] = 0;
  EXPECT_EQ(parse_neighbor_solicitation(p.ip, p.upper(), p.ip.upper_len(), ns), NdError::kBadOption);
  p.upper()[kNdMessageSize + 1] = 2;  // 16 bytes claimed, 8 present
  EXPECT_EQ(parse_neighbor_solicitation(p.ip, p.upper(), p.ip.upper_len(), ns), NdError::kTruncated);
}

TEST(NeighborDiscovery, DuplicateAddressProbeAcceptedOnlyAsRfc4862SendsIt) {
  Parsed p = parse(frame_named("ns_dad_probe"));
  ASSERT_EQ(p.error, Ipv6Error::kOk);
  NeighborSolicitation ns;
  ASSERT_EQ(parse_neighbor_solicitation(p.ip, p.upper(), p.ip.upper_len(), ns), NdError::kOk);
  EXPECT_TRUE(is_unspecified(p.ip.src));
  EXPECT_FALSE(ns.has_source_mac);
  // From "::" with a link address to answer to: refused.
  Parsed with_mac = parse(frame_named("ns_for_us"));
  with_mac.ip.src = Ipv6Addr{};
  EXPECT_EQ(parse_neighbor_solicitation(with_mac.ip, with_mac.upper(), with_mac.ip.upper_len(), ns),
            NdError::kBadUnspecifiedSource);
}

TEST(NeighborDiscovery, AdvertisementGivesTheTargetsMacAndFlags) {
  Parsed p = parse(frame_named("na_from_peer"));
  ASSERT_EQ(p.error, Ipv6Error::kOk);
  NeighborAdvertisement na;
  ASSERT_EQ(parse_neighbor_advertisement(p.ip, p.upper(), p.ip.upper_len(), na), NdError::kOk);
  EXPECT_EQ(na.target, kPeer);
  EXPECT_FALSE(na.router);
  EXPECT_TRUE(na.solicited);
  EXPECT_TRUE(na.override_entry);
  ASSERT_TRUE(na.has_target_mac);
  EXPECT_EQ(na.target_mac, MacAddr{kPeerMac});
  p.ip.dst = solicited_node_multicast(kUs);  // solicited, yet sent to a group: refused (§7.1.2)
  EXPECT_EQ(parse_neighbor_advertisement(p.ip, p.upper(), p.ip.upper_len(), na), NdError::kSolicitedToMulticast);
}

TEST(NeighborDiscovery, WhatWeWriteIsWhatScapyBuilds) {
  Bytes na(kNdMessageWithLinkAddressSize);
  ASSERT_EQ(write_neighbor_advertisement(na.data(), kUs, kPeer, kUs, MacAddr{kOurMac}, true), na.size());
  EXPECT_EQ(na, from_hex(test::scapy_ipv6::kNeighborAdvertisement));
  Bytes ns(kNdMessageWithLinkAddressSize);
  ASSERT_EQ(write_neighbor_solicitation(ns.data(), kUs, kPeer, MacAddr{kOurMac}), ns.size());
  EXPECT_EQ(ns, from_hex(test::scapy_ipv6::kNeighborSolicitation));
  EXPECT_EQ(solicited_node_multicast(kPeer), test::scapy_ipv6::kPeerSolicitedNode);
  EXPECT_EQ(multicast_mac(solicited_node_multicast(kPeer)), MacAddr{test::scapy_ipv6::kPeerSolicitedNodeMac});
}

}  // namespace
}  // namespace synwave
