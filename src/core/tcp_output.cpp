// Building and sending segments: the send loop (window, congestion window, FIN), retransmission
// on timeout (RFC 6298 §5, go-back-N), fast retransmit (RFC 5681 §3.2), resets.
#include <algorithm>

#include "rx_context.hpp"
#include "synwave/checksum.hpp"
#include "synwave/engine.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave {

namespace {
constexpr std::size_t kHeadersBeforeTcp = EthernetHeader::kSize + Ipv4Header::kMinSize;
constexpr std::size_t kHeadersBeforeTcp6 = EthernetHeader::kSize + Ipv6Header::kSize;
}

Frame* Engine::take_tx_frame() {
  if (current_rx_ != nullptr && !current_rx_->frame_taken && current_rx_->frame_reusable) {
    current_rx_->frame_taken = true;
    return current_rx_->frame;
  }
  if (stock_count_ == 0 && io_.refill != nullptr) stock_count_ = io_.refill(io_.ctx, stock_.data(), kBatch);
  if (stock_count_ == 0) return nullptr;
  Frame* f = &stock_[--stock_count_];
  // The next stock frame's headers are written soon: ask for its two cache lines now.
  if (stock_count_ > 0) {
    __builtin_prefetch(stock_[stock_count_ - 1].data, 1, 3);
    __builtin_prefetch(stock_[stock_count_ - 1].data + 64, 1, 3);
  }
  return f;
}

void Engine::queue_tx(const Frame& f, std::uint16_t len, std::uint16_t flags) {
  Frame& out = tx_[tx_count_++];
  out.handle = f.handle;
  out.data = f.data;
  out.capacity = f.capacity;
  out.rss_hash = f.rss_hash;
  out.len = len;
  out.flags = flags;
  if (tx_count_ == kBatch) flush();
}

void Engine::flush() {
  if (tx_count_ == 0) return;
  counters_.tx_frames += tx_count_;
  if (io_.transmit != nullptr) io_.transmit(io_.ctx, tx_.data(), tx_count_);
  tx_count_ = 0;
}

// IPv4's headers inline, IPv6's out of line: the IPv4 path is the one benchmarks measure.
[[gnu::always_inline]] inline std::size_t Engine::write_tcp_frame_headers(std::uint8_t* p, const MacAddr& dst,
                                                                        const FlowKey& key, const Ipv6Addr* remote6,
                                                                        std::size_t tcp_len) {
  if (is_ipv6(key)) [[unlikely]] return write_ipv6_frame_headers(p, dst, key, *remote6, tcp_len);
  write_ethernet(p, dst, config_.local_mac, kEtherTypeIpv4);
  write_ipv4(p + EthernetHeader::kSize, key.local_ip, key.remote_ip, kIpProtoTcp,
             static_cast<std::uint16_t>(Ipv4Header::kMinSize + tcp_len), ip_id_++, config_.ttl,
             config_.tx_checksum_offload);
  return kHeadersBeforeTcp;
}

std::size_t Engine::write_ipv6_frame_headers(std::uint8_t* p, const MacAddr& dst, const FlowKey& key,
                                             const Ipv6Addr& remote6, std::size_t tcp_len) {
  write_ethernet(p, dst, config_.local_mac, kEtherTypeIpv6);
  write_ipv6(p + EthernetHeader::kSize, local_ip6(key), remote6, kIpProtoTcp, static_cast<std::uint16_t>(tcp_len),
             config_.ttl);
  return kHeadersBeforeTcp6;
}

// segment_sum: the sum of the TCP header, options and payload as written (from their values:
// tcp_header_sum, tcp_options_sum, copy_payload), so nothing just written is read back.
std::uint16_t Engine::finish_tcp_frame(std::uint8_t* tcp, const FlowKey& key, const Ipv6Addr* remote6,
                                       std::uint16_t tcp_len, std::uint64_t segment_sum) {
  if (is_ipv6(key)) [[unlikely]] return finish_tcp_frame6(tcp, key, *remote6, tcp_len, segment_sum);
  const std::uint64_t pseudo = pseudo_header_sum(key.local_ip, key.remote_ip, kIpProtoTcp, tcp_len);
  if (config_.tx_checksum_offload) {
    // DPDK's TCP checksum offload wants the folded pseudo-header sum in the field.
    store_be16(tcp + 16, checksum_fold(pseudo));
    return frame_flags::kTxIpChecksum | frame_flags::kTxTcpChecksum;
  }
  store_be16(tcp + 16, checksum_finish(pseudo + segment_sum));
  return 0;
}

