#include "synwave/time_wait_table.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace synwave {
namespace {

constexpr std::uint32_t kTwoMslMs = 60'000;
constexpr std::uint32_t kNoBudgetLimit = 0xffffffffu;

TimeWaitEntry make_entry(std::uint32_t n, std::uint32_t expires_ms) {
  TimeWaitEntry e{};
  e.key = FlowKey{0xC6120001u, 0xC6130000u + n, 80, static_cast<std::uint16_t>(40000 + n)};
  e.snd_nxt = 1000 + n;
  e.rcv_nxt = 2000 + n;
  e.ts_recent = 3000 + n;
  e.expires_ms = expires_ms;
  e.flags = time_wait_flags::kTimestamps;
  e.rcv_wscale = 7;
  return e;
}

// What one expire() call reported: (key's n, slot) in callback order.
struct Expired {
  std::vector<std::uint32_t> ids;
  std::vector<std::uint32_t> slots;
  std::uint32_t returned = 0;
};

Expired expire(TimeWaitTable& table, std::uint32_t now_ms, std::uint32_t budget = kNoBudgetLimit) {
  Expired out;
  out.returned = table.expire(now_ms, budget, [&](const TimeWaitEntry& e, std::uint32_t slot) {
    out.ids.push_back(e.key.remote_ip - 0xC6130000u);
    out.slots.push_back(slot);
  });
  EXPECT_EQ(out.returned, out.ids.size());
  return out;
}

using Ids = std::vector<std::uint32_t>;

TEST(TimeWaitEntryLayout, FitsInThirtyTwoBytes) {
  EXPECT_LE(sizeof(TimeWaitEntry), 32u);
  EXPECT_EQ(64u % sizeof(TimeWaitEntry), 0u);  // whole entries per cache line
}

TEST(TimeWaitTableConstruction, NewTable_IsEmptyWithAllMemoryReserved) {
  const TimeWaitTable table(1000);
  bool any = true;
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.occupied(), 0u);
  EXPECT_EQ(table.capacity(), 1000u);
  EXPECT_EQ(table.next_expiry_ms(any), 0u);
  EXPECT_FALSE(any);
  EXPECT_EQ(table.memory_bytes(), 1000u * sizeof(TimeWaitEntry));
  EXPECT_FALSE(table.live(0));
}

TEST(TimeWaitTableConstruction, CapacityAboveLimit_IsRejected) {
  EXPECT_THROW(TimeWaitTable(TimeWaitTable::kMaxCapacity + 1), std::length_error);
}

TEST(TimeWaitTableConstruction, ZeroCapacity_RefusesEveryInsert) {
  TimeWaitTable table(0);
  EXPECT_EQ(table.insert(make_entry(1, 10)), kNoIndex);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(expire(table, 100).returned, 0u);
}

TEST(TimeWaitTable, Insert_StoresEntryWithLiveBitAndKeepsFields) {
  TimeWaitTable table(4);
  const std::uint32_t slot = table.insert(make_entry(7, 500));
  ASSERT_NE(slot, kNoIndex);
  EXPECT_TRUE(table.live(slot));
  const TimeWaitEntry& e = table.at(slot);
  EXPECT_EQ(e.key, make_entry(7, 500).key);
  EXPECT_EQ(e.snd_nxt, 1007u);
  EXPECT_EQ(e.rcv_nxt, 2007u);
  EXPECT_EQ(e.ts_recent, 3007u);
  EXPECT_EQ(e.expires_ms, 500u);
  EXPECT_EQ(e.rcv_wscale, 7u);
  EXPECT_TRUE(e.has(time_wait_flags::kTimestamps));
  EXPECT_TRUE(e.has(time_wait_flags::kLive));
  EXPECT_EQ(table.size(), 1u);
}

TEST(TimeWaitTable, Expire_FiresInInsertionOrderOnlyWhenDue) {
  TimeWaitTable table(8);
  for (std::uint32_t n = 0; n < 5; ++n) ASSERT_NE(table.insert(make_entry(n, 100 + n * 10)), kNoIndex);

  EXPECT_EQ(expire(table, 99).ids, Ids{});
  EXPECT_EQ(expire(table, 100).ids, Ids{0});  // expires_ms == now is due
  EXPECT_EQ(expire(table, 125).ids, (Ids{1, 2}));
  EXPECT_EQ(expire(table, 1000).ids, (Ids{3, 4}));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.occupied(), 0u);
}

