#include "synwave/flood_generator.hpp"

#include <cstring>

#include "synwave/byte_order.hpp"
#include "synwave/checksum.hpp"
#include "synwave/wire/arp.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave {

namespace {

constexpr std::size_t kIpAt = EthernetHeader::kSize;
constexpr std::size_t kTcpAt = kIpAt + Ipv4Header::kMinSize;
constexpr std::size_t kTsValAt = 8;  // in the SYN options: MSS(4), SACK-permitted(2), TS kind, length

// What Linux 6.x puts in its SYNs: MSS for a 1500-byte MTU, the window of 64240 (44 segments),
// window scale 7.
constexpr std::uint16_t kSynMss = 1460;
constexpr std::uint16_t kSynWindow = 64240;
constexpr std::uint8_t kSynWindowScale = 7;
constexpr std::uint16_t kAckWindow = 502;

std::uint8_t flags_of(FloodKind kind) {
  switch (kind) {
    case FloodKind::kSyn: return tcp_flags::kSyn;
    case FloodKind::kAck: return tcp_flags::kAck;
    case FloodKind::kRst: return tcp_flags::kRst;
    case FloodKind::kFin: return tcp_flags::kFin | tcp_flags::kAck;
  }
  return tcp_flags::kSyn;
}

std::uint64_t sum32(std::uint32_t v) { return std::uint64_t{v >> 16} + (v & 0xffff); }

}  // namespace

std::string_view to_string(FloodKind kind) {
  switch (kind) {
    case FloodKind::kSyn: return "syn";
    case FloodKind::kAck: return "ack";
    case FloodKind::kRst: return "rst";
    case FloodKind::kFin: return "fin";
  }
  return "syn";
}

bool parse_flood_kind(std::string_view name, FloodKind& out) {
  for (FloodKind k : {FloodKind::kSyn, FloodKind::kAck, FloodKind::kRst, FloodKind::kFin}) {
    if (name == to_string(k)) {
      out = k;
      return true;
    }
  }
  return false;
}

FloodGenerator::FloodGenerator(const FloodConfig& config, const FrameIo& io, TimeNs now)
    : config_(config),
      io_(io),
      bucket_(config.pps == kFloodUnlimitedPps ? 0 : config.pps, now, config.catch_up),
      rng_(config.seed) {
  if (config_.src_ip_last < config_.src_ip_first) config_.src_ip_last = config_.src_ip_first;
  if (config_.src_port_last < config_.src_port_first) config_.src_port_last = config_.src_port_first;
  if (config_.share_count == 0) config_.share_count = 1;
  ip_count_ = std::uint64_t{config_.src_ip_last} - config_.src_ip_first + 1;
  port_count_ = std::uint64_t{config_.src_port_last} - config_.src_port_first + 1;
  ip_index_ = config_.share_index % ip_count_;
  port_index_ = (config_.share_index / ip_count_) % port_count_;
  // The IP ID starts somewhere different on every generator, as a host's would.
  ip_id_ = static_cast<std::uint16_t>(next_random());
  build_template();
}

std::uint64_t FloodGenerator::tuples() const {
  const std::uint64_t n = ip_count_ * port_count_;
  if (config_.share_index >= n) return 0;
  return (n - config_.share_index + config_.share_count - 1) / config_.share_count;
}

void FloodGenerator::set_next_hop_mac(const MacAddr& mac) {
  config_.next_hop_mac = mac;
  write_ethernet(template_, mac, config_.local_mac, kEtherTypeIpv4);
}

void FloodGenerator::build_template() {
  const bool syn = config_.kind == FloodKind::kSyn;
  TcpOptionsOut options;
  if (syn) {
    options.mss = true;
    options.mss_value = kSynMss;
    options.sack_permitted = true;
    options.timestamps = true;
    options.window_scale = true;
    options.window_scale_shift = kSynWindowScale;
  }
  tcp_len_ = static_cast<std::uint16_t>(TcpSegment::kMinHeaderSize + tcp_options_size(options));
  frame_size_ = static_cast<std::uint16_t>(kTcpAt + tcp_len_);
  std::uint8_t* p = template_;
  write_ethernet(p, config_.next_hop_mac, config_.local_mac, kEtherTypeIpv4);
  // Source address and ID zero: they are added per frame. The checksum is left zero here too.
  write_ipv4(p + kIpAt, 0, config_.dst_ip, kIpProtoTcp, static_cast<std::uint16_t>(Ipv4Header::kMinSize + tcp_len_), 0,
             config_.ttl, true);
  const std::uint16_t window = config_.kind == FloodKind::kSyn   ? kSynWindow
                               : config_.kind == FloodKind::kRst ? 0
                                                                 : kAckWindow;
  std::uint8_t* tcp = p + kTcpAt;
  write_tcp_header(tcp, 0, config_.dst_port, SeqNum(0), SeqNum(0), static_cast<std::uint8_t>(tcp_len_),
                   flags_of(config_.kind), window);
  write_tcp_options(tcp + TcpSegment::kMinHeaderSize, options);
  ip_sum_base_ = checksum_add(p + kIpAt, Ipv4Header::kMinSize);
  tcp_sum_base_ = checksum_add(tcp, tcp_len_, pseudo_header_sum(0, config_.dst_ip, kIpProtoTcp, tcp_len_));
}

