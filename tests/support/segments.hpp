#pragma once
// Building frames to feed an engine, and reading the frames it sends, for tests.
#include <cstdint>
#include <optional>
#include <vector>

#include "synwave/checksum.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/ipv6.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave::test {

using Bytes = std::vector<std::uint8_t>;

struct SegmentSpec {
  MacAddr src_mac;
  MacAddr dst_mac;
  std::uint32_t src_ip = 0;
  std::uint32_t dst_ip = 0;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 65535;
  TcpOptionsOut options;
  std::vector<SackBlock> sack;  // written after the options (write_sack_option)
  Bytes payload;
  bool ipv6 = false;  // then src_ip6 and dst_ip6 are the addresses
  Ipv6Addr src_ip6{};
  Ipv6Addr dst_ip6{};
};

inline Bytes build_segment(const SegmentSpec& s) {
  const auto sack_count = static_cast<std::uint8_t>(s.sack.size());
  const std::size_t opt_len = tcp_options_size(s.options) + sack_option_size(sack_count);
  const std::size_t tcp_len = 20 + opt_len + s.payload.size();
  const std::size_t ip_len = s.ipv6 ? Ipv6Header::kSize : Ipv4Header::kMinSize;
  Bytes b(14 + ip_len + tcp_len);
  if (b.size() < 14 + 20 + 20) return b;  // never: tells g++ 12 the size did not wrap (-Warray-bounds)
  std::uint64_t pseudo = 0;
  if (s.ipv6) {
    write_ethernet(b.data(), s.dst_mac, s.src_mac, kEtherTypeIpv6);
    write_ipv6(b.data() + 14, s.src_ip6, s.dst_ip6, kIpProtoTcp, static_cast<std::uint16_t>(tcp_len), 64);
    pseudo = pseudo_header_sum_ipv6(s.src_ip6, s.dst_ip6, kIpProtoTcp, static_cast<std::uint32_t>(tcp_len));
  } else {
    write_ethernet(b.data(), s.dst_mac, s.src_mac, kEtherTypeIpv4);
    write_ipv4(b.data() + 14, s.src_ip, s.dst_ip, kIpProtoTcp, static_cast<std::uint16_t>(20 + tcp_len), 1, 64, false);
    pseudo = pseudo_header_sum(s.src_ip, s.dst_ip, kIpProtoTcp, static_cast<std::uint16_t>(tcp_len));
  }
  std::uint8_t* tcp = b.data() + 14 + ip_len;
  write_tcp_header(tcp, s.src_port, s.dst_port, SeqNum(s.seq), SeqNum(s.ack), static_cast<std::uint8_t>(20 + opt_len),
                   s.flags, s.window);
  const std::size_t written = write_tcp_options(tcp + 20, s.options);
  if (sack_count != 0) write_sack_option(tcp + 20 + written, s.sack.data(), sack_count);
  std::copy(s.payload.begin(), s.payload.end(), tcp + 20 + opt_len);
  store_be16(tcp + 16, checksum_finish(checksum_add(tcp, tcp_len, pseudo)));
  return b;
}

struct ParsedFrame {
  EthernetHeader eth;
  Ipv4Header ip;    // an IPv4 frame's
  Ipv6Header ip6;   // an IPv6 frame's (ipv6 set)
  bool ipv6 = false;
  TcpSegment tcp;
  Bytes payload;
  bool ip_checksum_ok = false;  // IPv6 has none: true
  bool tcp_checksum_ok = false;

  [[nodiscard]] bool has(std::uint8_t f) const { return tcp.has(f); }
};

// nullopt when the frame is not a well-formed IPv4/TCP or IPv6/TCP frame.
inline std::optional<ParsedFrame> parse_frame(const Bytes& b) {
  ParsedFrame p;
  if (parse_ethernet(b.data(), b.size(), p.eth) != EthernetError::kOk) return std::nullopt;
  const std::uint8_t* tcp = nullptr;
  std::uint16_t tcp_len = 0;
  std::uint64_t pseudo = 0;
  if (p.eth.ether_type == kEtherTypeIpv6) {
    if (parse_ipv6(b.data() + 14, b.size() - 14, p.ip6) != Ipv6Error::kOk || p.ip6.next_header != kIpProtoTcp) {
      return std::nullopt;
    }
    p.ipv6 = true;
    p.ip_checksum_ok = true;
    tcp = b.data() + 14 + p.ip6.upper_offset;
    tcp_len = static_cast<std::uint16_t>(p.ip6.upper_len());
    pseudo = pseudo_header_sum_ipv6(p.ip6.src, p.ip6.dst, kIpProtoTcp, tcp_len);
  } else if (p.eth.ether_type == kEtherTypeIpv4) {
    if (parse_ipv4(b.data() + 14, b.size() - 14, p.ip, false) != Ipv4Error::kOk) return std::nullopt;
    p.ip_checksum_ok = checksum_fold(checksum_add(b.data() + 14, p.ip.header_len)) == 0xffff;
    tcp = b.data() + 14 + p.ip.header_len;
    tcp_len = static_cast<std::uint16_t>(p.ip.total_len - p.ip.header_len);
    pseudo = pseudo_header_sum(p.ip.src, p.ip.dst, kIpProtoTcp, tcp_len);
  } else {
    return std::nullopt;
  }
  if (parse_tcp(tcp, tcp_len, p.tcp) != TcpError::kOk) return std::nullopt;
  p.tcp_checksum_ok = checksum_fold(checksum_add(tcp, tcp_len, pseudo)) == 0xffff;
  p.payload.assign(p.tcp.payload, p.tcp.payload + p.tcp.payload_len);
  p.tcp.payload = nullptr;
  return p;
}

inline constexpr std::uint32_t ip4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d;
}

}  // namespace synwave::test
