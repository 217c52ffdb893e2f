#pragma once
// AES-128 (FIPS 197) as a keyed PRF of one 16-byte block, on the CPU's AES instructions: about 20
// instructions, where SipHash-2-4 of the same 16 bytes takes about 160 (both are chains of
// dependent rounds, AES's ten of about 4 cycles each). The project builds for a portable x86-64
// baseline, so the instructions carry their own target attribute (aes128_prf.cpp) and run only
// where the CPU reports them.
#include <array>
#include <cstdint>

namespace synwave {

class Aes128Prf {
 public:
  // Whether this CPU has the AES instructions (read once, on first use).
  [[nodiscard]] static bool supported() noexcept;

  // The key's bytes 0..7 and 8..15, each read little-endian (as SipKey holds a key), expanded
  // into round keys when the CPU has the instructions: ready() says whether it did.
  Aes128Prf(std::uint64_t k0, std::uint64_t k1) noexcept;

  [[nodiscard]] bool ready() const noexcept { return ready_; }

  // The first 8 bytes, read little-endian, of AES-128 of the block w0 || w1 (each little-endian).
  // Only when ready(): otherwise it traps rather than return a value anyone could compute.
  [[nodiscard]] std::uint64_t encrypt_low64(std::uint64_t w0, std::uint64_t w1) const noexcept;

 private:
  alignas(16) std::array<std::uint8_t, 11 * 16> round_keys_{};
  bool ready_ = false;
};

}  // namespace synwave
