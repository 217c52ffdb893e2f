// libFuzzer harness for the wire parsers: the input is one received frame, read by every parser
// of include/synwave/wire/ (Ethernet, ARP, IPv4, IPv6 with its extension headers, ICMPv6 and
// Neighbor Discovery, TCP and its options), the checksum helpers and
// the HTTP scanners, exactly as the engine reads a frame, plus each parser on the raw input (so
// the fuzzer can explore one parser without first building the layers under it).
//
// Beyond "no read past the input" (ASan sees every byte: libFuzzer hands over a heap copy of
// exactly `size` bytes), each parse is checked against what its result promises: lengths within
// the bytes given, fields equal to the bytes they came from, writers and parsers agreeing, and
// the checksum shortcuts (native-word sum, RFC 1624 update) equal to the plain RFC 1071 sum.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz/fuzz_check.hpp"
#include "synwave/byte_order.hpp"
#include "synwave/checksum.hpp"
#include "synwave/http_scan.hpp"
#include "synwave/wire/arp.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/icmpv6.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/ipv6.hpp"
#include "synwave/wire/tcp.hpp"

namespace {

using namespace synwave;

// RFC 1071 as written: big-endian 16-bit words, an odd last byte padded with zero, end-around
// carry. The reference for checksum_add's native-word shortcut.
std::uint16_t reference_checksum_fold(const std::uint8_t* p, std::size_t len, std::uint64_t sum = 0) {
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += (std::uint32_t{p[i]} << 8) | p[i + 1];
  if (len % 2 == 1) sum += std::uint32_t{p[len - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// In ones' complement 0x0000 and 0xffff are both zero: an incremental update (RFC 1624) may give
// either where a full recomputation gives the other.
bool same_ones_complement(std::uint16_t a, std::uint16_t b) {
  return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0);
}

void check_checksum(const std::uint8_t* p, std::size_t len) {
  const std::uint16_t folded = checksum_fold(checksum_add(p, len));
  FUZZ_CHECK(folded == reference_checksum_fold(p, len));
  // Sums of pieces add up when every piece but the last has an even length.
  const std::size_t split = len == 0 ? 0 : (p[0] % (len + 1)) & ~std::size_t{1};
  FUZZ_CHECK(checksum_fold(checksum_add(p + split, len - split, checksum_add(p, split))) == folded);

  // RFC 1624 eqn. 3: updating one 16-bit field of a checksummed buffer equals summing it again.
  if (len >= 4) {
    std::uint8_t buf[64];
    const std::size_t n = len < sizeof buf ? len & ~std::size_t{1} : sizeof buf;
    std::memcpy(buf, p, n);
    const std::uint16_t before = checksum_finish(checksum_add(buf, n));
    const std::size_t at = (p[1] % (n / 2)) * 2;
    const std::uint16_t old_field = load_be16(buf + at);
    const std::uint16_t new_field = static_cast<std::uint16_t>(old_field ^ load_be16(p + 2) ^ 0x5a5a);
    store_be16(buf + at, new_field);
    const std::uint16_t full = checksum_finish(checksum_add(buf, n));
    FUZZ_CHECK(same_ones_complement(checksum_update16(before, old_field, new_field), full));
    if (n >= 8) {
      const std::size_t at32 = (p[3] % (n / 4)) * 4;
      const std::uint32_t old32 = load_be32(buf + at32);
      const std::uint32_t new32 = old32 ^ load_be32(p) ^ 0xdeadbeefu;
      store_be32(buf + at32, new32);
      FUZZ_CHECK(same_ones_complement(checksum_update32(full, old32, new32), checksum_finish(checksum_add(buf, n))));
    }
  }
}

void check_ethernet(const std::uint8_t* p, std::size_t len) {
  EthernetHeader eth;
  const EthernetError e = parse_ethernet(p, len, eth);
  FUZZ_CHECK((e == EthernetError::kOk) == (len >= EthernetHeader::kSize));
  if (e != EthernetError::kOk) return;
  FUZZ_CHECK(std::memcmp(eth.dst.bytes.data(), p, 6) == 0);
  FUZZ_CHECK(std::memcmp(eth.src.bytes.data(), p + 6, 6) == 0);
  FUZZ_CHECK(eth.ether_type == load_be16(p + 12));
  FUZZ_CHECK(eth.dst.is_broadcast() == (eth.dst == MacAddr::broadcast()));
  std::uint8_t out[EthernetHeader::kSize];
  write_ethernet(out, eth.dst, eth.src, eth.ether_type);
  FUZZ_CHECK(std::memcmp(out, p, sizeof out) == 0);
}

void check_arp(const std::uint8_t* p, std::size_t len) {
  ArpPacket arp;
  const ArpError e = parse_arp(p, len, arp);
  if (len < ArpPacket::kSize) {
    FUZZ_CHECK(e == ArpError::kTruncated);
    return;
  }
  if (e != ArpError::kOk) return;
  FUZZ_CHECK(arp.operation == kArpRequest || arp.operation == kArpReply);
  // Writing what was parsed gives back the same 28 bytes (every field is fixed or was read).
  std::uint8_t out[ArpPacket::kSize];
  write_arp(out, arp);
  FUZZ_CHECK(std::memcmp(out, p, sizeof out) == 0);
}

void check_tcp_options(const std::uint8_t* p, std::size_t len) {
  TcpOptions o;
  parse_tcp_options(p, len, o);
  FUZZ_CHECK(o.window_scale <= kMaxWindowScale);
  if (!o.has_window_scale) FUZZ_CHECK(o.window_scale == 0);
  if (!o.has_mss) FUZZ_CHECK(o.mss == 0);
  if (!o.has_timestamps) FUZZ_CHECK(o.ts_val == 0 && o.ts_ecr == 0);
  // What we would echo: written in our fixed layout, it parses back to the same values.
  TcpOptionsOut out;
  out.mss = o.has_mss;
  out.mss_value = o.mss;
  out.window_scale = o.has_window_scale;
  out.window_scale_shift = o.window_scale;
  out.sack_permitted = o.sack_permitted;
  out.timestamps = o.has_timestamps;
  out.ts_val = o.ts_val;
  out.ts_ecr = o.ts_ecr;
  std::uint8_t buf[40];
  const std::size_t size = tcp_options_size(out);
  FUZZ_CHECK(size % 4 == 0 && size <= sizeof buf);
  FUZZ_CHECK(write_tcp_options(buf, out) == size);
  TcpOptions back;
  parse_tcp_options(buf, size, back);
  FUZZ_CHECK(!back.malformed);
  FUZZ_CHECK(back.has_mss == o.has_mss && back.mss == o.mss);
  FUZZ_CHECK(back.has_window_scale == o.has_window_scale && back.window_scale == o.window_scale);
  FUZZ_CHECK(back.sack_permitted == o.sack_permitted);
  FUZZ_CHECK(back.has_timestamps == o.has_timestamps && back.ts_val == o.ts_val && back.ts_ecr == o.ts_ecr);
}

// Feeding a payload to the HTTP scanners in two pieces gives what feeding it whole gives: their
// state carries across segment boundaries.
void check_http_scanners(const std::uint8_t* p, std::uint32_t len, std::uint32_t split) {
  if (split > len) split = len;
  HeaderEndScanner whole;
  bool found_whole = false;
  const std::uint32_t used_whole = whole.feed(p, len, found_whole);
  FUZZ_CHECK(used_whole <= len);
  if (!found_whole) FUZZ_CHECK(used_whole == len);
  if (found_whole) FUZZ_CHECK(used_whole >= 4 && std::memcmp(p + used_whole - 4, "\r\n\r\n", 4) == 0);

  HeaderEndScanner pieces;
  bool found = false;
  std::uint32_t used = pieces.feed(p, split, found);
  if (!found) {
    used = split + pieces.feed(p + split, len - split, found);
  }
  FUZZ_CHECK(found == found_whole);
  if (found) FUZZ_CHECK(used == used_whole);

  HttpResponseScanner r1;
  r1.feed(p, len);
  HttpResponseScanner r2;
  r2.feed(p, split);
  r2.feed(p + split, len - split);
  FUZZ_CHECK(r1.header_done == r2.header_done);
  FUZZ_CHECK(r1.content_length == r2.content_length);
  FUZZ_CHECK(r1.body_received == r2.body_received);
  FUZZ_CHECK(r1.complete() == r2.complete());
  FUZZ_CHECK(r1.body_received <= len);
  if (r1.header_done) FUZZ_CHECK(found_whole && r1.body_received == len - used_whole);
}

void check_tcp(const std::uint8_t* p, std::size_t len, std::uint32_t split) {
  TcpSegment seg;
  const TcpError e = parse_tcp(p, len, seg);
  if (len < TcpSegment::kMinHeaderSize) {
    FUZZ_CHECK(e == TcpError::kTruncated);
    return;
  }
  if (e != TcpError::kOk) return;
  FUZZ_CHECK(seg.header_len >= TcpSegment::kMinHeaderSize && seg.header_len <= len && seg.header_len % 4 == 0);
  FUZZ_CHECK(seg.header_len == (p[12] >> 4) * 4);
  FUZZ_CHECK(seg.payload == p + seg.header_len);
  FUZZ_CHECK(seg.payload_len == len - seg.header_len);
  FUZZ_CHECK(seg.src_port == load_be16(p) && seg.dst_port == load_be16(p + 2));
  FUZZ_CHECK(seg.seq.raw() == load_be32(p + 4) && seg.ack.raw() == load_be32(p + 8));
  FUZZ_CHECK(seg.flags == p[13] && seg.window == load_be16(p + 14) && seg.urgent == load_be16(p + 18));
  FUZZ_CHECK(seg.seg_len() >= seg.payload_len && seg.seg_len() <= seg.payload_len + 2);
  check_tcp_options(p + 20, seg.header_len - 20u);
  // The whole payload is readable (ASan checks every byte).
  check_http_scanners(seg.payload, seg.payload_len, split);
  // The header rebuilt from the parsed fields matches the received one but for the checksum.
  std::uint8_t out[20];
  write_tcp_header(out, seg.src_port, seg.dst_port, seg.seq, seg.ack, seg.header_len, seg.flags, seg.window);
  FUZZ_CHECK(std::memcmp(out, p, 12) == 0);
  FUZZ_CHECK(out[12] == (p[12] & 0xf0) && out[13] == p[13] && load_be16(out + 14) == seg.window);
}

void check_ipv4(const std::uint8_t* p, std::size_t len, std::uint32_t split) {
  Ipv4Header ip;
  const Ipv4Error e = parse_ipv4(p, len, ip, false);
  Ipv4Header verified;
  const Ipv4Error ev = parse_ipv4(p, len, verified, true);
  // Verification only adds a reason to refuse, and only that one (checked before the fragment
  // bits, so it may also stand in for kFragment).
  if (e == Ipv4Error::kOk || e == Ipv4Error::kFragment) FUZZ_CHECK(ev == e || ev == Ipv4Error::kBadChecksum);
  else FUZZ_CHECK(ev == e);
  if (len < Ipv4Header::kMinSize) FUZZ_CHECK(e == Ipv4Error::kTruncated);
  if (e != Ipv4Error::kOk) return;
  FUZZ_CHECK(ip.header_len >= Ipv4Header::kMinSize && ip.header_len % 4 == 0 && ip.header_len <= len);
  FUZZ_CHECK(ip.total_len >= ip.header_len && ip.total_len <= len);
  FUZZ_CHECK(ip.protocol == p[9] && ip.ttl == p[8] && ip.tos == p[1]);
  FUZZ_CHECK(ip.src == load_be32(p + 12) && ip.dst == load_be32(p + 16));
  FUZZ_CHECK((load_be16(p + 6) & 0x3fff) == 0);  // no fragment passes
  const bool checksum_ok = checksum_fold(checksum_add(p, ip.header_len)) == 0xffff;
  FUZZ_CHECK(checksum_ok == (ev == Ipv4Error::kOk));
  if (ev == Ipv4Error::kOk) {
    FUZZ_CHECK(verified.header_len == ip.header_len && verified.total_len == ip.total_len);
    FUZZ_CHECK(verified.src == ip.src && verified.dst == ip.dst && verified.id == ip.id);
  }

  // The header we write for the same addresses parses, with a good checksum, to the same fields.
  std::uint8_t out[20];
  write_ipv4(out, ip.src, ip.dst, ip.protocol, 20, ip.id, ip.ttl, false);
  Ipv4Header back;
  FUZZ_CHECK(parse_ipv4(out, sizeof out, back, true) == Ipv4Error::kOk);
  FUZZ_CHECK(back.src == ip.src && back.dst == ip.dst && back.protocol == ip.protocol && back.id == ip.id &&
             back.ttl == ip.ttl && back.dont_fragment && back.header_len == 20 && back.total_len == 20);

  if (ip.protocol == kIpProtoTcp) {
    // The TCP segment is bounded by the IP total length, never by the frame (Ethernet padding).
    const std::uint8_t* tcp = p + ip.header_len;
    const std::size_t tcp_len = ip.total_len - ip.header_len;
    check_tcp(tcp, tcp_len, split);
    check_checksum(tcp, tcp_len);
  }
}

}  // namespace

void check_ipv6(const std::uint8_t* p, std::size_t len, std::uint32_t split) {
  Ipv6Header ip;
  if (parse_ipv6(p, len, ip) != Ipv6Error::kOk) return;
  FUZZ_CHECK(Ipv6Header::kSize + ip.payload_len <= len);
  FUZZ_CHECK(ip.upper_offset >= Ipv6Header::kSize && ip.upper_offset <= Ipv6Header::kSize + ip.payload_len);
  FUZZ_CHECK(std::memcmp(ip.src.data(), p + 8, 16) == 0 && std::memcmp(ip.dst.data(), p + 24, 16) == 0);
  const std::uint8_t* upper = p + ip.upper_offset;
  const std::uint32_t upper_len = ip.upper_len();
  if (ip.next_header == kIpProtoTcp) check_tcp(upper, upper_len, split);
  if (ip.next_header != kIpProtoIcmpv6) return;
  Icmpv6Header h;
  if (parse_icmpv6(ip, upper, upper_len, h, false) != Icmpv6Error::kOk) return;
  NeighborSolicitation ns;
  if (h.type == kIcmpv6NeighborSolicitation && parse_neighbor_solicitation(ip, upper, upper_len, ns) == NdError::kOk) {
    FUZZ_CHECK(!is_multicast(ns.target) && ip.hop_limit == kNdHopLimit);
  }
  NeighborAdvertisement na;
  if (h.type == kIcmpv6NeighborAdvertisement && parse_neighbor_advertisement(ip, upper, upper_len, na) == NdError::kOk) {
    FUZZ_CHECK(!(na.solicited && is_multicast(ip.dst)));
  }
  // An echo reply written over a copy of any message verifies, as the peer will check it.
  if (h.type == kIcmpv6EchoRequest && upper_len <= 1500) {
    std::uint8_t reply[1500];
    write_echo_reply(reply, ip.dst, ip.src, upper, upper_len);
    const std::uint16_t verify = icmpv6_checksum(ip.dst, ip.src, reply, upper_len);
    FUZZ_CHECK(verify == 0 || verify == 0xffff);  // ones' complement zero either way
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A frame never exceeds 65535 bytes (Frame::len is 16 bits).
  if (size > 0xffff) return -1;
  const std::uint32_t split = size > 0 ? data[size - 1] : 0;

  // As the engine reads a frame: Ethernet, then ARP, IPv4 or IPv6 by EtherType, then TCP (or ICMPv6).
  check_ethernet(data, size);
  check_checksum(data, size);
  if (size >= EthernetHeader::kSize) {
    const std::uint8_t* l3 = data + EthernetHeader::kSize;
    const std::size_t l3_len = size - EthernetHeader::kSize;
    switch (load_be16(data + 12)) {
      case kEtherTypeArp: check_arp(l3, l3_len); break;
      case kEtherTypeIpv4: check_ipv4(l3, l3_len, split); break;
      case kEtherTypeIpv6: check_ipv6(l3, l3_len, split); break;
      default: break;
    }
  }
  // Each parser on the raw bytes as well.
  check_arp(data, size);
  check_ipv4(data, size, split);
  check_ipv6(data, size, split);
  check_tcp(data, size, split);
  check_tcp_options(data, size);
  return 0;
}
