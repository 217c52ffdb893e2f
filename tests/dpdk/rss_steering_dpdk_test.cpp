// Our Toeplitz tables and RSS steering against DPDK itself: rte_softrss()/rte_softrss_be() over
// random tuples of both families, and what setup_port() reads back from a vdev that reports RSS
// (net_null).
// Linked with DPDK; the core's own tests (tests/unit/toeplitz_test.cpp) never are.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_thash.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "eal_for_tests.hpp"
#include "port.hpp"
#include "synwave/rss_steering.hpp"
#include "synwave/toeplitz.hpp"

namespace synwave {
namespace {

// DPDK's default key: rte_thash.h does not export one, so this is the 40-byte key of
// Microsoft's RSS specification that DPDK's thash test (app/test/test_thash.c, default_rss_key),
// its Intel drivers (ixgbe, igb: rss_intel_key) and net_null (default_rss_key) use. Other drivers
// have their own (i40e and ice: 52 bytes; mlx5: its own 40), which is why the port's key is read
// back rather than assumed.
alignas(4) constexpr std::array<std::uint8_t, 40> kDpdkDefaultKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

constexpr int kTuples = 200000;

// rte_softrss's input: rte_ipv4_tuple in CPU order, RTE_THASH_V4_L4_LEN words.
std::uint32_t softrss(const std::uint8_t* key, std::uint32_t src_ip, std::uint32_t dst_ip, std::uint16_t src_port,
                      std::uint16_t dst_port, bool converted_key) {
  rte_thash_tuple tuple{};
  tuple.v4.src_addr = src_ip;
  tuple.v4.dst_addr = dst_ip;
  tuple.v4.sport = src_port;
  tuple.v4.dport = dst_port;
  auto* words = reinterpret_cast<std::uint32_t*>(&tuple);
  return converted_key ? rte_softrss_be(words, RTE_THASH_V4_L4_LEN, key) : rte_softrss(words, RTE_THASH_V4_L4_LEN, key);
}

void expect_matches_softrss(const std::uint8_t* key, std::size_t key_size, std::uint64_t seed) {
  const ToeplitzHasher hasher(std::span(key, key_size));
  alignas(4) std::array<std::uint8_t, kToeplitzMaxKeyBytes> converted{};
  rte_convert_rss_key(reinterpret_cast<const std::uint32_t*>(key), reinterpret_cast<std::uint32_t*>(converted.data()),
                      static_cast<int>(key_size));
  std::mt19937_64 rng(seed);
  for (int i = 0; i < kTuples; ++i) {
    const auto src_ip = static_cast<std::uint32_t>(rng());
    const auto dst_ip = static_cast<std::uint32_t>(rng());
    const auto src_port = static_cast<std::uint16_t>(rng());
    const auto dst_port = static_cast<std::uint16_t>(rng());
    const std::uint32_t ours = hasher.hash(src_ip, dst_ip, src_port, dst_port);
    ASSERT_EQ(ours, softrss(key, src_ip, dst_ip, src_port, dst_port, false)) << "tuple " << i;
    ASSERT_EQ(ours, softrss(converted.data(), src_ip, dst_ip, src_port, dst_port, true)) << "tuple " << i;
  }
}

TEST(ToeplitzVsDpdk, DefaultKey_EqualsRteSoftrssAndRteSoftrssBe_OnRandomTuples) {
  expect_matches_softrss(kDpdkDefaultKey.data(), kDpdkDefaultKey.size(), 1);
}

TEST(ToeplitzVsDpdk, Random52ByteKey_EqualsRteSoftrssAndRteSoftrssBe_OnRandomTuples) {
  alignas(4) std::array<std::uint8_t, 52> key{};
  std::mt19937 rng(52);
  for (auto& b : key) b = static_cast<std::uint8_t>(rng());
  expect_matches_softrss(key.data(), key.size(), 2);
}

// rte_softrss's IPv6 input: RTE_THASH_V6_L4_LEN words in CPU order, each address as four words
// (what rte_thash_load_v6_addrs makes of a header), then the ports as in the IPv4 tuple.
std::uint32_t softrss_v6(const std::uint8_t* key, const ToeplitzHasherIpv6::Address& src,
                         const ToeplitzHasherIpv6::Address& dst, std::uint16_t src_port, std::uint16_t dst_port) {
  std::array<std::uint32_t, RTE_THASH_V6_L4_LEN> words{};
  for (std::size_t i = 0; i < 4; ++i) {
    words[i] = (std::uint32_t{src[4 * i]} << 24) | (std::uint32_t{src[4 * i + 1]} << 16) |
               (std::uint32_t{src[4 * i + 2]} << 8) | src[4 * i + 3];
    words[4 + i] = (std::uint32_t{dst[4 * i]} << 24) | (std::uint32_t{dst[4 * i + 1]} << 16) |
                   (std::uint32_t{dst[4 * i + 2]} << 8) | dst[4 * i + 3];
  }
  words[8] = (std::uint32_t{src_port} << 16) | dst_port;
  return rte_softrss(words.data(), RTE_THASH_V6_L4_LEN, key);
}

TEST(ToeplitzVsDpdk, Ipv6_DefaultAnd52ByteKeys_EqualRteSoftrss_OnRandomTuples) {
  alignas(4) std::array<std::uint8_t, 52> long_key{};
  std::mt19937 key_rng(6);
  for (auto& b : long_key) b = static_cast<std::uint8_t>(key_rng());
  for (const std::span<const std::uint8_t> key : {std::span<const std::uint8_t>(kDpdkDefaultKey),
                                                   std::span<const std::uint8_t>(long_key)}) {
    const ToeplitzHasherIpv6 hasher(key);
    std::mt19937_64 rng(key.size());
    for (int i = 0; i < kTuples / 4; ++i) {
      ToeplitzHasherIpv6::Address src;
      ToeplitzHasherIpv6::Address dst;
      for (auto& b : src) b = static_cast<std::uint8_t>(rng());
      for (auto& b : dst) b = static_cast<std::uint8_t>(rng());
      const auto src_port = static_cast<std::uint16_t>(rng());
      const auto dst_port = static_cast<std::uint16_t>(rng());
      ASSERT_EQ(hasher.hash(src, dst, src_port, dst_port), softrss_v6(key.data(), src, dst, src_port, dst_port))
          << "key " << key.size() << " tuple " << i;
    }
  }
}

TEST(ToeplitzVsDpdk, ChosenPorts_ReplyOnOurQueue_ByRteSoftrss) {
  const std::vector<std::uint16_t> reta = dpdk::default_reta(128, 4);
  constexpr std::uint32_t kLocal = (198u << 24) | (18u << 16) | 1;
  constexpr std::uint32_t kRemote = (198u << 24) | (18u << 16) | 2;
  for (std::uint16_t queue = 0; queue < 4; ++queue) {
    const RssSteering steering(kDpdkDefaultKey, reta, queue);
    const auto ports = steering.local_ports_landing_here(kLocal, kRemote, 80, 1024, 65535);
    ASSERT_FALSE(ports.empty());
    for (const std::uint16_t port : ports) {
      const std::uint32_t hash = softrss(kDpdkDefaultKey.data(), kRemote, kLocal, 80, port, false);
      ASSERT_EQ(reta[hash & 127u], queue) << "port " << port;
    }
  }
}

TEST(ToeplitzVsDpdk, Ipv6_ChosenPorts_ReplyOnOurQueue_ByRteSoftrss) {
  const std::vector<std::uint16_t> reta = dpdk::default_reta(128, 4);
  const ToeplitzHasherIpv6::Address local = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x10};
  const ToeplitzHasherIpv6::Address remote = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
  for (std::uint16_t queue = 0; queue < 4; ++queue) {
    const RssSteering steering(kDpdkDefaultKey, reta, queue);
    const auto ports = steering.local_ports_landing_here_ipv6(local, remote, 80, 1024, 65535);
    ASSERT_FALSE(ports.empty());
    for (const std::uint16_t port : ports) {
      ASSERT_EQ(reta[softrss_v6(kDpdkDefaultKey.data(), remote, local, 80, port) & 127u], queue) << "port " << port;
    }
  }
}

TEST(DefaultReta, IsRoundRobinOverTheQueues) {
  const std::vector<std::uint16_t> reta = dpdk::default_reta(8, 3);
  EXPECT_EQ(reta, (std::vector<std::uint16_t>{0, 1, 2, 0, 1, 2, 0, 1}));
}

class EalWithNullPort : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pool_ = test::eal_test_pool();
    ASSERT_NE(pool_, nullptr);
  }
  static std::uint16_t null_port() {
    std::uint16_t port = 0;
    EXPECT_EQ(rte_eth_dev_get_port_by_name("net_null0", &port), 0);
    return port;
  }
  static inline rte_mempool* pool_ = nullptr;
};

