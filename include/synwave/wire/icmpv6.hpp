#pragma once
// ICMPv6 (RFC 4443) as far as an IPv6 endpoint must speak it: echo (a peer pings us), and the
// Neighbor Discovery messages that take ARP's place (RFC 4861 §4.3, §4.4): a Neighbor
// Solicitation asks who has an address, a Neighbor Advertisement answers with the link-layer
// address. Messages are checked as RFC 4861 §7.1 tells a receiver to, so that a forged or
// routed one cannot poison the neighbour cache.
#include <cstdint>
#include <cstring>

#include "synwave/byte_order.hpp"
#include "synwave/checksum.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave {

inline constexpr std::uint8_t kIcmpv6ParameterProblem = 4;
inline constexpr std::uint8_t kIcmpv6EchoRequest = 128;
inline constexpr std::uint8_t kIcmpv6EchoReply = 129;
inline constexpr std::uint8_t kIcmpv6NeighborSolicitation = 135;
inline constexpr std::uint8_t kIcmpv6NeighborAdvertisement = 136;
// Neighbor Discovery option types (RFC 4861 §4.6.1).
inline constexpr std::uint8_t kNdOptionSourceLinkAddress = 1;
inline constexpr std::uint8_t kNdOptionTargetLinkAddress = 2;
// Neighbor Discovery is link-local only: a sender sets 255 and no router decrements it on the way.
inline constexpr std::uint8_t kNdHopLimit = 255;
// Type, code, checksum, 4 bytes of flags or reserved, the 16-byte target.
inline constexpr std::uint32_t kNdMessageSize = 24;
// With one link-layer address option (type, length 1 = 8 bytes, 6 bytes of MAC).
inline constexpr std::uint32_t kNdMessageWithLinkAddressSize = kNdMessageSize + 8;

// The checksum of an ICMPv6 message of `len` bytes at `msg` (its checksum field included: 0 when
// the message is intact, RFC 4443 §2.3), over the IPv6 pseudo-header.
[[nodiscard]] inline std::uint16_t icmpv6_checksum(const Ipv6Addr& src, const Ipv6Addr& dst, const std::uint8_t* msg,
                                                   std::uint32_t len) {
  return checksum_finish(checksum_add(msg, len, pseudo_header_sum_ipv6(src, dst, kIpProtoIcmpv6, len)));
}

struct Icmpv6Header {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
};

enum class Icmpv6Error : std::uint8_t { kOk, kTruncated, kBadChecksum };

// `msg`, `len`: the ICMPv6 message (Ipv6Header::upper_offset, upper_len()).
[[nodiscard]] inline Icmpv6Error parse_icmpv6(const Ipv6Header& ip, const std::uint8_t* msg, std::uint32_t len,
                                              Icmpv6Header& out, bool verify_checksum = true) {
  if (len < 4) return Icmpv6Error::kTruncated;
  if (verify_checksum && icmpv6_checksum(ip.src, ip.dst, msg, len) != 0) return Icmpv6Error::kBadChecksum;
  out.type = msg[0];
  out.code = msg[1];
  return Icmpv6Error::kOk;
}

enum class NdError : std::uint8_t {
  kOk,
  kTruncated,              // shorter than 24 bytes, or an option runs past the end
  kBadHopLimit,            // not 255: the message crossed a router
  kBadCode,
  kMulticastTarget,
  kBadOption,              // an option of length 0 (RFC 4861 §4.6: the receiver discards the message)
  kBadUnspecifiedSource,   // DAD probe from :: sent elsewhere than a solicited-node group, or with a link address
  kSolicitedToMulticast,   // an advertisement to a group with the Solicited flag
};

struct NeighborSolicitation {
  Ipv6Addr target{};
  bool has_source_mac = false;
  MacAddr source_mac;
};

struct NeighborAdvertisement {
  Ipv6Addr target{};
  bool router = false;
  bool solicited = false;
  bool override_entry = false;
  bool has_target_mac = false;
  MacAddr target_mac;
};

namespace nd_detail {

// The checks both messages share (RFC 4861 §7.1.1, §7.1.2), then the options after the target:
// finds the link-layer address option of `wanted` type; any option of length 0 voids the message.
[[nodiscard]] inline NdError read(const Ipv6Header& ip, const std::uint8_t* msg, std::uint32_t len, Ipv6Addr& target,
                                  std::uint8_t wanted, bool& found, MacAddr& mac) {
  if (ip.hop_limit != kNdHopLimit) return NdError::kBadHopLimit;
  if (len < kNdMessageSize) return NdError::kTruncated;
  if (msg[1] != 0) return NdError::kBadCode;
  std::memcpy(target.data(), msg + 8, 16);
  if (is_multicast(target)) return NdError::kMulticastTarget;
  found = false;
  for (std::uint32_t at = kNdMessageSize; at < len;) {
    if (at + 2 > len) return NdError::kTruncated;
    const std::uint32_t size = std::uint32_t{msg[at + 1]} * 8;
    if (size == 0) return NdError::kBadOption;
    if (at + size > len) return NdError::kTruncated;
    // An Ethernet address option is 8 bytes; a longer one belongs to another link layer.
    if (msg[at] == wanted && size == 8) {
      found = true;
      mac = MacAddr::load(msg + at + 2);
    }
    at += size;
  }
  return NdError::kOk;
}

// Writes type, code 0, flags, target and one link-layer address option, then the checksum.
inline std::uint32_t write(std::uint8_t* p, std::uint8_t type, std::uint32_t flags, const Ipv6Addr& src,
                           const Ipv6Addr& dst, const Ipv6Addr& target, std::uint8_t option, const MacAddr& mac) {
  p[0] = type;
  p[1] = 0;
  store_be16(p + 2, 0);
  store_be32(p + 4, flags);
  std::memcpy(p + 8, target.data(), 16);
  p[kNdMessageSize] = option;
  p[kNdMessageSize + 1] = 1;
  mac.store(p + kNdMessageSize + 2);
  store_be16(p + 2, icmpv6_checksum(src, dst, p, kNdMessageWithLinkAddressSize));
  return kNdMessageWithLinkAddressSize;
}

}  // namespace nd_detail

