// AES-128 encryption of one block with AES-NI (aes128_prf.hpp): the key schedule of FIPS 197 §5.2
// through AESKEYGENASSIST, then AESENC nine times and AESENCLAST once.
#include "synwave/aes128_prf.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SYNWAVE_AES_X86 1
#endif

namespace synwave {

#ifdef SYNWAVE_AES_X86
namespace {

// One step of the schedule: the previous round key folded into itself (each word XORed with the
// words before it) and XORed with SubWord(RotWord(last word)) ^ Rcon, which AESKEYGENASSIST
// leaves in its top word.
__attribute__((target("aes"))) __m128i expand_step(__m128i key, __m128i assist) {
  assist = _mm_shuffle_epi32(assist, 0xff);
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  return _mm_xor_si128(key, assist);
}

__attribute__((target("aes"))) void expand(std::uint64_t k0, std::uint64_t k1, std::uint8_t* out) {
  __m128i rk[11];
  rk[0] = _mm_set_epi64x(static_cast<long long>(k1), static_cast<long long>(k0));
  // The round constants must be immediates.
  rk[1] = expand_step(rk[0], _mm_aeskeygenassist_si128(rk[0], 0x01));
  rk[2] = expand_step(rk[1], _mm_aeskeygenassist_si128(rk[1], 0x02));
  rk[3] = expand_step(rk[2], _mm_aeskeygenassist_si128(rk[2], 0x04));
  rk[4] = expand_step(rk[3], _mm_aeskeygenassist_si128(rk[3], 0x08));
  rk[5] = expand_step(rk[4], _mm_aeskeygenassist_si128(rk[4], 0x10));
  rk[6] = expand_step(rk[5], _mm_aeskeygenassist_si128(rk[5], 0x20));
  rk[7] = expand_step(rk[6], _mm_aeskeygenassist_si128(rk[6], 0x40));
  rk[8] = expand_step(rk[7], _mm_aeskeygenassist_si128(rk[7], 0x80));
  rk[9] = expand_step(rk[8], _mm_aeskeygenassist_si128(rk[8], 0x1b));
  rk[10] = expand_step(rk[9], _mm_aeskeygenassist_si128(rk[9], 0x36));
  for (int i = 0; i < 11; ++i) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * i), rk[i]);
}

__attribute__((target("aes"))) std::uint64_t encrypt(const std::uint8_t* round_keys, std::uint64_t w0,
                                                         std::uint64_t w1) {
  const auto* rk = reinterpret_cast<const __m128i*>(round_keys);
  __m128i b = _mm_xor_si128(_mm_set_epi64x(static_cast<long long>(w1), static_cast<long long>(w0)),
                            _mm_load_si128(rk));
  for (int i = 1; i < 10; ++i) b = _mm_aesenc_si128(b, _mm_load_si128(rk + i));
  b = _mm_aesenclast_si128(b, _mm_load_si128(rk + 10));
  return static_cast<std::uint64_t>(_mm_cvtsi128_si64(b));
}

}  // namespace

// A function-local static: an instance made during another file's static initialisation still
// sees the CPU's answer, not a flag not yet set.
bool Aes128Prf::supported() noexcept {
  static const bool kSupported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("aes") != 0;
  }();
  return kSupported;
}

Aes128Prf::Aes128Prf(std::uint64_t k0, std::uint64_t k1) noexcept {
  if (!supported()) return;
  expand(k0, k1, round_keys_.data());
  ready_ = true;
}

std::uint64_t Aes128Prf::encrypt_low64(std::uint64_t w0, std::uint64_t w1) const noexcept {
  if (!ready_) [[unlikely]] __builtin_trap();
  return encrypt(round_keys_.data(), w0, w1);
}

#else

bool Aes128Prf::supported() noexcept { return false; }
Aes128Prf::Aes128Prf(std::uint64_t, std::uint64_t) noexcept {}
std::uint64_t Aes128Prf::encrypt_low64(std::uint64_t, std::uint64_t) const noexcept { __builtin_trap(); }

#endif

}  // namespace synwave
