#pragma once
// IPv4 (RFC 791). Every length field is checked against the bytes actually present; options are
// skipped by the header length; fragments are reported so the caller can count and drop them
// (a connection-setup endpoint has no use for reassembly, and it is a memory attack surface).
#include <cstdint>

#include "synwave/byte_order.hpp"
#include "synwave/checksum.hpp"

namespace synwave {

inline constexpr std::uint8_t kIpProtoTcp = 6;

// The netmask of a prefix length (0 to 32; above 32 counts as 32), host order.
[[nodiscard]] inline constexpr std::uint32_t ipv4_prefix_mask(std::uint8_t len) {
  return len == 0 ? 0 : (len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1));
}

struct Ipv4Header {
  static constexpr std::size_t kMinSize = 20;
  std::uint8_t header_len = 0;   // bytes, options included
  std::uint8_t tos = 0;
  std::uint16_t total_len = 0;   // bytes, header included
  std::uint16_t id = 0;
  bool dont_fragment = false;
  std::uint8_t ttl = 0;
  std::uint8_t protocol = 0;
  std::uint32_t src = 0;         // host order
  std::uint32_t dst = 0;         // host order
};

enum class Ipv4Error : std::uint8_t {
  kOk,
  kTruncated,        // fewer than 20 bytes, or fewer than the header length says
  kBadVersion,
  kBadHeaderLength,  // IHL < 5
  kBadTotalLength,   // total length < header length, or more than the bytes received
  kBadChecksum,
  kFragment,         // MF set or a non-zero offset
};

// verify_checksum=false when the NIC has already verified it.
[[nodiscard]] inline Ipv4Error parse_ipv4(const std::uint8_t* p, std::size_t len, Ipv4Header& out,
                                          bool verify_checksum = true) {
  if (len < Ipv4Header::kMinSize) return Ipv4Error::kTruncated;
  if ((p[0] >> 4) != 4) return Ipv4Error::kBadVersion;
  const std::uint8_t ihl = static_cast<std::uint8_t>((p[0] & 0x0f) * 4);
  if (ihl < Ipv4Header::kMinSize) return Ipv4Error::kBadHeaderLength;
  if (ihl > len) return Ipv4Error::kTruncated;
  const std::uint16_t total = load_be16(p + 2);
  if (total < ihl || total > len) return Ipv4Error::kBadTotalLength;
  if (verify_checksum && checksum_fold(checksum_add(p, ihl)) != 0xffff) return Ipv4Error::kBadChecksum;
  const std::uint16_t frag = load_be16(p + 6);
  if ((frag & 0x2000) != 0 || (frag & 0x1fff) != 0) return Ipv4Error::kFragment;
  out.header_len = ihl;
  out.tos = p[1];
  out.total_len = total;
  out.id = load_be16(p + 4);
  out.dont_fragment = (frag & 0x4000) != 0;
  out.ttl = p[8];
  out.protocol = p[9];
  out.src = load_be32(p + 12);
  out.dst = load_be32(p + 16);
  return Ipv4Error::kOk;
}

// Writes a 20-byte header (no options) with DF set; the checksum is computed unless offloaded
// (then the field is left zero for the NIC, as DPDK's IPv4 checksum offload expects).
inline void write_ipv4(std::uint8_t* p, std::uint32_t src, std::uint32_t dst, std::uint8_t protocol,
                       std::uint16_t total_len, std::uint16_t id, std::uint8_t ttl, bool checksum_offload) {
  p[0] = 0x45;
  p[1] = 0;
  store_be16(p + 2, total_len);
  store_be16(p + 4, id);
  store_be16(p + 6, 0x4000);
  p[8] = ttl;
  p[9] = protocol;
  p[10] = 0;
  p[11] = 0;
  store_be32(p + 12, src);
  store_be32(p + 16, dst);
  if (!checksum_offload) {
    // The header's 16-bit words, summed from the values just stored rather than read back.
    const std::uint64_t sum = std::uint64_t{0x4500} + total_len + id + 0x4000 + (std::uint32_t{ttl} << 8) + protocol +
                              (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
    store_be16(p + 10, checksum_finish(sum));
  }
}

}  // namespace synwave
