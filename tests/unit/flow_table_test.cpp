#include "synwave/flow_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace synwave {
namespace {

// Bit-at-a-time CRC32c straight from the definition (reflected Castagnoli polynomial), sharing
// nothing with the table-driven code under test.
std::uint32_t crc32c_reference(const void* data, std::size_t length) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::uint32_t crc = 0xffffffffu;
  for (std::size_t i = 0; i < length; ++i) {
    crc ^= bytes[i];
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1u) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
  }
  return ~crc;
}

FlowKey make_key(std::uint32_t n) {
  // 198.18.0.0/15 addresses; distinct n give distinct keys.
  return FlowKey{0xC6120001u, 0xC6130000u + (n >> 16), 80, static_cast<std::uint16_t>(n & 0xffff)};
}
std::uint32_t key_index(const FlowKey& k) { return ((k.remote_ip - 0xC6130000u) << 16) | k.remote_port; }

// A table whose hash function the test chooses (forced collisions, homes at the end of the
// array, entropy only in the high bits). Set before the table is built; tests run one at a time.
struct TestHash {
  static inline std::function<std::uint32_t(const FlowKey&)> fn;
  std::uint32_t operator()(const FlowKey& k) const { return fn(k); }
};
using TestTable = BasicFlowTable<TestHash>;

// ---------------------------------------------------------------- flow_hash and CRC32c

struct Crc32cVector {
  const char* name;
  std::vector<unsigned char> bytes;
  std::uint32_t crc;
};

std::vector<unsigned char> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

std::vector<unsigned char> ramp(unsigned char first, int step) {
  std::vector<unsigned char> v(32);
  for (int i = 0; i < 32; ++i) v[i] = static_cast<unsigned char>(first + step * i);
  return v;
}

TEST(Crc32c, KnownVectors_MatchSoftwareAndReference) {
  // "123456789" is the catalogue check value; the 32-byte vectors are from RFC 3720, B.4.
  const std::vector<Crc32cVector> vectors = {
      {"check string", bytes_of("123456789"), 0xE3069283u},
      {"32 zeros", std::vector<unsigned char>(32, 0x00), 0x8A9136AAu},
      {"32 ones", std::vector<unsigned char>(32, 0xff), 0x62A8AB43u},
      {"ascending 0..31", ramp(0, 1), 0x46DD794Eu},
      {"descending 31..0", ramp(31, -1), 0x113FDB5Cu},
      {"empty", {}, 0x00000000u},
  };
  for (const auto& v : vectors) {
    EXPECT_EQ(crc32c_software(v.bytes.data(), v.bytes.size()), v.crc) << v.name;
    EXPECT_EQ(crc32c_reference(v.bytes.data(), v.bytes.size()), v.crc) << v.name;
  }
}

TEST(Crc32c, Software_MatchesReferenceOnRandomBuffers) {
  std::mt19937 rng(42);
  for (std::size_t length = 0; length < 100; ++length) {
    std::vector<unsigned char> buf(length);
    for (auto& b : buf) b = static_cast<unsigned char>(rng());
    EXPECT_EQ(crc32c_software(buf.data(), buf.size()), crc32c_reference(buf.data(), buf.size()))
        << "length " << length;
  }
}

TEST(FlowHash, EqualsCrc32cOfTheKeysTwelveBytes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 10000; ++i) {
    const FlowKey k{static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng()),
                    static_cast<std::uint16_t>(rng()), static_cast<std::uint16_t>(rng())};
    unsigned char raw[sizeof(FlowKey)];
    std::memcpy(raw, &k, sizeof raw);
    const std::uint32_t expected = crc32c_reference(raw, sizeof raw);
    ASSERT_EQ(flow_hash(k), expected);
    ASSERT_EQ(flow_hash_software(k), expected);
  }
}