// splitmix64 (Steele, Lea, Flood 2014): one addition and three multiply-xorshift steps, any seed.
std::uint64_t FloodGenerator::next_random() {
  std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void FloodGenerator::advance_source() {
  // The tuple number (port_index_ * ip_count_ + ip_index_) steps by share_count, modulo the
  // range: addresses vary fastest, so consecutive SYNs come from different hosts.
  ip_index_ += config_.share_count;
  if (ip_index_ >= ip_count_) {
    port_index_ += ip_index_ / ip_count_;
    ip_index_ %= ip_count_;
    if (port_index_ >= port_count_) port_index_ %= port_count_;
  }
}

void FloodGenerator::build(Frame& frame) {
  std::uint8_t* p = frame.data;
  std::memcpy(p, template_, frame_size_);
  std::uint8_t* ip = p + kIpAt;
  std::uint8_t* tcp = p + kTcpAt;
  const auto src_ip = static_cast<std::uint32_t>(config_.src_ip_first + ip_index_);
  const auto src_port = static_cast<std::uint16_t>(config_.src_port_first + port_index_);
  const std::uint16_t id = ip_id_++;
  const std::uint64_t r = next_random();
  const auto seq = static_cast<std::uint32_t>(r);
  const auto high = static_cast<std::uint32_t>(r >> 32);
  store_be32(ip + 12, src_ip);
  store_be16(ip + 4, id);
  store_be16(tcp, src_port);
  store_be32(tcp + 4, seq);
  // SYN: the high half is the TSval (a host's timestamp clock, unknown to the target); ACK and
  // FIN+ACK: the acknowledgment number; RST: unused (its ACK field stays zero, no ACK flag).
  std::uint64_t varying = sum32(src_ip) + src_port + sum32(seq);
  if (config_.kind == FloodKind::kSyn) {
    store_be32(tcp + TcpSegment::kMinHeaderSize + kTsValAt, high);
    varying += sum32(high);
  } else if (config_.kind != FloodKind::kRst) {
    store_be32(tcp + 8, high);
    varying += sum32(high);
  }
  if (config_.checksum_offload) {
    // DPDK's offload wants the folded pseudo-header sum in the TCP field and zero in the IP one.
    store_be16(tcp + 16, checksum_fold(pseudo_header_sum(src_ip, config_.dst_ip, kIpProtoTcp, tcp_len_)));
    frame.flags = frame_flags::kTxIpChecksum | frame_flags::kTxTcpChecksum;
  } else {
    store_be16(ip + 10, checksum_finish(ip_sum_base_ + sum32(src_ip) + id));
    store_be16(tcp + 16, checksum_finish(tcp_sum_base_ + varying));
    frame.flags = 0;
  }
  frame.len = frame_size_;
  advance_source();
}

std::uint32_t FloodGenerator::take_due(TimeNs now) {
  if (config_.pps == 0) return 0;
  std::uint64_t due = config_.pps == kFloodUnlimitedPps ? kBurst : bucket_.take(now, kBurst);
  if (config_.total != 0) {
    const std::uint64_t left = config_.total - stats_.attempted();
    if (due > left) due = left;
  }
  return static_cast<std::uint32_t>(due);
}

std::uint32_t FloodGenerator::poll(TimeNs now) {
  if (!resolved() || finished()) {
    bucket_.restart(now);  // nothing accrues while the flood cannot send
    return 0;
  }
  const std::uint32_t due = take_due(now);
  if (due == 0) return 0;
  Frame frames[kBurst];
  const std::uint32_t got = io_.refill(io_.ctx, frames, due);
  std::uint32_t ready = 0;
  for (std::uint32_t i = 0; i < got; ++i) {
    if (frames[i].capacity < frame_size_) {
      if (io_.release != nullptr) io_.release(io_.ctx, &frames[i], 1);
      continue;
    }
    if (ready != i) frames[ready] = frames[i];
    build(frames[ready++]);
  }
  const std::uint32_t accepted = ready > 0 ? io_.transmit(io_.ctx, frames, ready) : 0;
  stats_.sent += accepted;
  stats_.tx_queue_full += ready - accepted;
  stats_.no_buffer += due - ready;
  return ready;
}

bool FloodGenerator::build_arp_request(Frame& frame) {
  if (frame.capacity < kArpFrameSize) return false;
  write_arp_request_frame(frame.data, config_.local_mac, config_.local_ip, config_.next_hop_ip);
  frame.len = kArpFrameSize;
  frame.flags = 0;
  ++stats_.arp_requests_sent;
  return true;
}

FloodInput FloodGenerator::input(Frame& frame) {
  EthernetHeader eth;
  if (parse_ethernet(frame.data, frame.len, eth) != EthernetError::kOk || eth.ether_type != kEtherTypeArp) {
    return FloodInput::kIgnored;
  }
  ArpPacket arp;
  if (parse_arp(frame.data + EthernetHeader::kSize, frame.len - EthernetHeader::kSize, arp) != ArpError::kOk) {
    return FloodInput::kIgnored;
  }
  FloodInput result = FloodInput::kIgnored;
  // RFC 826: any ARP packet from the next hop (reply, or its own request) tells us its MAC. The
  // first one wins; a MAC given by configuration is never replaced.
  if (!resolved() && config_.next_hop_ip != 0 && arp.sender_ip == config_.next_hop_ip && !arp.sender_mac.is_zero() &&
      !arp.sender_mac.is_multicast()) {
    set_next_hop_mac(arp.sender_mac);
    result = FloodInput::kLearnedNextHop;
  }
  if (arp.operation == kArpRequest && config_.local_ip != 0 && arp.target_ip == config_.local_ip &&
      frame.capacity >= kArpFrameSize) {
    write_arp_reply_frame(frame.data, arp, eth.src, config_.local_mac);
    frame.len = kArpFrameSize;
    frame.flags = 0;
    ++stats_.arp_replies_sent;
    return FloodInput::kReplied;
  }
  return result;
}

}  // namespace synwave
