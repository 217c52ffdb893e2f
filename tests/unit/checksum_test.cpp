// The Internet checksum (RFC 1071), its pseudo-header, and RFC 1624 incremental updates, checked
// against published examples and against a plain 16-bit-word reference on random data.
#include "synwave/checksum.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "synwave/byte_order.hpp"

namespace synwave {
namespace {

using Bytes = std::vector<std::uint8_t>;

// RFC 1071 §4.1, word by word, big-endian, odd byte padded with zero: the slow, obvious version.
std::uint16_t reference_fold(const std::uint8_t* p, std::size_t len, std::uint32_t initial = 0) {
  std::uint64_t sum = initial;
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (len % 2 == 1) sum += static_cast<std::uint32_t>(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

Bytes random_bytes(std::mt19937& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

TEST(Checksum, Rfc1071Section3Example_SumsTo0xddf2) {
  // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 2ddf0, folded ddf2.
  const std::uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_fold(checksum_add(bytes, sizeof bytes)), 0xddf2);
  EXPECT_EQ(checksum_finish(checksum_add(bytes, sizeof bytes)), 0x220d);
}

TEST(Checksum, Rfc1071Section3Example_ByteSwappedInputGivesSwappedSum) {
  // RFC 1071 §2(B): byte order independence. Swapping every pair swaps the folded sum.
  const std::uint8_t swapped[] = {0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6};
  EXPECT_EQ(checksum_fold(checksum_add(swapped, sizeof swapped)), 0xf2dd);
}

TEST(Checksum, KnownIpv4Header_ChecksumIs0xb861) {
  // The classic worked example (192.168.0.1 -> 192.168.0.199, UDP, length 0x73).
  std::uint8_t header[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                             0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(checksum_finish(checksum_add(header, sizeof header)), 0xb861);
  store_be16(header + 10, 0xb861);
  EXPECT_EQ(checksum_fold(checksum_add(header, sizeof header)), 0xffff);
}

TEST(Checksum, EdgeInputs) {
  const std::uint8_t one[] = {0xab};
  const std::uint8_t zeros[6] = {};
  EXPECT_EQ(checksum_fold(checksum_add(nullptr, 0)), 0);
  EXPECT_EQ(checksum_finish(checksum_add(nullptr, 0)), 0xffff);
  EXPECT_EQ(checksum_fold(checksum_add(one, 1)), 0xab00);  // odd byte is the high half of a word
  EXPECT_EQ(checksum_fold(checksum_add(zeros, sizeof zeros)), 0);
}

TEST(Checksum, EveryLengthAndAlignment_MatchesReference) {
  std::mt19937 rng(1071);
  const Bytes data = random_bytes(rng, 300);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t len = 0; len + offset <= data.size(); ++len) {
      ASSERT_EQ(checksum_fold(checksum_add(data.data() + offset, len)), reference_fold(data.data() + offset, len))
          << "offset " << offset << " len " << len;
    }
  }
}

TEST(Checksum, AllOnesBuffers_CarriesFoldCorrectly) {
  // 0xff everywhere makes every add carry; lengths cross the 8/4/2/1-byte loop tails.
  for (const std::size_t len : {1u, 2u, 3u, 7u, 8u, 9u, 15u, 1500u, 1501u, 65535u, 1u << 20}) {
    const Bytes ones(len, 0xff);
    EXPECT_EQ(checksum_fold(checksum_add(ones.data(), ones.size())), reference_fold(ones.data(), ones.size()))
        << "len " << len;
  }
}

TEST(Checksum, InitialSum_IsAddedIn) {
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    const Bytes data = random_bytes(rng, rng() % 100);
    const std::uint32_t initial = rng() & 0x3ffff;  // pseudo-header sums exceed 16 bits
    EXPECT_EQ(checksum_fold(checksum_add(data.data(), data.size(), initial)),
              reference_fold(data.data(), data.size(), initial));
  }
}

TEST(Checksum, SumsOverEvenSplits_ComposeToTheOneShotSum) {
  std::mt19937 rng(2024);
  for (int round = 0; round < 200; ++round) {
    const Bytes data = random_bytes(rng, rng() % 200);
    const std::uint16_t whole = checksum_fold(checksum_add(data.data(), data.size()));
    for (std::size_t split = 0; split <= data.size(); split += 2) {
      const std::uint64_t first = checksum_add(data.data(), split);
      ASSERT_EQ(checksum_fold(checksum_add(data.data() + split, data.size() - split, first)), whole)
          << "len " << data.size() << " split " << split;
    }
  }
}

TEST(Checksum, SumsOverThreeEvenPieces_ComposeToTheOneShotSum) {
  // Headers, options and payload are often summed from separate places.
  std::mt19937 rng(3);
  const Bytes data = random_bytes(rng, 61);
  const std::uint16_t whole = checksum_fold(checksum_add(data.data(), data.size()));
  for (std::size_t a = 0; a <= data.size(); a += 2) {
    for (std::size_t b = a; b <= data.size(); b += 2) {
      std::uint64_t sum = checksum_add(data.data(), a);
      sum = checksum_add(data.data() + a, b - a, sum);
      sum = checksum_add(data.data() + b, data.size() - b, sum);
      ASSERT_EQ(checksum_fold(sum), whole) << "pieces at " << a << " and " << b;
    }
  }
}

TEST(PseudoHeader, EqualsSumOfTheTwelveByteHeader) {
  std::mt19937 rng(9293);
  for (int i = 0; i < 1000; ++i) {
    const std::uint32_t src = rng(), dst = rng();
    const auto protocol = static_cast<std::uint8_t>(rng());
    const auto l4_len = static_cast<std::uint16_t>(rng());
    std::uint8_t pseudo[12] = {};
    store_be32(pseudo, src);
    store_be32(pseudo + 4, dst);
    pseudo[9] = protocol;
    store_be16(pseudo + 10, l4_len);
    EXPECT_EQ(checksum_fold(pseudo_header_sum(src, dst, protocol, l4_len)), reference_fold(pseudo, sizeof pseudo));
  }
}

TEST(IncrementalUpdate, Rfc1624Section4Example_GivesPositiveZero) {
  // RFC 1624 §4: HC = 0xdd2f, m 0x5555 -> 0x3285. Eqn. 3 gives 0x0000 like a full recomputation;
  // eqn. 2 would have given 0xffff.
  EXPECT_EQ(checksum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

TEST(IncrementalUpdate, UnchangedField_KeepsTheChecksum) {
  std::mt19937 rng(1);
  for (int i = 0; i < 1000; ++i) {
    const Bytes data = random_bytes(rng, 40);
    const std::uint16_t c = checksum_finish(checksum_add(data.data(), data.size()));
    const auto field = static_cast<std::uint16_t>(rng());
    EXPECT_EQ(checksum_update16(c, field, field), c);
    const std::uint32_t wide = rng();
    EXPECT_EQ(checksum_update32(c, wide, wide), c);
  }
}

// A buffer with a checksum field (at `checksum_at`), checksummed; then one field at `field_at`
// changes. The incremental result must equal a full recomputation.
struct Packet {
  Bytes bytes;
  std::size_t checksum_at = 0;

  std::uint16_t recompute() const {
    Bytes copy = bytes;
    store_be16(copy.data() + checksum_at, 0);
    return checksum_finish(checksum_add(copy.data(), copy.size()));
  }
  bool verifies() const { return checksum_fold(checksum_add(bytes.data(), bytes.size())) == 0xffff; }
};

Packet random_packet(std::mt19937& rng) {
  Packet p;
  p.bytes = random_bytes(rng, 20 + 2 * (rng() % 750));  // even lengths 20..1518
  p.checksum_at = 2 * (rng() % 10);                    // somewhere in the first 20 bytes
  store_be16(p.bytes.data() + p.checksum_at, p.recompute());
  return p;
}

std::size_t random_field_offset(std::mt19937& rng, const Packet& p, std::size_t width) {
  for (;;) {
    const std::size_t at = 2 * (rng() % ((p.bytes.size() - width) / 2 + 1));
    if (at + width <= p.checksum_at || at >= p.checksum_at + 2) return at;
  }
}

TEST(IncrementalUpdate, Random16BitFieldChanges_EqualFullRecomputation) {
  std::mt19937 rng(1624);
  for (int i = 0; i < 20000; ++i) {
    Packet p = random_packet(rng);
    const std::size_t at = random_field_offset(rng, p, 2);
    const std::uint16_t old_checksum = load_be16(p.bytes.data() + p.checksum_at);
    const std::uint16_t old_field = load_be16(p.bytes.data() + at);
    const auto new_field = static_cast<std::uint16_t>(i < 100 ? (i & 1 ? 0 : 0xffff) : rng());
    store_be16(p.bytes.data() + at, new_field);
    const std::uint16_t updated = checksum_update16(old_checksum, old_field, new_field);
    ASSERT_EQ(updated, p.recompute()) << "case " << i;
    store_be16(p.bytes.data() + p.checksum_at, updated);
    ASSERT_TRUE(p.verifies()) << "case " << i;
  }
}

TEST(IncrementalUpdate, Random32BitFieldChanges_EqualFullRecomputation) {
  std::mt19937 rng(16241);
  for (int i = 0; i < 20000; ++i) {
    Packet p = random_packet(rng);
    const std::size_t at = random_field_offset(rng, p, 4);  // 2-aligned: IP options can shift TCP by 4n
    const std::uint16_t old_checksum = load_be16(p.bytes.data() + p.checksum_at);
    const std::uint32_t old_field = load_be32(p.bytes.data() + at);
    const std::uint32_t new_field = i < 100 ? (i & 1 ? 0u : 0xffffffffu) : static_cast<std::uint32_t>(rng());
    store_be32(p.bytes.data() + at, new_field);
    const std::uint16_t updated = checksum_update32(old_checksum, old_field, new_field);
    ASSERT_EQ(updated, p.recompute()) << "case " << i;
    store_be16(p.bytes.data() + p.checksum_at, updated);
    ASSERT_TRUE(p.verifies()) << "case " << i;
  }
}

TEST(IncrementalUpdate, PseudoHeaderAddressChange_EqualsFullRecomputation) {
  // A reply built in place keeps the TCP bytes and changes an address in the pseudo-header.
  std::mt19937 rng(793);
  for (int i = 0; i < 5000; ++i) {
    const Bytes tcp = random_bytes(rng, 20 + rng() % 100);
    const auto len = static_cast<std::uint16_t>(tcp.size());
    const std::uint32_t src = rng(), dst = rng(), new_src = rng();
    const std::uint16_t before = checksum_finish(checksum_add(tcp.data(), len, pseudo_header_sum(src, dst, 6, len)));
    const std::uint16_t after = checksum_finish(checksum_add(tcp.data(), len, pseudo_header_sum(new_src, dst, 6, len)));
    ASSERT_EQ(checksum_update32(before, src, new_src), after) << "case " << i;
  }
}

}  // namespace
}  // namespace synwave
