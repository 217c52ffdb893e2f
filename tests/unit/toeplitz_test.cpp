#include "synwave/toeplitz.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <vector>

#include "synwave/rss_steering.hpp"

namespace synwave {
namespace {

// The 40-byte key of Microsoft's RSS specification, which Intel's datasheets, DPDK's ixgbe/igb
// drivers (rss_intel_key) and DPDK's own thash test (default_rss_key) use.
constexpr std::array<std::uint8_t, 40> kMicrosoftKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

constexpr std::uint32_t ip(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

struct Vector {
  std::uint32_t dst_ip;
  std::uint32_t src_ip;
  std::uint16_t dst_port;
  std::uint16_t src_port;
  std::uint32_t ipv4_only;
  std::uint32_t ipv4_tcp;
};

// "Verifying the RSS Hash Calculation", IPv4 table of Microsoft's RSS specification (also the
// 82599 datasheet, 7.1.2.8.3, and DPDK's app/test/test_thash.c).
constexpr std::array<Vector, 5> kMicrosoftVectors = {{
    {ip(161, 142, 100, 80), ip(66, 9, 149, 187), 1766, 2794, 0x323e8fc2, 0x51ccc178},
    {ip(65, 69, 140, 83), ip(199, 92, 111, 2), 4739, 14230, 0xd718262a, 0xc626b0ea},
    {ip(12, 22, 207, 184), ip(24, 19, 198, 95), 38024, 12898, 0xd2d0a5de, 0x5c2b394a},
    {ip(209, 142, 163, 6), ip(38, 27, 205, 30), 2217, 48228, 0x82989176, 0xafc7327f},
    {ip(202, 188, 127, 2), ip(153, 39, 163, 191), 1303, 44251, 0x5d1809c5, 0x10e828a2},
}};

std::array<std::uint8_t, 12> wire_tuple(std::uint32_t src_ip, std::uint32_t dst_ip, std::uint16_t src_port,
                                        std::uint16_t dst_port) {
  return {static_cast<std::uint8_t>(src_ip >> 24),  static_cast<std::uint8_t>(src_ip >> 16),
          static_cast<std::uint8_t>(src_ip >> 8),   static_cast<std::uint8_t>(src_ip),
          static_cast<std::uint8_t>(dst_ip >> 24),  static_cast<std::uint8_t>(dst_ip >> 16),
          static_cast<std::uint8_t>(dst_ip >> 8),   static_cast<std::uint8_t>(dst_ip),
          static_cast<std::uint8_t>(src_port >> 8), static_cast<std::uint8_t>(src_port),
          static_cast<std::uint8_t>(dst_port >> 8), static_cast<std::uint8_t>(dst_port)};
}

TEST(Toeplitz, MicrosoftIpv4TcpVectors_MatchTheSpecification) {
  const ToeplitzHasher hasher(kMicrosoftKey);
  for (const Vector& v : kMicrosoftVectors) {
    EXPECT_EQ(hasher.hash(v.src_ip, v.dst_ip, v.src_port, v.dst_port), v.ipv4_tcp) << std::hex << v.ipv4_tcp;
  }
}

// With ports zero the 4-tuple hash is the address-only hash: linearity, and the spec's other column.
TEST(Toeplitz, AddressPart_IsTheSpecificationsIpv4OnlyHash) {
  const ToeplitzHasher hasher(kMicrosoftKey);
  for (const Vector& v : kMicrosoftVectors) {
    EXPECT_EQ(hasher.hash_addresses(v.src_ip, v.dst_ip), v.ipv4_only) << std::hex << v.ipv4_only;
    EXPECT_EQ(hasher.hash(v.src_ip, v.dst_ip, 0, 0), v.ipv4_only);
  }
}

TEST(Toeplitz, BitwiseReference_MatchesTheSpecification) {
  for (const Vector& v : kMicrosoftVectors) {
    const auto tuple = wire_tuple(v.src_ip, v.dst_ip, v.src_port, v.dst_port);
    EXPECT_EQ(toeplitz_hash_bitwise(kMicrosoftKey, tuple), v.ipv4_tcp);
    EXPECT_EQ(toeplitz_hash_bitwise(kMicrosoftKey, std::span(tuple).first(8)), v.ipv4_only);
  }
}

TEST(Toeplitz, Tables_AgreeWithBitwiseReference_ForRandomKeysAndTuples) {
  std::mt19937_64 rng(20240605);
  for (const std::size_t key_size : {std::size_t{16}, std::size_t{40}, std::size_t{52}}) {
    std::vector<std::uint8_t> key(key_size);
    for (auto& b : key) b = static_cast<std::uint8_t>(rng());
    const ToeplitzHasher hasher(key);
    for (int i = 0; i < 10000; ++i) {
      const auto src_ip = static_cast<std::uint32_t>(rng());
      const auto dst_ip = static_cast<std::uint32_t>(rng());
      const auto src_port = static_cast<std::uint16_t>(rng());
      const auto dst_port = static_cast<std::uint16_t>(rng());
      ASSERT_EQ(hasher.hash(src_ip, dst_ip, src_port, dst_port),
                toeplitz_hash_bitwise(key, wire_tuple(src_ip, dst_ip, src_port, dst_port)))
          << "key size " << key_size << " tuple " << i;
    }
  }
}

TEST(Toeplitz, SplitForm_EqualsFullForm) {
  const ToeplitzHasher hasher(kMicrosoftKey);
  std::mt19937 rng(7);
  for (int i = 0; i < 10000; ++i) {
    const std::uint32_t src_ip = rng();
    const std::uint32_t dst_ip = rng();
    const auto src_port = static_cast<std::uint16_t>(rng());
    const auto dst_port = static_cast<std::uint16_t>(rng());
    const std::uint32_t full = hasher.hash(src_ip, dst_ip, src_port, dst_port);
    ASSERT_EQ(hasher.hash_addresses(src_ip, dst_ip) ^ hasher.hash_ports(src_port, dst_port), full);
    ASSERT_EQ(hasher.hash_addresses(src_ip, dst_ip) ^ hasher.hash_src_port(src_port) ^ hasher.hash_dst_port(dst_port),
              full);
  }
}

TEST(Toeplitz, KeyShorterThanTheTupleNeedsOrLongerThanAnyNic_IsRefused) {
  const std::vector<std::uint8_t> too_short(15, 0x6d);
  const std::vector<std::uint8_t> too_long(53, 0x6d);
  EXPECT_THROW(ToeplitzHasher{too_short}, std::invalid_argument);
  EXPECT_THROW(ToeplitzHasher{too_long}, std::invalid_argument);
}

using Ipv6 = ToeplitzHasherIpv6::Address;

Ipv6 ipv6(const char* text) {
  Ipv6 a{};
  EXPECT_EQ(inet_pton(AF_INET6, text, a.data()), 1) << text;
  return a;
}

struct Ipv6Vector {
  const char* dst;
  const char* src;
  std::uint16_t dst_port;
  std::uint16_t src_port;
  std::uint32_t ipv6_only;
  std::uint32_t ipv6_tcp;
};

// The IPv6 table of the same section of Microsoft's specification (and DPDK's test_thash.c).
constexpr std::array<Ipv6Vector, 3> kMicrosoftIpv6Vectors = {{
    {"3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794, 0x2cc18cd5, 0x40207d3d},
    {"ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230, 0x0f0c461c, 0xdde51bbf},
    {"fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 38024, 44251, 0x4b61e985, 0x02d1feef},
}};

std::array<std::uint8_t, kToeplitzIpv6TcpInputBytes> wire_tuple6(const Ipv6& src, const Ipv6& dst, std::uint16_t src_port,
                                                                 std::uint16_t dst_port) {
  std::array<std::uint8_t, kToeplitzIpv6TcpInputBytes> t{};
  std::copy(src.begin(), src.end(), t.begin());
  std::copy(dst.begin(), dst.end(), t.begin() + 16);
  t[32] = static_cast<std::uint8_t>(src_port >> 8);
  t[33] = static_cast<std::uint8_t>(src_port);
  t[34] = static_cast<std::uint8_t>(dst_port >> 8);
  t[35] = static_cast<std::uint8_t>(dst_port);
  return t;
}

TEST(ToeplitzIpv6, MicrosoftVectors_MatchTheSpecification) {
  const ToeplitzHasherIpv6 hasher(kMicrosoftKey);
  for (const Ipv6Vector& v : kMicrosoftIpv6Vectors) {
    const Ipv6 src = ipv6(v.src);
    const Ipv6 dst = ipv6(v.dst);
    EXPECT_EQ(hasher.hash(src, dst, v.src_port, v.dst_port), v.ipv6_tcp) << v.src;
    EXPECT_EQ(hasher.hash_addresses(src, dst), v.ipv6_only) << v.src;
    const auto tuple = wire_tuple6(src, dst, v.src_port, v.dst_port);
    EXPECT_EQ(toeplitz_hash_bitwise(kMicrosoftKey, tuple), v.ipv6_tcp);
    EXPECT_EQ(toeplitz_hash_bitwise(kMicrosoftKey, std::span(tuple).first(32)), v.ipv6_only);
  }
}

TEST(ToeplitzIpv6, Tables_AgreeWithBitwiseReference_AndSplitForm_ForRandomKeysAndTuples) {
  std::mt19937_64 rng(20261205);
  for (const std::size_t key_size : {std::size_t{40}, std::size_t{52}}) {
    std::vector<std::uint8_t> key(key_size);
    for (auto& b : key) b = static_cast<std::uint8_t>(rng());
    const ToeplitzHasherIpv6 hasher(key);
    for (int i = 0; i < 5000; ++i) {
      Ipv6 src;
      Ipv6 dst;
      for (auto& b : src) b = static_cast<std::uint8_t>(rng());
      for (auto& b : dst) b = static_cast<std::uint8_t>(rng());
      const auto src_port = static_cast<std::uint16_t>(rng());
      const auto dst_port = static_cast<std::uint16_t>(rng());
      const std::uint32_t full = hasher.hash(src, dst, src_port, dst_port);
      ASSERT_EQ(full, toeplitz_hash_bitwise(key, wire_tuple6(src, dst, src_port, dst_port))) << key_size << " " << i;
      ASSERT_EQ(hasher.hash_addresses(src, dst) ^ hasher.hash_src_port(src_port) ^ hasher.hash_dst_port(dst_port), full);
    }
  }
}

TEST(ToeplitzIpv6, KeyShorterThanFortyBytes_IsRefused) {
  const std::vector<std::uint8_t> ipv4_sized(16, 0x6d);
  EXPECT_THROW(ToeplitzHasherIpv6{ipv4_sized}, std::invalid_argument);
  EXPECT_THROW(ToeplitzHasherIpv6{std::vector<std::uint8_t>(39, 0x6d)}, std::invalid_argument);
  EXPECT_NO_THROW(ToeplitzHasherIpv6{kMicrosoftKey});
}

// 128 entries round-robin over 4 queues: what DPDK drivers program by default.
std::vector<std::uint16_t> round_robin_reta(std::size_t entries, std::uint16_t queues) {
  std::vector<std::uint16_t> reta(entries);
  for (std::size_t i = 0; i < entries; ++i) reta[i] = static_cast<std::uint16_t>(i % queues);
  return reta;
}

constexpr std::uint32_t kLocalIp = ip(198, 18, 0, 1);
constexpr std::uint32_t kRemoteIp = ip(198, 18, 0, 2);
constexpr std::uint16_t kRemotePort = 80;

TEST(RssSteering, PicksExactlyThePortsWhoseReplyHashMapsToOurQueue) {
  const std::vector<std::uint16_t> reta = round_robin_reta(128, 4);
  const RssSteering steering(kMicrosoftKey, reta, 2);
  const std::vector<std::uint16_t> chosen = steering.local_ports_landing_here(kLocalIp, kRemoteIp, kRemotePort, 1024, 65535);
  std::vector<std::uint16_t> expected;
  for (std::uint32_t port = 1024; port <= 65535; ++port) {
    // The reply travels remote -> local: that is the tuple the NIC hashes.
    const std::uint32_t hash = toeplitz_hash_bitwise(
        kMicrosoftKey, wire_tuple(kRemoteIp, kLocalIp, kRemotePort, static_cast<std::uint16_t>(port)));
    if (reta[hash & 127u] == 2) expected.push_back(static_cast<std::uint16_t>(port));
    ASSERT_EQ(steering.reply_lands_here(kLocalIp, static_cast<std::uint16_t>(port), kRemoteIp, kRemotePort),
              reta[hash & 127u] == 2)
        << "port " << port;
  }
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(chosen, expected);
}

TEST(RssSteering, EveryLocalPortBelongsToExactlyOneQueue) {
  const std::vector<std::uint16_t> reta = round_robin_reta(512, 3);
  std::vector<RssSteering> queues;
  for (std::uint16_t q = 0; q < 3; ++q) queues.emplace_back(kMicrosoftKey, reta, q);
  for (std::uint32_t port = 0; port <= 65535; ++port) {
    int owners = 0;
    for (const RssSteering& s : queues) owners += s.reply_lands_here(kLocalIp, static_cast<std::uint16_t>(port), kRemoteIp, kRemotePort) ? 1 : 0;
    ASSERT_EQ(owners, 1) << "port " << port;
  }
}

TEST(RssSteering, QueueOf_ReadsTheRetaEntryAtTheHashsLowBits) {
  const std::vector<std::uint16_t> reta = round_robin_reta(128, 8);
  const RssSteering steering(kMicrosoftKey, reta, 0);
  for (const Vector& v : kMicrosoftVectors) {
    EXPECT_EQ(steering.reta_index(v.ipv4_tcp), v.ipv4_tcp & 127u);
    EXPECT_EQ(steering.queue_of(v.src_ip, v.dst_ip, v.src_port, v.dst_port), reta[v.ipv4_tcp & 127u]);
  }
}

TEST(RssSteering, RetaOfOtherSize_IndexesByRemainder) {
  const RssSteering steering(kMicrosoftKey, round_robin_reta(96, 4), 1);
  for (const Vector& v : kMicrosoftVectors) EXPECT_EQ(steering.reta_index(v.ipv4_tcp), v.ipv4_tcp % 96u);
}

TEST(RssSteering, QueueMissingFromTheReta_ReceivesNoReply) {
  const RssSteering steering(kMicrosoftKey, round_robin_reta(128, 2), 5);
  EXPECT_EQ(steering.entries_here(), 0u);
  EXPECT_TRUE(steering.local_ports_landing_here(kLocalIp, kRemoteIp, kRemotePort, 0, 65535).empty());
}

TEST(RssSteering, EmptyReta_IsRefused) {
  EXPECT_THROW((RssSteering{kMicrosoftKey, {}, 0}), std::invalid_argument);
}

// IPv6: the reply's 36-byte tuple through the same table.
constexpr Ipv6 kLocalIp6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};   // 2001:db8::10
constexpr Ipv6 kRemoteIp6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};  // 2001:db8::2

TEST(RssSteering, Ipv6_PicksExactlyThePortsWhoseReplyHashMapsToOurQueue) {
  const std::vector<std::uint16_t> reta = round_robin_reta(128, 4);
  const RssSteering steering(kMicrosoftKey, reta, 1);
  ASSERT_TRUE(steering.steers_ipv6());
  const std::vector<std::uint16_t> chosen =
      steering.local_ports_landing_here_ipv6(kLocalIp6, kRemoteIp6, kRemotePort, 1024, 65535);
  std::vector<std::uint16_t> expected;
  for (std::uint32_t port = 1024; port <= 65535; ++port) {
    const auto p = static_cast<std::uint16_t>(port);
    const std::uint32_t hash = toeplitz_hash_bitwise(kMicrosoftKey, wire_tuple6(kRemoteIp6, kLocalIp6, kRemotePort, p));
    if (reta[hash & 127u] == 1) expected.push_back(p);
    ASSERT_EQ(steering.reply_lands_here_ipv6(kLocalIp6, p, kRemoteIp6, kRemotePort), reta[hash & 127u] == 1)
        << "port " << port;
  }
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(chosen, expected);
}

TEST(RssSteering, Ipv6_EveryLocalPortBelongsToExactlyOneQueue) {
  const std::vector<std::uint16_t> reta = round_robin_reta(512, 3);
  std::vector<RssSteering> queues;
  for (std::uint16_t q = 0; q < 3; ++q) queues.emplace_back(kMicrosoftKey, reta, q);
  std::array<std::uint32_t, 3> per_queue{};
  for (std::uint32_t port = 0; port <= 65535; ++port) {
    int owners = 0;
    for (std::uint16_t q = 0; q < 3; ++q) {
      if (queues[q].reply_lands_here_ipv6(kLocalIp6, static_cast<std::uint16_t>(port), kRemoteIp6, kRemotePort)) {
        ++owners;
        ++per_queue[q];
      }
    }
    ASSERT_EQ(owners, 1) << "port " << port;
  }
  for (const std::uint32_t n : per_queue) EXPECT_GT(n, 65536u / 4) << "a queue gets about a third of the ports";
}

TEST(RssSteering, Ipv6_QueueOf_ReadsTheRetaEntryAtTheHashsLowBits) {
  const std::vector<std::uint16_t> reta = round_robin_reta(128, 8);
  const RssSteering steering(kMicrosoftKey, reta, 0);
  for (const Ipv6Vector& v : kMicrosoftIpv6Vectors) {
    EXPECT_EQ(steering.queue_of_ipv6(ipv6(v.src), ipv6(v.dst), v.src_port, v.dst_port), reta[v.ipv6_tcp & 127u]) << v.src;
  }
}

// A 16-byte key (all the IPv4 hash reads) still steers IPv4, but cannot hash an IPv6 tuple.
TEST(RssSteering, KeyTooShortForIpv6_SteersIpv4Only) {
  const RssSteering steering{std::span(kMicrosoftKey).first(kToeplitzIpv4TcpKeyBytes), round_robin_reta(128, 2), 0};
  EXPECT_FALSE(steering.steers_ipv6());
  EXPECT_FALSE(steering.local_ports_landing_here(kLocalIp, kRemoteIp, kRemotePort, 1024, 2047).empty());
  EXPECT_TRUE(RssSteering(kMicrosoftKey, round_robin_reta(128, 2), 0).steers_ipv6());
}

}  // namespace
}  // namespace synwave