TEST(TimeWaitTable, Expire_ReportsTheSlotInsertReturned_AndFreesIt) {
  TimeWaitTable table(8);
  const std::uint32_t a = table.insert(make_entry(1, 10));
  const std::uint32_t b = table.insert(make_entry(2, 20));
  const Expired out = expire(table, 20);
  EXPECT_EQ(out.slots, (Ids{a, b}));
  EXPECT_FALSE(table.live(a));
  EXPECT_FALSE(table.live(b));
}

TEST(TimeWaitTable, Expire_WithBudget_ResumesWhereItStopped) {
  TimeWaitTable table(16);
  for (std::uint32_t n = 0; n < 10; ++n) ASSERT_NE(table.insert(make_entry(n, 50)), kNoIndex);

  EXPECT_EQ(expire(table, 60, 4).ids, (Ids{0, 1, 2, 3}));
  EXPECT_EQ(table.size(), 6u);
  EXPECT_EQ(expire(table, 60, 4).ids, (Ids{4, 5, 6, 7}));
  EXPECT_EQ(expire(table, 60, 4).ids, (Ids{8, 9}));
  EXPECT_EQ(table.size(), 0u);
}

TEST(TimeWaitTable, Expire_ZeroBudget_DoesNothing) {
  TimeWaitTable table(4);
  ASSERT_NE(table.insert(make_entry(1, 10)), kNoIndex);
  EXPECT_EQ(expire(table, 100, 0).returned, 0u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(TimeWaitTable, Remove_MiddleEntry_IsSkippedWithoutCallback) {
  TimeWaitTable table(8);
  std::vector<std::uint32_t> slots;
  for (std::uint32_t n = 0; n < 4; ++n) slots.push_back(table.insert(make_entry(n, 10 + n)));

  table.remove(slots[1]);
  table.remove(slots[2]);
  EXPECT_FALSE(table.live(slots[1]));
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.occupied(), 4u);  // dead slots wait for the head to pass them

  EXPECT_EQ(expire(table, 100).ids, (Ids{0, 3}));
  EXPECT_EQ(table.occupied(), 0u);
}

TEST(TimeWaitTable, Remove_HeadEntry_FreesItsSlotAtOnce) {
  TimeWaitTable table(8);
  const std::uint32_t head = table.insert(make_entry(0, 10));
  ASSERT_NE(table.insert(make_entry(1, 20)), kNoIndex);
  table.remove(head);
  EXPECT_EQ(table.occupied(), 1u);
  bool any = false;
  EXPECT_EQ(table.next_expiry_ms(any), 20u);
  EXPECT_TRUE(any);
}

TEST(TimeWaitTable, Remove_DeadSlot_DoesNothing) {
  TimeWaitTable table(8);
  const std::uint32_t a = table.insert(make_entry(0, 10));
  ASSERT_NE(table.insert(make_entry(1, 20)), kNoIndex);
  table.remove(a);
  table.remove(a);
  table.remove(7);  // never used
  EXPECT_EQ(table.size(), 1u);
}

TEST(TimeWaitTable, RemovingLastLiveEntry_ReclaimsEveryDeadSlot) {
  TimeWaitTable table(4);
  std::vector<std::uint32_t> slots;
  for (std::uint32_t n = 0; n < 4; ++n) slots.push_back(table.insert(make_entry(n, 10)));
  table.remove(slots[1]);
  table.remove(slots[2]);
  table.remove(slots[3]);
  EXPECT_EQ(table.occupied(), 4u);
  table.remove(slots[0]);
  EXPECT_EQ(table.occupied(), 0u);
  for (std::uint32_t n = 0; n < 4; ++n) EXPECT_NE(table.insert(make_entry(10 + n, 20)), kNoIndex);
}

TEST(TimeWaitTable, Insert_FullOfLiveEntries_ReturnsNoIndexAndChangesNothing) {
  TimeWaitTable table(3);
  for (std::uint32_t n = 0; n < 3; ++n) ASSERT_NE(table.insert(make_entry(n, 10 + n)), kNoIndex);
  EXPECT_EQ(table.insert(make_entry(9, 50)), kNoIndex);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(expire(table, 100).ids, (Ids{0, 1, 2}));
}

TEST(TimeWaitTable, Insert_FullRingWithDeadHead_SkipsDeadEntriesAndSucceeds) {
  TimeWaitTable table(4);
  std::vector<std::uint32_t> slots;
  for (std::uint32_t n = 0; n < 4; ++n) slots.push_back(table.insert(make_entry(n, 10 + n)));
  // Entry 0 is the head; removing 1 first keeps it in the ring until 0 goes.
  table.remove(slots[1]);
  EXPECT_EQ(table.insert(make_entry(8, 50)), kNoIndex);  // live head, dead slot behind it
  table.remove(slots[0]);
  const std::uint32_t reused = table.insert(make_entry(8, 50));
  EXPECT_NE(reused, kNoIndex);
  EXPECT_EQ(table.insert(make_entry(9, 50)), reused == slots[0] ? slots[1] : slots[0]);
  EXPECT_EQ(expire(table, 100).ids, (Ids{2, 3, 8, 9}));
}

TEST(TimeWaitTable, SlotIndices_WrapAroundTheRing) {
  TimeWaitTable table(3);
  std::vector<std::uint32_t> slots;
  for (std::uint32_t n = 0; n < 10; ++n) {
    const std::uint32_t slot = table.insert(make_entry(n, n));
    ASSERT_NE(slot, kNoIndex);
    slots.push_back(slot);
    if (n >= 2) {
      ASSERT_EQ(expire(table, n - 2).ids, Ids{n - 2});
    }
  }
  EXPECT_EQ(slots, (Ids{0, 1, 2, 0, 1, 2, 0, 1, 2, 0}));
}

TEST(TimeWaitTable, Restart_MovesEntryToTailWithNewExpiry) {
  TimeWaitTable table(8);
  const std::uint32_t a = table.insert(make_entry(0, 10));
  ASSERT_NE(table.insert(make_entry(1, 20)), kNoIndex);
  ASSERT_NE(table.insert(make_entry(2, 30)), kNoIndex);

  const std::uint32_t moved = table.restart(a, 40);
  ASSERT_NE(moved, kNoIndex);
  EXPECT_NE(moved, a);
  EXPECT_FALSE(table.live(a));
  EXPECT_EQ(table.at(moved).expires_ms, 40u);
  EXPECT_EQ(table.at(moved).key, make_entry(0, 0).key);
  EXPECT_EQ(table.at(moved).snd_nxt, 1000u);
  EXPECT_EQ(table.size(), 3u);

  EXPECT_EQ(expire(table, 35).ids, (Ids{1, 2}));  // the old expiry no longer fires
  EXPECT_EQ(expire(table, 40).slots, Ids{moved});
}

TEST(TimeWaitTable, Restart_FullRingOfLiveEntries_KeepsOldSlotAndExpiry) {
  TimeWaitTable table(3);
  ASSERT_NE(table.insert(make_entry(0, 10)), kNoIndex);
  const std::uint32_t middle = table.insert(make_entry(1, 20));
  ASSERT_NE(table.insert(make_entry(2, 30)), kNoIndex);

  EXPECT_EQ(table.restart(middle, 99), kNoIndex);
  EXPECT_TRUE(table.live(middle));
  EXPECT_EQ(table.at(middle).expires_ms, 20u);
  EXPECT_EQ(expire(table, 30).ids, (Ids{0, 1, 2}));
}

TEST(TimeWaitTable, Restart_HeadOfFullRing_StaysInItsSlotAtTheTail) {
  TimeWaitTable table(3);
  const std::uint32_t head = table.insert(make_entry(0, 10));
  ASSERT_NE(table.insert(make_entry(1, 20)), kNoIndex);
  ASSERT_NE(table.insert(make_entry(2, 30)), kNoIndex);

  EXPECT_EQ(table.restart(head, 40), head);
  EXPECT_EQ(table.at(head).expires_ms, 40u);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(expire(table, 100).ids, (Ids{1, 2, 0}));
}

TEST(TimeWaitTable, Restart_FullRingWithDeadHead_SkipsDeadEntriesAndMoves) {
  TimeWaitTable table(3);
  const std::uint32_t a = table.insert(make_entry(0, 10));
  const std::uint32_t b = table.insert(make_entry(1, 20));
  const std::uint32_t c = table.insert(make_entry(2, 30));
  ASSERT_EQ(table.restart(c, 40), kNoIndex);  // full of live entries
  table.remove(b);
  table.remove(a);  // head: popped with the dead slot behind it still counted
  EXPECT_EQ(table.occupied(), 2u);
  const std::uint32_t moved = table.restart(c, 40);
  EXPECT_NE(moved, kNoIndex);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(expire(table, 40).slots, Ids{moved});
}

TEST(TimeWaitTable, Restart_OnlyEntry_ReusesTheRing) {
  TimeWaitTable table(1);
  const std::uint32_t slot = table.insert(make_entry(0, 10));
  EXPECT_EQ(table.restart(slot, 20), slot);
  EXPECT_EQ(expire(table, 15).returned, 0u);
  EXPECT_EQ(expire(table, 20).ids, Ids{0});
}

TEST(TimeWaitTable, Expire_BudgetCountsDeadSlotsToo) {
  TimeWaitTable table(8);
  std::vector<std::uint32_t> slots;
  for (std::uint32_t n = 0; n < 6; ++n) slots.push_back(table.insert(make_entry(n, 10)));
  for (std::uint32_t n = 1; n < 4; ++n) table.remove(slots[n]);

  EXPECT_EQ(expire(table, 10, 3).ids, Ids{0});  // pops 0 and two dead slots
  EXPECT_EQ(table.occupied(), 3u);
  EXPECT_EQ(expire(table, 10, 3).ids, (Ids{4, 5}));
}

TEST(TimeWaitTable, Expire_PopsDeadHeadEntriesEvenWhenNothingIsDue) {
  TimeWaitTable table(8);
  std::vector<std::uint32_t> slots;
  for (std::uint32_t n = 0; n < 4; ++n) slots.push_back(table.insert(make_entry(n, 100 + n)));
  table.remove(slots[1]);
  table.remove(slots[0]);  // the head; slot 1 is now a dead head
  bool any = false;
  EXPECT_EQ(table.next_expiry_ms(any), 101u);  // the dead head's: early, never late
  EXPECT_EQ(expire(table, 50).returned, 0u);
  EXPECT_EQ(table.occupied(), 2u);
  EXPECT_EQ(table.next_expiry_ms(any), 102u);
}

TEST(TimeWaitTable, Expire_CallbackMayInsertIntoTheFreedSlot) {
  TimeWaitTable table(2);
  ASSERT_NE(table.insert(make_entry(0, 10)), kNoIndex);
  ASSERT_NE(table.insert(make_entry(1, 20)), kNoIndex);
  std::vector<std::uint32_t> seen;
  std::uint32_t inserted = kNoIndex;
  table.expire(10, kNoBudgetLimit, [&](const TimeWaitEntry& e, std::uint32_t slot) {
    inserted = table.insert(make_entry(5, 30));  // lands in `slot`, over the entry being reported
    seen.push_back(e.key.remote_ip - 0xC6130000u);
    seen.push_back(slot);
  });
  EXPECT_EQ(seen, (Ids{0, 0}));
  EXPECT_EQ(inserted, 0u);
  EXPECT_EQ(expire(table, 100).ids, (Ids{1, 5}));
}

TEST(TimeWaitTable, MsClockWrap_ExpiresInOrderAcrossZero) {
  TimeWaitTable table(8);
  const std::uint32_t start = 0xFFFFFFFFu - kTwoMslMs / 2;
  // Expiries: start + 2MSL wraps past zero for all three.
  for (std::uint32_t n = 0; n < 3; ++n) ASSERT_NE(table.insert(make_entry(n, start + n + kTwoMslMs)), kNoIndex);
  bool any = false;
  EXPECT_EQ(table.next_expiry_ms(any), start + kTwoMslMs);
  EXPECT_LT(table.next_expiry_ms(any), start);  // numerically below now: a naive compare would fire it

  EXPECT_EQ(expire(table, start).returned, 0u);
  EXPECT_EQ(expire(table, 0xFFFFFFFFu).returned, 0u);
  EXPECT_EQ(expire(table, start + kTwoMslMs + 1).ids, (Ids{0, 1}));
  EXPECT_EQ(expire(table, start + kTwoMslMs + 2).ids, Ids{2});
}

TEST(TimeWaitTable, NextExpiry_FollowsTheHead) {
  TimeWaitTable table(4);
  bool any = false;
  ASSERT_NE(table.insert(make_entry(0, 10)), kNoIndex);
  ASSERT_NE(table.insert(make_entry(1, 20)), kNoIndex);
  EXPECT_EQ(table.next_expiry_ms(any), 10u);
  EXPECT_TRUE(any);
  (void)expire(table, 10);
  EXPECT_EQ(table.next_expiry_ms(any), 20u);
  (void)expire(table, 20);
  (void)table.next_expiry_ms(any);
  EXPECT_FALSE(any);
}

// The table against a plain model (a deque of (id, expiry) in insertion order) under a random mix
// of operations, including overflow and restart of a full ring.
TEST(TimeWaitTable, RandomOperations_MatchASimpleModel) {
  constexpr std::uint32_t kCapacity = 64;
  TimeWaitTable table(kCapacity);
  struct ModelEntry {
    std::uint32_t id;
    std::uint32_t expires;
    std::uint32_t slot;
  };
  std::deque<ModelEntry> model;  // live entries, in ring order
  std::mt19937 rng(12345);
  std::uint32_t now = 0xFFFF0000u;  // crosses the ms wrap during the run
  std::uint32_t next_id = 0;
  std::uint32_t overflows = 0;
  std::uint32_t restarts_moved = 0;
  std::uint32_t restarts_refused = 0;
  auto find = [&](std::uint32_t index) { return model.begin() + static_cast<std::ptrdiff_t>(index); };

  constexpr std::uint32_t kLifeMs = 4000;
  for (int step = 0; step < 20000; ++step) {
    // Phases of a slow clock (the ring fills: overflows, refused restarts) and a fast one (it drains).
    const std::uint32_t max_advance = (step / 2000) % 2 == 0 ? 100 : 600;
    const std::uint32_t op = rng() % 10;
    if (op < 4) {
      const std::uint32_t slot = table.insert(make_entry(next_id, now + kLifeMs));
      if (slot != kNoIndex) {
        model.push_back({next_id, now + kLifeMs, slot});
      } else {
        // Full only when the ring span is: occupied() counts the dead slots the head has not passed.
        EXPECT_EQ(table.occupied(), kCapacity);
        ++overflows;
      }
      ++next_id;
    } else if (op < 5 && !model.empty()) {
      const auto it = find(rng() % model.size());
      table.remove(it->slot);
      model.erase(it);
    } else if (op < 6 && !model.empty()) {
      const auto it = find(rng() % model.size());
      const std::uint32_t slot = table.restart(it->slot, now + kLifeMs);
      if (slot != kNoIndex) {
        ModelEntry moved = *it;
        moved.slot = slot;
        moved.expires = now + kLifeMs;
        model.erase(it);
        model.push_back(moved);
        ++restarts_moved;
      } else {
        ++restarts_refused;
      }
    } else if (op < 8) {
      now += rng() % max_advance;
      const std::uint32_t budget = 1 + rng() % 8;
      const Expired out = expire(table, now, budget);
      for (std::size_t i = 0; i < out.ids.size(); ++i) {
        ASSERT_FALSE(model.empty());
        EXPECT_EQ(out.ids[i], model.front().id);
        EXPECT_EQ(out.slots[i], model.front().slot);
        EXPECT_GE(static_cast<std::int32_t>(now - model.front().expires), 0);
        model.pop_front();
      }
    } else {
      now += rng() % (max_advance / 4);
    }
    ASSERT_EQ(table.size(), model.size());
    bool any = false;
    const std::uint32_t next = table.next_expiry_ms(any);
    ASSERT_EQ(any, !model.empty());
    if (any) {
      EXPECT_LE(static_cast<std::int32_t>(next - model.front().expires), 0);
    }
    for (const ModelEntry& m : model) {
      ASSERT_TRUE(table.live(m.slot));
      ASSERT_EQ(table.at(m.slot).key.remote_ip, 0xC6130000u + m.id);
      ASSERT_EQ(table.at(m.slot).expires_ms, m.expires);
    }
  }
  // Draining everything gives the model's order.
  const Expired rest = expire(table, now + kLifeMs);
  ASSERT_EQ(rest.ids.size(), model.size());
  for (std::size_t i = 0; i < model.size(); ++i) EXPECT_EQ(rest.ids[i], model[i].id);
  EXPECT_EQ(table.occupied(), 0u);
  // The mix reached the paths that matter, not only the easy ones.
  EXPECT_GT(overflows, 0u);
  EXPECT_GT(restarts_moved, 0u);
  EXPECT_GT(restarts_refused, 0u);
}

// ---- time_wait_decide ----------------------------------------------------------------------

struct DecideCase {
  const char* name;
  bool entry_timestamps;
  std::uint32_t rcv_nxt;
  std::uint32_t ts_recent;
  std::uint8_t flags;
  std::uint32_t seq;
  std::uint32_t payload_len;
  bool seg_timestamps;
  std::uint32_t ts_val;
  TimeWaitDecision expected;
};

std::ostream& operator<<(std::ostream& os, const DecideCase& c) { return os << c.name; }

const char* decision_name(TimeWaitDecision d) {
  switch (d) {
    case TimeWaitDecision::kAck: return "kAck";
    case TimeWaitDecision::kAckAndRestart: return "kAckAndRestart";
    case TimeWaitDecision::kIgnore: return "kIgnore";
    case TimeWaitDecision::kReuse: return "kReuse";
    case TimeWaitDecision::kDrop: return "kDrop";
  }
  return "?";
}

using namespace tcp_flags;
constexpr bool kTs = true;
constexpr bool kNoTs = false;
constexpr std::uint32_t kRcv = 5000;
constexpr std::uint32_t kRecent = 700;
constexpr std::uint8_t kFinAck = kFin | kAck;
constexpr std::uint8_t kRstAck = kRst | kAck;
constexpr std::uint8_t kSynAck = kSyn | kAck;
constexpr std::uint8_t kNoFlags = 0;
constexpr std::uint8_t kSynRst = kSyn | kRst;
constexpr std::uint8_t kSynFin = kSyn | kFin;

using D = TimeWaitDecision;

// entry_ts, rcv_nxt, ts_recent | flags, seq, payload, seg_ts, ts_val | expected
const DecideCase kDecideCases[] = {
    // RFC 1337: RST is never obeyed nor answered, wherever it falls.
    {"Rst_InWindow_IsIgnored", kTs, kRcv, kRecent, kRst, kRcv, 0, kTs, kRecent + 1, D::kIgnore},
    {"RstAck_OutOfWindow_IsIgnored", kNoTs, kRcv, 0, kRstAck, kRcv - 100, 0, kNoTs, 0, D::kIgnore},
    {"Rst_PawsOld_IsIgnored", kTs, kRcv, kRecent, kRst, kRcv, 0, kTs, kRecent - 5, D::kIgnore},
    {"SynRst_IsIgnored", kNoTs, kRcv, 0, kSynRst, kRcv + 100, 0, kNoTs, 0, D::kIgnore},

    // RFC 6191 without timestamps on both sides: the ISN decides.
    {"Syn_NoTimestamps_HigherIsn_Reuses", kNoTs, kRcv, 0, kSyn, kRcv + 1, 0, kNoTs, 0, D::kReuse},
    {"Syn_NoTimestamps_EqualIsn_Acks", kNoTs, kRcv, 0, kSyn, kRcv, 0, kNoTs, 0, D::kAck},
    {"Syn_NoTimestamps_LowerIsn_Acks", kNoTs, kRcv, 0, kSyn, kRcv - 1, 0, kNoTs, 0, D::kAck},
    {"Syn_NoTimestamps_IsnAcrossSeqWrap_Reuses", kNoTs, 0xFFFFFFF0u, 0, kSyn, 0x10, 0, kNoTs, 0, D::kReuse},
    {"Syn_NoTimestamps_IsnBehindAcrossSeqWrap_Acks", kNoTs, 0x10, 0, kSyn, 0xFFFFFFF0u, 0, kNoTs, 0, D::kAck},
    {"Syn_EntryWithoutTs_SynWithTs_IsnDecidesHigher", kNoTs, kRcv, 0, kSyn, kRcv + 9, 0, kTs, 1, D::kReuse},
    {"Syn_EntryWithoutTs_SynWithTs_IsnDecidesLower", kNoTs, kRcv, 0, kSyn, kRcv - 9, 0, kTs, 0xFFFF, D::kAck},
    {"Syn_EntryWithTs_SynWithoutTs_IsnDecidesHigher", kTs, kRcv, kRecent, kSyn, kRcv + 9, 0, kNoTs, 0, D::kReuse},
    {"Syn_EntryWithTs_SynWithoutTs_IsnDecidesLower", kTs, kRcv, kRecent, kSyn, kRcv - 9, 0, kNoTs, 0, D::kAck},

    // RFC 6191 with timestamps on both sides: TSval first, ISN breaks a tie.
    {"Syn_NewerTimestamp_LowerIsn_Reuses", kTs, kRcv, kRecent, kSyn, kRcv - 1000, 0, kTs, kRecent + 1, D::kReuse},
    {"Syn_EqualTimestamp_HigherIsn_Reuses", kTs, kRcv, kRecent, kSyn, kRcv + 1, 0, kTs, kRecent, D::kReuse},
    {"Syn_EqualTimestamp_LowerIsn_Acks", kTs, kRcv, kRecent, kSyn, kRcv - 1, 0, kTs, kRecent, D::kAck},
    {"Syn_OlderTimestamp_HigherIsn_Acks", kTs, kRcv, kRecent, kSyn, kRcv + 1000, 0, kTs, kRecent - 1, D::kAck},
    {"Syn_TimestampAcrossTsWrap_Reuses", kTs, kRcv, 0xFFFFFFF0u, kSyn, kRcv - 1, 0, kTs, 0x5, D::kReuse},
    {"Syn_TimestampBehindAcrossTsWrap_Acks", kTs, kRcv, 0x5, kSyn, kRcv + 1, 0, kTs, 0xFFFFFFF0u, D::kAck},

    // A SYN that cannot open a connection: challenge ACK (RFC 5961 §4), never reuse.
    {"SynAck_NewerEverything_Acks", kTs, kRcv, kRecent, kSynAck, kRcv + 1000, 0, kTs, kRecent + 1000, D::kAck},
    {"SynFin_NewerIsn_Acks", kNoTs, kRcv, 0, kSynFin, kRcv + 1, 0, kNoTs, 0, D::kAck},

    // Retransmitted FIN (RFC 9293 §3.10.7.4): ACK and restart 2MSL.
    {"FinAck_Retransmitted_AcksAndRestarts", kNoTs, kRcv, 0, kFinAck, kRcv - 1, 0, kNoTs, 0, D::kAckAndRestart},
    {"FinAck_RetransmittedWithData_AcksAndRestarts", kNoTs, kRcv, 0, kFinAck, kRcv - 101, 100, kNoTs, 0,
     D::kAckAndRestart},
    {"FinAck_RetransmittedAcrossSeqWrap_AcksAndRestarts", kNoTs, 0, 0, kFinAck, 0xFFFFFFFFu, 0, kNoTs, 0,
     D::kAckAndRestart},
    {"FinAck_RetransmittedDataAcrossSeqWrap_AcksAndRestarts", kNoTs, 0x20, 0, kFinAck, 0xFFFFFFF0u, 0x2F, kNoTs,
     0, D::kAckAndRestart},
    {"FinAck_Retransmitted_NewerTimestamp_AcksAndRestarts", kTs, kRcv, kRecent, kFinAck, kRcv - 1, 0, kTs,
     kRecent + 3, D::kAckAndRestart},
    {"FinAck_Retransmitted_EqualTimestamp_AcksAndRestarts", kTs, kRcv, kRecent, kFinAck, kRcv - 1, 0, kTs,
     kRecent, D::kAckAndRestart},
    {"FinAck_PawsOld_AcksWithoutRestart", kTs, kRcv, kRecent, kFinAck, kRcv - 1, 0, kTs, kRecent - 1, D::kAck},
    {"Fin_WithoutAck_AcksWithoutRestart", kNoTs, kRcv, 0, kFin, kRcv - 1, 0, kNoTs, 0, D::kAck},
    {"FinAck_AtRcvNxt_IsNotARetransmission_Acks", kNoTs, kRcv, 0, kFinAck, kRcv, 0, kNoTs, 0, D::kAck},
    {"FinAck_EndingBeforeRcvNxt_Acks", kNoTs, kRcv, 0, kFinAck, kRcv - 2, 0, kNoTs, 0, D::kAck},

    // Acceptable with a zero window (SEG.LEN = 0, SEG.SEQ = RCV.NXT): nothing to do.
    {"Ack_AtRcvNxt_IsDropped", kNoTs, kRcv, 0, kAck, kRcv, 0, kNoTs, 0, D::kDrop},
    {"Ack_AtRcvNxt_NewerTimestamp_IsDropped", kTs, kRcv, kRecent, kAck, kRcv, 0, kTs, kRecent + 1, D::kDrop},
    {"Ack_AtRcvNxt_MissingTimestamp_IsDropped", kTs, kRcv, kRecent, kAck, kRcv, 0, kNoTs, 0, D::kDrop},
    {"NoFlags_AtRcvNxt_IsDropped", kNoTs, kRcv, 0, kNoFlags, kRcv, 0, kNoTs, 0, D::kDrop},
    {"Ack_AtRcvNxt_OldTimestampButEntryWithoutTs_IsDropped", kNoTs, kRcv, kRecent, kAck, kRcv, 0, kTs, 1,
     D::kDrop},

    // RFC 7323 §5.3 R1: a PAWS-old segment is unacceptable: ACK.
    {"Ack_AtRcvNxt_PawsOld_Acks", kTs, kRcv, kRecent, kAck, kRcv, 0, kTs, kRecent - 1, D::kAck},
    {"Ack_AtRcvNxt_PawsOldAcrossTsWrap_Acks", kTs, kRcv, 0x5, kAck, kRcv, 0, kTs, 0xFFFFFFF0u, D::kAck},

    // Unacceptable segments (RFC 9293 §3.10.7.4 first check): ACK.
    {"Ack_BelowRcvNxt_Acks", kNoTs, kRcv, 0, kAck, kRcv - 1, 0, kNoTs, 0, D::kAck},
    {"Ack_AboveRcvNxt_Acks", kNoTs, kRcv, 0, kAck, kRcv + 1, 0, kNoTs, 0, D::kAck},
    {"Ack_AboveRcvNxtAcrossSeqWrap_Acks", kNoTs, 0xFFFFFFFFu, 0, kAck, 0, 0, kNoTs, 0, D::kAck},
    {"Data_AtRcvNxt_Acks", kNoTs, kRcv, 0, kAck, kRcv, 10, kNoTs, 0, D::kAck},
    {"Data_OldDuplicate_Acks", kTs, kRcv, kRecent, kAck, kRcv - 500, 100, kTs, kRecent, D::kAck},
    {"Data_WithoutAck_OutOfWindow_Acks", kNoTs, kRcv, 0, kNoFlags, kRcv - 500, 100, kNoTs, 0, D::kAck},
};

class TimeWaitDecideTest : public ::testing::TestWithParam<DecideCase> {};

TEST_P(TimeWaitDecideTest, MatchesTheRfcTable) {
  const DecideCase& c = GetParam();
  TimeWaitEntry e = make_entry(1, 0);
  e.rcv_nxt = c.rcv_nxt;
  e.ts_recent = c.ts_recent;
  e.flags = static_cast<std::uint8_t>(time_wait_flags::kLive | (c.entry_timestamps ? time_wait_flags::kTimestamps : 0));

  TcpSegment seg;
  seg.flags = c.flags;
  seg.seq = SeqNum(c.seq);
  seg.ack = SeqNum(e.snd_nxt);
  seg.payload_len = c.payload_len;
  seg.options.has_timestamps = c.seg_timestamps;
  seg.options.ts_val = c.ts_val;
  seg.options.ts_ecr = 1;

  const TimeWaitDecision got = time_wait_decide(e, seg);
  EXPECT_EQ(got, c.expected) << "got " << decision_name(got) << ", expected " << decision_name(c.expected);
}

INSTANTIATE_TEST_SUITE_P(TimeWait, TimeWaitDecideTest, ::testing::ValuesIn(kDecideCases),
                         [](const ::testing::TestParamInfo<DecideCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace synwave