std::uint16_t Engine::finish_tcp_frame6(std::uint8_t* tcp, const FlowKey& key, const Ipv6Addr& remote6,
                                        std::uint16_t tcp_len, std::uint64_t segment_sum) {
  const std::uint64_t pseudo = pseudo_header_sum_ipv6(local_ip6(key), remote6, kIpProtoTcp, tcp_len);
  if (config_.tx_checksum_offload) {
    // DPDK's TCP checksum offload wants the folded pseudo-header sum in the field.
    store_be16(tcp + 16, checksum_fold(pseudo));
    return frame_flags::kTxIpv6 | frame_flags::kTxTcpChecksum;
  }
  store_be16(tcp + 16, checksum_finish(pseudo + segment_sum));
  return 0;
}

// Builds one segment in a frame (the received one when it is free, else a fresh one) and queues it.
void Engine::emit_segment(const SegmentOut& s) {
  if (sack_out_count_ != 0) [[unlikely]] return build_segment<true>(s);
  // A SYN's options (MSS first) and IPv6 take the general writer; the rest has a template.
  if (s.options.mss || is_ipv6(s.key)) [[unlikely]] return build_segment<false>(s);
  Frame* f = take_tx_frame();
  const std::size_t headers = SegmentTemplates::header_size(s.options.timestamps);
  const std::size_t total = headers + s.payload_len;
  if (f == nullptr || std::max(total, SegmentTemplates::kCopied) > f->capacity) [[unlikely]] {
    ++counters_.drop_tx_no_buffer;
    return;
  }
  const SegmentFields fields{s.dst_mac, s.key.local_ip, s.key.remote_ip, s.key.local_port, s.key.remote_port,
                             s.seq.raw(), s.ack.raw(), ip_id_++, s.flags, s.window, s.options.ts_val,
                             s.options.ts_ecr};
  const std::uint64_t sum =
      segments_.write(f->data, fields, s.options.timestamps, static_cast<std::uint16_t>(s.payload_len));
  std::uint64_t payload_sum = 0;
  if (s.payload_len > 0) {
    const Connection& c = *s.payload_from;
    payload_sum = copy_payload(c, static_cast<std::uint32_t>(s.seq - (c.iss + 1)), f->data + headers, s.payload_len);
  }
  segments_.finish(f->data, sum, payload_sum);
  queue_tx(*f, static_cast<std::uint16_t>(total), segments_.tx_flags());
  if ((s.flags & tcp_flags::kRst) != 0) ++counters_.rst_sent;
}

// kWithSack: the sack_out_count_ blocks in sack_out_ follow the options (send_ack_with_sack).
template <bool kWithSack>
void Engine::build_segment(const SegmentOut& s) {
  Frame* f = take_tx_frame();
  if (f == nullptr) {
    ++counters_.drop_tx_no_buffer;
    return;
  }
  const std::size_t sack_bytes = kWithSack ? sack_option_size(sack_out_count_) : 0;
  const std::size_t tcp_header = TcpSegment::kMinHeaderSize + tcp_options_size(s.options) + sack_bytes;
  const std::size_t tcp_len = tcp_header + s.payload_len;
  const std::size_t total = (is_ipv6(s.key) ? kHeadersBeforeTcp6 : kHeadersBeforeTcp) + tcp_len;
  if (total > f->capacity) {
    ++counters_.drop_tx_no_buffer;
    return;
  }
  std::uint8_t* p = f->data;
  std::uint8_t* tcp = p + write_tcp_frame_headers(p, *s.dst_mac, s.key, s.remote6, tcp_len);
  const auto header_len = static_cast<std::uint8_t>(tcp_header);
  write_tcp_header(tcp, s.key.local_port, s.key.remote_port, s.seq, s.ack, header_len, s.flags, s.window);
  const std::size_t options = write_tcp_options(tcp + TcpSegment::kMinHeaderSize, s.options);
  std::uint64_t sum = 0;
  if (!config_.tx_checksum_offload) {
    sum = tcp_header_sum(s.key.local_port, s.key.remote_port, s.seq, s.ack, header_len, s.flags, s.window) +
          tcp_options_sum(s.options);
  }
  if constexpr (kWithSack) {
    write_sack_option(tcp + TcpSegment::kMinHeaderSize + options, sack_out_.data(), sack_out_count_);
    if (!config_.tx_checksum_offload) sum += sack_option_sum(sack_out_.data(), sack_out_count_);
  }
  if (s.payload_len > 0) {
    const Connection& c = *s.payload_from;
    sum += copy_payload(c, static_cast<std::uint32_t>(s.seq - (c.iss + 1)), tcp + tcp_header, s.payload_len);
  }
  const std::uint16_t tx_flags = finish_tcp_frame(tcp, s.key, s.remote6, static_cast<std::uint16_t>(tcp_len), sum);
  queue_tx(*f, static_cast<std::uint16_t>(total), tx_flags);
  if ((s.flags & tcp_flags::kRst) != 0) ++counters_.rst_sent;
}

