// The receive path: a frame or a burst of them in, shed or dispatched. Ethernet to IPv4, IPv6
// or ARP; the IP and TCP headers checked; new SYNs dropped early under overload; the flow-table
// lookup (prefetched a burst ahead) to the tuple's record, half-open entry or TIME-WAIT entry,
// else its listener, else a reset. ARP, Neighbor Discovery and ICMPv6 are in neighbors.cpp.
#include "rx_context.hpp"
#include "synwave/checksum.hpp"
#include "synwave/engine.hpp"
#include "synwave/prefetch.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave {

namespace {
// One IP frame's turn with the receive context: while it lasts, current_rx_ points at the
// context, so a reply may be built in the received frame (take_tx_frame).
template <class Rx>
struct RxTurn {
  Rx*& current;
  RxTurn(Rx*& current_rx, Rx& rx, Frame& frame) : current(current_rx) {
    rx.frame = &frame;
    rx.frame_taken = false;
    rx.frame_reusable = true;
    current = &rx;
  }
  RxTurn(const RxTurn&) = delete;
  RxTurn& operator=(const RxTurn&) = delete;
  ~RxTurn() { current = nullptr; }
};
}  // namespace

bool Engine::input(Frame frame, TimeNs now) {
  const bool kept = listener_overloaded() && shed_syn(frame) ? input_shed_syn(frame, now) : input_frame(frame, now);
  finish_cookie_synacks();
  return kept;
}

bool Engine::input_frame(Frame& frame, TimeNs now) {
  set_now(now);
  ++counters_.rx_frames;
  // Parsed straight into the receive context, which keeps it for replies: a copy would read the
  // header back with wide loads over the narrow stores that just wrote it, which the store
  // buffer cannot forward (half of input_ipv4's samples in the loopback's profile).
  EthernetHeader& eth = rx_->eth;
  if (parse_ethernet(frame.data, frame.len, eth) != EthernetError::kOk) {
    ++counters_.drop_eth_truncated;
    return false;
  }
  // IPv6 multicast (33:33:..., RFC 2464 §7) carries Neighbor Solicitations to our
  // solicited-node groups; input_ipv6 checks the group.
  if (eth.dst != config_.local_mac && !eth.dst.is_broadcast() &&
      !(eth.dst.bytes[0] == 0x33 && eth.dst.bytes[1] == 0x33 && !local6_.empty())) {
    ++counters_.drop_eth_not_for_us;
    return false;
  }
  if (eth.ether_type == kEtherTypeIpv4) [[likely]] return input_ipv4(frame);
  if (eth.ether_type == kEtherTypeArp) return input_arp(frame, eth);
  if (eth.ether_type == kEtherTypeIpv6 && !local6_.empty()) return input_ipv6(frame);
  ++counters_.drop_eth_unknown_type;
  return false;
}

namespace {
// The TCP header of a TCP/IPv4 frame, or of a TCP/IPv6 one with no extension header, with at
// least tcp_bytes of it present, read straight from the frame's bytes with only the checks that
// keep the reads in bounds; nullptr otherwise. For hints and early drops, not a parse:
// input_frame() still validates everything it goes on with.
const std::uint8_t* peek_tcp4(const Frame& f, std::size_t tcp_bytes) {
  constexpr std::size_t kIp = EthernetHeader::kSize;
  if (f.len < kIp + Ipv4Header::kMinSize + tcp_bytes || load_be16(f.data + 12) != kEtherTypeIpv4) return nullptr;
  const std::uint8_t* ip = f.data + kIp;
  const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
  if (ip[9] != kIpProtoTcp || f.len < kIp + ihl + tcp_bytes) return nullptr;
  return ip + ihl;
}

const std::uint8_t* peek_tcp6(const Frame& f, std::size_t tcp_bytes) {
  constexpr std::size_t kIp = EthernetHeader::kSize;
  if (f.len < kIp + Ipv6Header::kSize + tcp_bytes || load_be16(f.data + 12) != kEtherTypeIpv6) return nullptr;
  const std::uint8_t* ip = f.data + kIp;
  return ip[6] == kIpProtoTcp ? ip + Ipv6Header::kSize : nullptr;
}

const std::uint8_t* peek_tcp(const Frame& f, std::size_t tcp_bytes) {
  const std::uint8_t* tcp = peek_tcp4(f, tcp_bytes);
  return tcp != nullptr ? tcp : peek_tcp6(f, tcp_bytes);
}

// SYN set and neither ACK nor RST: a connection request.
bool is_bare_syn(std::uint8_t flags) {
  return (flags & (tcp_flags::kSyn | tcp_flags::kAck | tcp_flags::kRst)) == tcp_flags::kSyn;
}

// The flow key and the TCP flags, for the prefetch of its slot.
bool peek_flow_key(const Frame& f, FlowKey& key, std::uint8_t& flags) {
  const std::uint8_t* tcp = peek_tcp4(f, 14);
  if (tcp == nullptr) return false;
  const std::uint8_t* ip = f.data + EthernetHeader::kSize;
  key = FlowKey{load_be32(ip + 16), load_be32(ip + 12), load_be16(tcp + 2), load_be16(tcp)};
  flags = tcp[13];
  return true;
}

bool peek_bare_syn(const Frame& f) {
  const std::uint8_t* tcp = peek_tcp(f, 14);
  return tcp != nullptr && is_bare_syn(tcp[13]);
}
}  // namespace

