#pragma once
// Ethernet II framing. 802.1Q tags and 802.3 length frames are not ours: they are counted as
// unknown EtherTypes and dropped.
#include <array>
#include <cstdint>
#include <cstring>

#include "synwave/byte_order.hpp"

namespace synwave {

struct MacAddr {
  std::array<std::uint8_t, 6> bytes{};

  [[nodiscard]] bool is_broadcast() const {
    for (auto b : bytes)
      if (b != 0xff) return false;
    return true;
  }
  [[nodiscard]] bool is_multicast() const { return (bytes[0] & 1) != 0; }
  [[nodiscard]] bool is_zero() const {
    for (auto b : bytes)
      if (b != 0) return false;
    return true;
  }
  static MacAddr broadcast() { return MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  static MacAddr load(const std::uint8_t* p) {
    MacAddr m;
    std::memcpy(m.bytes.data(), p, 6);
    return m;
  }
  void store(std::uint8_t* p) const { std::memcpy(p, bytes.data(), 6); }
  // Two loads a side: the defaulted comparison of the std::array became a call to memcmp, 8 % of
  // the loopback's samples (every received frame's destination is compared with ours).
  friend bool operator==(const MacAddr& a, const MacAddr& b) {
    std::uint32_t a4;
    std::uint32_t b4;
    std::uint16_t a2;
    std::uint16_t b2;
    std::memcpy(&a4, a.bytes.data(), 4);
    std::memcpy(&b4, b.bytes.data(), 4);
    std::memcpy(&a2, a.bytes.data() + 4, 2);
    std::memcpy(&b2, b.bytes.data() + 4, 2);
    return a4 == b4 && a2 == b2;
  }
};

inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;
inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;

struct EthernetHeader {
  static constexpr std::size_t kSize = 14;
  MacAddr dst;
  MacAddr src;
  std::uint16_t ether_type = 0;
};

enum class EthernetError : std::uint8_t { kOk, kTruncated };

[[nodiscard]] inline EthernetError parse_ethernet(const std::uint8_t* p, std::size_t len, EthernetHeader& out) {
  if (len < EthernetHeader::kSize) return EthernetError::kTruncated;
  out.dst = MacAddr::load(p);
  out.src = MacAddr::load(p + 6);
  out.ether_type = load_be16(p + 12);
  return EthernetError::kOk;
}

inline void write_ethernet(std::uint8_t* p, const MacAddr& dst, const MacAddr& src, std::uint16_t ether_type) {
  dst.store(p);
  src.store(p + 6);
  store_be16(p + 12, ether_type);
}

}  // namespace synwave