[[nodiscard]] inline NdError parse_neighbor_solicitation(const Ipv6Header& ip, const std::uint8_t* msg,
                                                         std::uint32_t len, NeighborSolicitation& out) {
  const NdError e = nd_detail::read(ip, msg, len, out.target, kNdOptionSourceLinkAddress, out.has_source_mac,
                                    out.source_mac);
  if (e != NdError::kOk) return e;
  // Duplicate address detection (RFC 4862 §5.4.3) asks from "::", to the solicited-node group of
  // the target, and can name no link address to answer to.
  if (is_unspecified(ip.src) && (ip.dst != solicited_node_multicast(out.target) || out.has_source_mac)) {
    return NdError::kBadUnspecifiedSource;
  }
  return NdError::kOk;
}

[[nodiscard]] inline NdError parse_neighbor_advertisement(const Ipv6Header& ip, const std::uint8_t* msg,
                                                          std::uint32_t len, NeighborAdvertisement& out) {
  const NdError e = nd_detail::read(ip, msg, len, out.target, kNdOptionTargetLinkAddress, out.has_target_mac,
                                    out.target_mac);
  if (e != NdError::kOk) return e;
  const std::uint8_t flags = msg[4];
  out.router = (flags & 0x80) != 0;
  out.solicited = (flags & 0x40) != 0;
  out.override_entry = (flags & 0x20) != 0;
  if (is_multicast(ip.dst) && out.solicited) return NdError::kSolicitedToMulticast;
  return NdError::kOk;
}

// Our answer to a solicitation for `target`, one of our addresses: Override set (the address is
// ours), Solicited set unless it goes to all nodes (an unsolicited announcement), our MAC as the
// target link-layer address. Writes kNdMessageWithLinkAddressSize bytes at `p` and returns that.
inline std::uint32_t write_neighbor_advertisement(std::uint8_t* p, const Ipv6Addr& src, const Ipv6Addr& dst,
                                                  const Ipv6Addr& target, const MacAddr& our_mac, bool solicited) {
  const std::uint32_t flags = 0x20000000u | (solicited ? 0x40000000u : 0u);
  return nd_detail::write(p, kIcmpv6NeighborAdvertisement, flags, src, dst, target, kNdOptionTargetLinkAddress, our_mac);
}

// Our question for `target` (a next hop to resolve), to its solicited-node group, with our MAC.
inline std::uint32_t write_neighbor_solicitation(std::uint8_t* p, const Ipv6Addr& src, const Ipv6Addr& target,
                                                 const MacAddr& our_mac) {
  return nd_detail::write(p, kIcmpv6NeighborSolicitation, 0, src, solicited_node_multicast(target), target,
                          kNdOptionSourceLinkAddress, our_mac);
}

// An error message carries as much of the packet that caused it as fits in IPv6's minimum MTU
// (RFC 4443 §2.4(c)): 1280 less its own IPv6 and ICMPv6 headers.
inline constexpr std::uint32_t kIcmpv6ErrorMaxInvoking = 1280 - Ipv6Header::kSize - 8;

// A Parameter Problem (RFC 4443 §3.4) whose invoking packet, `invoking_len` bytes (at most
// kIcmpv6ErrorMaxInvoking), the caller has already placed at p + 8. Returns the message's length.
inline std::uint32_t write_parameter_problem(std::uint8_t* p, const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t code,
                                             std::uint32_t pointer, std::uint32_t invoking_len) {
  p[0] = kIcmpv6ParameterProblem;
  p[1] = code;
  store_be16(p + 2, 0);
  store_be32(p + 4, pointer);
  const std::uint32_t len = 8 + invoking_len;
  store_be16(p + 2, icmpv6_checksum(src, dst, p, len));
  return len;
}

// The reply to an echo request of `len` bytes at `request`: the same identifier, sequence and
// data (RFC 4443 §4.2), written at `p` (which may be `request` itself). Returns `len`.
inline std::uint32_t write_echo_reply(std::uint8_t* p, const Ipv6Addr& src, const Ipv6Addr& dst,
                                      const std::uint8_t* request, std::uint32_t len) {
  if (p != request) std::memmove(p, request, len);
  p[0] = kIcmpv6EchoReply;
  p[1] = 0;
  store_be16(p + 2, 0);
  store_be16(p + 2, icmpv6_checksum(src, dst, p, len));
  return len;
}

}  // namespace synwave