void Engine::close_admission_window() {
  const std::uint64_t syns = counters_.syn_received - window_syns_;
  const std::uint64_t accepted = counters_.conn_accepted - window_accepted_;
  if (syns != 0) handshakes_completing_ = accepted * kCompletingShareInverse >= syns;
  window_syns_ = counters_.syn_received;
  window_accepted_ = counters_.conn_accepted;
  admission_window_start_ = now_;
}

// Called while the lcore is saturated and the SYN backlog half full (listener_overloaded): a new
// SYN needs CPU the lcore does not have. Three in four are dropped before any parse, checksum
// or table work (the peer retries), so the connections already admitted finish first; the fourth
// goes on, so a flood that keeps the lcore saturated cannot shut out every legitimate client.
bool Engine::shed_syn(const Frame& f) {
  if (!peek_bare_syn(f) || ++overloaded_syns_ % kOverloadedSynAdmitEvery == 0) return false;
  if (!config_.reset_shed_syns) {  // else input_shed_syn's frame is counted where it ends
    ++counters_.rx_frames;
    ++counters_.drop_syn_shed_busy;
  }
  return true;
}

// A shed SYN is dropped: its peer retries in a second or two. Against an open-loop client beyond
// the lcore's capacity, those retries come on top of its new SYNs, are shed again, and the client
// spends itself retransmitting (measured under dperf's client at 1.3M/s: up to 1M SYN
// retransmissions a second, completions falling by a quarter or more late in a run). With --shed-reset the SYN is refused
// instead: parsed, and answered with <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK> as a closed port would
// be (RFC 9293 §3.10.7.1) by syn_arrives, so the client fails it at once. A SYN whose tuple the
// engine still holds (a half-open entry, TIME-WAIT, a record) is handled as that state says, and
// a malformed one dropped as usual: only the refusal counts in drop_syn_shed_busy.
bool Engine::input_shed_syn(Frame& frame, TimeNs now) {
  if (!config_.reset_shed_syns) return false;
  refusing_shed_syn_ = true;
  const bool kept = input_frame(frame, now);
  refusing_shed_syn_ = false;
  return kept;
}

// Every SYN will get a cookie and no half-open entry: cookies always, or on overflow with every
// listener's backlog full (a flood's steady state).
bool Engine::syns_answered_statelessly() const {
  if (config_.syn_cookies == SynCookieMode::kAlways) return true;
  if (config_.syn_cookies == SynCookieMode::kOff) return false;
  for (std::uint32_t i = 0; i < listen_count_; ++i) {
    if (listeners_[i].half_open < config_.syn_backlog) return false;
  }
  return listen_count_ != 0;
}