// The window we advertise: the field of a SYN is never scaled (RFC 7323 §2.2); afterwards it is
// our constant window in units of 2^shift.
std::uint16_t Engine::advertised_window(bool syn, std::uint8_t shift) const {
  const std::uint32_t window = syn ? config_.receive_window : config_.receive_window >> shift;
  return static_cast<std::uint16_t>(window > 65535 ? 65535 : window);
}

void Engine::send_segment(Connection& c, std::uint8_t flags, SeqNum seq, std::uint32_t payload_len, bool syn_options) {
  SegmentOut s{};
  const bool ts = c.has(conn_flags::kTimestamps);
  if (syn_options) {
    const bool syn_ack = (flags & tcp_flags::kAck) != 0;
    s.options.mss = true;
    s.options.mss_value = our_mss(c.key);
    // A SYN offers what we support; a SYN-ACK only echoes what the peer's SYN offered
    // (RFC 7323 §1.3, RFC 2018 §2).
    s.options.window_scale = syn_ack ? c.has(conn_flags::kWindowScale) : config_.window_scaling;
    s.options.window_scale_shift = config_.window_scale;
    s.options.timestamps = syn_ack ? ts : config_.timestamps;
    s.options.sack_permitted = syn_ack ? c.has(conn_flags::kSackPermitted) : config_.sack_permitted;
  } else {
    s.options.timestamps = ts;
  }
  if (s.options.timestamps) {
    s.options.ts_val = ts_clock();
    s.options.ts_ecr = c.ts_recent;
  }
  const bool has_ack = (flags & tcp_flags::kAck) != 0;
  s.dst_mac = &c.peer_mac;
  s.key = c.key;
  if (is_ipv6(c.key)) [[unlikely]] s.remote6 = &conn_remote6_[static_cast<std::uint32_t>(&c - &conns_[0])];
  s.seq = seq;
  s.ack = has_ack ? c.rcv_nxt : SeqNum(0);
  s.flags = flags;
  s.window = advertised_window((flags & tcp_flags::kSyn) != 0, c.rcv_wscale);
  s.payload_from = &c;
  s.payload_len = payload_len;
  emit_segment(s);
  if (has_ack) c.clear(conn_flags::kAckNow | conn_flags::kAckDelayed);
}

void Engine::send_syn(Connection& c) {
  if (c.state == TcpState::kSynReceived) {  // simultaneous open (RFC 9293 §3.5): our SYN-ACK
    send_segment(c, tcp_flags::kSyn | tcp_flags::kAck, c.iss, 0, true);
  } else if (Frame* f = take_synack_frame()) {
    // A SYN offers what we support (RFC 7323 §1.3, RFC 2018 §2): the configured layout.
    const SynAckFields fields{&c.peer_mac, c.key.local_ip, c.key.remote_ip, c.key.local_port, c.key.remote_port,
                              c.iss.raw(), 0, ip_id_++, syn_options_, ts_clock(), c.ts_recent};
    if (is_ipv6(c.key)) [[unlikely]] {
      const std::uint32_t id = static_cast<std::uint32_t>(&c - &conns_[0]);
      queue_tx(*f, syn6_.write6(f->data, fields, local_ip6(c.key), conn_remote6_[id]), syn6_.tx_flags());
    } else {
      queue_tx(*f, syn_.write(f->data, fields), syn_.tx_flags());
    }
  }
  c.snd_nxt = c.iss + 1;
  c.snd_max = seq_max(c.snd_max, c.snd_nxt);
}

