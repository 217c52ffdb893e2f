#pragma once
// SYN-ACKs from templates: a listener's SYN-ACK differs from the next only in the addresses and
// ports, the peer's MAC, the two sequence numbers, the IP ID and the timestamps. Everything else
// (our MAC, TTL, flags, window, MSS and the option layout) is fixed by the configuration, so one
// frame per option layout is built once, with the sums of its constant words; a SYN-ACK (58 to
// 74 bytes) is then one fixed 74-byte copy, a few stores and two checksums finished from about a
// dozen additions (RFC 1071 §2(C): the sum is a sum of parts), not a pass over its bytes.
// Every SYN-ACK the listener sends, stateless (a cookie) or from the SYN backlog, is built here,
// and so is a client's SYN: the same frame with ACK off and a zero acknowledgment number. An
// IPv6 set (Settings::ipv6) has a 40-byte IPv6 header instead, no IP ID and no IP checksum; its
// frames are written by write6.
#include <array>
#include <cstdint>
#include <cstring>

#include "synwave/checksum.hpp"
#include "synwave/frame.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/ipv6.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave {

// Which options beyond MSS (always sent) a SYN-ACK carries: it echoes only what the SYN offered
// (RFC 7323 §1.3, RFC 2018 §2). Bits of an index into the templates.
namespace synack_options {
inline constexpr std::uint8_t kTimestamps = 1;
inline constexpr std::uint8_t kSackPermitted = 2;
inline constexpr std::uint8_t kWindowScale = 4;
inline constexpr std::uint8_t kCount = 8;
}  // namespace synack_options

struct SynAckFields {
  const MacAddr* dst_mac;
  std::uint32_t local_ip;
  std::uint32_t remote_ip;
  std::uint16_t local_port;
  std::uint16_t remote_port;
  std::uint32_t seq;     // our ISN (or cookie)
  std::uint32_t ack;     // the SYN's sequence number + 1
  std::uint16_t ip_id;
  std::uint8_t options;  // synack_options bits
  std::uint32_t ts_val;  // with synack_options::kTimestamps
  std::uint32_t ts_ecr;
};

class SynAckTemplates {
 public:
  static constexpr std::size_t kMaxFrame = EthernetHeader::kSize + Ipv4Header::kMinSize + TcpSegment::kMinHeaderSize + 20;
  static constexpr std::size_t kMaxFrame6 = kMaxFrame - Ipv4Header::kMinSize + Ipv6Header::kSize;

  struct Settings {
    MacAddr local_mac;
    std::uint8_t ttl = 64;
    std::uint16_t window = 0;       // the SYN-ACK's field (never scaled, RFC 7323 §2.2)
    std::uint16_t mss = 0;          // ours
    std::uint8_t window_shift = 0;  // ours, sent with synack_options::kWindowScale
    bool checksum_offload = false;  // leave the checksums to the NIC (pseudo-header sum in place)
    std::uint8_t flags = tcp_flags::kSyn | tcp_flags::kAck;  // kSyn alone: a client's SYN
    bool ipv6 = false;
  };

  SynAckTemplates() = default;
  explicit SynAckTemplates(const Settings& s) : offload_(s.checksum_offload), ipv6_(s.ipv6) {
    for (std::uint8_t set = 0; set < synack_options::kCount; ++set) build(templates_[set], s, set);
  }

  // Writes the SYN-ACK at frame (at least frame_size(f.options) bytes) and returns its length.
  std::uint16_t write(std::uint8_t* frame, const SynAckFields& f) const {
    const Template& t = templates_[f.options & (synack_options::kCount - 1)];
    std::memcpy(frame, t.bytes.data(), kMaxFrame);  // a fixed size: a few vector moves
    f.dst_mac->store(frame);
    std::uint8_t* ip = frame + EthernetHeader::kSize;
    std::uint8_t* tcp = ip + Ipv4Header::kMinSize;
    store_be16(ip + 4, f.ip_id);
    store_be32(ip + 12, f.local_ip);
    store_be32(ip + 16, f.remote_ip);
    const std::uint64_t addresses = checksum_words(f.local_ip) + checksum_words(f.remote_ip);
    const std::uint64_t varying = addresses + write_tcp_fields(tcp, t, f);
    if (offload_) {
      // DPDK's offload wants zero in the IP field (the template's) and the folded pseudo-header
      // sum in the TCP one.
      store_be16(tcp + 16, checksum_fold(pseudo_header_sum(f.local_ip, f.remote_ip, kIpProtoTcp, t.tcp_len)));
    } else {
      store_be16(ip + 10, checksum_finish(t.ip_sum + f.ip_id + addresses));
      store_be16(tcp + 16, checksum_finish(t.tcp_sum + varying));
    }
    return t.frame_len;
  }

  // The same over IPv6 (a set built with Settings::ipv6; at least kMaxFrame6 bytes at frame):
  // f's local_ip, remote_ip and ip_id are not read, the addresses are these.
  std::uint16_t write6(std::uint8_t* frame, const SynAckFields& f, const Ipv6Addr& local, const Ipv6Addr& remote) const {
    const Template& t = templates_[f.options & (synack_options::kCount - 1)];
    std::memcpy(frame, t.bytes.data(), kMaxFrame6);
    f.dst_mac->store(frame);
    std::uint8_t* ip = frame + EthernetHeader::kSize;
    std::uint8_t* tcp = ip + Ipv6Header::kSize;
    std::memcpy(ip + 8, local.data(), 16);
    std::memcpy(ip + 24, remote.data(), 16);
    const std::uint64_t addresses = checksum_add(local.data(), 16, checksum_add(remote.data(), 16));
    const std::uint64_t varying = write_tcp_fields(tcp, t, f);
    // tcp_sum holds the pseudo-header's length and protocol; with offload only those and the
    // addresses go in the field.
    if (offload_) store_be16(tcp + 16, checksum_fold(t.pseudo_sum + addresses));
    else store_be16(tcp + 16, checksum_finish(t.tcp_sum + addresses + varying));
    return t.frame_len;
  }