std::uint32_t Engine::input_burst(Frame* frames, std::uint32_t n, TimeNs now) {
  const bool overloaded = listener_overloaded();
  const bool syns_stateless = syns_answered_statelessly();
  std::uint32_t shed = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    FlowKey key;
    std::uint8_t flags = 0;
    std::uint32_t hash6 = 0;
    if (overloaded && shed_syn(frames[i])) {
      shed |= 1u << i;
    } else if (peek_flow_key(frames[i], key, flags)) {
      // A SYN answered with a cookie inserts nothing, so when its home line is empty (a new
      // source: under a spoofed flood, every SYN) dispatch_tcp() does not look there at all, and
      // loading the line would stall the burst on misses to memory. Other segments may insert.
      const std::uint32_t hash = flow_hash(key);
      if (!(syns_stateless && is_bare_syn(flags) && !flows_.may_hold(hash))) flows_.prefetch(hash);
    } else if (!local6_.empty() && peek_flow_hash6(frames[i], hash6)) flows_.prefetch(hash6);
  }
  std::uint32_t kept = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    if ((shed & (1u << i)) == 0) {
      if (input_frame(frames[i], now)) kept |= 1u << i;
    } else if (input_shed_syn(frames[i], now)) [[unlikely]] {
      kept |= 1u << i;
    }
  }
  finish_cookie_synacks();
  return kept;
}

// Returns the key's hash, not the key: a key written field by field through memory and read back
// by the hash's 8-byte load stalls on store forwarding (flow_table.hpp key_ips; measured: 87 % of
// input_burst's samples in the IPv6 loopback). Here the fields are still in registers.
bool Engine::peek_flow_hash6(const Frame& f, std::uint32_t& hash) const {
  const std::uint8_t* tcp = peek_tcp6(f, 4);
  if (tcp == nullptr) return false;
  const std::uint8_t* ip = f.data + EthernetHeader::kSize;
  // The handle as input_ipv6 finds it: a client's source range too, or every reply to it would
  // prefetch the wrong slot (measured: 87 % of input_ipv6's samples on that miss).
  Ipv6Addr dst;
  std::memcpy(dst.data(), ip + 24, 16);
  hash = flow_hash(FlowKey{local_handle(dst), remote_digest(ip + 8), load_be16(tcp + 2), load_be16(tcp)});
  // The TCP header's flags and options lie past the frame's first cache line (they start at byte
  // 66; over IPv4 at 46): ask for the second too (measured: a quarter of input_ipv6's samples on
  // the first read of the data offset).
  prefetch_for_read(f.data + 64);
  return true;
}

// (Defined before its callers: GCC did not inline it into input_ipv4 when it came after.)
// The tuple's record, half-open entry or TIME-WAIT entry, else its listener, else a reset.
template <bool kIpv6>
[[gnu::always_inline]] inline void Engine::dispatch_tcp(RxContext& rx) {
  // A new connection's SYN whose home line is empty matches nothing: its lookup is left out
  // (input_burst did not load the line when the SYN will be answered with a cookie).
  const bool unheld = is_bare_syn(rx.seg.flags) && !flows_.may_hold(rx.hash);
  const std::uint32_t value = unheld ? FlowTable::kNotFound : flows_.find(rx.key, rx.hash);
  if (value != FlowTable::kNotFound) {
    if constexpr (kIpv6) {
      // Two IPv6 sources whose digests collide share a key: the one not held is dropped.
      const Ipv6Addr* held = remote_ip6_of(value);
      if (held != nullptr && !same_address(*held, rx.ip6.src)) {
        ++counters_.drop_ipv6_digest_collision;
        return;
      }
    }
    switch (kind_of(value)) {
      case FlowKind::kConnection: segment_arrives(value, rx); break;
      case FlowKind::kHalfOpen: half_open_input(value & kIndexMask, rx); break;
      case FlowKind::kTimeWait: time_wait_input(value & kIndexMask, rx); break;
    }
  } else {
    const int listener = listener_of(rx.seg.dst_port);
    if (listener >= 0) listen_input(rx, static_cast<std::uint32_t>(listener));
    else closed_input(rx);
  }
}

