// The mbuf pool without EAL hugepages (mbuf_pool.hpp): every mbuf usable as
// rte_pktmbuf_pool_create would make it, the objects packed in one mapping advised for huge pages,
// and a pool larger than the machine's memory refused with a message rather than mapped.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "eal_for_tests.hpp"
#include "mbuf_pool.hpp"

namespace synwave {
namespace {

// The flags of the mapping holding `address`, from /proc/self/smaps ("VmFlags: ... hg ...").
std::string vm_flags_of(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long long from = 0;
    unsigned long long to = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> from >> dash >> to && dash == '-') {
      inside = at >= from && at < to;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return {};
}

TEST(MbufPool, WithoutHugepagesEveryMbufIsUsableAndThePoolIsOneAdvisedMapping) {
  ASSERT_NE(test::eal_test_pool(), nullptr);  // the EAL, started --no-huge
  ASSERT_EQ(rte_eal_has_hugepages(), 0);
  constexpr std::uint32_t kCount = 4095;
  std::string err;
  rte_mempool* pool = dpdk::create_mbuf_pool("mbuf_pool_test", kCount, 32, RTE_MBUF_DEFAULT_BUF_SIZE, err);
  ASSERT_NE(pool, nullptr) << err;
  EXPECT_TRUE(err.empty());
  EXPECT_EQ(rte_mempool_avail_count(pool), kCount);
  EXPECT_EQ(rte_pktmbuf_data_room_size(pool), RTE_MBUF_DEFAULT_BUF_SIZE);

  std::vector<rte_mbuf*> all(kCount);
  ASSERT_EQ(rte_pktmbuf_alloc_bulk(pool, all.data(), kCount), 0);
  EXPECT_EQ(rte_mempool_avail_count(pool), 0u);
  const auto [lowest, highest] = std::minmax_element(all.begin(), all.end());
  for (rte_mbuf* m : all) {
    ASSERT_EQ(m->pool, pool);
    ASSERT_EQ(m->buf_len, RTE_MBUF_DEFAULT_BUF_SIZE);
    ASSERT_EQ(m->data_off, RTE_PKTMBUF_HEADROOM);
    ASSERT_EQ(m->nb_segs, 1);
    ASSERT_EQ(rte_pktmbuf_tailroom(m), RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM);
    // Writable end to end: a frame fills its data room.
    char* data = rte_pktmbuf_append(m, rte_pktmbuf_tailroom(m));
    ASSERT_NE(data, nullptr);
    std::fill_n(data, m->data_len, static_cast<char>(0x5a));
  }
  // Packed, not one mbuf per 4 KiB page as DPDK places them on 4 KiB pages.
  const auto span = reinterpret_cast<std::uintptr_t>(*highest) - reinterpret_cast<std::uintptr_t>(*lowest);
  EXPECT_LT(span, std::uintptr_t{kCount} * (sizeof(rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE + 128));
  EXPECT_NE(vm_flags_of(*lowest).find(" hg"), std::string::npos) << vm_flags_of(*lowest);

  rte_pktmbuf_free_bulk(all.data(), kCount);
  EXPECT_EQ(rte_mempool_avail_count(pool), kCount);
  rte_mempool_free(pool);  // unmaps the objects' memory (free_cb)
}

TEST(MbufPool, APoolLargerThanTheMachineIsRefusedWithTheFix) {
  ASSERT_NE(test::eal_test_pool(), nullptr);
  std::string err;
  // 4e9 mbufs: 8 TB, beyond any machine these tests run on.
  EXPECT_EQ(dpdk::create_mbuf_pool("mbuf_pool_too_big", 4'000'000'000u, 32, RTE_MBUF_DEFAULT_BUF_SIZE, err), nullptr);
  EXPECT_NE(err.find("out of memory at start-up"), std::string::npos) << err;
  EXPECT_NE(err.find("lower --mbufs"), std::string::npos) << err;
}

TEST(MbufPool, FewerMbufsThanAnLcoreCacheIsRefusedWithTheFix) {
  ASSERT_NE(test::eal_test_pool(), nullptr);
  std::string err;
  EXPECT_EQ(dpdk::create_mbuf_pool("mbuf_pool_too_small", 300, 256, RTE_MBUF_DEFAULT_BUF_SIZE, err), nullptr);
  EXPECT_NE(err.find("--mbufs 300 is too few"), std::string::npos) << err;
  EXPECT_NE(err.find("at least that many"), std::string::npos) << err;
}

}  // namespace
}  // namespace synwave
