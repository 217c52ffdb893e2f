#pragma once
// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed hash
// whose outputs an attacker cannot predict or steer without the key. The core uses it where
// a remote peer chooses the input and must not be able to guess the output: initial
// sequence numbers (RFC 6528) and SYN cookies (RFC 4987).
//
// Header-only so the fixed-size fast paths inline into their callers; nothing allocates.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace synwave {

// The 128-bit key as two words: k0 holds key bytes 0..7 and k1 bytes 8..15, each read
// little-endian, as the reference implementation reads its 16-byte key.
struct SipKey {
  std::uint64_t k0;
  std::uint64_t k1;
};

namespace siphash_detail {

struct SipState {
  std::uint64_t v0, v1, v2, v3;
};

[[nodiscard]] constexpr SipState initial_state(const SipKey& key) noexcept {
  // "somepseudorandomlygeneratedbytes": the constants from the SipHash paper.
  return SipState{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
                  key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};
}

constexpr void sip_round(SipState& s) noexcept {
  s.v0 += s.v1;
  s.v1 = std::rotl(s.v1, 13);
  s.v1 ^= s.v0;
  s.v0 = std::rotl(s.v0, 32);
  s.v2 += s.v3;
  s.v3 = std::rotl(s.v3, 16);
  s.v3 ^= s.v2;
  s.v0 += s.v3;
  s.v3 = std::rotl(s.v3, 21);
  s.v3 ^= s.v0;
  s.v2 += s.v1;
  s.v1 = std::rotl(s.v1, 17);
  s.v1 ^= s.v2;
  s.v2 = std::rotl(s.v2, 32);
}

// The "2" in SipHash-2-4: two rounds per message word.
constexpr void compress(SipState& s, std::uint64_t word) noexcept {
  s.v3 ^= word;
  sip_round(s);
  sip_round(s);
  s.v0 ^= word;
}

// The "4" in SipHash-2-4: four rounds before the output.
[[nodiscard]] constexpr std::uint64_t finalize(SipState& s) noexcept {
  s.v2 ^= 0xff;
  sip_round(s);
  sip_round(s);
  sip_round(s);
  sip_round(s);
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

// The last block carries the message length mod 256 in its top byte, so inputs that differ
// only by trailing zero bytes hash differently.
[[nodiscard]] constexpr std::uint64_t length_block(std::size_t len) noexcept {
  return static_cast<std::uint64_t>(len) << 56;
}

[[nodiscard]] inline std::uint64_t load_le64(const unsigned char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);  // memcpy: the input may be unaligned
  if constexpr (std::endian::native == std::endian::big) {
    word = __builtin_bswap64(word);
  }
  return word;
}

}  // namespace siphash_detail

// SipHash-2-4 of len bytes at data; equals the reference implementation's output read as a
// little-endian uint64.
[[nodiscard]] inline std::uint64_t siphash24(const SipKey& key, const void* data,
                                             std::size_t len) noexcept {
  using namespace siphash_detail;
  const auto* bytes = static_cast<const unsigned char*>(data);
  SipState s = initial_state(key);

  const std::size_t whole_words_end = len & ~std::size_t{7};
  for (std::size_t offset = 0; offset < whole_words_end; offset += 8) {
    compress(s, load_le64(bytes + offset));
  }

  std::uint64_t last = length_block(len);
  const unsigned char* tail = bytes + whole_words_end;
  switch (len & 7) {
    case 7: last |= static_cast<std::uint64_t>(tail[6]) << 48; [[fallthrough]];
    case 6: last |= static_cast<std::uint64_t>(tail[5]) << 40; [[fallthrough]];
    case 5: last |= static_cast<std::uint64_t>(tail[4]) << 32; [[fallthrough]];
    case 4: last |= static_cast<std::uint64_t>(tail[3]) << 24; [[fallthrough]];
    case 3: last |= static_cast<std::uint64_t>(tail[2]) << 16; [[fallthrough]];
    case 2: last |= static_cast<std::uint64_t>(tail[1]) << 8; [[fallthrough]];
    case 1: last |= static_cast<std::uint64_t>(tail[0]); break;
    default: break;
  }
  compress(s, last);
  return finalize(s);
}

// Fast paths for the fixed-size inputs the TCP core hashes. Each equals siphash24() over the
// words laid out as consecutive little-endian bytes (16 and 24 bytes), with no loads, no
// loop and no tail handling: 3 and 4 compressions (message words plus the length block).
[[nodiscard]] constexpr std::uint64_t siphash24_words(const SipKey& key, std::uint64_t w0,
                                                      std::uint64_t w1) noexcept {
  using namespace siphash_detail;
  SipState s = initial_state(key);
  compress(s, w0);
  compress(s, w1);
  compress(s, length_block(16));
  return finalize(s);
}

[[nodiscard]] constexpr std::uint64_t siphash24_words(const SipKey& key, std::uint64_t w0,
                                                      std::uint64_t w1,
                                                      std::uint64_t w2) noexcept {
  using namespace siphash_detail;
  SipState s = initial_state(key);
  compress(s, w0);
  compress(s, w1);
  compress(s, w2);
  compress(s, length_block(24));
  return finalize(s);
}

// Many 24-byte hashes under one key: out[i] = siphash24_words(key, w0[i], w1[i], w2[i]) for i < n.
// With AVX-512 (8 lanes, native 64-bit rotates) or AVX2 (4 lanes) the hashes of a burst run side
// by side, measured 3.2 and 9.5 ns per hash on this project's VM against 21 ns one at a time;
// the instruction set is chosen once, at start-up, from what the CPU reports (siphash_batch.cpp),
// so the portable build still uses it.
enum class SipBatchLevel : std::uint8_t { kScalar, kAvx2, kAvx512 };
[[nodiscard]] SipBatchLevel sip_batch_level_supported() noexcept;
void siphash24_words_batch(const SipKey& key, const std::uint64_t* w0, const std::uint64_t* w1,
                           const std::uint64_t* w2, std::uint64_t* out, std::size_t n) noexcept;
// The same at a given level (tests, benchmarks); a level the CPU lacks must not be asked for.
void siphash24_words_batch(SipBatchLevel level, const SipKey& key, const std::uint64_t* w0,
                           const std::uint64_t* w1, const std::uint64_t* w2, std::uint64_t* out,
                           std::size_t n) noexcept;

}  // namespace synwave
