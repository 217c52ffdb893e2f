// The link's own messages: ARP (RFC 826) and Neighbor Discovery (RFC 4861) answered, learnt and
// asked for next hops, and ICMPv6 echo and Parameter Problem (RFC 4443).
#include <algorithm>

#include "rx_context.hpp"
#include "synwave/engine.hpp"
#include "synwave/wire/arp.hpp"
#include "synwave/wire/icmpv6.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave {

namespace {
constexpr TimeNs kArpRetryInterval = 100 * kMillisecond;  // and between Neighbor Solicitations
}  // namespace

bool Engine::is_on_link(const Ipv6Addr& ip) const {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::memcpy(&high, ip.data(), 8);
  std::memcpy(&low, ip.data() + 8, 8);
  return (((high ^ on_link_[0]) & on_link_mask_[0]) | ((low ^ on_link_[1]) & on_link_mask_[1])) == 0;
}

bool Engine::input_arp(Frame& frame, const EthernetHeader& eth) {
  ArpPacket arp;
  if (parse_arp(frame.data + EthernetHeader::kSize, frame.len - EthernetHeader::kSize, arp) != ArpError::kOk) {
    ++counters_.drop_arp_malformed;
    return false;
  }
  const bool for_us = is_local_address(arp.target_ip);
  // RFC 826 "merge": refresh a sender we already know; learn it when the packet is for us.
  if (arp.sender_ip != 0 && !is_local_address(arp.sender_ip) && is_local_subnet(arp.sender_ip)) {
    if (for_us || neighbors_.find(arp.sender_ip) != nullptr) {
      if (neighbors_.learn(arp.sender_ip, arp.sender_mac)) ++counters_.arp_replies_received;
    }
  }
  if (arp.operation != kArpRequest) return false;
  if (!for_us) {
    ++counters_.drop_arp_not_for_us;
    return false;
  }
  if (!config_.answer_arp) return false;  // another lcore answers; this one only learnt
  ++counters_.arp_requests_received;
  if (frame.capacity < kArpFrameSize) return false;
  // Reply in place: the request's buffer already has the right size.
  write_arp_reply_frame(frame.data, arp, eth.src, config_.local_mac);
  queue_tx(frame, kArpFrameSize, 0);
  ++counters_.arp_replies_sent;
  return true;
}

// RFC 4443 §3.4, in the received frame: the invoking packet moves up behind new headers, cut to
// what fits in 1280 bytes. Never about a packet from an unspecified, multicast or own source, nor
// to one not addressed to us, nor faster than kIcmpv6ErrorsPerSecond (§2.4(e), (f)).
bool Engine::send_parameter_problem(Frame& frame, const Ipv6Problem& problem) {
  const std::uint8_t* ip = frame.data + EthernetHeader::kSize;
  Ipv6Addr src;
  Ipv6Addr dst;
  std::memcpy(dst.data(), ip + 8, 16);  // the reply goes back to the packet's source
  std::memcpy(src.data(), ip + 24, 16);
  if (local_handle(src) == 0 || is_multicast(dst) || is_unspecified(dst) || local_handle(dst) != 0) return false;
  if (now_ >= icmp_error_window_start_ + kSecond) {
    icmp_error_window_start_ = now_;
    icmp_errors_in_window_ = 0;
  }
  if (icmp_errors_in_window_ >= kIcmpv6ErrorsPerSecond) return false;
  constexpr std::size_t kHeaders = EthernetHeader::kSize + Ipv6Header::kSize + 8;
  const std::uint32_t invoking =
      std::min<std::uint32_t>(frame.len - EthernetHeader::kSize, kIcmpv6ErrorMaxInvoking);
  if (frame.capacity < kHeaders + invoking) return false;
  ++icmp_errors_in_window_;
  const MacAddr dst_mac = rx_->eth.src;
  std::memmove(frame.data + kHeaders, ip, invoking);
  const std::uint32_t len = write_parameter_problem(frame.data + kHeaders - 8, src, dst, problem.code, problem.pointer,
                                                    invoking);
  write_ethernet(frame.data, dst_mac, config_.local_mac, kEtherTypeIpv6);
  write_ipv6(frame.data + EthernetHeader::kSize, src, dst, kIpProtoIcmpv6, static_cast<std::uint16_t>(len), config_.ttl);
  queue_tx(frame, static_cast<std::uint16_t>(EthernetHeader::kSize + Ipv6Header::kSize + len), 0);
  ++counters_.icmpv6_errors_sent;
  return true;
}

