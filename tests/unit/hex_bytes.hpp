#pragma once
// Frames written as hex strings in the generated Scapy data, and copies of them sized exactly, so
// that a parser reading one byte past what it was given trips AddressSanitizer.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace synwave::test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes from_hex(const std::string& hex) {
  auto nibble = [](char c) -> std::uint8_t {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    return static_cast<std::uint8_t>(c - 'a' + 10);
  };
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  return out;
}

// A copy in a heap block of exactly n bytes (n may be 0): any read past it is caught by ASan.
inline std::unique_ptr<std::uint8_t[]> exact_copy(const std::uint8_t* p, std::size_t n) {
  if (n > 65536) std::abort();  // frames are small; also bounds n for GCC 12's -Wstringop-overflow
  auto block = std::make_unique<std::uint8_t[]>(n);
  std::copy(p, p + n, block.get());
  return block;
}

}  // namespace synwave::test
