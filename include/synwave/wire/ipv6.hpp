#pragma once
// IPv6 (RFC 8200). The fixed header is checked against the bytes present (a frame may carry
// Ethernet padding beyond the payload length, never less than it); the extension headers a
// connection endpoint may meet before TCP or ICMPv6 are skipped by their length (hop-by-hop
// options, routing, destination options), and a fragment header is reported so the caller can
// count and drop it (no reassembly, as for IPv4). The walk is bounded: a chain of headers is
// attacker-controlled input.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "synwave/byte_order.hpp"
#include "synwave/checksum.hpp"
#include "synwave/wire/ethernet.hpp"

namespace synwave {

using Ipv6Addr = std::array<std::uint8_t, 16>;  // network order, as on the wire

inline constexpr std::uint8_t kIpProtoIcmpv6 = 58;
// Extension headers (RFC 8200 §4): next-header values.
inline constexpr std::uint8_t kIpv6HopByHop = 0;
inline constexpr std::uint8_t kIpv6Routing = 43;
inline constexpr std::uint8_t kIpv6Fragment = 44;
inline constexpr std::uint8_t kIpv6DestinationOptions = 60;
// More extension headers than any sender needs: RFC 8200 §4.1 allows each at most once (the
// destination options twice), and RFC 7112 asks that the whole chain sit in the first fragment.
inline constexpr unsigned kIpv6MaxExtensionHeaders = 8;

struct Ipv6Header {
  static constexpr std::size_t kSize = 40;
  std::uint8_t traffic_class = 0;
  std::uint32_t flow_label = 0;
  std::uint16_t payload_len = 0;   // bytes after the fixed header, extension headers included
  std::uint8_t next_header = 0;    // the upper layer's, once extension headers are skipped
  std::uint16_t upper_offset = 0;  // from the start of the fixed header to the upper layer's header
  std::uint8_t hop_limit = 0;
  Ipv6Addr src{};
  Ipv6Addr dst{};

  // Bytes of the upper-layer message: what its checksum's pseudo-header counts.
  [[nodiscard]] std::uint32_t upper_len() const { return kSize + payload_len - upper_offset; }
};

enum class Ipv6Error : std::uint8_t {
  kOk,
  kTruncated,            // fewer than 40 bytes, or an extension header runs past the payload
  kBadVersion,
  kBadPayloadLength,     // the payload length says more than the bytes received (or 0: a jumbogram)
  kFragment,             // a fragment header
  kBadExtensionOrder,    // hop-by-hop options not right after the fixed header (RFC 8200 §4.1)
  kTooManyExtensions,    // more than kIpv6MaxExtensionHeaders
};

[[nodiscard]] inline Ipv6Error parse_ipv6(const std::uint8_t* p, std::size_t len, Ipv6Header& out) {
  if (len < Ipv6Header::kSize) return Ipv6Error::kTruncated;
  if ((p[0] >> 4) != 6) return Ipv6Error::kBadVersion;
  const std::uint16_t payload = load_be16(p + 4);
  // A zero payload length announces a jumbogram (RFC 2675), which no Ethernet frame can be.
  if (payload == 0 || Ipv6Header::kSize + payload > len) return Ipv6Error::kBadPayloadLength;
  const std::size_t end = Ipv6Header::kSize + payload;
  std::uint8_t next = p[6];
  std::size_t offset = Ipv6Header::kSize;
  for (unsigned count = 0;; ++count) {
    if (next == kIpv6Fragment) return Ipv6Error::kFragment;
    if (next != kIpv6HopByHop && next != kIpv6Routing && next != kIpv6DestinationOptions) break;
    if (next == kIpv6HopByHop && offset != Ipv6Header::kSize) return Ipv6Error::kBadExtensionOrder;
    if (count == kIpv6MaxExtensionHeaders) return Ipv6Error::kTooManyExtensions;
    // Each of the three: next header, length in 8-byte units not counting the first 8.
    if (offset + 8 > end) return Ipv6Error::kTruncated;
    const std::size_t size = (std::size_t{p[offset + 1]} + 1) * 8;
    if (offset + size > end) return Ipv6Error::kTruncated;
    next = p[offset];
    offset += size;
  }
  const std::uint32_t word0 = load_be32(p);
  out.traffic_class = static_cast<std::uint8_t>(word0 >> 20);
  out.flow_label = word0 & 0xfffff;
  out.payload_len = payload;
  out.next_header = next;
  out.upper_offset = static_cast<std::uint16_t>(offset);
  out.hop_limit = p[7];
  std::memcpy(out.src.data(), p + 8, 16);
  std::memcpy(out.dst.data(), p + 24, 16);
  return Ipv6Error::kOk;
}

// Writes the 40-byte fixed header (no extension header; traffic class and flow label zero).
inline void write_ipv6(std::uint8_t* p, const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t next_header,
                       std::uint16_t payload_len, std::uint8_t hop_limit) {
  store_be32(p, 0x60000000u);
  store_be16(p + 4, payload_len);
  p[6] = next_header;
  p[7] = hop_limit;
  std::memcpy(p + 8, src.data(), 16);
  std::memcpy(p + 24, dst.data(), 16);
}

// The IPv6 pseudo-header of TCP, UDP and ICMPv6 checksums (RFC 8200 §8.1): source, destination,
// the upper-layer length (32 bits) and the next header (32 bits, zero-padded).
[[nodiscard]] inline std::uint64_t pseudo_header_sum_ipv6(const Ipv6Addr& src, const Ipv6Addr& dst,
                                                          std::uint8_t protocol, std::uint32_t upper_len) {
  std::uint64_t sum = checksum_add(src.data(), 16);
  sum = checksum_add(dst.data(), 16, sum);
  return sum + (upper_len >> 16) + (upper_len & 0xffff) + protocol;
}

// Two 8-byte compares: std::array's == is a call to memcmp (as MacAddr's was), and the engine
// compares addresses on every IPv6 frame.
[[nodiscard]] inline bool same_address(const Ipv6Addr& a, const Ipv6Addr& b) {
  std::uint64_t a0, a1, b0, b1;
  std::memcpy(&a0, a.data(), 8);
  std::memcpy(&a1, a.data() + 8, 8);
  std::memcpy(&b0, b.data(), 8);
  std::memcpy(&b1, b.data() + 8, 8);
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

[[nodiscard]] inline constexpr bool is_multicast(const Ipv6Addr& a) { return a[0] == 0xff; }
[[nodiscard]] inline bool is_unspecified(const Ipv6Addr& a) { return same_address(a, Ipv6Addr{}); }

// The solicited-node multicast address of `a` (RFC 4291 §2.7.1): ff02::1:ff00:0/104 and the
// last 24 bits of `a`. Neighbor Solicitations for `a` go there.
[[nodiscard]] inline Ipv6Addr solicited_node_multicast(const Ipv6Addr& a) {
  Ipv6Addr m{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, a[13], a[14], a[15]};
  return m;
}

// The Ethernet address of an IPv6 multicast group (RFC 2464 §7): 33:33 and its last 32 bits.
[[nodiscard]] inline MacAddr multicast_mac(const Ipv6Addr& group) {
  return MacAddr{{0x33, 0x33, group[12], group[13], group[14], group[15]}};
}

}  // namespace synwave
