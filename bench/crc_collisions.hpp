#pragma once
// Spoofed IPv4 sources crafted to collide in a flow table indexed by an unkeyed CRC32c of the
// tuple, the way an attacker who knows the hash would pick them. CRC is affine over GF(2): for a
// fixed local address and port, the map from the 33 free bits of the source (an address in
// 198.18.0.0/15 and a port) to the hash's low bits is linear plus a constant, so every source
// that differs from a base by a vector of its kernel lands in the base's home slot. Gaussian
// elimination finds the kernel; its combinations give 2^(33 - bits) or more such sources.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "synwave/flow_table.hpp"

namespace synwave::bench {

struct SpoofedSource {
  std::uint32_t ip;
  std::uint16_t port;
};

// Up to count sources whose flow_hash_software() (CRC32c of the key) agree in their low `bits`
// bits with local_ip:local_port as the local end.
inline std::vector<SpoofedSource> crc_colliding_sources(std::uint32_t local_ip, std::uint16_t local_port,
                                                        unsigned bits, std::size_t count) {
  constexpr std::uint32_t kBase = (198u << 24) | (18u << 16);  // 198.18.0.0/15: 17 free address bits
  constexpr unsigned kFreeBits = 17 + 16;
  const std::uint32_t mask = bits >= 32 ? ~0u : (1u << bits) - 1;
  auto hash_of = [&](std::uint64_t x) {
    const FlowKey key{local_ip, kBase | static_cast<std::uint32_t>(x >> 16), local_port,
                      static_cast<std::uint16_t>(x & 0xffff)};
    return flow_hash_software(key) & mask;
  };
  const std::uint32_t h0 = hash_of(0);
  // Row-reduced columns: (image, the free bits that make it); an image reduced to 0 is a kernel vector.
  std::vector<std::pair<std::uint32_t, std::uint64_t>> basis;
  std::vector<std::uint64_t> kernel;
  for (unsigned j = 0; j < kFreeBits; ++j) {
    std::uint32_t image = hash_of(std::uint64_t{1} << j) ^ h0;
    std::uint64_t combination = std::uint64_t{1} << j;
    for (const auto& [b, c] : basis) {
      if ((image ^ b) < image) {  // b's leading bit is set in image
        image ^= b;
        combination ^= c;
      }
    }
    if (image == 0) kernel.push_back(combination);
    else basis.emplace_back(image, combination);
    std::sort(basis.begin(), basis.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  }
  std::vector<SpoofedSource> out;
  for (std::uint64_t n = 1; out.size() < count && n < (std::uint64_t{1} << kernel.size()); ++n) {
    std::uint64_t x = 0;
    for (std::size_t k = 0; k < kernel.size(); ++k) {
      if (((n >> k) & 1) != 0) x ^= kernel[k];
    }
    const SpoofedSource s{kBase | static_cast<std::uint32_t>(x >> 16), static_cast<std::uint16_t>(x & 0xffff)};
    if (s.port == 0 || (s.ip & 0xffff) == 0xffff || s.ip == local_ip) continue;  // no port 0, no broadcast, not us
    out.push_back(s);
  }
  return out;
}

}  // namespace synwave::bench