// Neighbor Discovery (RFC 4861) and echo (RFC 4443 §4); every other ICMPv6 message is counted
// and dropped (router advertisements too: the gateway is configured).
bool Engine::input_icmpv6(Frame& frame, const std::uint8_t* msg, std::uint32_t len) {
  const Ipv6Header& ip = rx_->ip6;
  const MacAddr& eth_src = rx_->eth.src;
  Icmpv6Header h;
  if (parse_icmpv6(ip, msg, len, h) != Icmpv6Error::kOk) {
    ++counters_.drop_icmpv6_malformed;
    return false;
  }
  constexpr std::size_t kHeaders = EthernetHeader::kSize + Ipv6Header::kSize;
  std::uint8_t* out = frame.data;
  switch (h.type) {
    case kIcmpv6NeighborSolicitation: {
      NeighborSolicitation ns;
      if (parse_neighbor_solicitation(ip, msg, len, ns) != NdError::kOk) {
        ++counters_.drop_icmpv6_malformed;
        return false;
      }
      // To the target itself or to its solicited-node group (RFC 4861 §7.1.1).
      const bool ours = local_handle(ns.target) != 0;
      if (!ours || (ip.dst != ns.target && ip.dst != solicited_node_multicast(ns.target))) {
        ++counters_.drop_nd_not_for_us;
        return false;
      }
      const bool dad = is_unspecified(ip.src);
      // RFC 4861 §7.2.3: a solicitation's source link-layer address updates the cache.
      if (!dad && ns.has_source_mac) neighbors6_.learn(ip.src, ns.source_mac);
      if (!config_.answer_arp) return false;  // another lcore answers
      ++counters_.nd_solicitations_received;
      if (frame.capacity < kHeaders + kNdMessageWithLinkAddressSize) return false;
      // DAD is answered to all nodes, unsolicited (RFC 4861 §7.2.4).
      static constexpr Ipv6Addr kAllNodes{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
      const Ipv6Addr dst = dad ? kAllNodes : ip.src;
      const MacAddr dst_mac = dad ? multicast_mac(kAllNodes) : (ns.has_source_mac ? ns.source_mac : eth_src);
      const Ipv6Addr target = ns.target;
      write_ethernet(out, dst_mac, config_.local_mac, kEtherTypeIpv6);
      write_ipv6(out + EthernetHeader::kSize, target, dst, kIpProtoIcmpv6, kNdMessageWithLinkAddressSize, kNdHopLimit);
      write_neighbor_advertisement(out + kHeaders, target, dst, target, config_.local_mac, !dad);
      queue_tx(frame, static_cast<std::uint16_t>(kHeaders + kNdMessageWithLinkAddressSize), 0);
      ++counters_.nd_advertisements_sent;
      return true;
    }
    case kIcmpv6NeighborAdvertisement: {
      NeighborAdvertisement na;
      if (parse_neighbor_advertisement(ip, msg, len, na) != NdError::kOk) {
        ++counters_.drop_icmpv6_malformed;
        return false;
      }
      // Learnt when on our link, not ours, and either asked for or already known (RFC 4861
      // §7.2.5: an unsolicited advertisement only updates an existing entry).
      if (na.has_target_mac && is_on_link(na.target) && local_handle(na.target) == 0 &&
          (na.solicited || neighbors6_.find(na.target) != nullptr)) {
        if (neighbors6_.learn(na.target, na.target_mac)) ++counters_.nd_advertisements_received;
      }
      return false;
    }
    case kIcmpv6EchoRequest: {
      if (local_handle(ip.dst) == 0 || h.code != 0) {
        ++counters_.drop_icmpv6_ignored;
        return false;
      }
      const Ipv6Addr src = ip.dst;
      const Ipv6Addr dst = ip.src;
      const MacAddr dst_mac = eth_src;
      // In place: the message moves up to right after a bare IPv6 header (extension headers of
      // the request are not echoed).
      write_echo_reply(out + kHeaders, src, dst, msg, len);
      write_ethernet(out, dst_mac, config_.local_mac, kEtherTypeIpv6);
      write_ipv6(out + EthernetHeader::kSize, src, dst, kIpProtoIcmpv6, static_cast<std::uint16_t>(len), config_.ttl);
      queue_tx(frame, static_cast<std::uint16_t>(kHeaders + len), 0);
      ++counters_.icmpv6_echo_replies_sent;
      return true;
    }
    default: ++counters_.drop_icmpv6_ignored; return false;
  }
}

const MacAddr* Engine::next_hop_mac(std::uint32_t ip, TimeNs now) {
  std::uint32_t hop = ip;
  if (!is_local_subnet(ip)) {
    if (config_.gateway == 0) return nullptr;
    hop = config_.gateway;
  }
  const MacAddr* mac = neighbors_.find(hop);
  if (mac == nullptr && neighbors_.may_request(hop, now, kArpRetryInterval)) send_arp_request(hop);
  return mac;
}

const MacAddr* Engine::next_hop_mac6(const Ipv6Addr& ip, TimeNs now) {
  Ipv6Addr hop = ip;
  if (!is_on_link(ip)) {
    if (is_unspecified(config_.gateway6)) return nullptr;
    hop = config_.gateway6;
  }
  const MacAddr* mac = neighbors6_.find(hop);
  if (mac == nullptr && neighbors6_.may_request(hop, now, kArpRetryInterval)) send_neighbor_solicitation(hop);
  return mac;
}

void Engine::send_neighbor_solicitation(const Ipv6Addr& target) {
  Frame* f = take_tx_frame();
  constexpr std::size_t kHeaders = EthernetHeader::kSize + Ipv6Header::kSize;
  if (f == nullptr || f->capacity < kHeaders + kNdMessageWithLinkAddressSize) {
    ++counters_.drop_tx_no_buffer;
    return;
  }
  const Ipv6Addr group = solicited_node_multicast(target);
  write_ethernet(f->data, multicast_mac(group), config_.local_mac, kEtherTypeIpv6);
  write_ipv6(f->data + EthernetHeader::kSize, config_.local_ip6, group, kIpProtoIcmpv6, kNdMessageWithLinkAddressSize,
             kNdHopLimit);
  write_neighbor_solicitation(f->data + kHeaders, config_.local_ip6, target, config_.local_mac);
  queue_tx(*f, static_cast<std::uint16_t>(kHeaders + kNdMessageWithLinkAddressSize), 0);
  ++counters_.nd_solicitations_sent;
}

void Engine::send_arp_request(std::uint32_t target_ip) {
  Frame* f = take_tx_frame();
  if (f == nullptr) {
    ++counters_.drop_tx_no_buffer;
    return;
  }
  write_arp_request_frame(f->data, config_.local_mac, config_.local_ip, target_ip);
  queue_tx(*f, kArpFrameSize, 0);
  ++counters_.arp_requests_sent;
}

}  // namespace synwave