TEST(FlowHash, EveryFieldChangesTheHash) {
  const FlowKey base{0x0a000001u, 0x0a000002u, 80, 40000};
  FlowKey k = base;
  k.local_ip ^= 1;
  EXPECT_NE(flow_hash(k), flow_hash(base));
  k = base;
  k.remote_ip ^= 1;
  EXPECT_NE(flow_hash(k), flow_hash(base));
  k = base;
  k.local_port ^= 1;
  EXPECT_NE(flow_hash(k), flow_hash(base));
  k = base;
  k.remote_port ^= 1;
  EXPECT_NE(flow_hash(k), flow_hash(base));
}

// ---------------------------------------------------------------- basic operations

TEST(FlowTable, Construct_SizesSlotsToTwiceMaxEntriesRoundedUp) {
  struct Case {
    std::uint32_t max_entries;
    std::uint32_t slots;
  };
  for (const Case c : {Case{0, 1}, Case{1, 2}, Case{3, 8}, Case{4, 8}, Case{5, 16}, Case{1000, 2048},
                       Case{1u << 20, 1u << 21}}) {
    const FlowTable table(c.max_entries);
    EXPECT_EQ(table.slot_count(), c.slots) << "max_entries " << c.max_entries;
    EXPECT_EQ(table.max_entries(), c.max_entries);
    EXPECT_EQ(table.size(), 0u);
    // A slot per 16 bytes and a bit per four slots (whole 64-bit words).
    EXPECT_EQ(table.memory_bytes(), std::size_t{c.slots} * 16 + (std::size_t{c.slots} + 255) / 256 * 8);
  }
}

TEST(FlowTable, Construct_AboveLimit_Throws) {
  EXPECT_THROW(FlowTable(FlowTable::kMaxEntriesLimit + 1), std::length_error);
}

TEST(FlowTable, Find_EmptyTable_ReturnsNotFound) {
  const FlowTable table(16);
  const FlowKey k = make_key(1);
  EXPECT_EQ(table.find(k, flow_hash(k)), FlowTable::kNotFound);
}