TEST_F(EalWithNullPort, PortWithRss_ReadsKeyHashTypesAndRetaFromTheDevice) {
  const std::uint16_t port = null_port();
  rte_eth_dev_info dev{};
  ASSERT_EQ(rte_eth_dev_info_get(port, &dev), 0);
  dpdk::PortRequest req;
  req.port_id = port;
  req.queues = 4;
  req.pool = pool_;
  dpdk::PortInfo info;
  const std::string err = dpdk::setup_port(req, info);
  ASSERT_TRUE(err.empty()) << err;
  ASSERT_TRUE(info.rss) << "net_null reports RSS on IPv4/TCP and IPv6/TCP";
  // net_null reports no hash_key_size: then the first 40 bytes, all the IPv6/TCP hash uses, are kept.
  EXPECT_EQ(info.rss_key.size(), dev.hash_key_size != 0 ? dev.hash_key_size : kToeplitzIpv6TcpKeyBytes);
  EXPECT_NE(info.rss_hash_types & RTE_ETH_RSS_NONFRAG_IPV4_TCP, 0u);
  EXPECT_NE(info.rss_hash_types & RTE_ETH_RSS_NONFRAG_IPV6_TCP, 0u);
  ASSERT_EQ(info.rss_reta.size(), dev.reta_size);
  for (const std::uint16_t q : info.rss_reta) EXPECT_LT(q, req.queues);

  // What was read is what the device holds (rte_eth_dev_rss_hash_conf_get with our own buffer).
  alignas(4) std::array<std::uint8_t, kToeplitzMaxKeyBytes> key{};
  rte_eth_rss_conf conf{};
  conf.rss_key = key.data();
  conf.rss_key_len = static_cast<std::uint8_t>(key.size());
  ASSERT_EQ(rte_eth_dev_rss_hash_conf_get(port, &conf), 0);
  EXPECT_EQ(std::memcmp(info.rss_key.data(), key.data(), info.rss_key.size()), 0);
  // net_null holds DPDK's default key.
  EXPECT_EQ(std::memcmp(info.rss_key.data(), kDpdkDefaultKey.data(), kToeplitzIpv6TcpKeyBytes), 0);

  // And steering built from it agrees with rte_softrss on that key and that table, for a run of
  // either family.
  constexpr std::uint32_t kLocal = (198u << 24) | (18u << 16) | 1;
  constexpr std::uint32_t kRemote = (198u << 24) | (18u << 16) | 2;
  const ToeplitzHasherIpv6::Address local6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  const ToeplitzHasherIpv6::Address remote6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
  for (std::uint16_t queue = 0; queue < req.queues; ++queue) {
    const auto steering = dpdk::make_rss_steering(info, queue, false);
    const auto steering6 = dpdk::make_rss_steering(info, queue, true);
    ASSERT_TRUE(steering.has_value());
    ASSERT_TRUE(steering6.has_value());
    for (std::uint32_t p = 1024; p < 1024 + 4096; ++p) {
      const auto local_port = static_cast<std::uint16_t>(p);
      const std::uint32_t hash = softrss(info.rss_key.data(), kRemote, kLocal, 443, local_port, false);
      ASSERT_EQ(steering->reply_lands_here(kLocal, local_port, kRemote, 443),
                info.rss_reta[hash % info.rss_reta.size()] == queue);
      const std::uint32_t hash6 = softrss_v6(info.rss_key.data(), remote6, local6, 443, local_port);
      ASSERT_EQ(steering6->reply_lands_here_ipv6(local6, local_port, remote6, 443),
                info.rss_reta[hash6 % info.rss_reta.size()] == queue);
    }
  }
  dpdk::close_port(port);
}

