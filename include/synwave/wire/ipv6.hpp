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
  kFragment,             // a fragment header, but for an atomic fragment (RFC 6946: a whole packet)
  kBadExtensionOrder,    // hop-by-hop options not right after the fixed header (RFC 8200 §4.1)
  kTooManyExtensions,    // more than kIpv6MaxExtensionHeaders
  kRoutingHeader,        // a routing header with segments left: for a router, not for us (RFC 8200 §4.4)
  kUnrecognizedOption,   // an option whose type says "discard if unrecognised" (RFC 8200 §4.2)
};

// What an ICMPv6 Parameter Problem (RFC 4443 §3.4) about a discarded packet says, when one is due.
struct Ipv6Problem {
  bool report = false;     // RFC 8200 asks for the message (not for option action 01, nor 11 to a group)
  std::uint8_t code = 0;   // 0: erroneous header field, 2: unrecognised option
  std::uint32_t pointer = 0;  // offset from the start of the IPv6 header
};

namespace ipv6_detail {
// RFC 8200 §4.2: the options of a hop-by-hop or destination options header at [at, end). The top
// two bits of an option's type say what a node that does not know it does: 00 skip it; 01
// discard the packet; 10 discard and send a Parameter Problem; 11 the same unless the
// destination was a multicast group. We know Pad1, PadN and the action-00 ones (Router Alert
// among them), so any option of another action is unrecognised.
[[nodiscard]] inline Ipv6Error check_options(const std::uint8_t* p, std::size_t at, std::size_t end, Ipv6Problem* problem) {
  while (at < end) {
    const std::uint8_t type = p[at];
    if (type == 0) {  // Pad1
      ++at;
      continue;
    }
    if (at + 2 > end || at + 2 + p[at + 1] > end) return Ipv6Error::kTruncated;
    const unsigned action = type >> 6;
    if (action != 0) {
      if (problem != nullptr) {
        const bool to_group = p[24] == 0xff;
        *problem = Ipv6Problem{action == 2 || (action == 3 && !to_group), 2, static_cast<std::uint32_t>(at)};
      }
      return Ipv6Error::kUnrecognizedOption;
    }
    at += 2u + p[at + 1];
  }
  return Ipv6Error::kOk;
}
}  // namespace ipv6_detail

// problem: where a discarded packet's Parameter Problem is due (kRoutingHeader, kUnrecognizedOption).
[[nodiscard]] inline Ipv6Error parse_ipv6(const std::uint8_t* p, std::size_t len, Ipv6Header& out,
                                          Ipv6Problem* problem = nullptr) {
  if (len < Ipv6Header::kSize) return Ipv6Error::kTruncated;
  if ((p[0] >> 4) != 6) return Ipv6Error::kBadVersion;
  const std::uint16_t payload = load_be16(p + 4);
  // A zero payload length announces a jumbogram (RFC 2675), which no Ethernet frame can be.
  if (payload == 0 || Ipv6Header::kSize + payload > len) return Ipv6Error::kBadPayloadLength;
  const std::size_t end = Ipv6Header::kSize + payload;
  std::uint8_t next = p[6];
  std::size_t offset = Ipv6Header::kSize;
  for (unsigned count = 0;; ++count) {
    const bool fragment = next == kIpv6Fragment;
    if (!fragment && next != kIpv6HopByHop && next != kIpv6Routing && next != kIpv6DestinationOptions) break;
    if (next == kIpv6HopByHop && offset != Ipv6Header::kSize) return Ipv6Error::kBadExtensionOrder;
    if (count == kIpv6MaxExtensionHeaders) return Ipv6Error::kTooManyExtensions;
    // Each: next header, then (but the fragment header, always 8 bytes) the length in 8-byte
    // units not counting the first 8.
    if (offset + 8 > end) return Ipv6Error::kTruncated;
    const std::size_t size = fragment ? 8 : (std::size_t{p[offset + 1]} + 1) * 8;
    if (offset + size > end) return Ipv6Error::kTruncated;
    if (fragment) {
      // Offset 0 and M clear: an atomic fragment, the whole packet (RFC 6946 §4); any other is a
      // piece, and nothing is reassembled.
      if ((load_be16(p + offset + 2) & 0xfff9) != 0) return Ipv6Error::kFragment;
    } else if (next == kIpv6Routing) {
      // Segments left: the packet is on its way to another node, which a router forwards to; an
      // endpoint discards it, naming the routing type (RFC 8200 §4.4; RFC 5095 for type 0).
      if (p[offset + 3] != 0) {
        if (problem != nullptr) *problem = Ipv6Problem{true, 0, static_cast<std::uint32_t>(offset + 2)};
        return Ipv6Error::kRoutingHeader;
      }
    } else {
      const Ipv6Error e = ipv6_detail::check_options(p, offset + 2, offset + size, problem);
      if (e != Ipv6Error::kOk) return e;
    }
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
// ::1 (RFC 4291 §2.5.3) and the IPv4-mapped ::ffff:0:0/96 (§2.5.5.2): neither may be the source
// of a packet on a link; Linux drops both for TCP.
[[nodiscard]] inline bool is_loopback_or_mapped(const Ipv6Addr& a) {
  std::uint64_t high;
  std::memcpy(&high, a.data(), 8);
  if (high != 0) return false;
  const std::uint32_t third = load_be32(a.data() + 8);
  return (third == 0 && load_be32(a.data() + 12) == 1) || third == 0xffff;
}
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