// The TCP header parsed, new SYNs shed under pool pressure, the checksum verified (unless the
// device did) over the family's pseudo-header, which `pseudo` computes only when needed.
template <class PseudoSum>
[[gnu::always_inline]] inline bool Engine::tcp_segment_ok(RxContext& rx, const Frame& frame, const std::uint8_t* tcp,
                                                          std::uint16_t tcp_len, PseudoSum pseudo) {
  switch (parse_tcp(tcp, tcp_len, rx.seg)) {
    case TcpError::kOk: break;
    case TcpError::kTruncated: ++counters_.drop_tcp_truncated; return false;
    case TcpError::kBadDataOffset: ++counters_.drop_tcp_bad_data_offset; return false;
    case TcpError::kBadChecksum: ++counters_.drop_tcp_bad_checksum; return false;
  }
  // Overload: without SYN cookies (which keep no state until the handshake's last ACK), a new SYN
  // needs a record the pool can hardly spare, so it is dropped before the checksum and every
  // table: the peer retries, and the connections already admitted finish first. (The saturated
  // lcore's SYNs go even earlier: shed_syn.)
  // (A SYN refused by input_shed_syn takes no record: it goes on to its RST.)
  if (is_bare_syn(rx.seg.flags) && config_.syn_cookies == SynCookieMode::kOff && pool_under_pressure() &&
      !refusing_shed_syn_) {
    ++counters_.drop_syn_shed_pool;
    return false;
  }
  if ((frame.flags & frame_flags::kRxL4ChecksumGood) == 0 && checksum_fold(checksum_add(tcp, tcp_len, pseudo())) != 0xffff) {
    ++counters_.drop_tcp_bad_checksum;
    return false;
  }
  if (rx.seg.options.malformed) ++counters_.tcp_bad_options;
  return true;
}

bool Engine::input_ipv4(Frame& frame) {
  // One context for every frame, not a fresh one zeroed each time (168 bytes: 4 % of a SYN's
  // cost): the parsers overwrite eth (input_frame), ip and seg whole, key and hash are set before
  // any use.
  RxContext& rx = *rx_;
  const RxTurn turn{current_rx_, rx, frame};
  const std::uint8_t* ip_start = frame.data + EthernetHeader::kSize;
  const std::size_t ip_avail = frame.len - EthernetHeader::kSize;
  switch (parse_ipv4(ip_start, ip_avail, rx.ip, (frame.flags & frame_flags::kRxIpChecksumGood) == 0)) {
    case Ipv4Error::kOk: break;
    case Ipv4Error::kTruncated: ++counters_.drop_ip_truncated; return false;
    case Ipv4Error::kBadVersion: ++counters_.drop_ip_bad_version; return false;
    case Ipv4Error::kBadHeaderLength: ++counters_.drop_ip_bad_header_length; return false;
    case Ipv4Error::kBadTotalLength: ++counters_.drop_ip_bad_total_length; return false;
    case Ipv4Error::kBadChecksum: ++counters_.drop_ip_bad_checksum; return false;
    case Ipv4Error::kFragment: ++counters_.drop_ip_fragment; return false;
  }
  if (!is_local_address(rx.ip.dst)) {
    ++counters_.drop_ip_not_for_us;
    return false;
  }
  if (rx.ip.protocol != kIpProtoTcp) {
    ++counters_.drop_ip_not_tcp;
    return false;
  }
  // RFC 1122 §3.2.1.3 and RFC 9293 §3.10.7.2: no connection with a broadcast, multicast,
  // unspecified or loopback (127/8, §3.2.1.3(g)) source, nor with ourselves from outside.
  const std::uint32_t src = rx.ip.src;
  const std::uint32_t subnet_broadcast = (config_.local_ip & subnet_mask_) | ~subnet_mask_;
  if (src == 0 || src == 0xffffffffu || (src >> 28) == 0xe || (src >> 24) == 127 || is_local_address(src) ||
      (config_.prefix_len < 31 && src == subnet_broadcast)) {
    ++counters_.drop_ip_bad_source;
    return false;
  }
  const std::uint8_t* tcp_start = ip_start + rx.ip.header_len;
  const std::uint16_t tcp_len = static_cast<std::uint16_t>(rx.ip.total_len - rx.ip.header_len);
  if (!tcp_segment_ok(rx, frame, tcp_start, tcp_len,
                      [&] { return pseudo_header_sum(src, rx.ip.dst, kIpProtoTcp, tcp_len); })) {
    return false;
  }

  rx.key = FlowKey{rx.ip.dst, src, rx.seg.dst_port, rx.seg.src_port};
  rx.hash = flow_hash(rx.key);
  dispatch_tcp<false>(rx);
  return rx.frame_taken;
}