// RFC 9293 §3.10.7.1 / §3.10.7.2: the reset answering a segment that has no connection. Built in
// the received frame when it is free.
void Engine::send_rst_for(RxContext& rx) {
  Frame* f = take_tx_frame();
  if (f == nullptr) {
    ++counters_.drop_tx_no_buffer;
    return;
  }
  const TcpSegment& seg = rx.seg;
  SeqNum seq(0);
  SeqNum ack(0);
  std::uint8_t flags = tcp_flags::kRst;
  if (seg.has(tcp_flags::kAck)) {
    seq = seg.ack;
  } else {
    ack = seg.seq + seg.seg_len();
    flags |= tcp_flags::kAck;
  }
  const bool v6 = is_ipv6(rx.key);
  const std::size_t total = (v6 ? kHeadersBeforeTcp6 : kHeadersBeforeTcp) + TcpSegment::kMinHeaderSize;
  if (f->capacity < total) return;
  // rx holds parsed copies of the received headers: the reply may be built over the frame's.
  std::uint8_t* tcp =
      f->data + write_tcp_frame_headers(f->data, rx.eth.src, rx.key, &rx.ip6.src, TcpSegment::kMinHeaderSize);
  write_tcp_header(tcp, seg.dst_port, seg.src_port, seq, ack, TcpSegment::kMinHeaderSize, flags, 0);
  const std::uint16_t tx_flags =
      finish_tcp_frame(tcp, rx.key, &rx.ip6.src, TcpSegment::kMinHeaderSize,
                       tcp_header_sum(seg.dst_port, seg.src_port, seq, ack, TcpSegment::kMinHeaderSize, flags, 0));
  queue_tx(*f, static_cast<std::uint16_t>(total), tx_flags);
  ++counters_.rst_sent;
}

// RFC 2018 §4: an ACK sent while data past a hole is held reports it in SACK blocks. (Only pure
// ACKs carry them: a receiver that holds data mostly sends those, and the send path of every other
// segment stays as it was.)
void Engine::send_ack_with_sack(Connection& c) {
  if (!c.has(conn_flags::kSackPermitted)) return send_segment(c, tcp_flags::kAck, c.snd_nxt, 0, false);
  sack_out_count_ = sack_blocks(c);
  send_segment(c, tcp_flags::kAck, c.snd_nxt, 0, false);
  sack_out_count_ = 0;
}

// The ranges held past RCV.NXT, the one the latest segment went into first, then the others in
// order, as many as fit beside the timestamps.
std::uint8_t Engine::sack_blocks(const Connection& c) {
  SackBlock* out = sack_out_.data();
  const LossRecord* r = loss_.find(static_cast<std::uint32_t>(&c - conns_.data()));
  if (r->received.count == 0) return 0;
  const RangeSet& held = r->received;
  std::uint8_t n = 0;
  out[n++] = {held.ranges[held.recent].start.raw(), held.ranges[held.recent].end.raw()};
  for (std::uint8_t k = 0; k < held.count && n < kMaxSackBlocksOut; ++k) {
    if (k != held.recent) out[n++] = {held.ranges[k].start.raw(), held.ranges[k].end.raw()};
  }
  return n;
}

void Engine::send_reset(Connection& c) {
  send_segment(c, tcp_flags::kRst | tcp_flags::kAck, c.snd_nxt, 0, false);
}

void Engine::arm_rto(std::uint32_t id) {
  arm_deadline(id, deadline_bits::kRto, now_us() + conns_[id].rto_us);
}

