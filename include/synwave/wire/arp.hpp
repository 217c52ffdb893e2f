#pragma once
// ARP for IPv4 over Ethernet (RFC 826). Anything else (other hardware or protocol types,
// other lengths) is not for us.
#include <cstdint>

#include "synwave/byte_order.hpp"
#include "synwave/wire/ethernet.hpp"

namespace synwave {

inline constexpr std::uint16_t kArpRequest = 1;
inline constexpr std::uint16_t kArpReply = 2;

struct ArpPacket {
  static constexpr std::size_t kSize = 28;
  std::uint16_t operation = 0;
  MacAddr sender_mac;
  std::uint32_t sender_ip = 0;  // host order
  MacAddr target_mac;
  std::uint32_t target_ip = 0;  // host order
};

enum class ArpError : std::uint8_t { kOk, kTruncated, kNotEthernetIpv4, kBadOperation };

[[nodiscard]] inline ArpError parse_arp(const std::uint8_t* p, std::size_t len, ArpPacket& out) {
  if (len < ArpPacket::kSize) return ArpError::kTruncated;
  if (load_be16(p) != 1 || load_be16(p + 2) != kEtherTypeIpv4 || p[4] != 6 || p[5] != 4)
    return ArpError::kNotEthernetIpv4;
  out.operation = load_be16(p + 6);
  if (out.operation != kArpRequest && out.operation != kArpReply) return ArpError::kBadOperation;
  out.sender_mac = MacAddr::load(p + 8);
  out.sender_ip = load_be32(p + 14);
  out.target_mac = MacAddr::load(p + 18);
  out.target_ip = load_be32(p + 24);
  return ArpError::kOk;
}

inline void write_arp(std::uint8_t* p, const ArpPacket& a) {
  store_be16(p, 1);
  store_be16(p + 2, kEtherTypeIpv4);
  p[4] = 6;
  p[5] = 4;
  store_be16(p + 6, a.operation);
  a.sender_mac.store(p + 8);
  store_be32(p + 14, a.sender_ip);
  a.target_mac.store(p + 18);
  store_be32(p + 24, a.target_ip);
}

}  // namespace synwave
