// SipHash-2-4 of many 24-byte inputs at once (siphash.hpp): the four state words of 4 or 8 hashes
// held in vector registers, one lane per hash. The project builds for a portable x86-64 baseline,
// so the vector versions carry their own target attributes and run only where the CPU reports the
// instruction set; every level equals siphash24_words() lane by lane (tests/unit/siphash_test.cpp).
#include <cstddef>
#include <cstdint>

#include "synwave/siphash.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SYNWAVE_SIP_BATCH_X86 1
// GCC 12's _mm512_rol_epi64 passes _mm512_undefined_epi32() as its (unused) merge source, which
// -Wmaybe-uninitialized reports at every use.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

namespace synwave {
namespace {

// "somepseudorandomlygeneratedbytes", as in siphash_detail::initial_state.
constexpr std::uint64_t kInit0 = 0x736f6d6570736575ULL;
constexpr std::uint64_t kInit1 = 0x646f72616e646f6dULL;
constexpr std::uint64_t kInit2 = 0x6c7967656e657261ULL;
constexpr std::uint64_t kInit3 = 0x7465646279746573ULL;
constexpr std::uint64_t kLength24 = std::uint64_t{24} << 56;

void batch_scalar(const SipKey& key, const std::uint64_t* w0, const std::uint64_t* w1, const std::uint64_t* w2,
                  std::uint64_t* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = siphash24_words(key, w0[i], w1[i], w2[i]);
}

#ifdef SYNWAVE_SIP_BATCH_X86

// AVX2 has no 64-bit rotate: shifts and an OR, except by 32 (a dword shuffle) and 16 (a byte one).
__attribute__((target("avx2"))) inline __m256i rotl256(__m256i x, int bits) {
  return _mm256_or_si256(_mm256_slli_epi64(x, bits), _mm256_srli_epi64(x, 64 - bits));
}

__attribute__((target("avx2"))) inline void sip_round256(__m256i& v0, __m256i& v1, __m256i& v2, __m256i& v3) {
  const __m256i rotl16 = _mm256_setr_epi8(6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13, 6, 7, 0, 1, 2, 3, 4,
                                          5, 14, 15, 8, 9, 10, 11, 12, 13);
  v0 = _mm256_add_epi64(v0, v1);
  v1 = _mm256_xor_si256(rotl256(v1, 13), v0);
  v0 = _mm256_shuffle_epi32(v0, 0xb1);  // rotl 32
  v2 = _mm256_add_epi64(v2, v3);
  v3 = _mm256_xor_si256(_mm256_shuffle_epi8(v3, rotl16), v2);
  v0 = _mm256_add_epi64(v0, v3);
  v3 = _mm256_xor_si256(rotl256(v3, 21), v0);
  v2 = _mm256_add_epi64(v2, v1);
  v1 = _mm256_xor_si256(rotl256(v1, 17), v2);
  v2 = _mm256_shuffle_epi32(v2, 0xb1);  // rotl 32
}

__attribute__((target("avx2"))) inline void compress256(__m256i& v0, __m256i& v1, __m256i& v2, __m256i& v3,
                                                        __m256i m) {
  v3 = _mm256_xor_si256(v3, m);
  sip_round256(v0, v1, v2, v3);
  sip_round256(v0, v1, v2, v3);
  v0 = _mm256_xor_si256(v0, m);
}

__attribute__((target("avx2"))) void batch_avx2(const SipKey& key, const std::uint64_t* w0, const std::uint64_t* w1,
                                                const std::uint64_t* w2, std::uint64_t* out, std::size_t n) noexcept {
  const auto k0 = static_cast<long long>(key.k0);
  const auto k1 = static_cast<long long>(key.k1);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256i v0 = _mm256_set1_epi64x(k0 ^ static_cast<long long>(kInit0));
    __m256i v1 = _mm256_set1_epi64x(k1 ^ static_cast<long long>(kInit1));
    __m256i v2 = _mm256_set1_epi64x(k0 ^ static_cast<long long>(kInit2));
    __m256i v3 = _mm256_set1_epi64x(k1 ^ static_cast<long long>(kInit3));
    compress256(v0, v1, v2, v3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w0 + i)));
    compress256(v0, v1, v2, v3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w1 + i)));
    compress256(v0, v1, v2, v3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w2 + i)));
    compress256(v0, v1, v2, v3, _mm256_set1_epi64x(static_cast<long long>(kLength24)));
    v2 = _mm256_xor_si256(v2, _mm256_set1_epi64x(0xff));
    for (int r = 0; r < 4; ++r) sip_round256(v0, v1, v2, v3);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        _mm256_xor_si256(_mm256_xor_si256(v0, v1), _mm256_xor_si256(v2, v3)));
  }
  batch_scalar(key, w0 + i, w1 + i, w2 + i, out + i, n - i);
}