// The send loop: new data within min(peer window, congestion window), then our FIN once all
// data is out, then a bare ACK if one is owed and nothing else carried it.
void Engine::output(std::uint32_t id) {
  if (id == output_held_for_) return;  // process_text_and_fin: finish_segment() sends it
  Connection& c = conns_[id];
  const bool may_send_data = c.state == TcpState::kEstablished || c.state == TcpState::kCloseWait ||
                             c.state == TcpState::kFinWait1 || c.state == TcpState::kClosing ||
                             c.state == TcpState::kLastAck;
  bool sent = false;
  if (may_send_data) {
    const SeqNum data_start = c.iss + 1;
    for (;;) {
      const std::uint32_t offset = static_cast<std::uint32_t>(c.snd_nxt - data_start);
      const std::uint32_t unsent = c.unsent_after(offset);
      const std::uint32_t flight = static_cast<std::uint32_t>(c.snd_nxt - c.snd_una);
      const std::uint32_t window = std::min(c.snd_wnd, c.cwnd);
      const std::uint32_t usable = window > flight ? window - flight : 0;
      const std::uint32_t len = std::min({unsent, static_cast<std::uint32_t>(c.snd_mss), usable});
      const bool fin = c.has(conn_flags::kFinQueued) && len == unsent && c.snd_nxt + len == c.fin_seq();
      if (len == 0 && !fin) break;
      std::uint8_t flags = tcp_flags::kAck;
      if (len > 0 && len == unsent) flags |= tcp_flags::kPsh;
      if (fin) flags |= tcp_flags::kFin;
      const SeqNum end = c.snd_nxt + len + (fin ? 1u : 0u);
      if (end > c.snd_max) {
        const std::uint32_t fresh = static_cast<std::uint32_t>(end - seq_max(c.snd_nxt, c.snd_max)) - (fin ? 1u : 0u);
        counters_.tx_bytes += fresh;
        counters_.tx_retransmitted_bytes += len - fresh;  // a resend after a timeout running into new data
        if (!c.has(conn_flags::kRttTiming)) {
          c.rtt_seq = end;
          c.rtt_start_us = now_us();
          c.set(conn_flags::kRttTiming);
        }
      } else {
        counters_.tx_retransmitted_bytes += len;  // go-back-N after a timeout
      }
      send_segment(c, flags, c.snd_nxt, len, false);
      c.snd_nxt = end;
      c.snd_max = seq_max(c.snd_max, end);
      sent = true;
      if (fin) break;
    }
  }
  if (!sent && c.has(conn_flags::kAckNow)) send_ack(c);
  const bool outstanding = c.snd_max != c.snd_una;
  const bool waiting_on_window = c.snd_wnd == 0 && c.unsent_after(static_cast<std::uint32_t>(c.snd_nxt - (c.iss + 1))) > 0;
  if ((outstanding || waiting_on_window) && (c.deadlines & deadline_bits::kRto) == 0) arm_rto(id);
}

// Resends the segment at SND.UNA; `kind`: the counter of why (fast retransmit, NewReno).
// Resends one segment from `from`: at most an MSS and not past `limit` (where the peer's SACK
// says it holds the rest). Returns the sequence after it; `kind` counts why.
SeqNum Engine::retransmit_from(Connection& c, SeqNum from, SeqNum limit, std::uint64_t Counters::*kind) {
  const SeqNum data_start = c.iss + 1;
  const std::uint32_t offset = static_cast<std::uint32_t>(from - data_start);
  const std::uint32_t unsent = c.unsent_after(offset);
  const std::uint32_t len = std::min({unsent, static_cast<std::uint32_t>(c.snd_mss), static_cast<std::uint32_t>(limit - from)});
  const bool fin = c.has(conn_flags::kFinQueued) && len == unsent && from + len == c.fin_seq() && limit > from + len;
  if (len == 0 && !fin) return from;
  std::uint8_t flags = tcp_flags::kAck;
  if (fin) flags |= tcp_flags::kFin;
  c.clear(conn_flags::kRttTiming);  // Karn: no sample from a retransmitted range
  send_segment(c, flags, from, len, false);
  ++counters_.retransmits;
  ++(counters_.*kind);
  counters_.tx_retransmitted_bytes += len;
  return from + len + (fin ? 1u : 0u);
}

