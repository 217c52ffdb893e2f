#include "synwave/flood_generator.hpp"

#include <algorithm>
#include <cstring>

#include "synwave/byte_order.hpp"
#include "synwave/checksum.hpp"
#include "synwave/wire/arp.hpp"
#include "synwave/wire/icmpv6.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/ipv6.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave {

namespace {

constexpr std::size_t kIpAt = EthernetHeader::kSize;
constexpr std::size_t kTcpAt = kIpAt + Ipv4Header::kMinSize;
constexpr std::size_t kTcpAt6 = kIpAt + Ipv6Header::kSize;
// The last 32 bits of the IPv6 source, the part a range counts up.
constexpr std::size_t kSrcLowAt6 = 8 + 12;
constexpr std::size_t kNdFrameSize = EthernetHeader::kSize + Ipv6Header::kSize + kNdMessageWithLinkAddressSize;
constexpr std::size_t kTsValAt = 8;  // in the SYN options: MSS(4), SACK-permitted(2), TS kind, length

// What Linux 6.x puts in its SYNs: MSS for a 1500-byte MTU (IPv6's header is 20 bytes longer),
// the window of 64240 (44 segments), window scale 7.
constexpr std::uint16_t kSynMss = 1460;
constexpr std::uint16_t kSynMss6 = 1440;
constexpr std::uint16_t kSynWindow = 64240;
constexpr std::uint8_t kSynWindowScale = 7;
constexpr std::uint16_t kAckWindow = 502;

std::uint8_t flags_of(FloodKind kind) {
  switch (kind) {
    case FloodKind::kSyn:
    case FloodKind::kSynPlain: return tcp_flags::kSyn;
    case FloodKind::kAck: return tcp_flags::kAck;
    case FloodKind::kRst: return tcp_flags::kRst;
    case FloodKind::kFin: return tcp_flags::kFin | tcp_flags::kAck;
  }
  return tcp_flags::kSyn;
}

std::uint64_t sum32(std::uint32_t v) { return std::uint64_t{v >> 16} + (v & 0xffff); }

std::uint32_t low32(const Ipv6Addr& a) { return load_be32(a.data() + 12); }

Ipv6Addr with_low32(Ipv6Addr a, std::uint32_t low) {
  store_be32(a.data() + 12, low);
  return a;
}

}  // namespace

std::string_view to_string(FloodKind kind) {
  switch (kind) {
    case FloodKind::kSyn: return "syn";
    case FloodKind::kSynPlain: return "syn-plain";
    case FloodKind::kAck: return "ack";
    case FloodKind::kRst: return "rst";
    case FloodKind::kFin: return "fin";
  }
  return "syn";
}

