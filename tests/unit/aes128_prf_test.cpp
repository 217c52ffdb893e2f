#include "synwave/aes128_prf.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace synwave {
namespace {

// FIPS 197 Appendix C.1: key 000102..0f, plaintext 00112233..ff, ciphertext 69c4e0d86a7b0430
// d8cdb78070b4c55a; the words are those byte strings read little-endian.
TEST(Aes128Prf, Fips197AppendixC1) {
  if (!Aes128Prf::supported()) GTEST_SKIP() << "the CPU has no AES instructions";
  const Aes128Prf prf(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL);
  ASSERT_TRUE(prf.ready());
  EXPECT_EQ(prf.encrypt_low64(0x7766554433221100ULL, 0xffeeddccbbaa9988ULL), 0x30047b6ad8e0c469ULL);
}

// FIPS 197 Appendix A.1's key (2b7e1516 28aed2a6 abf71588 09cf4f3c) with SP 800-38A F.1.1's first
// block (6bc1bee2 2e409f96 e93d7e11 7393172a): 3ad77bb40d7a3660a89ecaf32466ef97.
TEST(Aes128Prf, Sp80038aEcbFirstBlock) {
  if (!Aes128Prf::supported()) GTEST_SKIP() << "the CPU has no AES instructions";
  const Aes128Prf prf(0xa6d2ae2816157e2bULL, 0x3c4fcf098815f7abULL);
  EXPECT_EQ(prf.encrypt_low64(0x969f402ee2bec16bULL, 0x2a179373117e3de9ULL), 0x60367a0db47bd73aULL);
}

// Without the instructions no key is expanded, and asking for a block traps instead of answering
// with something anyone could compute.
TEST(Aes128PrfDeathTest, NotReady_Traps) {
  if (Aes128Prf::supported()) GTEST_SKIP() << "the CPU has AES instructions: every instance is ready";
  const Aes128Prf prf(1, 2);
  EXPECT_FALSE(prf.ready());
  EXPECT_DEATH((void)prf.encrypt_low64(3, 4), "");
}

}  // namespace
}  // namespace synwave