// RFC 6298 §5.4-5.6: retransmit the earliest unacknowledged segment, back off, restart.
void Engine::retransmit_timeout(std::uint32_t id) {
  Connection& c = conns_[id];
  ++counters_.rto_expired;
  // Overload: a peer that has not answered within an RTO is not worth the record a new
  // connection needs (DESIGN: a record must never wait on a retransmission while the pool it
  // occupies blocks all new work).
  const bool give_up = pool_under_pressure();
  switch (c.state) {
    case TcpState::kSynSent:
    case TcpState::kSynReceived: {
      const std::uint8_t limit = c.state == TcpState::kSynSent ? config_.syn_retries : config_.synack_retries;
      if (c.retries >= limit) {
        connection_done(id, c.state == TcpState::kSynSent ? &Counters::conn_failed_connect_timeout
                                                          : &Counters::conn_failed_timeout);
        return;
      }
      if (give_up) {
        reclaim(id);
        return;
      }
      ++c.retries;
      c.rto_us = static_cast<std::uint32_t>(std::min<TimeNs>(TimeNs{c.rto_us} * 2, dur_.rto_max_us));
      c.clear(conn_flags::kRttTiming);
      send_syn(c);
      ++(c.state == TcpState::kSynSent ? counters_.syn_retransmitted : counters_.synack_retransmitted);
      ++counters_.retransmits;
      arm_rto(id);
      return;
    }
    case TcpState::kClosed:
    case TcpState::kListen:
    case TcpState::kTimeWait:
    case TcpState::kFinWait2: return;
    default: break;
  }
  const SeqNum data_start = c.iss + 1;
  const std::uint32_t sent_offset = static_cast<std::uint32_t>(c.snd_nxt - data_start);
  const bool zero_window_probe = c.snd_una == c.snd_max && c.snd_wnd == 0 && c.unsent_after(sent_offset) > 0;
  if (c.snd_una == c.snd_max && !zero_window_probe) return;
  if (c.retries >= config_.max_retries) {
    connection_done(id, &Counters::conn_failed_timeout);
    return;
  }
  if (give_up) {
    reclaim(id);
    return;
  }
  ++c.retries;
  c.rto_us = static_cast<std::uint32_t>(std::min<TimeNs>(TimeNs{c.rto_us} * 2, dur_.rto_max_us));
  c.clear(conn_flags::kRttTiming);
  ++counters_.retransmits;
  if (c.snd_una == data_start - 1) {
    // Our SYN (a SYN-ACK closed early from SYN-RECEIVED) is still unacknowledged.
    c.snd_nxt = c.iss;
    send_segment(c, tcp_flags::kSyn | tcp_flags::kAck, c.iss, 0, true);
    c.snd_nxt = c.iss + 1;
    arm_rto(id);
    return;
  }
  if (zero_window_probe) {
    // RFC 9293 §3.8.6.1: probe a zero window with one byte beyond it.
    send_segment(c, tcp_flags::kAck, c.snd_nxt, 1, false);
    ++counters_.tx_bytes;  // nothing is outstanding: the probe's byte is new (unanswered, it is resent as any)
    c.snd_nxt = c.snd_nxt + 1;
    c.snd_max = seq_max(c.snd_max, c.snd_nxt);
    arm_rto(id);
    return;
  }
  // A timeout ends a fast recovery: everything outstanding is resent from SND.UNA, and what the
  // peer SACKed is not relied on (a receiver may renege, RFC 2018 §8).
  if (c.has_loss_record != 0) {
    LossRecord* r = loss_.find(id);
    r->in_recovery = false;
    r->sacked = RangeSet{};
    drop_loss_record_if_idle(id, *r);
  }
  // RFC 5681 §3.1 eq. 4: after a timeout, one segment at a time.
  const std::uint32_t flight = static_cast<std::uint32_t>(c.snd_max - c.snd_una);
  c.ssthresh = std::max(flight / 2, 2u * c.snd_mss);
  c.cwnd = c.snd_mss;
  c.snd_nxt = c.snd_una;
  const std::uint32_t saved_wnd = c.snd_wnd;
  if (c.snd_wnd == 0) c.snd_wnd = 1;  // a shrunk window still lets the retransmission probe
  output(id);
  c.snd_wnd = saved_wnd;
  arm_rto(id);
}

}  // namespace synwave