bool parse_flood_kind(std::string_view name, FloodKind& out) {
  for (FloodKind k : kFloodKinds) {
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
  if (config_.ipv6) {
    if (std::memcmp(config_.src_ip6_first.data(), config_.src_ip6_last.data(), 12) != 0 ||
        low32(config_.src_ip6_last) < low32(config_.src_ip6_first)) {
      config_.src_ip6_last = config_.src_ip6_first;
    }
    src6_low_first_ = low32(config_.src_ip6_first);
    ip_count_ = std::uint64_t{low32(config_.src_ip6_last)} - src6_low_first_ + 1;
  } else {
    ip_count_ = std::uint64_t{config_.src_ip_last} - config_.src_ip_first + 1;
  }
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
  write_ethernet(template_, mac, config_.local_mac, config_.ipv6 ? kEtherTypeIpv6 : kEtherTypeIpv4);
}

void FloodGenerator::build_template() {
  const bool syn = config_.kind == FloodKind::kSyn;
  TcpOptionsOut options;
  if (syn) {
    options.mss = true;
    options.mss_value = config_.ipv6 ? kSynMss6 : kSynMss;
    options.sack_permitted = true;
    options.timestamps = true;
    options.window_scale = true;
    options.window_scale_shift = kSynWindowScale;
  }
  tcp_len_ = static_cast<std::uint16_t>(TcpSegment::kMinHeaderSize + tcp_options_size(options));
  std::uint8_t* p = template_;
  const std::uint16_t window = flags_of(config_.kind) == tcp_flags::kSyn ? kSynWindow
                               : config_.kind == FloodKind::kRst           ? 0
                                                                           : kAckWindow;
  if (config_.ipv6) {
    frame_size_ = static_cast<std::uint16_t>(kTcpAt6 + tcp_len_);
    write_ethernet(p, config_.next_hop_mac, config_.local_mac, kEtherTypeIpv6);
    // The source's last 32 bits zero: they are added per frame, to the header and to the sums.
    const Ipv6Addr src = with_low32(config_.src_ip6_first, 0);
    write_ipv6(p + kIpAt, src, config_.dst_ip6, kIpProtoTcp, tcp_len_, config_.ttl);
    std::uint8_t* tcp = p + kTcpAt6;
    write_tcp_header(tcp, 0, config_.dst_port, SeqNum(0), SeqNum(0), static_cast<std::uint8_t>(tcp_len_),
                     flags_of(config_.kind), window);
    write_tcp_options(tcp + TcpSegment::kMinHeaderSize, options);
    pseudo_sum_base_ = pseudo_header_sum_ipv6(src, config_.dst_ip6, kIpProtoTcp, tcp_len_);
    tcp_sum_base_ = checksum_add(tcp, tcp_len_, pseudo_sum_base_);
    return;
  }
  frame_size_ = static_cast<std::uint16_t>(kTcpAt + tcp_len_);
  write_ethernet(p, config_.next_hop_mac, config_.local_mac, kEtherTypeIpv4);
  // Source address and ID zero: they are added per frame. The checksum is left zero here too.
  write_ipv4(p + kIpAt, 0, config_.dst_ip, kIpProtoTcp, static_cast<std::uint16_t>(Ipv4Header::kMinSize + tcp_len_), 0,
             config_.ttl, true);
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

template <bool kIpv6>
void FloodGenerator::build_frame(Frame& frame) {
  std::uint8_t* p = frame.data;
  std::memcpy(p, template_, frame_size_);
  std::uint8_t* ip = p + kIpAt;
  std::uint8_t* tcp = p + (kIpv6 ? kTcpAt6 : kTcpAt);
  const auto src_ip = static_cast<std::uint32_t>((kIpv6 ? src6_low_first_ : config_.src_ip_first) + ip_index_);
  const auto src_port = static_cast<std::uint16_t>(config_.src_port_first + port_index_);
  std::uint16_t id = 0;
  if constexpr (kIpv6) {
    store_be32(ip + kSrcLowAt6, src_ip);
  } else {
    id = ip_id_++;
    store_be32(ip + 12, src_ip);
    store_be16(ip + 4, id);
  }
  const std::uint64_t r = next_random();
  const auto seq = static_cast<std::uint32_t>(r);
  const auto high = static_cast<std::uint32_t>(r >> 32);
  store_be16(tcp, src_port);
  store_be32(tcp + 4, seq);
  // SYN: the high half is the TSval (a host's timestamp clock, unknown to the target); ACK and
  // FIN+ACK: the acknowledgment number; RST: unused (its ACK field stays zero, no ACK flag).
  std::uint64_t varying = sum32(src_ip) + src_port + sum32(seq);
  if (config_.kind == FloodKind::kSyn) {
    store_be32(tcp + TcpSegment::kMinHeaderSize + kTsValAt, high);
    varying += sum32(high);
  } else if (config_.kind == FloodKind::kAck || config_.kind == FloodKind::kFin) {
    store_be32(tcp + 8, high);
    varying += sum32(high);
  }
  if (config_.checksum_offload) {
    // DPDK's offload wants the folded pseudo-header sum in the TCP field (and, over IPv4, zero in
    // the IP one).
    if constexpr (kIpv6) {
      store_be16(tcp + 16, checksum_fold(pseudo_sum_base_ + sum32(src_ip)));
      frame.flags = frame_flags::kTxIpv6 | frame_flags::kTxTcpChecksum;
    } else {
      store_be16(tcp + 16, checksum_fold(pseudo_header_sum(src_ip, config_.dst_ip, kIpProtoTcp, tcp_len_)));
      frame.flags = frame_flags::kTxIpChecksum | frame_flags::kTxTcpChecksum;
    }
  } else {
    if constexpr (!kIpv6) store_be16(ip + 10, checksum_finish(ip_sum_base_ + sum32(src_ip) + id));
    store_be16(tcp + 16, checksum_finish(tcp_sum_base_ + varying));
    frame.flags = 0;
  }
  frame.len = frame_size_;
  advance_source();
}

void FloodGenerator::build(Frame& frame) {
  if (config_.ipv6) {
    build_frame<true>(frame);
  } else {
    build_frame<false>(frame);
  }
}

template <bool kIpv6>
std::uint32_t FloodGenerator::build_burst(Frame* frames, std::uint32_t got) {
  std::uint32_t ready = 0;
  for (std::uint32_t i = 0; i < got; ++i) {
    if (frames[i].capacity < frame_size_) {
      if (io_.release != nullptr) io_.release(io_.ctx, &frames[i], 1);
      continue;
    }
    if (ready != i) frames[ready] = frames[i];
    build_frame<kIpv6>(frames[ready++]);
  }
  return ready;
}

std::uint32_t FloodGenerator::take_due(TimeNs now) {
  if (config_.pps == 0) return 0;
  std::uint64_t due = config_.pps == kFloodUnlimitedPps ? kBurst : bucket_.take(now, kBurst);
  if (config_.total != 0) {
    const std::uint64_t left = config_.total - stats_.attempted() - held_count_;
    if (due > left) due = left;
  }
  return static_cast<std::uint32_t>(due);
}

std::uint32_t FloodGenerator::build_into(Frame* frames, std::uint32_t due) {
  const std::uint32_t got = io_.refill(io_.ctx, frames, due);
  const std::uint32_t ready = config_.ipv6 ? build_burst<true>(frames, got) : build_burst<false>(frames, got);
  stats_.no_buffer += due - ready;
  return ready;
}

std::uint32_t FloodGenerator::poll(TimeNs now) {
  if (!resolved() || finished()) {
    bucket_.restart(now);  // nothing accrues while the flood cannot send
    return 0;
  }
  const std::uint32_t due = take_due(now);
  if (io_.offer != nullptr) return offer_burst(due);
  if (due == 0) return 0;
  Frame frames[kBurst];
  const std::uint32_t ready = build_into(frames, due);
  const std::uint32_t accepted = ready > 0 ? io_.transmit(io_.ctx, frames, ready) : 0;
  stats_.sent += accepted;
  stats_.tx_queue_full += ready - accepted;
  return ready;
}

// The frames an earlier pass built and the device did not take go first. What the rate calls for
// beyond the room they leave is refused unbuilt, and counted as the full queue's: the queue has
// not taken the last ones yet. (Over memif at 20M SYN/s offered, building, freeing and retrying
// the frames a full ring refused was half of what the flood's lcore did.)
std::uint32_t FloodGenerator::offer_burst(std::uint32_t due) {
  const std::uint32_t wanted = std::min(due, kBurst - held_count_);
  stats_.tx_queue_full += due - wanted;
  const std::uint32_t built = wanted > 0 ? build_into(held_.data() + held_count_, wanted) : 0;
  held_count_ += built;
  if (held_count_ == 0) return 0;
  const std::uint32_t accepted = io_.offer(io_.ctx, held_.data(), held_count_);
  stats_.sent += accepted;
  held_count_ -= accepted;
  std::copy_n(held_.data() + accepted, held_count_, held_.data());
  return built + accepted;
}

void FloodGenerator::release_held() {
  if (held_count_ == 0) return;
  stats_.tx_queue_full += held_count_;
  if (io_.release != nullptr) io_.release(io_.ctx, held_.data(), held_count_);
  held_count_ = 0;
}

bool FloodGenerator::build_next_hop_request(Frame& frame) {
  if (config_.ipv6) {
    if (frame.capacity < kNdFrameSize) return false;
    const Ipv6Addr group = solicited_node_multicast(config_.next_hop_ip6);
    std::uint8_t* p = frame.data;
    write_ethernet(p, multicast_mac(group), config_.local_mac, kEtherTypeIpv6);
    write_ipv6(p + kIpAt, config_.local_ip6, group, kIpProtoIcmpv6, kNdMessageWithLinkAddressSize, kNdHopLimit);
    write_neighbor_solicitation(p + kTcpAt6, config_.local_ip6, config_.next_hop_ip6, config_.local_mac);
    frame.len = kNdFrameSize;
    frame.flags = 0;
    ++stats_.nd_solicitations_sent;
    return true;
  }
  if (frame.capacity < kArpFrameSize) return false;
  write_arp_request_frame(frame.data, config_.local_mac, config_.local_ip, config_.next_hop_ip);
  frame.len = kArpFrameSize;
  frame.flags = 0;
  ++stats_.arp_requests_sent;
  return true;
}

bool FloodGenerator::for_probes(const Frame& f, std::uint32_t probe_ip, const Ipv6Addr& probe_ip6) const {
  if (f.len < EthernetHeader::kSize + Ipv4Header::kMinSize) return false;
  const std::uint16_t type = load_be16(f.data + 12);
  if (type == kEtherTypeIpv4) return probe_ip != 0 && load_be32(f.data + kIpAt + 16) == probe_ip;
  if (type == kEtherTypeArp) {
    constexpr std::size_t kArpTargetIp = EthernetHeader::kSize + 24;
    return probe_ip != 0 && probe_ip != config_.local_ip && f.len >= kArpTargetIp + 4 &&
           load_be32(f.data + kArpTargetIp) == probe_ip;
  }
  if (type != kEtherTypeIpv6 || is_unspecified(probe_ip6) || f.len < kTcpAt6) return false;
  const std::uint8_t* ip = f.data + kIpAt;
  const std::uint8_t* msg = ip + Ipv6Header::kSize;
  if (ip[6] == kIpProtoIcmpv6 && f.len >= kTcpAt6 + kNdMessageSize &&
      (msg[0] == kIcmpv6NeighborSolicitation || msg[0] == kIcmpv6NeighborAdvertisement)) {
    return msg[0] == kIcmpv6NeighborSolicitation && probe_ip6 != config_.local_ip6 &&
           std::memcmp(msg + 8, probe_ip6.data(), 16) == 0;
  }
  return std::memcmp(ip + 24, probe_ip6.data(), 16) == 0;
}

FloodInput FloodGenerator::input(Frame& frame) {
  EthernetHeader eth;
  if (parse_ethernet(frame.data, frame.len, eth) != EthernetError::kOk) return FloodInput::kIgnored;
  if (eth.ether_type == kEtherTypeIpv6) return config_.ipv6 ? input_ipv6(frame, eth) : FloodInput::kIgnored;
  if (eth.ether_type != kEtherTypeArp) return FloodInput::kIgnored;
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

// Neighbor Discovery as the engine speaks it (RFC 4861), for the two things the flood needs: the
// next hop's MAC, and answers for our own address (the target replies to the probes there, and
// checks that its neighbour is still reachable). Messages are checked as §7.1 says, checksum
// included: the flood receives little else but the target's SYN-ACKs, which stop at the first test.
FloodInput FloodGenerator::input_ipv6(Frame& frame, const EthernetHeader& eth) {
  Ipv6Header ip;
  if (parse_ipv6(frame.data + kIpAt, frame.len - kIpAt, ip) != Ipv6Error::kOk || ip.next_header != kIpProtoIcmpv6) {
    return FloodInput::kIgnored;
  }
  const std::uint8_t* msg = frame.data + kIpAt + ip.upper_offset;
  const std::uint32_t len = ip.upper_len();
  Icmpv6Header h;
  if (parse_icmpv6(ip, msg, len, h) != Icmpv6Error::kOk) return FloodInput::kIgnored;
  if (h.type == kIcmpv6NeighborAdvertisement) {
    NeighborAdvertisement na;
    if (parse_neighbor_advertisement(ip, msg, len, na) != NdError::kOk || !na.has_target_mac) return FloodInput::kIgnored;
    if (resolved() || na.target != config_.next_hop_ip6 || na.target_mac.is_zero() || na.target_mac.is_multicast()) {
      return FloodInput::kIgnored;
    }
    set_next_hop_mac(na.target_mac);
    return FloodInput::kLearnedNextHop;
  }
  if (h.type != kIcmpv6NeighborSolicitation) return FloodInput::kIgnored;
  NeighborSolicitation ns;
  if (parse_neighbor_solicitation(ip, msg, len, ns) != NdError::kOk) return FloodInput::kIgnored;
  const bool dad = is_unspecified(ip.src);
  FloodInput result = FloodInput::kIgnored;
  // As with ARP, the next hop asking anything tells us its MAC (RFC 4861 §7.2.3).
  if (!resolved() && !dad && ns.has_source_mac && ip.src == config_.next_hop_ip6 && !ns.source_mac.is_zero() &&
      !ns.source_mac.is_multicast()) {
    set_next_hop_mac(ns.source_mac);
    result = FloodInput::kLearnedNextHop;
  }
  // For our address, sent to it or to its solicited-node group (§7.1.1).
  if (ns.target != config_.local_ip6 ||
      (ip.dst != config_.local_ip6 && ip.dst != solicited_node_multicast(config_.local_ip6)) ||
      frame.capacity < kNdFrameSize) {
    return result;
  }
  // Duplicate address detection is answered to all nodes, unsolicited (§7.2.4).
  static constexpr Ipv6Addr kAllNodes{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  const Ipv6Addr dst = dad ? kAllNodes : ip.src;
  const MacAddr dst_mac = dad ? multicast_mac(kAllNodes) : (ns.has_source_mac ? ns.source_mac : eth.src);
  std::uint8_t* p = frame.data;
  write_ethernet(p, dst_mac, config_.local_mac, kEtherTypeIpv6);
  write_ipv6(p + kIpAt, config_.local_ip6, dst, kIpProtoIcmpv6, kNdMessageWithLinkAddressSize, kNdHopLimit);
  write_neighbor_advertisement(p + kTcpAt6, config_.local_ip6, dst, config_.local_ip6, config_.local_mac, !dad);
  frame.len = kNdFrameSize;
  frame.flags = 0;
  ++stats_.nd_advertisements_sent;
  return FloodInput::kReplied;
}

}  // namespace synwave
