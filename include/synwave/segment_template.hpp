#pragma once
// The segments of a synchronised connection (ACKs, data, FINs, RSTs of a record) from templates,
// as SYN-ACKs are (synack_template.hpp): over IPv4 such a segment has one of two layouts, no
// options or the timestamps option alone (RFC 7323 §3: NOP NOP TS), and within a layout only the
// addresses, ports, numbers, flags, window, lengths, IP ID and timestamps vary. So each layout is
// one frame built once with the sums of its constant words; a segment's headers are then one fixed
// 66-byte copy, a dozen stores and two checksums finished from additions (RFC 1071 §2(C)), not a
// header written field by field and an option list walked. A SYN's options, SACK blocks and IPv6
// keep Engine::build_segment's general writer.
#include <array>
#include <cstdint>
#include <cstring>

#include "synwave/checksum.hpp"
#include "synwave/frame.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave {

struct SegmentFields {
  const MacAddr* dst_mac;
  std::uint32_t local_ip;
  std::uint32_t remote_ip;
  std::uint16_t local_port;
  std::uint16_t remote_port;
  std::uint32_t seq;
  std::uint32_t ack;
  std::uint16_t ip_id;
  std::uint8_t flags;
  std::uint16_t window;
  std::uint32_t ts_val;  // with timestamps
  std::uint32_t ts_ecr;
};

class SegmentTemplates {
 public:
  static constexpr std::size_t kHeaders = EthernetHeader::kSize + Ipv4Header::kMinSize + TcpSegment::kMinHeaderSize;
  static constexpr std::size_t kTimestampsOption = 12;  // NOP NOP kind length TSval TSecr
  // What write copies whatever the layout: the frame must hold this many bytes.
  static constexpr std::size_t kCopied = kHeaders + kTimestampsOption;

  struct Settings {
    MacAddr local_mac;
    std::uint8_t ttl = 64;
    bool checksum_offload = false;  // leave the checksums to the NIC (pseudo-header sum in place)
  };

  SegmentTemplates() = default;
  explicit SegmentTemplates(const Settings& s) : offload_(s.checksum_offload) {
    build(templates_[0], s, false);
    build(templates_[1], s, true);
  }

  // Where the payload of a segment in this layout starts.
  [[nodiscard]] static constexpr std::size_t header_size(bool timestamps) {
    return kHeaders + (timestamps ? kTimestampsOption : 0);
  }

  // Writes the headers of a segment with payload_len bytes of payload at frame (which holds
  // kCopied bytes at least: without timestamps the copy runs 12 bytes into the payload's place,
  // so the payload goes in after this). Returns the TCP checksum's sum without the payload, for
  // finish().
  [[nodiscard]] std::uint64_t write(std::uint8_t* frame, const SegmentFields& f, bool timestamps,
                                    std::uint16_t payload_len) const {
    const Template& t = templates_[timestamps ? 1 : 0];
    std::memcpy(frame, t.bytes.data(), kCopied);  // a fixed size: a few vector moves
    f.dst_mac->store(frame);
    std::uint8_t* ip = frame + EthernetHeader::kSize;
    std::uint8_t* tcp = ip + Ipv4Header::kMinSize;
    const auto tcp_len = static_cast<std::uint16_t>(t.tcp_header_len + payload_len);
    const auto total_len = static_cast<std::uint16_t>(Ipv4Header::kMinSize + tcp_len);
    store_be16(ip + 2, total_len);
    store_be16(ip + 4, f.ip_id);
    store_be32(ip + 12, f.local_ip);
    store_be32(ip + 16, f.remote_ip);
    const std::uint64_t addresses = checksum_words(f.local_ip) + checksum_words(f.remote_ip);
    if (!offload_) store_be16(ip + 10, checksum_finish(t.ip_sum + total_len + f.ip_id + addresses));
    store_be16(tcp, f.local_port);
    store_be16(tcp + 2, f.remote_port);
    store_be32(tcp + 4, f.seq);
    store_be32(tcp + 8, f.ack);
    tcp[13] = f.flags;
    store_be16(tcp + 14, f.window);
    if (timestamps) {
      store_be32(tcp + kTsValAt, f.ts_val);
      store_be32(tcp + kTsValAt + 4, f.ts_ecr);
    }
    // The pseudo-header's addresses and length (its protocol is in the template's sum).
    const std::uint64_t pseudo = addresses + tcp_len;
    if (offload_) {
      // DPDK's offload wants the folded pseudo-header sum in the TCP field, and zero in the IP
      // one (the template's).
      store_be16(tcp + 16, checksum_fold(pseudo + kIpProtoTcp));
      return 0;
    }
    std::uint64_t sum = pseudo + t.tcp_sum + f.local_port + f.remote_port + checksum_words(f.seq) +
                        checksum_words(f.ack) + f.flags + f.window;
    if (timestamps) sum += checksum_words(f.ts_val) + checksum_words(f.ts_ecr);
    return sum;
  }

  // Stores the TCP checksum: write's sum plus the payload's (checksum_add of it as written).
  void finish(std::uint8_t* frame, std::uint64_t headers_sum, std::uint64_t payload_sum) const {
    if (offload_) return;
    store_be16(frame + EthernetHeader::kSize + Ipv4Header::kMinSize + 16, checksum_finish(headers_sum + payload_sum));
  }

  // What a segment frame asks of the NIC (frame_flags).
  [[nodiscard]] std::uint16_t tx_flags() const {
    return offload_ ? frame_flags::kTxIpChecksum | frame_flags::kTxTcpChecksum : 0;
  }

 private:
  struct Template {
    alignas(16) std::array<std::uint8_t, kCopied> bytes{};
    std::uint64_t ip_sum = 0;   // the IPv4 header's words, length, ID and addresses zero
    std::uint64_t tcp_sum = 0;  // the TCP header's and options' constant words and the protocol
    std::uint8_t tcp_header_len = 0;
  };

  static constexpr std::size_t kTsValAt = TcpSegment::kMinHeaderSize + 4;  // after NOP NOP kind length

  static void build(Template& t, const Settings& s, bool timestamps) {
    TcpOptionsOut o;
    o.timestamps = timestamps;
    t.tcp_header_len = static_cast<std::uint8_t>(TcpSegment::kMinHeaderSize + tcp_options_size(o));
    std::uint8_t* p = t.bytes.data();
    write_ethernet(p, MacAddr{}, s.local_mac, kEtherTypeIpv4);
    std::uint8_t* ip = p + EthernetHeader::kSize;
    write_ipv4(ip, 0, 0, kIpProtoTcp, 0, 0, s.ttl, true);
    std::uint8_t* tcp = ip + Ipv4Header::kMinSize;
    write_tcp_header(tcp, 0, 0, SeqNum(0), SeqNum(0), t.tcp_header_len, 0, 0);
    write_tcp_options(tcp + TcpSegment::kMinHeaderSize, o);  // TSval and TSecr zero
    t.ip_sum = checksum_add(ip, Ipv4Header::kMinSize);
    t.tcp_sum = checksum_add(tcp, t.tcp_header_len, kIpProtoTcp);
  }

  std::array<Template, 2> templates_{};
  bool offload_ = false;
};

}  // namespace synwave
