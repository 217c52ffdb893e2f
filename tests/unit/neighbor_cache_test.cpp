// The neighbour (ARP) cache: bounded, static entries pinned, requests rate-limited.
#include "synwave/neighbor_cache.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <unordered_set>
#include <vector>

namespace synwave {
namespace {

constexpr std::uint32_t kGateway = 0xc6120001;  // 198.18.0.1
constexpr std::uint32_t kPeer = 0xc6120002;

MacAddr mac_of(std::uint32_t n) {
  return MacAddr{{0x02, 0x00, static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                  static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)}};
}

// How many of `ips` the cache can still find.
std::size_t count_found(const NeighborCache& cache, const std::vector<std::uint32_t>& ips) {
  std::size_t n = 0;
  for (std::uint32_t ip : ips) n += cache.find(ip) != nullptr;
  return n;
}

std::vector<std::uint32_t> distinct_ips(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint32_t> ips;
  std::unordered_set<std::uint32_t> seen;
  while (ips.size() < n) {
    const auto ip = static_cast<std::uint32_t>(rng());
    if (ip != 0 && seen.insert(ip).second) ips.push_back(ip);
  }
  return ips;
}

TEST(NeighborCache, Empty_FindsNothing) {
  const NeighborCache cache(64);
  EXPECT_EQ(cache.find(kGateway), nullptr);
  EXPECT_EQ(cache.find(0), nullptr);
}

TEST(NeighborCache, Learn_ThenFind) {
  NeighborCache cache(64);
  EXPECT_TRUE(cache.learn(kGateway, mac_of(1)));
  ASSERT_NE(cache.find(kGateway), nullptr);
  EXPECT_EQ(*cache.find(kGateway), mac_of(1));
  EXPECT_EQ(cache.find(kPeer), nullptr);
}

TEST(NeighborCache, LearnSameMacAgain_ReportsNoChange) {
  NeighborCache cache(64);
  ASSERT_TRUE(cache.learn(kGateway, mac_of(1)));
  EXPECT_FALSE(cache.learn(kGateway, mac_of(1)));
}

TEST(NeighborCache, LearnNewMac_ReplacesTheOld) {
  NeighborCache cache(64);
  ASSERT_TRUE(cache.learn(kGateway, mac_of(1)));
  EXPECT_TRUE(cache.learn(kGateway, mac_of(2)));
  EXPECT_EQ(*cache.find(kGateway), mac_of(2));
}

TEST(NeighborCache, AddressZero_NeverLearned) {
  NeighborCache cache(64);
  EXPECT_FALSE(cache.learn(0, mac_of(1)));
  EXPECT_EQ(cache.find(0), nullptr);
}

TEST(NeighborCache, StaticEntry_NotOverwrittenByDynamic) {
  NeighborCache cache(64);
  ASSERT_TRUE(cache.learn(kGateway, mac_of(1), /*is_static=*/true));
  EXPECT_FALSE(cache.learn(kGateway, mac_of(666)));
  EXPECT_EQ(*cache.find(kGateway), mac_of(1));
}

TEST(NeighborCache, StaticEntry_ReplacedByStatic) {
  NeighborCache cache(64);
  ASSERT_TRUE(cache.learn(kGateway, mac_of(1), true));
  EXPECT_TRUE(cache.learn(kGateway, mac_of(2), true));
  EXPECT_EQ(*cache.find(kGateway), mac_of(2));
}

TEST(NeighborCache, DynamicEntry_PinnedByStatic) {
  NeighborCache cache(64);
  ASSERT_TRUE(cache.learn(kGateway, mac_of(1)));
  EXPECT_TRUE(cache.learn(kGateway, mac_of(1), true));  // same MAC, but now pinned
  EXPECT_FALSE(cache.learn(kGateway, mac_of(2)));
  EXPECT_EQ(*cache.find(kGateway), mac_of(1));
}

TEST(NeighborCache, ManyAddressesInRoomyCache_AllFound) {
  NeighborCache cache(1024);
  const auto ips = distinct_ips(100, 1);
  for (std::uint32_t ip : ips) cache.learn(ip, mac_of(ip));
  for (std::uint32_t ip : ips) {
    ASSERT_NE(cache.find(ip), nullptr);
    EXPECT_EQ(*cache.find(ip), mac_of(ip));
  }
}

// With capacity 8 the table has 8 slots and the probe window covers all of them, so which
// entry a newcomer evicts is observable without knowing the hash.
TEST(NeighborCache, FullWindow_NewcomerEvictsExactlyOneDynamicEntry) {
  NeighborCache cache(8);
  const auto ips = distinct_ips(9, 2);
  for (std::size_t i = 0; i < 8; ++i) ASSERT_TRUE(cache.learn(ips[i], mac_of(ips[i])));
  EXPECT_EQ(count_found(cache, {ips.begin(), ips.begin() + 8}), 8u);
  EXPECT_TRUE(cache.learn(ips[8], mac_of(ips[8])));
  ASSERT_NE(cache.find(ips[8]), nullptr);
  EXPECT_EQ(*cache.find(ips[8]), mac_of(ips[8]));
  EXPECT_EQ(count_found(cache, {ips.begin(), ips.begin() + 8}), 7u);
}

TEST(NeighborCache, FullWindow_EvictsTheDynamicEntryNotTheStaticOnes) {
  NeighborCache cache(8);
  const auto ips = distinct_ips(9, 3);
  for (std::size_t i = 0; i < 7; ++i) ASSERT_TRUE(cache.learn(ips[i], mac_of(ips[i]), /*is_static=*/true));
  ASSERT_TRUE(cache.learn(ips[7], mac_of(ips[7])));
  EXPECT_TRUE(cache.learn(ips[8], mac_of(ips[8])));
  EXPECT_EQ(cache.find(ips[7]), nullptr);
  EXPECT_NE(cache.find(ips[8]), nullptr);
  EXPECT_EQ(count_found(cache, {ips.begin(), ips.begin() + 7}), 7u);
}

TEST(NeighborCache, WindowOfStaticEntriesOnly_RefusesDynamicNewcomer) {
  NeighborCache cache(8);
  const auto ips = distinct_ips(9, 4);
  for (std::size_t i = 0; i < 8; ++i) ASSERT_TRUE(cache.learn(ips[i], mac_of(ips[i]), true));
  EXPECT_FALSE(cache.learn(ips[8], mac_of(ips[8])));
  EXPECT_EQ(cache.find(ips[8]), nullptr);
  EXPECT_EQ(count_found(cache, {ips.begin(), ips.begin() + 8}), 8u);
}

TEST(NeighborCache, FloodOfNewSources_NeverGrowsPastTheTable) {
  struct Case {
    std::uint32_t capacity;
    std::size_t slots;  // capacity rounded up to a power of two, at least 8
  };
  const Case cases[] = {{0, 8}, {1, 8}, {8, 8}, {9, 16}, {100, 128}, {1024, 1024}};
  for (const Case& c : cases) {
    NeighborCache cache(c.capacity);
    const auto ips = distinct_ips(20 * c.slots, 5);
    for (std::uint32_t ip : ips) {
      cache.learn(ip, mac_of(ip));
      ASSERT_NE(cache.find(ip), nullptr) << "the newest entry is always found";
    }
    // Every slot ends up filled, none twice: exactly as many found as there are slots.
    EXPECT_EQ(count_found(cache, ips), c.slots) << "capacity " << c.capacity;
    for (std::uint32_t ip : ips) {
      if (const MacAddr* m = cache.find(ip)) {
        EXPECT_EQ(*m, mac_of(ip));
      }
    }
  }
}

TEST(NeighborCache, FloodOfNewSources_StaticGatewaySurvives) {
  NeighborCache cache(64);
  ASSERT_TRUE(cache.learn(kGateway, mac_of(1), /*is_static=*/true));
  for (std::uint32_t ip : distinct_ips(10000, 6)) cache.learn(ip, mac_of(ip));
  ASSERT_NE(cache.find(kGateway), nullptr);
  EXPECT_EQ(*cache.find(kGateway), mac_of(1));
}

TEST(NeighborCache, MayRequest_OncePerInterval) {
  NeighborCache cache(64);
  const TimeNs t0 = 5 * kSecond;
  const TimeNs interval = kSecond;
  EXPECT_TRUE(cache.may_request(kGateway, t0, interval));
  EXPECT_FALSE(cache.may_request(kGateway, t0, interval));
  EXPECT_FALSE(cache.may_request(kGateway, t0 + interval - 1, interval));
  EXPECT_TRUE(cache.may_request(kGateway, t0 + interval, interval));
  EXPECT_FALSE(cache.may_request(kGateway, t0 + interval + 1, interval));
  EXPECT_TRUE(cache.may_request(kGateway, t0 + 3 * interval, interval));
}

TEST(NeighborCache, MayRequest_AtTimeZero_Allowed) {
  NeighborCache cache(64);
  EXPECT_TRUE(cache.may_request(kGateway, 0, kSecond));
  EXPECT_FALSE(cache.may_request(kGateway, 0, kSecond));
}

TEST(NeighborCache, MayRequest_AddressesLimitedSeparately) {
  NeighborCache cache(64);
  EXPECT_TRUE(cache.may_request(kGateway, kSecond, kSecond));
  EXPECT_TRUE(cache.may_request(kPeer, kSecond, kSecond));
  EXPECT_FALSE(cache.may_request(kGateway, kSecond + 1, kSecond));
  EXPECT_FALSE(cache.may_request(kPeer, kSecond + 1, kSecond));
}

}  // namespace
}  // namespace synwave
