// Sequence numbers compare on the 2^32 circle (RFC 9293 §3.4), including across the wrap.
#include "synwave/seq_num.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace synwave {
namespace {

enum class Order { kBefore, kSame, kAfter };

struct Comparison {
  std::uint32_t a;
  std::uint32_t b;
  Order a_vs_b;
  std::int32_t distance;  // a - b
};

class SeqNumComparison : public testing::TestWithParam<Comparison> {};

TEST_P(SeqNumComparison, AllOperators_AgreeWithTheCircle) {
  const Comparison& c = GetParam();
  const SeqNum a(c.a), b(c.b);
  EXPECT_EQ(a - b, c.distance);
  EXPECT_EQ(a < b, c.a_vs_b == Order::kBefore);
  EXPECT_EQ(a <= b, c.a_vs_b != Order::kAfter);
  EXPECT_EQ(a > b, c.a_vs_b == Order::kAfter);
  EXPECT_EQ(a >= b, c.a_vs_b != Order::kBefore);
  EXPECT_EQ(a == b, c.a_vs_b == Order::kSame);
  // The same pair seen from the other side.
  EXPECT_EQ(b < a, c.a_vs_b == Order::kAfter);
  EXPECT_EQ(b > a, c.a_vs_b == Order::kBefore);
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, SeqNumComparison,
    testing::Values(Comparison{0, 0, Order::kSame, 0},
                    Comparison{0xffffffff, 0xffffffff, Order::kSame, 0},
                    Comparison{0x80000000, 0x80000000, Order::kSame, 0},
                    Comparison{0, 1, Order::kBefore, -1},
                    Comparison{1, 0, Order::kAfter, 1},
                    // across the wrap: 2^32-1 is just before 0
                    Comparison{0xffffffff, 0, Order::kBefore, -1},
                    Comparison{0, 0xffffffff, Order::kAfter, 1},
                    Comparison{0xfffffff0, 0x10, Order::kBefore, -32},
                    Comparison{0x10, 0xfffffff0, Order::kAfter, 32},
                    // around 2^31
                    Comparison{0x7fffffff, 0x80000000, Order::kBefore, -1},
                    Comparison{0x80000000, 0x7fffffff, Order::kAfter, 1},
                    // the farthest apart two numbers can be and still compare: 2^31 - 1
                    Comparison{0x7fffffff, 0, Order::kAfter, 0x7fffffff},
                    Comparison{0, 0x7fffffff, Order::kBefore, -0x7fffffff},
                    Comparison{0x80000000, 1, Order::kAfter, 0x7fffffff},
                    Comparison{0xffffffff, 0x80000000, Order::kAfter, 0x7fffffff},
                    // one more and the order flips: 0x80000001 is 2^31 - 1 *behind* 0
                    Comparison{0x80000001, 0, Order::kBefore, -0x7fffffff},
                    Comparison{0, 0x80000001, Order::kAfter, 0x7fffffff}));

TEST(SeqNum, ExactlyHalfACircleApart_BothReadAsBefore) {
  // RFC 1982 §3.2 leaves this pair undefined. The signed-distance rule makes each "before" the
  // other, as Linux's before() does; windows are at most 2^30 (RFC 7323 §2.3), so a connection
  // never compares numbers this far apart.
  const SeqNum a(0), b(0x80000000);
  EXPECT_EQ(a - b, INT32_MIN);
  EXPECT_EQ(b - a, INT32_MIN);
  EXPECT_TRUE(a < b);
  EXPECT_TRUE(b < a);
}

TEST(SeqNum, Arithmetic_WrapsModulo2To32) {
  EXPECT_EQ((SeqNum(0xffffffff) + 1).raw(), 0u);
  EXPECT_EQ((SeqNum(0xfffffff0) + 0x20).raw(), 0x10u);
  EXPECT_EQ((SeqNum(0) - 1).raw(), 0xffffffffu);
  EXPECT_EQ((SeqNum(5) - 10).raw(), 0xfffffffbu);
  SeqNum s(0xfffffffe);
  s += 3;
  EXPECT_EQ(s.raw(), 1u);
  EXPECT_EQ(SeqNum().raw(), 0u);
}

TEST(SeqNum, RandomPairsWithinHalfACircle_OrderByDistance) {
  std::mt19937 rng(9293);
  for (int i = 0; i < 100000; ++i) {
    const SeqNum a(static_cast<std::uint32_t>(rng()));
    const std::uint32_t d = 1 + static_cast<std::uint32_t>(rng()) % 0x7fffffffu;  // 1 .. 2^31-1
    const SeqNum b = a + d;
    ASSERT_TRUE(a < b);
    ASSERT_TRUE(b > a);
    ASSERT_FALSE(b <= a);
    ASSERT_EQ(b - a, static_cast<std::int32_t>(d));
    ASSERT_EQ(seq_max(a, b), b);
    ASSERT_EQ(seq_min(a, b), a);
  }
}

TEST(SeqNum, MaxAndMin_AcrossTheWrap) {
  EXPECT_EQ(seq_max(SeqNum(0xffffffff), SeqNum(0)).raw(), 0u);
  EXPECT_EQ(seq_min(SeqNum(0xffffffff), SeqNum(0)).raw(), 0xffffffffu);
  EXPECT_EQ(seq_max(SeqNum(7), SeqNum(7)).raw(), 7u);
}

struct RangeCase {
  std::uint32_t s, lo, hi;
  bool in;
};

class SeqInRange : public testing::TestWithParam<RangeCase> {};

TEST_P(SeqInRange, HalfOpenOnTheCircle) {
  const RangeCase& c = GetParam();
  EXPECT_EQ(seq_in_range(SeqNum(c.s), SeqNum(c.lo), SeqNum(c.hi)), c.in);
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, SeqInRange,
    testing::Values(RangeCase{5, 5, 5, false},  // empty
                    RangeCase{0, 0, 0, false},
                    RangeCase{0, 0, 1, true},   // one number
                    RangeCase{1, 0, 1, false},
                    RangeCase{0xffffffff, 0, 1, false},
                    RangeCase{10, 10, 20, true},   // lo is in
                    RangeCase{19, 10, 20, true},
                    RangeCase{20, 10, 20, false},  // hi is out
                    RangeCase{9, 10, 20, false},
                    // across the wrap
                    RangeCase{0xfffffff0, 0xfffffff0, 0x10, true},
                    RangeCase{0xffffffff, 0xfffffff0, 0x10, true},
                    RangeCase{0, 0xfffffff0, 0x10, true},
                    RangeCase{0xf, 0xfffffff0, 0x10, true},
                    RangeCase{0x10, 0xfffffff0, 0x10, false},
                    RangeCase{0xffffffef, 0xfffffff0, 0x10, false},
                    RangeCase{0x80000000, 0xfffffff0, 0x10, false},
                    // across 2^31
                    RangeCase{0x7fffffff, 0x7ffffff0, 0x80000010, true},
                    RangeCase{0x80000000, 0x7ffffff0, 0x80000010, true},
                    RangeCase{0x80000010, 0x7ffffff0, 0x80000010, false},
                    // the widest window that still works: 2^31 - 1 numbers
                    RangeCase{0x7ffffffe, 0, 0x7fffffff, true},
                    RangeCase{0x7fffffff, 0, 0x7fffffff, false},
                    RangeCase{0xffffffff, 0, 0x7fffffff, false}));

TEST(SeqInRange, RandomWindows_ContainExactlyTheirNumbers) {
  std::mt19937 rng(793);
  for (int i = 0; i < 100000; ++i) {
    const SeqNum lo(static_cast<std::uint32_t>(rng()));
    const std::uint32_t size = static_cast<std::uint32_t>(rng()) % (1u << 30);  // up to the largest window
    const SeqNum hi = lo + size;
    const std::uint32_t offset = static_cast<std::uint32_t>(rng());
    const SeqNum s = lo + offset;
    ASSERT_EQ(seq_in_range(s, lo, hi), offset < size) << "lo " << lo.raw() << " size " << size << " offset " << offset;
  }
}

TEST(SeqNum, IsUsableAtCompileTime) {
  static_assert(SeqNum(0xffffffff) < SeqNum(0));
  static_assert(seq_in_range(SeqNum(0), SeqNum(0xffffffff), SeqNum(1)));
  static_assert((SeqNum(0xffffffff) + 2).raw() == 1);
  EXPECT_EQ(SeqNum(3).raw(), 3u);
}

}  // namespace
}  // namespace synwave