TEST(FlowTable, Insert_ThenFind_ReturnsValue) {
  FlowTable table(16);
  const FlowKey k = make_key(1);
  ASSERT_TRUE(table.insert(k, flow_hash(k), 42));
  EXPECT_EQ(table.find(k, flow_hash(k)), 42u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(FlowTable, Insert_ValueZero_IsStoredLikeAnyOther) {
  FlowTable table(4);
  const FlowKey k = make_key(9);
  ASSERT_TRUE(table.insert(k, flow_hash(k), 0));
  EXPECT_EQ(table.find(k, flow_hash(k)), 0u);
}

TEST(FlowTable, Insert_AllZeroKey_IsFoundAndErased) {
  FlowTable table(4);
  const FlowKey zero{0, 0, 0, 0};
  EXPECT_EQ(table.find(zero, flow_hash(zero)), FlowTable::kNotFound);
  ASSERT_TRUE(table.insert(zero, flow_hash(zero), 5));
  EXPECT_EQ(table.find(zero, flow_hash(zero)), 5u);
  EXPECT_TRUE(table.erase(zero, flow_hash(zero)));
  EXPECT_EQ(table.find(zero, flow_hash(zero)), FlowTable::kNotFound);
}

TEST(FlowTable, Insert_DuplicateKey_RefusedAndValueKept) {
  FlowTable table(16);
  const FlowKey k = make_key(1);
  ASSERT_TRUE(table.insert(k, flow_hash(k), 1));
  EXPECT_FALSE(table.insert(k, flow_hash(k), 2));
  EXPECT_EQ(table.find(k, flow_hash(k)), 1u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(FlowTable, Insert_ValueNotFound_Refused) {
  FlowTable table(16);
  const FlowKey k = make_key(1);
  EXPECT_FALSE(table.insert(k, flow_hash(k), FlowTable::kNotFound));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.find(k, flow_hash(k)), FlowTable::kNotFound);
}

TEST(FlowTable, Insert_WhenFull_RefusedUntilAnEraseMakesRoom) {
  FlowTable table(4);
  for (std::uint32_t i = 0; i < 4; ++i) {
    const FlowKey k = make_key(i);
    ASSERT_TRUE(table.insert(k, flow_hash(k), i));
  }
  const FlowKey extra = make_key(100);
  EXPECT_FALSE(table.insert(extra, flow_hash(extra), 100));
  EXPECT_EQ(table.size(), 4u);
  EXPECT_EQ(table.find(extra, flow_hash(extra)), FlowTable::kNotFound);

  const FlowKey gone = make_key(2);
  ASSERT_TRUE(table.erase(gone, flow_hash(gone)));
  EXPECT_TRUE(table.insert(extra, flow_hash(extra), 100));
  EXPECT_EQ(table.find(extra, flow_hash(extra)), 100u);
}

TEST(FlowTable, ZeroMaxEntries_RefusesEveryInsert) {
  FlowTable table(0);
  const FlowKey k = make_key(1);
  EXPECT_FALSE(table.insert(k, flow_hash(k), 1));
  EXPECT_EQ(table.find(k, flow_hash(k)), FlowTable::kNotFound);
}

TEST(FlowTable, Erase_Present_RemovesOnlyThatKey) {
  FlowTable table(16);
  const FlowKey a = make_key(1);
  const FlowKey b = make_key(2);
  ASSERT_TRUE(table.insert(a, flow_hash(a), 10));
  ASSERT_TRUE(table.insert(b, flow_hash(b), 20));
  EXPECT_TRUE(table.erase(a, flow_hash(a)));
  EXPECT_EQ(table.find(a, flow_hash(a)), FlowTable::kNotFound);
  EXPECT_EQ(table.find(b, flow_hash(b)), 20u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(FlowTable, Erase_Absent_ReturnsFalse) {
  FlowTable table(16);
  const FlowKey a = make_key(1);
  const FlowKey b = make_key(2);
  ASSERT_TRUE(table.insert(a, flow_hash(a), 10));
  EXPECT_FALSE(table.erase(b, flow_hash(b)));
  EXPECT_TRUE(table.erase(a, flow_hash(a)));
  EXPECT_FALSE(table.erase(a, flow_hash(a)));
  EXPECT_EQ(table.size(), 0u);
}

TEST(FlowTable, Update_Present_ReplacesValue) {
  FlowTable table(16);
  const FlowKey k = make_key(1);
  ASSERT_TRUE(table.insert(k, flow_hash(k), 10));
  EXPECT_TRUE(table.update(k, flow_hash(k), 11));
  EXPECT_EQ(table.find(k, flow_hash(k)), 11u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(FlowTable, Update_AbsentOrNotFoundValue_ReturnsFalseAndChangesNothing) {
  FlowTable table(16);
  const FlowKey k = make_key(1);
  const FlowKey other = make_key(2);
  ASSERT_TRUE(table.insert(k, flow_hash(k), 10));
  EXPECT_FALSE(table.update(other, flow_hash(other), 5));
  EXPECT_FALSE(table.update(k, flow_hash(k), FlowTable::kNotFound));
  EXPECT_EQ(table.find(k, flow_hash(k)), 10u);
  EXPECT_EQ(table.find(other, flow_hash(other)), FlowTable::kNotFound);
  EXPECT_EQ(table.size(), 1u);
}

TEST(FlowTable, HighBitsOnlyHash_Works) {
  // Only the hash's low bits pick a home: a hash with entropy in the high bits still works.
  TestHash::fn = [](const FlowKey& k) { return key_index(k) << 24; };
  TestTable table(64);
  for (std::uint32_t i = 0; i < 64; ++i) {
    ASSERT_TRUE(table.insert(make_key(i), i << 24, i + 1));
  }
  for (std::uint32_t i = 0; i < 64; ++i) {
    EXPECT_EQ(table.find(make_key(i), i << 24), i + 1);
  }
}

// ---------------------------------------------------------------- backward-shift deletion

constexpr std::uint32_t kConstantHash = 7;

TEST(FlowTable, Collisions_AllKeysOneHash_EveryEraseOrderKeepsTheRestFindable) {
  // 12 keys in one probe run starting at slot 7 of 32, which wraps past the end of the array.
  // Erase them in several orders; after each erase every survivor must still be found.
  constexpr std::uint32_t kKeys = 12;
  std::vector<std::vector<std::uint32_t>> orders;
  std::vector<std::uint32_t> forward(kKeys);
  for (std::uint32_t i = 0; i < kKeys; ++i) forward[i] = i;
  orders.push_back(forward);
  orders.emplace_back(forward.rbegin(), forward.rend());
  orders.push_back({5, 0, 11, 6, 1, 10, 2, 9, 3, 8, 4, 7});
  std::mt19937 rng(3);
  for (int shuffles = 0; shuffles < 20; ++shuffles) {
    std::vector<std::uint32_t> order = forward;
    std::shuffle(order.begin(), order.end(), rng);
    orders.push_back(order);
  }

  for (const std::uint32_t hash : {kConstantHash, 28u, 31u}) {
    TestHash::fn = [hash](const FlowKey&) { return hash; };
    for (const auto& order : orders) {
      TestTable table(16);  // 32 slots
      for (std::uint32_t i = 0; i < kKeys; ++i) {
        ASSERT_TRUE(table.insert(make_key(i), hash, 100 + i));
      }
      std::vector<bool> present(kKeys, true);
      for (const std::uint32_t victim : order) {
        ASSERT_TRUE(table.erase(make_key(victim), hash));
        present[victim] = false;
        for (std::uint32_t i = 0; i < kKeys; ++i) {
          ASSERT_EQ(table.find(make_key(i), hash), present[i] ? 100 + i : FlowTable::kNotFound)
              << "hash " << hash << " key " << i << " after erasing " << victim;
        }
      }
      EXPECT_EQ(table.size(), 0u);
    }
  }
}

TEST(FlowTable, Collisions_InterleavedHomes_EraseMovesOnlyEntriesThatMayMove) {
  // Two runs that merge into one cluster: keys homed at 7 and keys homed at 9. Erasing a key
  // homed at 7 must not pull a key homed at 9 in front of its home.
  const std::uint32_t homes[] = {7, 7, 9, 7, 9, 9, 7, 10};
  TestHash::fn = [&homes](const FlowKey& k) { return homes[key_index(k)]; };
  TestTable table(16);  // 32 slots
  for (std::uint32_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(table.insert(make_key(i), homes[i], i));
  }
  for (const std::uint32_t victim : {0u, 3u, 2u, 6u}) {
    ASSERT_TRUE(table.erase(make_key(victim), homes[victim]));
  }
  for (const std::uint32_t survivor : {1u, 4u, 5u, 7u}) {
    EXPECT_EQ(table.find(make_key(survivor), homes[survivor]), survivor);
  }
  EXPECT_EQ(table.size(), 4u);
}

TEST(FlowTable, MayHold_FollowsTheHomeLineAcrossSpillsAndShifts) {
  // Slots 0-3 are line 0, 4-7 line 1. Keys homed at 3 fill slot 3 and spill into line 1; keys
  // homed at 6 share line 1. may_hold() says whether a hash's home line holds anything, and
  // find() must still reach every key whose probe runs on past its own line.
  const std::uint32_t homes[] = {3, 3, 3, 6};
  TestHash::fn = [&homes](const FlowKey& k) { return homes[key_index(k)]; };
  TestTable table(16);  // 32 slots, 8 lines
  EXPECT_FALSE(table.may_hold(3));
  EXPECT_FALSE(table.may_hold(6));
  for (std::uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(table.insert(make_key(i), homes[i], i));  // slots 3, 4, 5, 6
  EXPECT_TRUE(table.may_hold(0));   // line 0: slot 3
  EXPECT_TRUE(table.may_hold(7));   // line 1: slots 4-6
  EXPECT_FALSE(table.may_hold(8));  // line 2: empty
  EXPECT_EQ(table.find(make_key(9), 8), FlowTable::kNotFound);
  // Erasing the key in slot 3 shifts key 1 back into it: line 0 stays taken.
  ASSERT_TRUE(table.erase(make_key(0), 3));
  EXPECT_TRUE(table.may_hold(3));
  for (const std::uint32_t k : {1u, 2u, 3u}) EXPECT_EQ(table.find(make_key(k), homes[k]), k);
  // Line 0 empties only with its last key; the keys homed at 3 that live in line 1 are gone
  // too by then, and line 1 keeps key 3.
  ASSERT_TRUE(table.erase(make_key(1), 3));
  ASSERT_TRUE(table.erase(make_key(2), 3));
  EXPECT_FALSE(table.may_hold(3));
  EXPECT_EQ(table.find(make_key(1), 3), FlowTable::kNotFound);
  EXPECT_TRUE(table.may_hold(6));
  EXPECT_EQ(table.find(make_key(3), 6), 3u);
  ASSERT_TRUE(table.erase(make_key(3), 6));
  EXPECT_FALSE(table.may_hold(6));
  EXPECT_EQ(table.size(), 0u);
}

TEST(FlowTable, MayHold_TinyTablesReadTheirSlotsModuloTheirSize) {
  // Tables of one and two slots have less than a line: erase's emptiness check wraps around.
  TestHash::fn = [](const FlowKey& k) { return key_index(k); };
  for (const std::uint32_t max_entries : {0u, 1u}) {
    TestTable table(max_entries);
    if (max_entries == 0) {
      EXPECT_FALSE(table.may_hold(0));
      continue;
    }
    ASSERT_TRUE(table.insert(make_key(0), 0, 7));
    EXPECT_TRUE(table.may_hold(0));
    EXPECT_TRUE(table.may_hold(1));  // the same (only) line
    ASSERT_TRUE(table.erase(make_key(0), 0));
    EXPECT_FALSE(table.may_hold(0));
    EXPECT_EQ(table.find(make_key(0), 0), FlowTable::kNotFound);
  }
}

TEST(FlowTable, InsertEraseChurn_ManyTimesTheSlotCount_NeverFillsUp) {
  // With tombstones a small table would clog after a few laps; backward shift leaves none.
  TestHash::fn = [](const FlowKey& k) { return kConstantHash + key_index(k) % 3; };
  TestTable table(8);  // 16 slots
  std::uint32_t next = 0;
  std::vector<std::uint32_t> live;
  for (int lap = 0; lap < 8; ++lap) {
    ASSERT_TRUE(table.insert(make_key(next), kConstantHash + next % 3, next));
    live.push_back(next++);
  }
  for (int step = 0; step < 100000; ++step) {
    const std::uint32_t old = live[step % 8];
    ASSERT_TRUE(table.erase(make_key(old), kConstantHash + old % 3));
    ASSERT_TRUE(table.insert(make_key(next), kConstantHash + next % 3, next));
    live[step % 8] = next++;
  }
  for (const std::uint32_t k : live) {
    EXPECT_EQ(table.find(make_key(k), kConstantHash + k % 3), k);
  }
  const FlowKey absent = make_key(next + 1);
  EXPECT_EQ(table.find(absent, TestHash{}(absent)), FlowTable::kNotFound);
}

// ---------------------------------------------------------------- differential test

struct DifferentialCase {
  const char* name;
  std::uint32_t max_entries;
  std::uint32_t key_universe;  // keys drawn from make_key(0 .. key_universe-1)
  int operations;
  std::function<std::uint32_t(const FlowKey&)> hash;
};

void PrintTo(const DifferentialCase& c, std::ostream* os) { *os << c.name; }

class FlowTableDifferential : public ::testing::TestWithParam<DifferentialCase> {};

TEST_P(FlowTableDifferential, MatchesUnorderedMapOverRandomOperations) {
  const DifferentialCase& c = GetParam();
  TestHash::fn = c.hash;
  // No probe limit: these hashes build clusters far longer than 64 on purpose, to exercise the
  // shifts of erase (the limit has its own tests below).
  TestTable table(c.max_entries, std::numeric_limits<std::uint32_t>::max());
  std::unordered_map<std::uint32_t, std::uint32_t> model;  // key number -> value
  std::mt19937_64 rng(0x5e7a7e5u);
  std::uniform_int_distribution<std::uint32_t> pick_key(0, c.key_universe - 1);
  std::uniform_int_distribution<int> pick_op(0, 99);
  std::uint32_t next_value = 0;
  std::uint64_t refused_full = 0;

  for (int op = 0; op < c.operations; ++op) {
    const std::uint32_t n = pick_key(rng);
    const FlowKey k = make_key(n);
    const std::uint32_t h = c.hash(k);
    const auto it = model.find(n);
    const int roll = pick_op(rng);
    // Inserts outnumber erases so the table sits at (and keeps bumping into) max_entries.
    if (roll < 40) {
      const std::uint32_t value = next_value++ % 0xfffffff0u;
      const bool expected = it == model.end() && model.size() < c.max_entries;
      if (it == model.end() && !expected) ++refused_full;
      ASSERT_EQ(table.insert(k, h, value), expected) << "op " << op;
      if (expected) model.emplace(n, value);
    } else if (roll < 65) {
      ASSERT_EQ(table.erase(k, h), it != model.end()) << "op " << op;
      if (it != model.end()) model.erase(it);
    } else if (roll < 70) {
      const std::uint32_t value = next_value++ % 0xfffffff0u;
      ASSERT_EQ(table.update(k, h, value), it != model.end()) << "op " << op;
      if (it != model.end()) it->second = value;
    } else {
      ASSERT_EQ(table.find(k, h), it == model.end() ? FlowTable::kNotFound : it->second) << "op " << op;
    }
    ASSERT_EQ(table.size(), model.size()) << "op " << op;
  }

  EXPECT_GT(refused_full, 0u) << "the run never reached max_entries: not a high-load test";
  for (std::uint32_t n = 0; n < c.key_universe; ++n) {
    const FlowKey k = make_key(n);
    const auto it = model.find(n);
    ASSERT_EQ(table.find(k, c.hash(k)), it == model.end() ? FlowTable::kNotFound : it->second) << "key " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(
    HighLoad, FlowTableDifferential,
    ::testing::Values(
        DifferentialCase{"Crc32c", 4096, 8192, 1'000'000, [](const FlowKey& k) { return flow_hash(k); }},
        // Few distinct homes: long merged clusters, every erase shifts entries.
        DifferentialCase{"SixteenHomes", 200, 400, 200'000,
                         [](const FlowKey& k) { return std::uint32_t{k.remote_port} % 16u; }},
        // Homes at the very end of the array: clusters wrap to slot 0 on almost every operation.
        DifferentialCase{"WrapAround", 200, 400, 200'000,
                         [](const FlowKey& k) { return 0xffffffffu - std::uint32_t{k.remote_port} % 8u; }},
        // A hash with entropy only in the high bits.
        DifferentialCase{"HighBitsOnly", 256, 512, 200'000,
                         [](const FlowKey& k) { return flow_hash(k) & 0xff000000u; }}),
    [](const ::testing::TestParamInfo<DifferentialCase>& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- probe limit

TEST(FlowTable, ProbeLimit_RefusesAKeyWithNoFreeSlotNearItsHome) {
  TestHash::fn = [](const FlowKey& k) { return k.remote_port < 100 ? 0u : 40u; };
  TestTable table(64, 3);  // 128 slots; at most 3 slots past the home
  EXPECT_EQ(table.max_displacement(), 3u);
  for (std::uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(table.insert(make_key(i), 0, i)) << i;  // slots 0..3
  EXPECT_FALSE(table.insert(make_key(4), 0, 4));  // slot 4 is 4 past home 0
  EXPECT_FALSE(table.full());
  EXPECT_EQ(table.find(make_key(4), 0), FlowTable::kNotFound);
  EXPECT_FALSE(table.update(make_key(4), 0, 9));
  EXPECT_FALSE(table.erase(make_key(4), 0));
  // Another home is not affected, and an erase makes room again.
  EXPECT_TRUE(table.insert(make_key(100), 40, 100));
  ASSERT_TRUE(table.erase(make_key(1), 0));
  EXPECT_TRUE(table.insert(make_key(4), 0, 4));
  for (const std::uint32_t i : {0u, 2u, 3u, 4u}) EXPECT_EQ(table.find(make_key(i), 0), i) << i;
  EXPECT_EQ(table.find(make_key(100), 40), 100u);
}

// Random operations on few homes under a small limit: an insert may be refused (never for a present
// key or below the limit's reach), and whatever was accepted stays findable through every erase.
TEST(FlowTable, ProbeLimit_AcceptedKeysStayFindableThroughRandomOperations) {
  TestHash::fn = [](const FlowKey& k) { return (std::uint32_t{k.remote_port} % 16u) * 5u; };
  TestTable table(200, 7);  // 512 slots, 16 homes 5 apart: neighbourhoods overlap
  std::unordered_map<std::uint32_t, std::uint32_t> model;
  std::mt19937_64 rng(0x1117u);
  std::uint64_t refused = 0;
  for (int op = 0; op < 200'000; ++op) {
    const auto n = static_cast<std::uint32_t>(rng() % 400);
    const FlowKey k = make_key(n);
    const std::uint32_t h = TestHash{}(k);
    const auto it = model.find(n);
    if (rng() % 2 == 0) {
      const bool inserted = table.insert(k, h, n + 1);
      if (it != model.end()) {
        ASSERT_FALSE(inserted) << "op " << op;
      }
      if (inserted) model.emplace(n, n + 1);
      else if (it == model.end()) ++refused;
    } else {
      ASSERT_EQ(table.erase(k, h), it != model.end()) << "op " << op;
      if (it != model.end()) model.erase(it);
    }
    ASSERT_EQ(table.size(), model.size()) << "op " << op;
  }
  EXPECT_GT(refused, 0u) << "the limit was never reached: not a test of it";
  for (std::uint32_t n = 0; n < 400; ++n) {
    const auto it = model.find(n);
    ASSERT_EQ(table.find(make_key(n), TestHash{}(make_key(n))), it == model.end() ? FlowTable::kNotFound : it->second) << n;
  }
}

// ---------------------------------------------------------------- find_burst

TEST(FlowTable, FindBurst_EqualsFindForHitsAndMisses) {
  FlowTable table(10000);
  for (std::uint32_t i = 0; i < 10000; i += 2) {
    const FlowKey k = make_key(i);
    ASSERT_TRUE(table.insert(k, flow_hash(k), i * 7));
  }
  std::mt19937 rng(11);
  for (const std::uint32_t n : {0u, 1u, 7u, 32u, 63u, 64u, 65u, 200u}) {
    std::vector<FlowKey> keys(n);
    for (auto& k : keys) k = make_key(rng() % 10000);
    std::vector<std::uint32_t> values(n + 1, 0xabababab);
    table.find_burst(keys.data(), n, values.data());
    std::vector<std::uint32_t> hashes(n);
    std::vector<std::uint32_t> values_with_hashes(n);
    for (std::uint32_t i = 0; i < n; ++i) hashes[i] = flow_hash(keys[i]);
    table.find_burst(keys.data(), hashes.data(), n, values_with_hashes.data());
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint32_t expected = table.find(keys[i], flow_hash(keys[i]));
      ASSERT_EQ(values[i], expected) << "n " << n << " i " << i;
      ASSERT_EQ(values_with_hashes[i], expected) << "n " << n << " i " << i;
    }
    EXPECT_EQ(values[n], 0xababababu) << "wrote past n=" << n;
  }
}

TEST(FlowTable, Prefetch_AnyHash_IsHarmless) {
  FlowTable table(16);
  const FlowKey k = make_key(1);
  ASSERT_TRUE(table.insert(k, flow_hash(k), 3));
  for (const std::uint32_t h : {0u, 1u, 31u, 0xffffffffu, flow_hash(k)}) table.prefetch(h);
  EXPECT_EQ(table.find(k, flow_hash(k)), 3u);
}

}  // namespace
}  // namespace synwave