__attribute__((target("avx512f"))) inline void sip_round512(__m512i& v0, __m512i& v1, __m512i& v2, __m512i& v3) {
  v0 = _mm512_add_epi64(v0, v1);
  v1 = _mm512_xor_si512(_mm512_rol_epi64(v1, 13), v0);
  v0 = _mm512_rol_epi64(v0, 32);
  v2 = _mm512_add_epi64(v2, v3);
  v3 = _mm512_xor_si512(_mm512_rol_epi64(v3, 16), v2);
  v0 = _mm512_add_epi64(v0, v3);
  v3 = _mm512_xor_si512(_mm512_rol_epi64(v3, 21), v0);
  v2 = _mm512_add_epi64(v2, v1);
  v1 = _mm512_xor_si512(_mm512_rol_epi64(v1, 17), v2);
  v2 = _mm512_rol_epi64(v2, 32);
}

__attribute__((target("avx512f"))) inline void compress512(__m512i& v0, __m512i& v1, __m512i& v2, __m512i& v3,
                                                           __m512i m) {
  v3 = _mm512_xor_si512(v3, m);
  sip_round512(v0, v1, v2, v3);
  sip_round512(v0, v1, v2, v3);
  v0 = _mm512_xor_si512(v0, m);
}

// The last lanes of a burst that is not a multiple of 8 are masked, not left to the scalar loop.
__attribute__((target("avx512f"))) void batch_avx512(const SipKey& key, const std::uint64_t* w0,
                                                     const std::uint64_t* w1, const std::uint64_t* w2,
                                                     std::uint64_t* out, std::size_t n) noexcept {
  const auto k0 = static_cast<long long>(key.k0);
  const auto k1 = static_cast<long long>(key.k1);
  for (std::size_t i = 0; i < n; i += 8) {
    const auto lanes = static_cast<__mmask8>(n - i >= 8 ? 0xff : (1u << (n - i)) - 1);
    __m512i v0 = _mm512_set1_epi64(k0 ^ static_cast<long long>(kInit0));
    __m512i v1 = _mm512_set1_epi64(k1 ^ static_cast<long long>(kInit1));
    __m512i v2 = _mm512_set1_epi64(k0 ^ static_cast<long long>(kInit2));
    __m512i v3 = _mm512_set1_epi64(k1 ^ static_cast<long long>(kInit3));
    compress512(v0, v1, v2, v3, _mm512_maskz_loadu_epi64(lanes, w0 + i));
    compress512(v0, v1, v2, v3, _mm512_maskz_loadu_epi64(lanes, w1 + i));
    compress512(v0, v1, v2, v3, _mm512_maskz_loadu_epi64(lanes, w2 + i));
    compress512(v0, v1, v2, v3, _mm512_set1_epi64(static_cast<long long>(kLength24)));
    v2 = _mm512_xor_si512(v2, _mm512_set1_epi64(0xff));
    for (int r = 0; r < 4; ++r) sip_round512(v0, v1, v2, v3);
    _mm512_mask_storeu_epi64(out + i, lanes, _mm512_xor_si512(_mm512_xor_si512(v0, v1), _mm512_xor_si512(v2, v3)));
  }
}

SipBatchLevel detect_level() noexcept {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return SipBatchLevel::kAvx512;
  if (__builtin_cpu_supports("avx2")) return SipBatchLevel::kAvx2;
  return SipBatchLevel::kScalar;
}

#else

SipBatchLevel detect_level() noexcept { return SipBatchLevel::kScalar; }

#endif

const SipBatchLevel kSupported = detect_level();

}  // namespace

SipBatchLevel sip_batch_level_supported() noexcept { return kSupported; }

void siphash24_words_batch(SipBatchLevel level, const SipKey& key, const std::uint64_t* w0, const std::uint64_t* w1,
                           const std::uint64_t* w2, std::uint64_t* out, std::size_t n) noexcept {
  switch (level) {
#ifdef SYNWAVE_SIP_BATCH_X86
    case SipBatchLevel::kAvx512: batch_avx512(key, w0, w1, w2, out, n); return;
    case SipBatchLevel::kAvx2: batch_avx2(key, w0, w1, w2, out, n); return;
#endif
    default: batch_scalar(key, w0, w1, w2, out, n); return;
  }
}

void siphash24_words_batch(const SipKey& key, const std::uint64_t* w0, const std::uint64_t* w1,
                           const std::uint64_t* w2, std::uint64_t* out, std::size_t n) noexcept {
  siphash24_words_batch(kSupported, key, w0, w1, w2, out, n);
}

}  // namespace synwave
