// The software dispatcher's choice of owner lcore (Dispatcher::owner_of) for frames of both
// families, in real mbufs: IPv6 segments go by the rules IPv4 ones do (a listening port's flows
// by a keyed hash of the remote end, a client's by its source port's slot), past extension headers too;
// Neighbor Discovery is copied to every lcore as ARP is; the rest of ICMPv6 is the first lcore's.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "crc_collisions.hpp"
#include "eal_for_tests.hpp"
#include "support/segments.hpp"
#include "synwave/flow_table.hpp"
#include "synwave/wire/arp.hpp"
#include "synwave/wire/icmpv6.hpp"
#include "worker.hpp"

namespace synwave {
namespace {

using test::Bytes;
using test::ip4;

constexpr std::uint16_t kWorkers = 4;
constexpr std::uint16_t kListen = 80;
constexpr std::uint16_t kClientPortFirst = 1024;
const MacAddr kOurMac{{0x02, 0, 0, 0, 0, 0x02}};
const MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x01}};

Ipv6Addr addr6(std::uint32_t last) {
  Ipv6Addr a{0x20, 0x01, 0x0d, 0xb8};
  store_be32(a.data() + 12, last);
  return a;
}
const Ipv6Addr kOurIp6 = addr6(2);

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = test::eal_test_pool();
    ASSERT_NE(pool_, nullptr);
    d_.workers = kWorkers;
    d_.listen_ports[0] = kListen;
    d_.listen_ports[1] = 8080;
    d_.listen_count = 2;
    d_.client_port_first = kClientPortFirst;
  }
  // The owner of the frame, received in an mbuf of its own; 0xfffe when it cannot be built.
  std::uint16_t owner(const Bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    EXPECT_NE(m, nullptr);
    if (m == nullptr) return 0xfffe;
    char* data = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
    EXPECT_NE(data, nullptr);
    std::uint16_t o = 0xfffe;
    if (data != nullptr) {
      std::memcpy(data, frame.data(), frame.size());
      o = d_.owner_of(m);
    }
    rte_pktmbuf_free(m);
    return o;
  }

  // A segment from the peer: remote -> ours, to `local_port`.
  static Bytes segment6(const Ipv6Addr& remote, std::uint16_t remote_port, std::uint16_t local_port,
                        std::uint8_t flags = tcp_flags::kAck) {
    test::SegmentSpec s;
    s.src_mac = kPeerMac;
    s.dst_mac = kOurMac;
    s.ipv6 = true;
    s.src_ip6 = remote;
    s.dst_ip6 = kOurIp6;
    s.src_port = remote_port;
    s.dst_port = local_port;
    s.flags = flags;
    return test::build_segment(s);
  }
  static Bytes segment4(std::uint32_t remote, std::uint16_t remote_port, std::uint16_t local_port) {
    test::SegmentSpec s;
    s.src_mac = kPeerMac;
    s.dst_mac = kOurMac;
    s.src_ip = remote;
    s.dst_ip = ip4(198, 18, 0, 2);
    s.src_port = remote_port;
    s.dst_port = local_port;
    s.flags = tcp_flags::kAck;
    return test::build_segment(s);
  }

  dpdk::Dispatcher d_;
  rte_mempool* pool_ = nullptr;
};

// The IPv6 frame with one 8-byte extension header of type `type` (hop-by-hop or destination
// options: a PadN option fills it) inserted before its upper layer.
Bytes with_extension_header(Bytes frame, std::uint8_t type) {
  constexpr std::size_t kIp = EthernetHeader::kSize;
  const std::uint8_t upper = frame[kIp + 6];
  const std::array<std::uint8_t, 8> ext = {upper, 0, 1, 4, 0, 0, 0, 0};
  frame.insert(frame.begin() + kIp + Ipv6Header::kSize, ext.begin(), ext.end());
  frame[kIp + 6] = type;
  store_be16(frame.data() + kIp + 4, static_cast<std::uint16_t>(load_be16(frame.data() + kIp + 4) + ext.size()));
  return frame;
}

TEST_F(DispatcherTest, Ipv6_ListeningPort_EachFlowToOneLcore_FlowsSpreadOverAll) {
  std::array<std::uint32_t, kWorkers> per_worker{};
  for (std::uint32_t host = 0; host < 256; ++host) {
    for (const std::uint16_t remote_port : std::array<std::uint16_t, 3>{40000, 40001, 51515}) {
      const Ipv6Addr remote = addr6(0x1000 + host);
      const std::uint16_t o = owner(segment6(remote, remote_port, kListen, tcp_flags::kSyn));
      ASSERT_LT(o, kWorkers);
      // Every segment of the flow, whatever its flags, goes to the lcore its SYN went to.
      for (const std::uint8_t flags : std::array<std::uint8_t, 3>{tcp_flags::kAck, tcp_flags::kFin | tcp_flags::kAck, tcp_flags::kRst}) {
        ASSERT_EQ(owner(segment6(remote, remote_port, kListen, flags)), o);
      }
      ++per_worker[o];
    }
  }
  // 768 flows: each lcore gets its share, give or take.
  for (const std::uint32_t n : per_worker) EXPECT_GT(n, 768u / kWorkers / 2);
}