TEST(MakeRssSteering, PortWithoutRss_GivesNothing) {
  dpdk::PortInfo info;
  info.queues = 2;
  EXPECT_FALSE(dpdk::make_rss_steering(info, 0, false).has_value());
  EXPECT_FALSE(dpdk::make_rss_steering(info, 0, true).has_value());
}

TEST(MakeRssSteering, PortHashingAddressesOnly_GivesNothing) {
  dpdk::PortInfo info;
  info.queues = 2;
  info.rss = true;
  info.rss_key.assign(kDpdkDefaultKey.begin(), kDpdkDefaultKey.end());
  info.rss_reta = dpdk::default_reta(128, 2);
  info.rss_hash_types = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_IPV6;
  EXPECT_FALSE(dpdk::make_rss_steering(info, 0, false).has_value());
  EXPECT_FALSE(dpdk::make_rss_steering(info, 0, true).has_value());
  info.rss_hash_types |= RTE_ETH_RSS_NONFRAG_IPV4_TCP;
  EXPECT_TRUE(dpdk::make_rss_steering(info, 0, false).has_value());
  EXPECT_FALSE(dpdk::make_rss_steering(info, 0, true).has_value()) << "IPv6/TCP is not hashed by its ports";
  info.rss_hash_types |= RTE_ETH_RSS_NONFRAG_IPV6_TCP;
  EXPECT_TRUE(dpdk::make_rss_steering(info, 0, true).has_value());
}