  [[nodiscard]] std::uint16_t frame_size(std::uint8_t options) const {
    return templates_[options & (synack_options::kCount - 1)].frame_len;
  }
  // What a SYN-ACK frame asks of the NIC (frame_flags).
  [[nodiscard]] std::uint16_t tx_flags() const {
    if (!offload_) return 0;
    return ipv6_ ? frame_flags::kTxIpv6 | frame_flags::kTxTcpChecksum : frame_flags::kTxIpChecksum | frame_flags::kTxTcpChecksum;
  }

 private:
  struct Template {
    alignas(16) std::array<std::uint8_t, kMaxFrame6> bytes{};
    std::uint64_t ip_sum = 0;   // the IPv4 header's words, ID and addresses zero
    std::uint64_t tcp_sum = 0;  // TCP header, options and pseudo-header, the varying fields zero
    std::uint64_t pseudo_sum = 0;  // IPv6: the pseudo-header's length and next header
    std::uint16_t frame_len = 0;
    std::uint16_t tcp_len = 0;
    bool timestamps = false;
  };

  // write_tcp_options puts MSS first, then SACK-permitted or two NOPs, then the timestamps
  // option's kind and length: TSval is at the same offset whether SACK-permitted is there or not.
  static constexpr std::uint8_t kTsValAt = TcpSegment::kMinHeaderSize + 4 + 2 + 2;

  // The TCP fields that vary from one SYN-ACK to the next (ports, numbers, timestamps), written
  // over the template's; returns their checksum sum. Both families.
  [[nodiscard]] static std::uint64_t write_tcp_fields(std::uint8_t* tcp, const Template& t, const SynAckFields& f) {
    store_be16(tcp, f.local_port);
    store_be16(tcp + 2, f.remote_port);
    store_be32(tcp + 4, f.seq);
    store_be32(tcp + 8, f.ack);
    std::uint64_t varying = f.local_port + f.remote_port + checksum_words(f.seq) + checksum_words(f.ack);
    if (t.timestamps) {
      store_be32(tcp + kTsValAt, f.ts_val);
      store_be32(tcp + kTsValAt + 4, f.ts_ecr);
      varying += checksum_words(f.ts_val) + checksum_words(f.ts_ecr);
    }
    return varying;
  }

  static void build(Template& t, const Settings& s, std::uint8_t set) {
    TcpOptionsOut o;
    o.mss = true;
    o.mss_value = s.mss;
    o.timestamps = (set & synack_options::kTimestamps) != 0;
    o.sack_permitted = (set & synack_options::kSackPermitted) != 0;
    o.window_scale = (set & synack_options::kWindowScale) != 0;
    o.window_scale_shift = s.window_shift;
    const auto options_len = static_cast<std::uint16_t>(tcp_options_size(o));
    t.tcp_len = static_cast<std::uint16_t>(TcpSegment::kMinHeaderSize + options_len);
    const std::size_t ip_len = s.ipv6 ? Ipv6Header::kSize : Ipv4Header::kMinSize;
    t.frame_len = static_cast<std::uint16_t>(EthernetHeader::kSize + ip_len + t.tcp_len);
    std::uint8_t* p = t.bytes.data();
    write_ethernet(p, MacAddr{}, s.local_mac, s.ipv6 ? kEtherTypeIpv6 : kEtherTypeIpv4);
    std::uint8_t* ip = p + EthernetHeader::kSize;
    if (s.ipv6) {
      write_ipv6(ip, Ipv6Addr{}, Ipv6Addr{}, kIpProtoTcp, t.tcp_len, s.ttl);
    } else {
      write_ipv4(ip, 0, 0, kIpProtoTcp, static_cast<std::uint16_t>(Ipv4Header::kMinSize + t.tcp_len), 0, s.ttl,
                 true);
    }
    std::uint8_t* tcp = ip + ip_len;
    write_tcp_header(tcp, 0, 0, SeqNum(0), SeqNum(0), static_cast<std::uint8_t>(t.tcp_len),
                     s.flags, s.window);
    write_tcp_options(tcp + TcpSegment::kMinHeaderSize, o);  // TSval and TSecr zero
    t.timestamps = o.timestamps;
    if (s.ipv6) {
      t.pseudo_sum = pseudo_header_sum_ipv6(Ipv6Addr{}, Ipv6Addr{}, kIpProtoTcp, t.tcp_len);
      t.tcp_sum = checksum_add(tcp, t.tcp_len, t.pseudo_sum);
    } else {
      t.ip_sum = checksum_add(ip, Ipv4Header::kMinSize);
      t.tcp_sum = checksum_add(tcp, t.tcp_len, pseudo_header_sum(0, 0, kIpProtoTcp, t.tcp_len));
    }
  }

  std::array<Template, synack_options::kCount> templates_{};
  bool offload_ = false;
  bool ipv6_ = false;
};

}  // namespace synwave
