// The loss-recovery side table (loss_recovery.hpp): the held ranges against a byte map of what
// arrived, and the table's insert/find/erase against std::map, on random operations.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "synwave/loss_recovery.hpp"

namespace synwave {
namespace {

// Random segments past a moving RCV.NXT, near the sequence wrap: the held ranges must say exactly
// which bytes arrived (when a fifth range is refused, its bytes count as not arrived), and
// absorb() must advance RCV.NXT over exactly the bytes that then follow it without a gap.
TEST(RangeSet, HoldAndAbsorb_MatchAByteMapOfWhatArrived) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    RangeSet r;
    const std::uint32_t base = 0xffffff00u + static_cast<std::uint32_t>(rng() % 512);  // across the wrap
    SeqNum next(base);
    std::vector<bool> arrived(4096, false);  // by offset from base
    std::uint32_t next_off = 0;
    for (int step = 0; step < 40; ++step) {
      if (rng() % 4 == 0) {
        // The segment at RCV.NXT arrives: absorb what follows it.
        const std::uint32_t len = 1 + rng() % 64;
        for (std::uint32_t i = next_off; i < next_off + len; ++i) arrived[i] = true;
        next_off += len;
        while (next_off < arrived.size() && arrived[next_off]) ++next_off;
        next = r.absorb(next + len);
        ASSERT_EQ(next - SeqNum(base), next_off) << "round " << round << " step " << step;
      } else {
        const std::uint32_t start = next_off + 1 + rng() % 256;
        const std::uint32_t len = 1 + rng() % 64;
        if (r.hold(SeqNum(base) + start, SeqNum(base) + start + len)) {
          for (std::uint32_t i = start; i < start + len; ++i) arrived[i] = true;
        }
      }
      ASSERT_LE(r.count, RangeSet::kMax);
      if (r.count != 0) {
        ASSERT_LT(r.recent, r.count);
      }
      // The ranges: sorted, disjoint and not touching, above RCV.NXT, and exactly the bytes marked.
      std::vector<bool> held(arrived.size(), false);
      for (std::uint8_t k = 0; k < r.count; ++k) {
        ASSERT_LT(r.ranges[k].start, r.ranges[k].end);
        ASSERT_GT(r.ranges[k].start, next);
        if (k > 0) {
          ASSERT_LT(r.ranges[k - 1].end, r.ranges[k].start);
        }
        for (SeqNum s = r.ranges[k].start; s < r.ranges[k].end; s = s + 1) held[s - SeqNum(base)] = true;
      }
      for (std::uint32_t i = next_off; i < arrived.size(); ++i) ASSERT_EQ(held[i], arrived[i]) << "offset " << i;
    }
  }
}

// The sender's view: SACKed blocks come and go below a moving SND.UNA.
TEST(RangeSet, TrimBelow_ForgetsWhatIsAcknowledged) {
  RangeSet r;
  ASSERT_TRUE(r.hold(SeqNum(100), SeqNum(200)));
  ASSERT_TRUE(r.hold(SeqNum(300), SeqNum(400)));
  ASSERT_TRUE(r.hold(SeqNum(500), SeqNum(600)));
  EXPECT_EQ(r.recent, 2);
  r.trim_below(SeqNum(350));
  ASSERT_EQ(r.count, 2);
  EXPECT_EQ(r.ranges[0].start.raw(), 350u);
  EXPECT_EQ(r.ranges[0].end.raw(), 400u);
  EXPECT_EQ(r.recent, 1);
  r.trim_below(SeqNum(600));
  EXPECT_EQ(r.count, 0);
}

TEST(LossRecoveryTable, RandomInsertFindErase_MatchesStdMap) {
  std::mt19937 rng(11);
  LossRecoveryTable table(64);
  std::map<std::uint32_t, std::uint32_t> model;  // conn -> the recover value stored
  for (int step = 0; step < 200000; ++step) {
    const std::uint32_t conn = rng() % 200;
    if (rng() % 3 == 0) {
      table.erase(conn);
      model.erase(conn);
    } else if (LossRecord* r = table.find_or_insert(conn)) {
      if (!model.contains(conn)) {
        EXPECT_EQ(r->recover.raw(), 0u);
      }
      r->recover = SeqNum(static_cast<std::uint32_t>(step));
      model[conn] = static_cast<std::uint32_t>(step);
    } else {
      ASSERT_FALSE(model.contains(conn));
      ASSERT_GE(4 * (model.size() + 1), 3u * 64) << "refused while not 3/4 full";
    }
    ASSERT_EQ(table.size(), model.size());
    const std::uint32_t probe = rng() % 200;
    LossRecord* found = table.find(probe);
    ASSERT_EQ(found != nullptr, model.contains(probe)) << "conn " << probe << " step " << step;
    if (found != nullptr) {
      ASSERT_EQ(found->recover.raw(), model[probe]);
    }
  }
}

TEST(LossRecoveryTable, NoCapacity_EveryInsertRefused) {
  LossRecoveryTable table(0);
  EXPECT_EQ(table.find_or_insert(1), nullptr);
  EXPECT_EQ(table.find(1), nullptr);
  table.erase(1);
  EXPECT_TRUE(table.empty());
}

}  // namespace
}  // namespace synwave