TEST_F(DispatcherTest, Ipv6_ListeningPort_HashesTheWholeRemoteAddress) {
  // Remote ends that differ only in the upper half of their address (another /64) still spread.
  std::set<std::uint16_t> owners;
  for (std::uint8_t prefix = 0; prefix < 64; ++prefix) {
    Ipv6Addr remote = addr6(0x10);
    remote[7] = prefix;
    owners.insert(owner(segment6(remote, 40000, 8080)));
  }
  EXPECT_EQ(owners.size(), kWorkers);
}

TEST_F(DispatcherTest, Ipv6_ClientSourcePort_ToTheLcoreWhoseShareHoldsIt_AsIpv4) {
  for (std::uint32_t port = kClientPortFirst; port < kClientPortFirst + 64; ++port) {
    const auto p = static_cast<std::uint16_t>(port);
    const std::uint16_t want = static_cast<std::uint16_t>((port - kClientPortFirst) % kWorkers);
    EXPECT_EQ(owner(segment6(addr6(0x99), 80, p)), want) << "port " << port;
    EXPECT_EQ(owner(segment4(ip4(198, 18, 0, 99), 80, p)), want) << "port " << port;
  }
}

TEST_F(DispatcherTest, Ipv6_ExtensionHeadersBeforeTcp_SameOwnerAsWithout) {
  for (std::uint32_t host = 0; host < 32; ++host) {
    const Bytes listen = segment6(addr6(0x2000 + host), 40000, kListen);
    const Bytes client = segment6(addr6(0x2000 + host), 80, static_cast<std::uint16_t>(kClientPortFirst + 1 + host));
    for (const Bytes& plain : {listen, client}) {
      const std::uint16_t o = owner(plain);
      EXPECT_EQ(owner(with_extension_header(plain, kIpv6HopByHop)), o);
      EXPECT_EQ(owner(with_extension_header(with_extension_header(plain, kIpv6DestinationOptions), kIpv6HopByHop)), o);
    }
  }
}

TEST_F(DispatcherTest, Ipv6_NeighborDiscovery_ToEveryLcore_EchoAndTheRestToTheFirst) {
  constexpr std::size_t kIcmp = EthernetHeader::kSize + Ipv6Header::kSize;
  auto icmpv6 = [](std::uint8_t type, std::uint32_t body) {
    Bytes b(kIcmp + body);
    write_ethernet(b.data(), kOurMac, kPeerMac, kEtherTypeIpv6);
    write_ipv6(b.data() + EthernetHeader::kSize, addr6(1), kOurIp6, kIpProtoIcmpv6, static_cast<std::uint16_t>(body), 255);
    b[kIcmp] = type;
    return b;
  };
  Bytes ns(kIcmp + kNdMessageWithLinkAddressSize);
  write_ethernet(ns.data(), multicast_mac(solicited_node_multicast(kOurIp6)), kPeerMac, kEtherTypeIpv6);
  write_ipv6(ns.data() + EthernetHeader::kSize, addr6(1), solicited_node_multicast(kOurIp6), kIpProtoIcmpv6,
             kNdMessageWithLinkAddressSize, kNdHopLimit);
  write_neighbor_solicitation(ns.data() + kIcmp, addr6(1), kOurIp6, kPeerMac);
  Bytes na(kIcmp + kNdMessageWithLinkAddressSize);
  write_ethernet(na.data(), kOurMac, kPeerMac, kEtherTypeIpv6);
  write_ipv6(na.data() + EthernetHeader::kSize, addr6(1), kOurIp6, kIpProtoIcmpv6, kNdMessageWithLinkAddressSize,
             kNdHopLimit);
  write_neighbor_advertisement(na.data() + kIcmp, addr6(1), kOurIp6, addr6(1), kPeerMac, true);

  EXPECT_EQ(owner(ns), dpdk::Dispatcher::kAllWorkers);
  EXPECT_EQ(owner(na), dpdk::Dispatcher::kAllWorkers);
  EXPECT_EQ(owner(with_extension_header(ns, kIpv6HopByHop)), dpdk::Dispatcher::kAllWorkers);
  EXPECT_EQ(owner(with_extension_header(na, kIpv6DestinationOptions)), dpdk::Dispatcher::kAllWorkers);
  EXPECT_EQ(owner(icmpv6(kIcmpv6EchoRequest, 16)), 0);
  EXPECT_EQ(owner(icmpv6(kIcmpv6EchoReply, 16)), 0);
  EXPECT_EQ(owner(icmpv6(134, 16)), 0) << "a router advertisement";
  EXPECT_EQ(owner(icmpv6(143, 16)), 0) << "an MLDv2 report";
}

