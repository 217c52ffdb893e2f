#include "synwave/slab.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

namespace synwave {
namespace {

struct Record {
  std::uint64_t a;
  std::uint32_t b;
  std::uint16_t c;
  std::uint8_t d[2];
};

TEST(Slab, Alloc_UntilFull_ReturnsEveryIndexOnceThenNoIndex) {
  Slab<Record> slab(100);
  std::set<std::uint32_t> seen;
  for (std::uint32_t i = 0; i < 100; ++i) {
    const std::uint32_t idx = slab.alloc();
    ASSERT_LT(idx, 100u);
    EXPECT_TRUE(seen.insert(idx).second) << "index handed out twice: " << idx;
  }
  EXPECT_EQ(slab.alloc(), kNoIndex);
  EXPECT_EQ(slab.alloc(), kNoIndex);
  EXPECT_EQ(slab.in_use(), 100u);
}

TEST(Slab, Alloc_FreshPool_HandsOutIndicesInAscendingOrder) {
  Slab<Record> slab(4);
  EXPECT_EQ(slab.alloc(), 0u);
  EXPECT_EQ(slab.alloc(), 1u);
  EXPECT_EQ(slab.alloc(), 2u);
  EXPECT_EQ(slab.alloc(), 3u);
}

TEST(Slab, Alloc_AfterFrees_ReusesMostRecentlyFreedFirst) {
  Slab<Record> slab(8);
  std::vector<std::uint32_t> idx;
  for (int i = 0; i < 8; ++i) idx.push_back(slab.alloc());
  slab.free(idx[2]);
  slab.free(idx[6]);
  slab.free(idx[4]);
  EXPECT_EQ(slab.alloc(), idx[4]);
  EXPECT_EQ(slab.alloc(), idx[6]);
  EXPECT_EQ(slab.alloc(), idx[2]);
  EXPECT_EQ(slab.alloc(), kNoIndex);
}

TEST(Slab, Alloc_WhenFullThenFreed_Succeeds) {
  Slab<Record> slab(2);
  const std::uint32_t first = slab.alloc();
  (void)slab.alloc();
  ASSERT_EQ(slab.alloc(), kNoIndex);
  slab.free(first);
  EXPECT_EQ(slab.alloc(), first);
}

TEST(Slab, Alloc_ReusedRecord_IsValueInitialised) {
  Slab<Record> slab(1);
  const std::uint32_t idx = slab.alloc();
  slab[idx] = Record{0x1122334455667788ull, 0xdeadbeef, 0xabcd, {1, 2}};
  slab.free(idx);
  const std::uint32_t again = slab.alloc();
  ASSERT_EQ(again, idx);
  EXPECT_EQ(slab[again].a, 0u);
  EXPECT_EQ(slab[again].b, 0u);
  EXPECT_EQ(slab[again].c, 0u);
  EXPECT_EQ(slab[again].d[0], 0u);
  EXPECT_EQ(slab[again].d[1], 0u);
}

TEST(Slab, InUse_CountsAllocsMinusFrees) {
  Slab<Record> slab(10);
  EXPECT_EQ(slab.in_use(), 0u);
  const std::uint32_t a = slab.alloc();
  const std::uint32_t b = slab.alloc();
  const std::uint32_t c = slab.alloc();
  EXPECT_EQ(slab.in_use(), 3u);
  slab.free(b);
  EXPECT_EQ(slab.in_use(), 2u);
  slab.free(a);
  slab.free(c);
  EXPECT_EQ(slab.in_use(), 0u);
  EXPECT_EQ(slab.capacity(), 10u);
}

TEST(Slab, Records_AreDistinctAndAddressedFromData) {
  Slab<Record> slab(16);
  for (std::uint32_t i = 0; i < 16; ++i) {
    const std::uint32_t idx = slab.alloc();
    slab[idx].b = idx * 3;
  }
  for (std::uint32_t i = 0; i < 16; ++i) {
    EXPECT_EQ(&slab[i], slab.data() + i);
    EXPECT_EQ(slab.data()[i].b, i * 3);
  }
  const Slab<Record>& view = slab;
  EXPECT_EQ(&view[5], view.data() + 5);
}

TEST(Slab, Data_IsCacheLineAligned) {
  Slab<Record> small(1);
  Slab<std::uint8_t> bytes(3);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(small.data()) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(bytes.data()) % 64, 0u);
}

TEST(Slab, MemoryBytes_CoversRecordsAndFreeList) {
  Slab<Record> slab(1000);
  EXPECT_GE(slab.memory_bytes(), 1000 * (sizeof(Record) + sizeof(std::uint32_t)));
  EXPECT_LT(slab.memory_bytes(), 1000 * (sizeof(Record) + sizeof(std::uint32_t)) + 1000);
}

TEST(Slab, ZeroCapacity_AllocReturnsNoIndex) {
  Slab<Record> slab(0);
  EXPECT_EQ(slab.alloc(), kNoIndex);
  EXPECT_EQ(slab.in_use(), 0u);
}

TEST(Slab, AllocFreeChurn_KeepsEveryLiveIndexUnique) {
  Slab<Record> slab(64);
  std::vector<std::uint32_t> live;
  std::uint32_t state = 12345;
  for (int step = 0; step < 10000; ++step) {
    state = state * 1664525u + 1013904223u;
    if ((state >> 16) % 3 != 0 || live.empty()) {
      const std::uint32_t idx = slab.alloc();
      if (live.size() == 64) {
        ASSERT_EQ(idx, kNoIndex);
        continue;
      }
      ASSERT_NE(idx, kNoIndex);
      live.push_back(idx);
    } else {
      const std::size_t pick = (state >> 8) % live.size();
      slab.free(live[pick]);
      live[pick] = live.back();
      live.pop_back();
    }
    ASSERT_EQ(slab.in_use(), live.size());
  }
  const std::set<std::uint32_t> unique(live.begin(), live.end());
  EXPECT_EQ(unique.size(), live.size());
}

#ifndef NDEBUG
TEST(SlabDeathTest, Free_Twice_AssertsInDebugBuilds) {
  Slab<Record> slab(4);
  const std::uint32_t idx = slab.alloc();
  slab.free(idx);
  EXPECT_DEATH(slab.free(idx), "double free");
}

TEST(SlabDeathTest, Free_NeverAllocated_AssertsInDebugBuilds) {
  Slab<Record> slab(4);
  (void)slab.alloc();
  EXPECT_DEATH(slab.free(3), "not in use");
}
#endif

}  // namespace
}  // namespace synwave
