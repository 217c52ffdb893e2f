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

// A whole ARP frame (Ethernet header + packet, no padding: the NIC pads to the minimum).
inline constexpr std::uint16_t kArpFrameSize = static_cast<std::uint16_t>(EthernetHeader::kSize + ArpPacket::kSize);

// Writes "who has target_ip? tell our_ip" to everyone into buf (kArpFrameSize bytes).
inline void write_arp_request_frame(std::uint8_t* buf, const MacAddr& our_mac, std::uint32_t our_ip,
                                    std::uint32_t target_ip) {
  ArpPacket req;
  req.operation = kArpRequest;
  req.sender_mac = our_mac;
  req.sender_ip = our_ip;
  req.target_ip = target_ip;
  write_ethernet(buf, MacAddr::broadcast(), our_mac, kEtherTypeArp);
  write_arp(buf + EthernetHeader::kSize, req);
}

// Turns a received request for one of our addresses into its reply, in the request's own buffer
// (kArpFrameSize bytes): "request.target_ip is at our_mac", back to the asker.
inline void write_arp_reply_frame(std::uint8_t* buf, const ArpPacket& request, const MacAddr& asker_mac,
                                  const MacAddr& our_mac) {
  ArpPacket reply;
  reply.operation = kArpReply;
  reply.sender_mac = our_mac;
  reply.sender_ip = request.target_ip;
  reply.target_mac = request.sender_mac;
  reply.target_ip = request.sender_ip;
  write_ethernet(buf, asker_mac, our_mac, kEtherTypeArp);
  write_arp(buf + EthernetHeader::kSize, reply);
}

}  // namespace synwave