bool Engine::input_ipv6(Frame& frame) {
  RxContext& rx = *rx_;
  const RxTurn turn{current_rx_, rx, frame};
  const std::uint8_t* ip_start = frame.data + EthernetHeader::kSize;
  Ipv6Header& ip = rx.ip6;
  Ipv6Problem problem;
  switch (parse_ipv6(ip_start, frame.len - EthernetHeader::kSize, ip, &problem)) {
    case Ipv6Error::kOk: break;
    case Ipv6Error::kFragment: ++counters_.drop_ipv6_fragment; return false;
    case Ipv6Error::kRoutingHeader:
      ++counters_.drop_ipv6_routing_header;
      return problem.report && send_parameter_problem(frame, problem);
    case Ipv6Error::kUnrecognizedOption:
      ++counters_.drop_ipv6_unrecognized_option;
      return problem.report && send_parameter_problem(frame, problem);
    default: ++counters_.drop_ipv6_malformed; return false;
  }
  const std::uint8_t* upper = ip_start + ip.upper_offset;
  const std::uint32_t upper_len = ip.upper_len();
  if (ip.next_header == kIpProtoIcmpv6) return input_icmpv6(frame, upper, upper_len);
  const std::uint32_t handle = local_handle(ip.dst);
  if (handle == 0) {
    ++counters_.drop_ip_not_for_us;
    return false;
  }
  if (ip.next_header != kIpProtoTcp) {
    ++counters_.drop_ip_not_tcp;
    return false;
  }
  // RFC 4291 §2.5.2/§2.5.3/§2.7 and RFC 9293 §3.10.7.2: no connection with a multicast,
  // unspecified, loopback or IPv4-mapped source, nor with ourselves from outside.
  if (is_multicast(ip.src) || is_unspecified(ip.src) || is_loopback_or_mapped(ip.src) || local_handle(ip.src) != 0) {
    ++counters_.drop_ip_bad_source;
    return false;
  }
  if (upper_len > 0xffff) {
    ++counters_.drop_ipv6_malformed;
    return false;
  }
  const auto tcp_len = static_cast<std::uint16_t>(upper_len);
  // RFC 8200 §8.1: the checksum is mandatory, over the IPv6 pseudo-header.
  if (!tcp_segment_ok(rx, frame, upper, tcp_len,
                      [&] { return pseudo_header_sum_ipv6(ip.src, ip.dst, kIpProtoTcp, tcp_len); })) {
    return false;
  }
  ++counters_.rx_ipv6_segments;
  rx.key = FlowKey{handle, remote_digest(ip.src), rx.seg.dst_port, rx.seg.src_port};
  rx.hash = flow_hash(rx.key);
  dispatch_tcp<true>(rx);
  return rx.frame_taken;
}

// RFC 9293 §3.10.7.2: a segment for a listener, with no record of its tuple.
void Engine::listen_input(RxContext& rx, std::uint32_t listener) {
  const TcpSegment& seg = rx.seg;
  if (seg.has(tcp_flags::kRst)) {
    ++counters_.drop_no_connection;
    return;
  }
  if (seg.has(tcp_flags::kAck)) {
    // The final ACK of a handshake answered with a cookie finds no record: check the cookie.
    if (!seg.has(tcp_flags::kSyn) && may_hold_cookie(listeners_[listener])) {
      cookie_ack_input(rx, listener);
      return;
    }
    ++counters_.drop_no_listener_rst;
    send_rst_for(rx);
    return;
  }
  // SYN+FIN is nonsense; Linux drops it in LISTEN and so do we.
  if (!seg.has(tcp_flags::kSyn) || seg.has(tcp_flags::kFin)) {
    ++counters_.drop_no_connection;
    return;
  }
  syn_arrives(rx, listener);
}

// RFC 9293 §3.10.7.1: no connection, no listener.
void Engine::closed_input(RxContext& rx) {
  if (rx.seg.has(tcp_flags::kRst)) {
    ++counters_.drop_no_connection;
    return;
  }
  ++counters_.drop_no_listener_rst;
  send_rst_for(rx);
}

}  // namespace synwave