TEST_F(DispatcherTest, Ipv6_MalformedOrFragmented_ToTheFirstLcore) {
  const Bytes good = segment6(addr6(0x3000), 40000, kListen);
  // Pick a flow another lcore owns, so that "0" says something.
  Bytes seg = good;
  for (std::uint32_t host = 0; owner(seg) == 0; ++host) seg = segment6(addr6(0x3000 + host), 40000, kListen);
  Bytes truncated(seg.begin(), seg.begin() + EthernetHeader::kSize + 30);
  EXPECT_EQ(owner(truncated), 0);
  Bytes short_payload = seg;  // the payload length says more than the frame holds
  store_be16(short_payload.data() + EthernetHeader::kSize + 4, 1000);
  EXPECT_EQ(owner(short_payload), 0);
  Bytes fragment = with_extension_header(seg, kIpv6Fragment);
  EXPECT_EQ(owner(fragment), 0);
  Bytes version4 = seg;
  version4[EthernetHeader::kSize] = 0x45;
  EXPECT_EQ(owner(version4), 0);
  Bytes ethernet_only(seg.begin(), seg.begin() + EthernetHeader::kSize);
  EXPECT_EQ(owner(ethernet_only), 0);
}

// IPv4 as IPv6: a listening port's flow to one lcore, flows spread over all; ARP to every lcore.
TEST_F(DispatcherTest, Ipv4_ListeningPort_EachFlowToOneLcore_FlowsSpreadOverAll_ArpToEveryLcore) {
  std::array<std::uint32_t, kWorkers> per_worker{};
  for (std::uint32_t host = 1; host < 200; ++host) {
    const std::uint32_t remote = ip4(198, 18, 1, 0) + host;
    for (const std::uint16_t remote_port : std::array<std::uint16_t, 2>{40000, 40001}) {
      const std::uint16_t o = owner(segment4(remote, remote_port, kListen));
      ASSERT_LT(o, kWorkers);
      ASSERT_EQ(owner(segment4(remote, remote_port, kListen)), o);
      ++per_worker[o];
    }
  }
  for (const std::uint32_t n : per_worker) EXPECT_GT(n, 398u / kWorkers / 2);
  Bytes arp(EthernetHeader::kSize + 28);
  write_ethernet(arp.data(), MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, kPeerMac, kEtherTypeArp);
  EXPECT_EQ(owner(arp), dpdk::Dispatcher::kAllWorkers);
}

// Sources crafted to share the low 20 bits of the CRC32c of (remote address, ports) all went to
// one lcore when the dispatcher took that CRC modulo the lcores; under its key they spread, and
// another key spreads them otherwise.
TEST_F(DispatcherTest, ListeningPort_KeyedHash_CrcCollisionsSpread_AnotherKeyOtherOwners) {
  const std::vector<bench::SpoofedSource> crafted = bench::crc_colliding_sources(0, kListen, 20, 64);
  ASSERT_EQ(crafted.size(), 64u);
  const std::uint32_t crc_low = flow_hash(FlowKey{0, crafted[0].ip, kListen, crafted[0].port}) & 0xfffff;
  std::array<std::uint32_t, kWorkers> per_worker{};
  std::vector<std::uint16_t> owners;
  for (const bench::SpoofedSource& src : crafted) {
    ASSERT_EQ(flow_hash(FlowKey{0, src.ip, kListen, src.port}) & 0xfffff, crc_low);
    owners.push_back(owner(segment4(src.ip, src.port, kListen)));
    ASSERT_LT(owners.back(), kWorkers);
    ++per_worker[owners.back()];
  }
  for (const std::uint32_t n : per_worker) EXPECT_GT(n, 64u / kWorkers / 3);
  d_.steer_key[2] ^= 0x5851f42d4c957f2dull;
  std::uint32_t moved = 0;
  for (std::size_t i = 0; i < crafted.size(); ++i) moved += owner(segment4(crafted[i].ip, crafted[i].port, kListen)) != owners[i];
  EXPECT_GT(moved, 64u / 4);
}

// IPv6 addresses whose four words xor to one value (what the dispatcher once hashed) spread too.
TEST_F(DispatcherTest, Ipv6_ListeningPort_AddressesThatFoldAlikeSpread) {
  std::set<std::uint16_t> owners;
  for (std::uint32_t n = 0; n < 64; ++n) {
    Ipv6Addr remote = addr6(0x10 ^ n);
    store_be32(remote.data() + 8, n);
    owners.insert(owner(segment6(remote, 40000, kListen)));
  }
  EXPECT_EQ(owners.size(), kWorkers);
}

}  // namespace
}  // namespace synwave
