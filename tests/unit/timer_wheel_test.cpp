#include "synwave/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace synwave {
namespace {

constexpr std::uint32_t kSlots = 16;
constexpr TimeNs kWidth = 1024;  // ns per slot
constexpr TimeNs kHorizon = kSlots * kWidth;
constexpr std::uint32_t kNoBudgetLimit = 0xffffffffu;

// The node sits after a payload so the tests exercise a stride other than sizeof(TimerNode).
struct Record {
  std::uint64_t payload = 0;
  TimerNode timer;
};

class TimerWheelTest : public ::testing::Test {
 protected:
  TimerWheelTest() : records_(4096), wheel_(kSlots, kWidth, 0) {
    wheel_.bind(&records_[0].timer, sizeof(Record));
  }

  std::vector<std::uint32_t> Expire(TimeNs now, std::uint32_t budget = kNoBudgetLimit) {
    std::vector<std::uint32_t> fired;
    const std::uint32_t count =
        wheel_.expire(now, budget, [&](std::uint32_t id) { fired.push_back(id); });
    EXPECT_EQ(count, fired.size());
    return fired;
  }

  std::vector<Record> records_;
  TimerWheel wheel_;
};

using Ids = std::vector<std::uint32_t>;

TEST(TimerWheelConstruction, NonPowerOfTwoSizes_AreRejected) {
  EXPECT_THROW(TimerWheel(15, 1024, 0), std::invalid_argument);
  EXPECT_THROW(TimerWheel(0, 1024, 0), std::invalid_argument);
  EXPECT_THROW(TimerWheel(16, 1000, 0), std::invalid_argument);
}

TEST(TimerNodeLayout, IsSixteenBytesAndStartsUnarmed) {
  const TimerNode node;
  EXPECT_EQ(sizeof(TimerNode), 16u);
  EXPECT_EQ(node.expiry, kNever);
  EXPECT_EQ(node.next, kNoTimer);
}

TEST_F(TimerWheelTest, Arm_FiresAtExactExpiry_NotBefore) {
  wheel_.arm(3, 5000);
  EXPECT_TRUE(wheel_.armed(3));
  EXPECT_EQ(wheel_.expiry(3), 5000u);
  EXPECT_TRUE(Expire(4999).empty());
  EXPECT_EQ(Expire(5000), Ids{3});
  EXPECT_FALSE(wheel_.armed(3));
  EXPECT_EQ(wheel_.expiry(3), kNever);
  EXPECT_EQ(wheel_.armed_count(), 0u);
  EXPECT_TRUE(Expire(100000).empty());
}

TEST_F(TimerWheelTest, Arm_ThenCancel_NeverFires) {
  wheel_.arm(1, 2000);
  wheel_.cancel(1);
  EXPECT_FALSE(wheel_.armed(1));
  EXPECT_EQ(wheel_.armed_count(), 0u);
  EXPECT_TRUE(Expire(10 * kHorizon).empty());
}

TEST_F(TimerWheelTest, Cancel_UnarmedNode_IsNoOp) {
  wheel_.arm(2, 2000);
  wheel_.cancel(1);
  wheel_.cancel(1);
  EXPECT_EQ(wheel_.armed_count(), 1u);
  EXPECT_EQ(Expire(2000), Ids{2});
}

TEST_F(TimerWheelTest, ArmWithNever_ActsAsCancel) {
  wheel_.arm(1, 2000);
  wheel_.arm(1, kNever);
  EXPECT_FALSE(wheel_.armed(1));
  EXPECT_EQ(wheel_.armed_count(), 0u);
  EXPECT_TRUE(Expire(3000).empty());
}

struct RearmCase {
  const char* name;
  TimeNs first;
  TimeNs second;
};

std::ostream& operator<<(std::ostream& os, const RearmCase& c) { return os << c.name; }

class TimerWheelRearmTest : public TimerWheelTest,
                            public ::testing::WithParamInterface<RearmCase> {};

TEST_P(TimerWheelRearmTest, Rearm_MovesNode_FiresOnceAtNewExpiry) {
  const RearmCase c = GetParam();
  wheel_.arm(7, c.first);
  wheel_.arm(7, c.second);
  EXPECT_EQ(wheel_.armed_count(), 1u);
  EXPECT_EQ(wheel_.expiry(7), c.second);
  EXPECT_TRUE(Expire(c.second - 1).empty());
  EXPECT_EQ(Expire(c.second), Ids{7});
  EXPECT_TRUE(Expire(c.second + 3 * kHorizon).empty());
}

INSTANTIATE_TEST_SUITE_P(
    Moves, TimerWheelRearmTest,
    ::testing::Values(RearmCase{"Later", 3000, 9000}, RearmCase{"Earlier", 9000, 3000},
                      RearmCase{"SameSlot", 3000, 3500},
                      RearmCase{"NextRevolution", 3000, 3000 + kHorizon}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(TimerWheelTest, ManyTimersInOneSlot_FireExactlyThoseDue) {
  // Slot 4 covers [4096, 5120): ids 0..999 spread over it.
  for (std::uint32_t id = 0; id < 1000; ++id) wheel_.arm(id, 4096 + id);
  Ids fired = Expire(4096 + 499);
  std::sort(fired.begin(), fired.end());
  ASSERT_EQ(fired.size(), 500u);
  for (std::uint32_t i = 0; i < 500; ++i) EXPECT_EQ(fired[i], i);
  EXPECT_EQ(wheel_.armed_count(), 500u);
  EXPECT_EQ(Expire(4096 + 999).size(), 500u);
  EXPECT_EQ(wheel_.armed_count(), 0u);
}

class TimerWheelHorizonTest : public TimerWheelTest,
                              public ::testing::WithParamInterface<TimeNs> {};

TEST_P(TimerWheelHorizonTest, ExpiryBeyondHorizon_FiresOnTime_NotOnEarlierRevolutions) {
  const TimeNs expiry = GetParam();
  wheel_.arm(0, expiry);
  // Steps smaller than a slot make the wheel pass the node's slot on every revolution.
  for (TimeNs now = 0; now < expiry; now += 300) {
    ASSERT_TRUE(Expire(now).empty()) << "fired early at " << now;
  }
  EXPECT_EQ(Expire(expiry), Ids{0});
}

INSTANTIATE_TEST_SUITE_P(Revolutions, TimerWheelHorizonTest,
                         ::testing::Values(kHorizon, kHorizon + 1, 3 * kHorizon + 100,
                                           7 * kHorizon - 1, 12 * kHorizon + 5 * kWidth + 17));

TEST_F(TimerWheelTest, Budget_ResumesMidSlot_WithoutLossOrDuplication) {
  for (std::uint32_t id = 0; id < 100; ++id) wheel_.arm(id, 2048 + id);  // one slot
  std::vector<int> times_fired(100, 0);
  std::uint32_t calls = 0;
  while (wheel_.armed_count() > 0) {
    const Ids fired = Expire(5000, 7);
    ASSERT_LE(fired.size(), 7u);
    for (std::uint32_t id : fired) ++times_fired[id];
    ASSERT_LT(++calls, 100u);
  }
  EXPECT_EQ(calls, 15u);  // 14 full calls of 7, then the last 2
  for (int n : times_fired) EXPECT_EQ(n, 1);
}

TEST_F(TimerWheelTest, Budget_ResumesAcrossSlotsAndOverdue_WithoutLossOrDuplication) {
  // Spread over many slots and revolutions; some armed after the wheel moved (overdue).
  auto expiry_of = [](std::uint32_t id) -> TimeNs { return id < 2000 ? 100 + id * 37 : id; };
  for (std::uint32_t id = 0; id < 2000; ++id) wheel_.arm(id, expiry_of(id));
  EXPECT_EQ(Expire(40000, 0).size(), 0u);  // a zero budget fires nothing
  for (std::uint32_t id = 2000; id < 2100; ++id) wheel_.arm(id, expiry_of(id));  // behind the cursor
  std::vector<int> times_fired(2100, 0);
  std::uint32_t total = 0;
  for (;;) {
    const Ids fired = Expire(60000, 13);
    for (std::uint32_t id : fired) {
      ASSERT_LE(expiry_of(id), 60000u);
      ++times_fired[id];
    }
    total += static_cast<std::uint32_t>(fired.size());
    if (fired.size() < 13) break;
  }
  std::uint32_t due = 0;
  for (std::uint32_t id = 0; id < 2100; ++id) {
    const bool is_due = expiry_of(id) <= 60000;
    due += is_due ? 1 : 0;
    EXPECT_EQ(times_fired[id], is_due ? 1 : 0) << "id " << id;
  }
  EXPECT_EQ(total, due);
  EXPECT_EQ(wheel_.armed_count(), 2100 - due);
}

TEST_F(TimerWheelTest, RearmInsideCallback_ForNow_FiresOnNextCallNotSameCall) {
  // Fires in slot 0; "now" lies in slot 4, which the same walk visits afterwards.
  wheel_.arm(5, 1000);
  std::uint32_t calls = 0;
  auto rearm_now = [&](std::uint32_t id) {
    ++calls;
    wheel_.arm(id, 5000);
  };
  EXPECT_EQ(wheel_.expire(5000, kNoBudgetLimit, rearm_now), 1u);
  EXPECT_EQ(calls, 1u);
  EXPECT_TRUE(wheel_.armed(5));
  EXPECT_LE(wheel_.next_deadline(), 5000u);
  EXPECT_EQ(wheel_.expire(5000, kNoBudgetLimit, rearm_now), 1u);
  EXPECT_EQ(calls, 2u);
}

TEST_F(TimerWheelTest, RearmInsideCallback_ForLater_FiresAtNewExpiry) {
  wheel_.arm(5, 1000);
  Ids fired;
  auto rearm_later = [&](std::uint32_t id) {
    fired.push_back(id);
    if (fired.size() == 1) wheel_.arm(id, 1000 + 5 * kHorizon);
  };
  wheel_.expire(1000, kNoBudgetLimit, rearm_later);
  EXPECT_EQ(wheel_.expiry(5), 1000 + 5 * kHorizon);
  wheel_.expire(1000 + 5 * kHorizon - 1, kNoBudgetLimit, rearm_later);
  EXPECT_EQ(fired.size(), 1u);
  wheel_.expire(1000 + 5 * kHorizon, kNoBudgetLimit, rearm_later);
  EXPECT_EQ(fired, (Ids{5, 5}));
}

TEST_F(TimerWheelTest, CallbackCancelsOtherDueNodeInSameSlot_ItNeverFires) {
  wheel_.arm(1, 1100);
  wheel_.arm(2, 1200);
  Ids fired;
  wheel_.expire(2000, kNoBudgetLimit, [&](std::uint32_t id) {
    fired.push_back(id);
    wheel_.cancel(id == 1 ? 2 : 1);
  });
  EXPECT_EQ(fired.size(), 1u);
  EXPECT_EQ(wheel_.armed_count(), 0u);
}

struct ArmOtherCase {
  const char* name;
  TimeNs other_expiry;  // all due at now = 5000; the first fired node sits in slot 1
};

std::ostream& operator<<(std::ostream& os, const ArmOtherCase& c) { return os << c.name; }

class TimerWheelArmOtherTest : public TimerWheelTest,
                               public ::testing::WithParamInterface<ArmOtherCase> {};

TEST_P(TimerWheelArmOtherTest, CallbackArmsOtherNodeAlreadyDue_FiresOnNextCallNotSameCall) {
  const TimeNs other_expiry = GetParam().other_expiry;
  wheel_.arm(1, 1100);
  Ids fired;
  auto arm_other = [&](std::uint32_t id) {
    fired.push_back(id);
    if (id == 1) wheel_.arm(2, other_expiry);
  };
  wheel_.expire(5000, kNoBudgetLimit, arm_other);
  EXPECT_EQ(fired, Ids{1});
  EXPECT_LE(wheel_.next_deadline(), other_expiry);
  wheel_.expire(5000, kNoBudgetLimit, arm_other);
  EXPECT_EQ(fired, (Ids{1, 2}));
}

INSTANTIATE_TEST_SUITE_P(
    WhereTheOtherLands, TimerWheelArmOtherTest,
    ::testing::Values(ArmOtherCase{"SlotAlreadyWalked", 500},
                      ArmOtherCase{"SlotBeingWalked", 1500},
                      ArmOtherCase{"SlotAheadInThisWalk", 4500}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(TimerWheelTest, CallbackMovesNextNodeInWalk_ItFiresAtNewExpiryOnly) {
  // One slot holding 1..4; the list is walked newest first, so 4 fires first.
  for (std::uint32_t id = 1; id <= 4; ++id) wheel_.arm(id, 1024 + id);
  Ids fired;
  wheel_.expire(5000, kNoBudgetLimit, [&](std::uint32_t id) {
    fired.push_back(id);
    if (id == 4) wheel_.arm(3, 9000);
  });
  EXPECT_EQ(fired, (Ids{4, 2, 1}));
  EXPECT_EQ(wheel_.expiry(3), 9000u);
  EXPECT_TRUE(Expire(8999).empty());
  EXPECT_EQ(Expire(9000), Ids{3});
}

TEST_F(TimerWheelTest, CallbackCancelsNextNodeInWalk_LaterNodesFireInSameCall) {
  // One slot holding 1..4; the list is walked newest first, so 4 fires first.
  for (std::uint32_t id = 1; id <= 4; ++id) wheel_.arm(id, 1024 + id);
  Ids fired;
  wheel_.expire(5000, kNoBudgetLimit, [&](std::uint32_t id) {
    fired.push_back(id);
    if (id == 4) wheel_.cancel(3);
  });
  EXPECT_EQ(fired, (Ids{4, 2, 1}));
}

TEST_F(TimerWheelTest, ArmInThePast_FiresOnNextExpire) {
  EXPECT_TRUE(Expire(10 * kHorizon).empty());
  wheel_.arm(9, 10);
  EXPECT_LE(wheel_.next_deadline(), 10u);
  EXPECT_EQ(Expire(10 * kHorizon), Ids{9});
}

TEST_F(TimerWheelTest, NextDeadline_EmptyWheel_IsNever) {
  EXPECT_EQ(wheel_.next_deadline(), kNever);
  wheel_.arm(1, 5000);
  wheel_.cancel(1);
  EXPECT_EQ(wheel_.next_deadline(), kNever);
}

TEST_F(TimerWheelTest, NextDeadline_IsEarliestExpiry_AcrossSlotsAndRevolutions) {
  wheel_.arm(1, 12000);
  wheel_.arm(2, 5000 + 3 * kHorizon);  // earlier slot, later revolution
  wheel_.arm(3, 9000);
  EXPECT_EQ(wheel_.next_deadline(), 9000u);
  wheel_.cancel(3);  // empties its slot, which forgets the slot's minimum
  EXPECT_EQ(wheel_.next_deadline(), 12000u);
  wheel_.arm(4, 12100);
  wheel_.arm(5, 12050);
  wheel_.cancel(5);  // the slot keeps a stale minimum until walked: early, never late
  EXPECT_EQ(wheel_.next_deadline(), 12000u);
  wheel_.cancel(4);
  EXPECT_TRUE(Expire(11000).empty());
  EXPECT_EQ(wheel_.next_deadline(), 12000u);
  EXPECT_EQ(Expire(12000), Ids{1});
  EXPECT_EQ(wheel_.next_deadline(), 5000 + 3 * kHorizon);
}

TEST_F(TimerWheelTest, NextDeadline_AfterBudgetStop_ReportsDueNow) {
  for (std::uint32_t id = 0; id < 10; ++id) wheel_.arm(id, 1000 + id * kWidth);
  EXPECT_EQ(Expire(20 * kWidth, 3).size(), 3u);
  EXPECT_LE(wheel_.next_deadline(), 20 * kWidth);
  EXPECT_EQ(Expire(20 * kWidth).size(), 7u);
  EXPECT_EQ(wheel_.next_deadline(), kNever);
}

TEST_F(TimerWheelTest, LargeTimeJump_FiresEverythingDue_KeepsTheRestOnTime) {
  for (std::uint32_t id = 0; id < 1000; ++id) wheel_.arm(id, id * 997);
  const TimeNs jump = 500 * 997 + 3;  // about 30 revolutions in one call
  Ids fired = Expire(jump);
  std::sort(fired.begin(), fired.end());
  ASSERT_EQ(fired.size(), 501u);
  for (std::uint32_t i = 0; i <= 500; ++i) EXPECT_EQ(fired[i], i);
  for (std::uint32_t id = 501; id < 1000; ++id) {
    EXPECT_TRUE(Expire(id * 997 - 1).empty());
    EXPECT_EQ(Expire(id * 997), Ids{id});
  }
}

TEST_F(TimerWheelTest, HugeTimeJump_VisitsEachSlotOnce_FiresAllDue) {
  // 2^52 ticks behind: walking tick by tick would not finish, one revolution does.
  for (std::uint32_t id = 0; id < 100; ++id) wheel_.arm(id, id * 1500);
  const TimeNs far = TimeNs{1} << 62;
  wheel_.arm(100, far + 1);
  EXPECT_EQ(Expire(far).size(), 100u);
  EXPECT_EQ(wheel_.armed_count(), 1u);
  EXPECT_EQ(Expire(far + 1), Ids{100});
}

TEST(TimerWheelStart, WheelStartingLate_FiresRelativeToItsStart) {
  std::vector<TimerNode> nodes(4);
  const TimeNs start = 1000 * kSecond + 12345;
  TimerWheel wheel(kSlots, kWidth, start);
  wheel.bind(nodes.data(), sizeof(TimerNode));
  wheel.arm(0, start + 50 * kWidth);
  wheel.arm(1, start - 1);  // already due
  std::uint32_t fired = 0;
  EXPECT_EQ(wheel.expire(start, kNoBudgetLimit, [&](std::uint32_t id) { fired |= 1u << id; }), 1u);
  EXPECT_EQ(fired, 0b10u);
  EXPECT_EQ(wheel.expire(start + 50 * kWidth, kNoBudgetLimit, [&](std::uint32_t) {}), 1u);
}

// Randomized model check: a multimap of (expiry, id) is the reference. After every operation
// next_deadline() must be a lower bound on the model's earliest expiry; every firing must be
// due and not armed during the same call; a call that did not exhaust its budget must leave
// nothing due except nodes its callbacks armed.
TEST(TimerWheelModel, RandomOperations_MatchReferenceModel) {
  constexpr std::uint32_t kIds = 512;
  constexpr std::uint32_t kOps = 100000;
  std::mt19937_64 rng(20240611);
  std::vector<TimerNode> nodes(kIds);
  TimerWheel wheel(kSlots, kWidth, 0);
  wheel.bind(nodes.data(), sizeof(TimerNode));
  std::multimap<TimeNs, std::uint32_t> model;
  std::vector<std::multimap<TimeNs, std::uint32_t>::iterator> where(kIds, model.end());
  auto model_remove = [&](std::uint32_t id) {
    if (where[id] != model.end()) model.erase(where[id]);
    where[id] = model.end();
  };
  TimeNs now = 0;
  // Mostly within a few revolutions, sometimes in the past.
  auto arm_random = [&](std::uint32_t id) {
    const TimeNs delta = rng() % (4 * kHorizon);
    const TimeNs expiry = (rng() % 16 == 0) ? now - std::min(now, delta) : now + delta;
    wheel.arm(id, expiry);
    model_remove(id);
    where[id] = model.emplace(expiry, id);
  };
  std::uint64_t total_fired = 0;
  for (std::uint32_t op = 0; op < kOps; ++op) {
    const std::uint32_t id = static_cast<std::uint32_t>(rng() % kIds);
    switch (rng() % 8) {
      case 0: case 1: case 2:
        arm_random(id);
        break;
      case 3:
        wheel.cancel(id);
        model_remove(id);
        break;
      default: {  // advance: small steps, occasionally a jump of many revolutions
        now += (rng() % 64 == 0) ? rng() % (40 * kHorizon) : rng() % (2 * kWidth);
        const std::uint32_t budget = (rng() % 4 == 0) ? static_cast<std::uint32_t>(rng() % 5)
                                                       : kNoBudgetLimit;
        // Callbacks sometimes re-arm, arm or cancel; nodes armed in the call must not fire in it.
        std::vector<bool> armed_in_call(kIds, false);
        std::uint32_t fired = 0;
        wheel.expire(now, budget, [&](std::uint32_t fired_id) {
          ASSERT_NE(where[fired_id], model.end()) << "fired an unarmed id";
          ASSERT_LE(where[fired_id]->first, now) << "fired early";
          ASSERT_FALSE(armed_in_call[fired_id]) << "fired in the call that armed it";
          model_remove(fired_id);
          ++fired;
          const std::uint32_t other = static_cast<std::uint32_t>(rng() % kIds);
          switch (rng() % 8) {
            case 0: arm_random(fired_id); armed_in_call[fired_id] = true; break;
            case 1: arm_random(other); armed_in_call[other] = true; break;
            case 2: wheel.cancel(other); model_remove(other); break;
            default: break;
          }
        });
        ASSERT_LE(fired, budget);
        total_fired += fired;
        if (fired < budget) {
          bool due_armed_in_call = false;
          for (auto it = model.begin(); it != model.end() && it->first <= now; ++it) {
            ASSERT_TRUE(armed_in_call[it->second]) << "left a due node at op " << op;
            due_armed_in_call = true;
          }
          // No busy loop: after a complete pass nothing is reported due that need not be.
          if (!due_armed_in_call) {
            ASSERT_GT(wheel.next_deadline(), now);
          }
        }
        break;
      }
    }
    ASSERT_EQ(wheel.armed_count(), model.size());
    const TimeNs earliest = model.empty() ? kNever : model.begin()->first;
    if (model.empty()) {
      ASSERT_EQ(wheel.next_deadline(), kNever);
    } else {
      ASSERT_LE(wheel.next_deadline(), earliest) << "at op " << op;
    }
    if (op % 1024 == 0) {
      for (std::uint32_t i = 0; i < kIds; ++i) {
        const TimeNs expected = where[i] == model.end() ? kNever : where[i]->first;
        ASSERT_EQ(wheel.expiry(i), expected);
      }
    }
  }
  EXPECT_GT(total_fired, kOps / 10);  // the run exercised firing, not only arming
}

}  // namespace
}  // namespace synwave