TEST(MakeRssSteering, KeyTooShortForIpv6_SteersIpv4RunsOnly) {
  dpdk::PortInfo info;
  info.queues = 2;
  info.rss = true;
  info.rss_key.assign(kDpdkDefaultKey.begin(), kDpdkDefaultKey.begin() + kToeplitzIpv4TcpKeyBytes);
  info.rss_reta = dpdk::default_reta(128, 2);
  info.rss_hash_types = RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV6_TCP;
  EXPECT_TRUE(dpdk::make_rss_steering(info, 0, false).has_value());
  EXPECT_FALSE(dpdk::make_rss_steering(info, 0, true).has_value());
}

TEST(MakeRssSteering, PortHashingOnlySomeFields_GivesNothing) {
  dpdk::PortInfo info;
  info.queues = 2;
  info.rss = true;
  info.rss_key.assign(kDpdkDefaultKey.begin(), kDpdkDefaultKey.end());
  info.rss_reta = dpdk::default_reta(128, 2);
  info.rss_hash_types = RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_L4_DST_ONLY;
  EXPECT_FALSE(dpdk::make_rss_steering(info, 0, false).has_value());
  EXPECT_FALSE(dpdk::make_rss_steering(info, 0, true).has_value());
}

TEST(MakeRssSteering, KeyLongerThan52Bytes_SteersByItsFirstBytes) {
  dpdk::PortInfo info;
  info.queues = 2;
  info.rss = true;
  // Built whole: GCC 12 mistakes growing the 40-byte key in place for an out-of-bounds move
  // (-Warray-bounds, an error under CI's -Werror).
  std::vector<std::uint8_t> key(64, 0xab);
  std::copy(kDpdkDefaultKey.begin(), kDpdkDefaultKey.end(), key.begin());
  info.rss_key = key;
  info.rss_reta = dpdk::default_reta(128, 2);
  info.rss_hash_types = RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV6_TCP;
  const auto steering = dpdk::make_rss_steering(info, 1, false);
  ASSERT_TRUE(steering.has_value());
  const auto steering6 = dpdk::make_rss_steering(info, 1, true);
  ASSERT_TRUE(steering6.has_value());
  const RssSteering reference(kDpdkDefaultKey, info.rss_reta, 1);
  const ToeplitzHasherIpv6::Address local6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  const ToeplitzHasherIpv6::Address remote6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
  for (std::uint32_t port = 0; port <= 65535; ++port) {
    const auto p = static_cast<std::uint16_t>(port);
    ASSERT_EQ(steering->reply_lands_here(0xc6120001, p, 0xc6120002, 80), reference.reply_lands_here(0xc6120001, p, 0xc6120002, 80));
    ASSERT_EQ(steering6->reply_lands_here_ipv6(local6, p, remote6, 80), reference.reply_lands_here_ipv6(local6, p, remote6, 80));
  }
}

}  // namespace
}  // namespace synwave
