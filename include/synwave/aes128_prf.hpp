#pragma once
// AES-128 (FIPS 197) as a keyed PRF of one 16-byte block, on the CPU's AES instructions: ten
// rounds of one instruction each, where SipHash-2-4 of the same 16 bytes takes about 160. The
// project builds for a portable x86-64 baseline, so the instructions carry their own target
// attribute (aes128_prf.cpp) and run only where supported() says the CPU has them.
#include <array>
#include <cstdint>

namespace synwave {

class Aes128Prf {
 public:
  [[nodiscard]] static bool supported() noexcept;

  // The key's bytes 0..7 and 8..15, each read little-endian (as SipKey holds a key). Expanded
  // here when supported(); otherwise block() must not be called.
  Aes128Prf(std::uint64_t k0, std::uint64_t k1) noexcept;

  // The first 8 bytes, read little-endian, of AES-128 of the block w0 || w1 (each little-endian).
  [[nodiscard]] std::uint64_t block(std::uint64_t w0, std::uint64_t w1) const noexcept;

 private:
  alignas(16) std::array<std::uint8_t, 11 * 16> round_keys_{};
};

}  // namespace synwave
