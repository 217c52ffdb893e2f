#include "synwave/siphash.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>
#include <cstdint>
#include <random>

namespace synwave {
namespace {

// Key bytes 00..0f, as the reference implementation's test uses, read little-endian.
constexpr SipKey kReferenceKey{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

// vectors_sip64 from the reference implementation's vectors.h (github.com/veorq/SipHash),
// entry n = SipHash-2-4(kReferenceKey, bytes 00..n-1), each 8-byte output read as a
// little-endian uint64. Cross-checked against an independent Python implementation.
constexpr std::array<std::uint64_t, 64> kReferenceVectors = {
    0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
    0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
    0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
    0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
    0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
    0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
    0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
    0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
    0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
    0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
    0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
    0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
    0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
    0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
    0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
    0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

std::array<unsigned char, 64> ascending_bytes() {
  std::array<unsigned char, 64> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i);
  return bytes;
}

// Lays words out as the little-endian byte string the words fast paths promise to hash.
template <std::size_t N>
std::array<unsigned char, 8 * N> little_endian_bytes(const std::array<std::uint64_t, N>& words) {
  std::array<unsigned char, 8 * N> bytes{};
  for (std::size_t w = 0; w < N; ++w) {
    for (std::size_t b = 0; b < 8; ++b) {
      bytes[8 * w + b] = static_cast<unsigned char>(words[w] >> (8 * b));
    }
  }
  return bytes;
}

TEST(SipHash24, EveryLengthFrom0To63_MatchesReferenceVectors) {
  const auto message = ascending_bytes();
  for (std::size_t len = 0; len < kReferenceVectors.size(); ++len) {
    EXPECT_EQ(siphash24(kReferenceKey, message.data(), len), kReferenceVectors[len])
        << "length " << len;
  }
}

TEST(SipHash24, UnalignedInput_MatchesReferenceVectors) {
  std::array<unsigned char, 65> shifted{};
  const auto message = ascending_bytes();
  for (std::size_t i = 0; i < message.size(); ++i) shifted[i + 1] = message[i];
  for (std::size_t len = 0; len < kReferenceVectors.size(); ++len) {
    EXPECT_EQ(siphash24(kReferenceKey, shifted.data() + 1, len), kReferenceVectors[len])
        << "length " << len;
  }
}

TEST(SipHash24Words, TwoWordsOfReferenceMessage_MatchesReferenceVector) {
  // Bytes 00..0f as two little-endian words.
  EXPECT_EQ(siphash24_words(kReferenceKey, 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL),
            kReferenceVectors[16]);
}

TEST(SipHash24Words, ThreeWordsOfReferenceMessage_MatchesReferenceVector) {
  EXPECT_EQ(siphash24_words(kReferenceKey, 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL,
                            0x1716151413121110ULL),
            kReferenceVectors[24]);
}

// The words fast paths are constexpr, so keys and tags can be hashed at compile time.
static_assert(siphash24_words(kReferenceKey, 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL) ==
              kReferenceVectors[16]);

TEST(SipHash24Words, TwoRandomWords_EqualGenericHashOfTheirBytes) {
  std::mt19937_64 rng(0x5eed0001);
  for (int trial = 0; trial < 10000; ++trial) {
    const SipKey key{rng(), rng()};
    const std::array<std::uint64_t, 2> words{rng(), rng()};
    const auto bytes = little_endian_bytes(words);
    ASSERT_EQ(siphash24_words(key, words[0], words[1]),
              siphash24(key, bytes.data(), bytes.size()))
        << "trial " << trial;
  }
}

TEST(SipHash24Words, ThreeRandomWords_EqualGenericHashOfTheirBytes) {
  std::mt19937_64 rng(0x5eed0002);
  for (int trial = 0; trial < 10000; ++trial) {
    const SipKey key{rng(), rng()};
    const std::array<std::uint64_t, 3> words{rng(), rng(), rng()};
    const auto bytes = little_endian_bytes(words);
    ASSERT_EQ(siphash24_words(key, words[0], words[1], words[2]),
              siphash24(key, bytes.data(), bytes.size()))
        << "trial " << trial;
  }
}

TEST(SipHash24, DifferentKeys_GiveDifferentHashes) {
  const auto message = ascending_bytes();
  const SipKey other_k0{kReferenceKey.k0 ^ 1, kReferenceKey.k1};
  const SipKey other_k1{kReferenceKey.k0, kReferenceKey.k1 ^ (1ULL << 63)};
  const std::uint64_t reference = siphash24(kReferenceKey, message.data(), 16);
  EXPECT_NE(siphash24(other_k0, message.data(), 16), reference);
  EXPECT_NE(siphash24(other_k1, message.data(), 16), reference);
}

TEST(SipHash24, TrailingZeroByte_ChangesHash) {
  // The length block is what separates "x" from "x\0"; a hash that ignored it would collide.
  const std::array<unsigned char, 8> zeros{};
  for (std::size_t len = 0; len < zeros.size(); ++len) {
    EXPECT_NE(siphash24(kReferenceKey, zeros.data(), len),
              siphash24(kReferenceKey, zeros.data(), len + 1))
        << "length " << len;
  }
}

// Every batch level the CPU has, at every burst length around its lane counts (4, 8) and the
// engine's burst (32), equals siphash24_words() hash by hash; lanes past n are never written.
TEST(SipHash24, Batch_EqualsOneAtATime_AtEveryLevelTheCpuHas) {
  std::vector<SipBatchLevel> levels{SipBatchLevel::kScalar};
  if (sip_batch_level_supported() >= SipBatchLevel::kAvx2) levels.push_back(SipBatchLevel::kAvx2);
  if (sip_batch_level_supported() >= SipBatchLevel::kAvx512) levels.push_back(SipBatchLevel::kAvx512);
  constexpr std::size_t kMax = 33;
  std::array<std::uint64_t, kMax> w0{}, w1{}, w2{};
  for (std::size_t i = 0; i < kMax; ++i) {
    w0[i] = 0x9e3779b97f4a7c15ULL * (i + 1);
    w1[i] = ~w0[i] ^ (i << 40);
    w2[i] = (0x534359ULL << 40) | i;
  }
  for (SipBatchLevel level : levels) {
    for (std::size_t n = 0; n <= kMax; ++n) {
      std::array<std::uint64_t, kMax + 1> out{};
      out.fill(0x5a5a5a5a5a5a5a5aULL);
      siphash24_words_batch(level, kReferenceKey, w0.data(), w1.data(), w2.data(), out.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(out[i], siphash24_words(kReferenceKey, w0[i], w1[i], w2[i]))
            << "level " << static_cast<int>(level) << " n " << n << " lane " << i;
      }
      for (std::size_t i = n; i <= kMax; ++i) ASSERT_EQ(out[i], 0x5a5a5a5a5a5a5a5aULL) << "wrote past n";
    }
  }
  std::array<std::uint64_t, 3> out{};
  siphash24_words_batch(kReferenceKey, w0.data(), w1.data(), w2.data(), out.data(), out.size());  // the CPU's best
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], siphash24_words(kReferenceKey, w0[i], w1[i], w2[i]));
}

}  // namespace
}  // namespace synwave
