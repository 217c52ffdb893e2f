// RFC 9293 §3.10.7.3 and §3.10.7.4: a segment arrives for a connection that exists. The steps
// run in the RFC's order (sequence number, RST, SYN, ACK, text, FIN) with RFC 5961's stricter
// RST, SYN and ACK checks and RFC 7323's PAWS ahead of them.
#include <algorithm>

#include "rx_context.hpp"
#include "synwave/engine.hpp"

namespace synwave {

namespace {
bool alive(const Connection& c) { return c.state != TcpState::kClosed; }

// An echo older than this, or from our future (a wrapped difference), gives no RTT sample: no
// RTO reaches two minutes.
constexpr std::uint32_t kMaxTimestampRttMs = 120'000;

}  // namespace

void Engine::negotiate_options(Connection& c, const TcpOptions& o) {
  // RFC 7323 §2.2: window scaling is on only when both SYNs carry the option.
  if (config_.window_scaling && o.has_window_scale) {
    c.set(conn_flags::kWindowScale);
    c.snd_wscale = o.window_scale;
    c.rcv_wscale = config_.window_scale;
  } else {
    c.snd_wscale = 0;
    c.rcv_wscale = 0;
  }
  // RFC 7323 §3.2: timestamps only when both SYNs carry them.
  if (config_.timestamps && o.has_timestamps) c.set(conn_flags::kTimestamps);
  if (config_.sack_permitted && o.sack_permitted) c.set(conn_flags::kSackPermitted);
  // RFC 9293 §3.7.1: 536 when the peer sent no MSS; RFC 6691: options come out of the MSS.
  std::uint32_t mss = o.has_mss ? o.mss : default_mss(c.key);
  mss = std::min<std::uint32_t>(mss, our_mss(c.key));
  if (c.has(conn_flags::kTimestamps)) mss -= 12;
  c.snd_mss = static_cast<std::uint16_t>(std::max<std::uint32_t>(mss, 64));
  c.cwnd = config_.initial_cwnd_segments * c.snd_mss;
  c.ssthresh = 0xffffffffu;
}

void Engine::update_rtt(Connection& c, std::uint32_t r) {
  // RFC 6298 §2.2 and §2.3, in microseconds.
  if (c.srtt_us == 0) {
    c.srtt_us = r == 0 ? 1 : r;
    c.rttvar_us = r / 2;
  } else {
    const std::uint32_t diff = c.srtt_us > r ? c.srtt_us - r : r - c.srtt_us;
    c.rttvar_us = (3 * c.rttvar_us + diff) / 4;
    c.srtt_us = (7 * c.srtt_us + r) / 8;
  }
  TimeNs rto = TimeNs{c.srtt_us} + std::max<TimeNs>(1000, 4 * TimeNs{c.rttvar_us});
  rto = std::clamp<TimeNs>(rto, dur_.rto_min_us, dur_.rto_max_us);
  c.rto_us = static_cast<std::uint32_t>(rto);
}

bool Engine::challenge_ack_allowed() {
  if (now_ >= challenge_window_start_ + kSecond) {
    challenge_window_start_ = now_;
    challenge_acks_in_window_ = 0;
  }
  if (challenge_acks_in_window_ >= config_.challenge_ack_limit) {
    ++counters_.challenge_acks_suppressed;
    return false;
  }
  ++challenge_acks_in_window_;
  ++counters_.challenge_acks;
  return true;
}

void Engine::connection_reset(std::uint32_t id, std::uint64_t Counters::*reason) {
  ++counters_.rst_received;
  connection_done(id, reason);
}

// The record becomes a 32-byte TIME-WAIT entry (time_wait_table.hpp) under the same flow-table
// key; a full table skips TIME-WAIT and counts it (Linux's tcp_max_tw_buckets).
void Engine::enter_time_wait(std::uint32_t id) {
  Connection& c = conns_[id];
  ++counters_.time_wait_entered;
  count_outcome(id, nullptr);
  if (c.has(conn_flags::kAckNow)) send_ack(c);  // the ACK of the FIN that brought us here
  std::uint32_t slot = kNoIndex;
  if (config_.time_wait > 0) {
    TimeWaitEntry e{};
    e.key = c.key;
    e.snd_nxt = c.snd_max.raw();
    e.rcv_nxt = c.rcv_nxt.raw();
    e.ts_recent = c.ts_recent;
    e.expires_ms = time_wait_expiry_ms();
    e.flags = c.has(conn_flags::kTimestamps) ? time_wait_flags::kTimestamps : 0;
    e.rcv_wscale = c.rcv_wscale;
    slot = time_wait_.insert(e);
    if (slot == kNoIndex) ++counters_.time_wait_overflow;
  }
  if (slot == kNoIndex) {
    free_connection(id);
    return;
  }
  flows_.update(c.key, flow_hash(c.key), tag(FlowKind::kTimeWait, slot));
  free_connection(id, false);
}

void Engine::segment_arrives(std::uint32_t id, RxContext& rx) {
  Connection& c = conns_[id];
  const TcpSegment& seg = rx.seg;
  rx.frame_reusable = seg.payload_len == 0;
  if (c.state == TcpState::kSynSent) {
    syn_sent_input(id, rx);
    if (alive(c)) output(id);
    return;
  }
  if (c.state == TcpState::kSynReceived && seg.has(tcp_flags::kSyn)) {
    // A retransmitted SYN: answer with our SYN-ACK again and keep the one record.
    if (!seg.has(tcp_flags::kAck) && !seg.has(tcp_flags::kRst) && seg.seq == c.irs) {
      ++counters_.synack_retransmitted;
      // A retransmission like a timer's (Linux counts it in num_retrans): the ACK that follows
      // may answer either copy, so it gives no RTT sample (Karn).
      if (c.retries < UINT8_MAX) ++c.retries;
      send_syn(c);
      return;
    }
    // Simultaneous open: the peer's SYN-ACK acknowledges our SYN-ACK's SYN. Linux takes it as
    // the ACK that completes the handshake; so do we.
    if (seg.has(tcp_flags::kAck) && !seg.has(tcp_flags::kRst) &&
        seg.seq + 1 == c.rcv_nxt && seg.ack == c.snd_max) {
      rx.seg.flags = static_cast<std::uint8_t>(rx.seg.flags & ~tcp_flags::kSyn);
      rx.seg.seq = c.rcv_nxt;
      if (process_ack(id, rx) && alive(c)) output(id);
      return;
    }
  }
  // RFC 7323 §5.3 R1 (PAWS): a timestamp older than TS.Recent marks an old duplicate.
  if (c.has(conn_flags::kTimestamps) && seg.options.has_timestamps && !seg.has(tcp_flags::kRst) &&
      static_cast<std::int32_t>(seg.options.ts_val - c.ts_recent) < 0) {
    ++counters_.drop_paws;
    send_ack(c);
    return;
  }
  if (!check_sequence(id, rx)) [[unlikely]] {
    unacceptable_segment(id, rx);
    return;
  }
  // The peer is alive: push the workload's idle limit back. Only the field moves; the wheel
  // still fires at the old time, and on_timer then re-arms for the new one.
  // (Not a client whose exchange is over: its deadline is the wait for the server's FIN.)
  if ((c.deadlines & deadline_bits::kState) != 0 && !c.has(conn_flags::kThinking) &&
      (c.state == TcpState::kEstablished || c.state == TcpState::kCloseWait) &&
      !waiting_for_server_close(c)) {
    c.state_deadline_us = workload_deadline_us(c);
  }
  // RFC 9293 §3.10.7.4 fourth check (an RST goes first, as in the second). Before TS.Recent
  // moves: a SYN is not accepted here (RFC 7323 §4.3), and whether it opens a new incarnation is
  // judged against TS.Recent as the old one left it.
  if (seg.has(tcp_flags::kSyn) && !seg.has(tcp_flags::kRst)) {
    syn_in_synchronised(id, rx);
    return;
  }
  // RFC 7323 §4.3: remember the newest timestamp of a segment that starts at or before RCV.NXT.
  if (c.has(conn_flags::kTimestamps) && seg.options.has_timestamps && seg.seq <= c.rcv_nxt &&
      static_cast<std::int32_t>(seg.options.ts_val - c.ts_recent) >= 0) {
    c.ts_recent = seg.options.ts_val;
  }
  if (seg.has(tcp_flags::kRst)) {
    process_rst(id, rx);
    return;
  }
  if (!seg.has(tcp_flags::kAck)) {
    ++counters_.drop_ack_invalid;
    return;
  }
  if (!process_ack(id, rx) || !alive(c)) return;
  process_text_and_fin(id, rx);
  if (alive(c)) finish_segment(id);
}

// RFC 5961 §4.2: a SYN in a synchronised state gets a challenge ACK (under §7's rate limit like
// every challenge ACK), never a reset. With one exception. A peer with no TIME-WAIT of its own
// (dperf's client, for one) that loses the ACK of our FIN has closed all the same, and opens the
// tuple again within seconds. Its SYN finds this record still retransmitting the FIN. A Linux
// client answers the challenge ACK with a reset that frees the record; such peers drop it, and
// every retry of their SYN meets the same record until its retries run out: a failed connection
// for them, and a record held for nothing. So a SYN that is certainly newer (RFC 6191's test,
// which already lets a SYN end TIME-WAIT) ends LAST-ACK or CLOSING and opens the tuple again,
// when nothing but our FIN is unacknowledged: all the peer could still be owed is the FIN, and it
// would not reuse the tuple unless it had the FIN or had given up. Only a bare SYN without data
// (check_sequence may have cut a SYN+FIN's data and FIN at the window's edge), and not for a
// tuple nobody listens on (our own active open).
void Engine::syn_in_synchronised(std::uint32_t id, RxContext& rx) {
  Connection& c = conns_[id];
  if (c.only_fin_unacknowledged() &&
      (rx.seg.flags & (tcp_flags::kAck | tcp_flags::kRst | tcp_flags::kFin)) == 0 && rx.seg.payload_len == 0 &&
      syn_from_newer_incarnation(rx.seg, c.rcv_nxt, c.has(conn_flags::kTimestamps), c.ts_recent)) {
    if (const int li = listener_of(c.key.local_port); li >= 0) {
      ++counters_.last_ack_reused;
      connection_done(id, nullptr);  // counted as the ACK of our FIN would have counted it
      listen_input(rx, static_cast<std::uint32_t>(li));
      return;
    }
  }
  ++counters_.drop_syn_in_synchronised;
  if (challenge_ack_allowed()) send_ack(c);
}

// Sends what the segment made sendable; an ACK still owed waits for the delayed-ACK timer.
void Engine::finish_segment(std::uint32_t id) {
  output(id);
  Connection& c = conns_[id];
  if (c.has(conn_flags::kAckDelayed) && (c.deadlines & deadline_bits::kDelayedAck) == 0) {
    arm_deadline(id, deadline_bits::kDelayedAck, now_us() + dur_.delayed_ack_us);
  }
}

// RFC 9293 §3.10.7.3.
void Engine::syn_sent_input(std::uint32_t id, RxContext& rx) {
  Connection& c = conns_[id];
  const TcpSegment& seg = rx.seg;
  if (seg.has(tcp_flags::kAck) && (seg.ack <= c.iss || seg.ack > c.snd_max)) {
    if (!seg.has(tcp_flags::kRst)) send_rst_for(rx);
    ++counters_.drop_ack_invalid;
    return;
  }
  if (seg.has(tcp_flags::kRst)) {
    if (seg.has(tcp_flags::kAck)) connection_reset(id, &Counters::conn_failed_refused);
    else ++counters_.rst_ignored;  // RFC 5961 §3.2: an RST without an ACK of our SYN is not believed
    return;
  }
  if (!seg.has(tcp_flags::kSyn)) {
    ++counters_.drop_no_connection;
    return;
  }
  c.irs = seg.seq;
  c.rcv_nxt = seg.seq + 1;
  negotiate_options(c, seg.options);
  if (c.has(conn_flags::kTimestamps)) c.ts_recent = seg.options.ts_val;
  c.snd_wnd = seg.window;  // unscaled in a SYN (RFC 7323 §2.2)
  c.max_snd_wnd = c.snd_wnd;
  c.snd_wl1 = seg.seq;
  if (seg.has(tcp_flags::kAck)) {
    c.snd_una = seg.ack;
    c.snd_wl2 = seg.ack;
  }
  if (c.snd_una > c.iss) {
    // RFC 6298 §2: the SYN's round trip is a sample unless the SYN was retransmitted (Karn).
    if (c.retries == 0) update_rtt(c, now_us() - (c.rto_deadline_us - c.rto_us));
    else c.rto_us = dur_.fallback_rto_us;
    c.retries = 0;
    disarm_deadline(id, deadline_bits::kRto);
    disarm_deadline(id, deadline_bits::kState);  // the connect timeout
    set_state(c, TcpState::kEstablished);
    c.set(conn_flags::kEstablishedOnce | conn_flags::kAckNow);
    count_established(c);
    latency_.connect.record(phase_elapsed_ns(c));
    app_established(id);
    return;
  }
  // Simultaneous open (RFC 9293 §3.5, figure 8).
  set_state(c, TcpState::kSynReceived);
  send_syn(c);
  arm_rto(id);
}

// RFC 9293 §3.10.7.4 first: is the segment within the receive window? Trims it to the window.
// Calls nothing (the caller answers a segment outside the window): a call from here made GCC save
// two more registers on every segment.
bool Engine::check_sequence(std::uint32_t id, RxContext& rx) {
  Connection& c = conns_[id];
  TcpSegment& seg = rx.seg;
  const std::uint32_t wnd = c.has(conn_flags::kWindowScale) ? config_.receive_window
                                                            : std::min<std::uint32_t>(config_.receive_window, 65535);
  const std::uint32_t len = seg.seg_len();
  const SeqNum wnd_end = c.rcv_nxt + wnd;
  bool ok;
  if (len == 0) ok = wnd == 0 ? seg.seq == c.rcv_nxt : seq_in_range(seg.seq, c.rcv_nxt, wnd_end);
  else ok = wnd != 0 && (seq_in_range(seg.seq, c.rcv_nxt, wnd_end) || seq_in_range(seg.seq + len - 1, c.rcv_nxt, wnd_end));
  if (!ok) return false;
  // Trim what was already received off the front, and what lies beyond the window off the back.
  if (seg.seq < c.rcv_nxt) {
    std::uint32_t skip = static_cast<std::uint32_t>(c.rcv_nxt - seg.seq);
    if (seg.has(tcp_flags::kSyn)) {
      seg.flags = static_cast<std::uint8_t>(seg.flags & ~tcp_flags::kSyn);
      --skip;
    }
    skip = std::min(skip, seg.payload_len);
    seg.payload += skip;
    seg.payload_len -= skip;
    seg.seq = c.rcv_nxt;
  }
  const SeqNum end = seg.seq + seg.payload_len;
  if (end > wnd_end) {
    seg.payload_len -= static_cast<std::uint32_t>(end - wnd_end);
    seg.flags = static_cast<std::uint8_t>(seg.flags & ~tcp_flags::kFin);
  }
  return true;
}

void Engine::unacceptable_segment(std::uint32_t id, RxContext& rx) {
  if (rx.seg.has(tcp_flags::kRst)) {
    ++counters_.rst_ignored;
  } else if (rx.seg.has(tcp_flags::kSyn) && is_synchronized(conns_[id].state)) {
    // RFC 5961 §4.2: "irrespective of the sequence number", so an out-of-window SYN too.
    syn_in_synchronised(id, rx);
  } else {
    ++counters_.drop_unacceptable;
    send_ack(conns_[id]);
  }
}

// NewReno (RFC 6582 §3.2): fast recovery lasts until everything sent before the loss was seen is
// acknowledged; an ACK that covers only part of it shows the next hole, which is resent at once
// instead of waiting for three more duplicates or a timeout.
// An ACK that carries SACK blocks or reaches a connection with a loss-recovery record: the blocks
// noted (when SACK was agreed), and the record returned, if there is one.
LossRecord* Engine::loss_state(std::uint32_t id, const TcpOptions& o) {
  if (o.sack_count != 0 && conns_[id].has(conn_flags::kSackPermitted)) note_sacks(id, o);
  return conns_[id].has_loss_record != 0 ? loss_.find(id) : nullptr;
}

// SND.UNA advanced on a connection with a loss-recovery record: what the peer SACKed below it is
// forgotten, and a recovery under way goes on (true: cwnd is not to grow) or ends.
bool Engine::ack_in_recovery(std::uint32_t id, LossRecord& r) {
  r.sacked.trim_below(conns_[id].snd_una);
  if (r.in_recovery) {
    partial_ack(id, r);
    return true;
  }
  drop_loss_record_if_idle(id, r);
  return false;
}

// The connection's record, made if it has none; nullptr (counted) when the table is full.
LossRecord* Engine::make_loss_record(std::uint32_t id) {
  LossRecord* r = loss_.find_or_insert(id);
  if (r == nullptr) {
    ++counters_.loss_recovery_table_full;
    return nullptr;
  }
  conns_[id].has_loss_record = 1;
  return r;
}

void Engine::drop_loss_record_if_idle(std::uint32_t id, const LossRecord& r) {
  if (!r.idle()) return;
  loss_.erase(id);
  conns_[id].has_loss_record = 0;
}

// RFC 3042: the first two duplicate ACKs each let one new segment go beyond cwnd (cwnd itself
// unchanged), so that a small window still brings the third duplicate instead of a timeout. (A
// duplicate ACK carries no data or FIN, so nothing else of this segment is left to process.)
void Engine::limited_transmit(std::uint32_t id) {
  Connection& c = conns_[id];
  const std::uint32_t allowance = c.dupacks * std::uint32_t{c.snd_mss};
  c.cwnd += allowance;
  output(id);
  c.cwnd -= allowance;
}

// resent_to: the end of the fast retransmission that began it.
void Engine::enter_fast_recovery(std::uint32_t id, SeqNum resent_to) {
  LossRecord* r = make_loss_record(id);
  if (r == nullptr) return;
  r->in_recovery = true;
  r->recover = conns_[id].snd_max;
  r->high_rxt = resent_to;
}

// An ACK that advanced SND.UNA during a recovery. cwnd stays at ssthresh throughout (it is not
// inflated by duplicates, so there is nothing to deflate).
void Engine::partial_ack(std::uint32_t id, LossRecord& r) {
  Connection& c = conns_[id];
  if (c.snd_una >= r.recover) {  // the full acknowledgment: recovery is over
    r.in_recovery = false;
    drop_loss_record_if_idle(id, r);
    return;
  }
  c.dupacks = 0;
  if (r.sacked.count != 0) {
    resend_next_hole(id, r);  // SACK says where the holes are; each is resent once
    return;
  }
  r.high_rxt = seq_max(r.high_rxt, fast_retransmit(c, &Counters::recovery_retransmits));
}

// The peer's SACK blocks (RFC 2018 §3), kept while data is outstanding: only what lies between
// SND.UNA and SND.MAX means anything (older blocks, or a D-SACK below SND.UNA, are ignored).
void Engine::note_sacks(std::uint32_t id, const TcpOptions& o) {
  const Connection& c = conns_[id];
  if (c.snd_max == c.snd_una) return;
  LossRecord* r = nullptr;
  for (std::uint8_t b = 0; b < o.sack_count; ++b) {
    const SeqNum left = seq_max(SeqNum(o.sack[b].left), c.snd_una);
    const SeqNum right = seq_min(SeqNum(o.sack[b].right), c.snd_max);
    if (!(left < right) || SeqNum(o.sack[b].left) >= SeqNum(o.sack[b].right)) continue;
    if (r == nullptr && (r = make_loss_record(id)) == nullptr) return;
    r->sacked.hold(left, right);  // a fifth range is dropped: the hole before it is resent later
  }
}

// With SACK, the first hole at or after max(SND.UNA, HighRxt) below a SACKed range (RFC 6675 §4,
// NextSeg rule 1) is resent. False when every hole has been resent already.
bool Engine::resend_next_hole(std::uint32_t id, LossRecord& r) {
  Connection& c = conns_[id];
  SeqNum from = seq_max(c.snd_una, r.high_rxt);
  for (std::uint8_t k = 0; k < r.sacked.count; ++k) {
    const SeqRange& held = r.sacked.ranges[k];
    if (from < held.start) {
      r.high_rxt = retransmit_from(c, from, held.start, &Counters::recovery_retransmits);
      return true;
    }
    from = seq_max(from, held.end);
  }
  return false;
}

bool Engine::hold_out_of_order(std::uint32_t id, const TcpSegment& seg) {
  const Connection& c = conns_[id];
  const std::uint32_t room = out_of_order_room(c);
  const SeqNum end = seg.seq + seg.payload_len;
  if (room == 0 || end > c.rcv_nxt + room) return false;
  LossRecord* r = make_loss_record(id);
  if (r == nullptr) return false;
  if (!r->received.hold(seg.seq, end)) {  // a fifth disjoint range: resent later
    drop_loss_record_if_idle(id, *r);
    return false;
  }
  ++counters_.rx_out_of_order_held;
  return true;
}

// RCV.NXT has just advanced: the held ranges it reaches are taken too. Returns the bytes gained.
std::uint32_t Engine::absorb_out_of_order(std::uint32_t id) {
  LossRecord* r = loss_.find(id);
  if (r->received.count == 0) return 0;
  Connection& c = conns_[id];
  const SeqNum next = r->received.absorb(c.rcv_nxt);
  const auto gained = static_cast<std::uint32_t>(next - c.rcv_nxt);
  c.rcv_nxt = next;
  counters_.rx_bytes += gained;
  drop_loss_record_if_idle(id, *r);
  return gained;
}

// RFC 5961 §3.2 on top of RFC 9293 §3.10.7.4 second.
bool Engine::process_rst(std::uint32_t id, RxContext& rx) {
  Connection& c = conns_[id];
  if (rx.seg.seq != c.rcv_nxt) {
    // In the window but not exactly at RCV.NXT: maybe blind, so ask the peer to prove itself.
    ++counters_.rst_ignored;
    if (challenge_ack_allowed()) send_ack(c);
    return false;
  }
  switch (c.state) {
    case TcpState::kSynReceived:
      connection_reset(id, c.has(conn_flags::kPassive) ? &Counters::conn_failed_reset : &Counters::conn_failed_refused);
      break;
    case TcpState::kClosing:
    case TcpState::kLastAck:
      ++counters_.rst_received;
      connection_done(id, nullptr);
      break;
    default:
      // A reset after our exchange finished is how some peers close (SO_LINGER 0): not a failure.
      connection_reset(id, c.has(conn_flags::kWorkloadDone) ? nullptr : &Counters::conn_failed_reset);
      break;
  }
  return false;
}

// RFC 9293 §3.10.7.4 fifth, with RFC 5961 §5.2's acceptable range.
bool Engine::process_ack(std::uint32_t id, RxContext& rx) {
  Connection& c = conns_[id];
  const TcpSegment& seg = rx.seg;
  if (c.state == TcpState::kSynReceived) {
    if (!(c.snd_una < seg.ack && seg.ack <= c.snd_max)) {
      ++counters_.drop_ack_invalid;
      send_rst_for(rx);
      return false;
    }
    // The SYN-ACK's round trip is a sample unless it was retransmitted (Karn).
    if (c.retries == 0) update_rtt(c, now_us() - (c.rto_deadline_us - c.rto_us));
    else c.rto_us = dur_.fallback_rto_us;
    c.retries = 0;
    set_state(c, TcpState::kEstablished);
    c.set(conn_flags::kEstablishedOnce);
    c.snd_wnd = static_cast<std::uint32_t>(seg.window) << c.snd_wscale;
    c.max_snd_wnd = std::max(c.max_snd_wnd, c.snd_wnd);
    c.snd_wl1 = seg.seq;
    c.snd_wl2 = seg.ack;
    count_established(c);
    if (c.has(conn_flags::kPassive)) {
      ++counters_.conn_accepted;
    } else {  // our open() met the peer's: a simultaneous open (RFC 9293 §3.5 figure 8)
      latency_.connect.record(phase_elapsed_ns(c));
      disarm_deadline(id, deadline_bits::kState);  // the connect timeout
    }
    disarm_deadline(id, deadline_bits::kRto);
    app_established(id);
    if (!alive(c)) return false;
  }
  if (seg.ack > c.snd_max) {
    ++counters_.drop_ack_invalid;
    send_ack(c);
    return false;
  }
  if (seg.ack < c.snd_una - c.max_snd_wnd) {
    ++counters_.drop_ack_invalid;
    if (challenge_ack_allowed()) send_ack(c);
    return false;
  }
  const std::uint32_t scaled_window = static_cast<std::uint32_t>(seg.window) << c.snd_wscale;
  bool all_acked_now = false;
  // A connection recovering from a loss (or told of one by SACK) keeps its state aside.
  LossRecord* loss = nullptr;
  if ((seg.options.sack_count | c.has_loss_record) != 0) [[unlikely]] loss = loss_state(id, seg.options);
  if (seg.ack > c.snd_una) {
    const std::uint32_t acked = static_cast<std::uint32_t>(seg.ack - c.snd_una);
    c.snd_una = seg.ack;
    if (c.snd_nxt < c.snd_una) c.snd_nxt = c.snd_una;
    if (c.has(conn_flags::kRttTiming) && c.snd_una >= c.rtt_seq) {
      update_rtt(c, now_us() - c.rtt_start_us);
      c.clear(conn_flags::kRttTiming);
    } else if (c.retries != 0 && c.has(conn_flags::kTimestamps) && seg.options.has_timestamps) [[unlikely]] {
      // RFC 7323 §4.1: the echoed TSval names the transmission this ACK answers, so Karn's rule
      // (no sample from a retransmitted segment) does not bind it. After a timeout the backed-off
      // RTO then comes back at the first ACK of new data, not one timed segment later. The
      // timestamp clock counts milliseconds: a 0 ms echo is taken as 1 ms (RFC 6298 §2: the
      // clock's granularity joins the RTO).
      const std::uint32_t ms = ts_clock() - seg.options.ts_ecr;
      if (ms < kMaxTimestampRttMs) update_rtt(c, std::max<std::uint32_t>(ms, 1) * 1000);
    }
    if (loss != nullptr && ack_in_recovery(id, *loss)) {
      // (cwnd stays at ssthresh until the recovery ends)
    } else if (c.cwnd < c.ssthresh) {
      c.cwnd += std::min<std::uint32_t>(acked, c.snd_mss);  // RFC 5681 §3.1: slow start below ssthresh,
    } else {
      c.cwnd += std::max<std::uint32_t>(1, c.snd_mss * c.snd_mss / c.cwnd);  // then a segment per round trip
    }
    c.retries = 0;
    c.dupacks = 0;
    if (c.snd_una == c.snd_max) {
      disarm_deadline(id, deadline_bits::kRto);
      all_acked_now = true;
    } else {
      arm_rto(id);
    }
  } else if (seg.ack == c.snd_una && seg.payload_len == 0 && !seg.has(tcp_flags::kFin) && c.snd_max != c.snd_una &&
             scaled_window == c.snd_wnd && scaled_window != 0) {
    // (A zero window's ACKs answer our window probes: nothing to fast-retransmit into.)
    ++counters_.dup_acks;
    // RFC 5681 §3.2; once per loss: the duplicates that follow within the same window of data
    // belong to the recovery under way (RFC 6582 §3.2 step 1).
    const bool recovering = loss != nullptr && loss->in_recovery;
    if (++c.dupacks == 3 && !recovering) {
      const std::uint32_t flight = static_cast<std::uint32_t>(c.snd_max - c.snd_una);
      c.ssthresh = std::max(flight / 2, 2u * c.snd_mss);
      c.cwnd = c.ssthresh;
      const SeqNum resent_to = fast_retransmit(c, &Counters::fast_retransmits);
      enter_fast_recovery(id, resent_to);
    } else if (recovering && loss->sacked.count != 0) {
      // Each duplicate during a SACK recovery says a segment left the network: the next hole
      // goes in its place (RFC 6675 §5, one segment per ACK).
      resend_next_hole(id, *loss);
    } else if (c.dupacks < 3) {
      limited_transmit(id);
    }
  }
  // RFC 9293 §3.8.6.1: as long as the peer answers our zero-window probes the connection MUST
  // stay open, so its answer ends the count of unanswered timeouts (the backoff stays).
  if (scaled_window == 0) c.retries = 0;
  // Window update: only from a segment newer than the last one that updated it.
  if (c.snd_wl1 < seg.seq || (c.snd_wl1 == seg.seq && c.snd_wl2 <= seg.ack)) {
    c.snd_wnd = scaled_window;
    c.max_snd_wnd = std::max(c.max_snd_wnd, scaled_window);
    c.snd_wl1 = seg.seq;
    c.snd_wl2 = seg.ack;
  }
  const bool fin_acked = c.has(conn_flags::kFinQueued) && c.snd_una > c.fin_seq();
  switch (c.state) {
    case TcpState::kFinWait1:
      if (fin_acked) {
        set_state(c, TcpState::kFinWait2);
        arm_deadline(id, deadline_bits::kState,
                     now_us() + dur_.fin_wait2_us);
      }
      break;
    case TcpState::kClosing:
      if (fin_acked) enter_time_wait(id);
      return false;
    case TcpState::kLastAck:
      if (fin_acked) {
        connection_done(id, nullptr);
        return false;
      }
      return true;
    default: break;
  }
  if (all_acked_now) {
    app_all_acked(id);
    if (!alive(c)) return false;
  }
  return true;
}

// RFC 9293 §3.10.7.4 seventh and eighth.
void Engine::process_text_and_fin(std::uint32_t id, RxContext& rx) {
  Connection& c = conns_[id];
  const TcpSegment& seg = rx.seg;
  // The segment's text and then its FIN are processed before anything is sent (RFC 9293
  // §3.10.7.4), so the reply the application makes to the text also acknowledges a FIN that came
  // with it: output() holds back for this record until finish_segment() sends it all.
  output_held_for_ = id;
  struct Release {
    std::uint32_t& held;
    ~Release() { held = kNoIndex; }
  } release{output_held_for_};
  if (seg.payload_len > 0) {
    const bool reading = c.state == TcpState::kEstablished || c.state == TcpState::kFinWait1 ||
                         c.state == TcpState::kFinWait2;
    if (!reading) {
      ++counters_.drop_data_after_close;
    } else if (seg.seq != c.rcv_nxt) {
      // Out of order: held when the application only counts these bytes (its range is kept;
      // otherwise the peer resends it), and a duplicate ACK at once tells the peer where we are
      // (RFC 5681 §4.2).
      if (!hold_out_of_order(id, seg)) ++counters_.drop_out_of_order;
      c.set(conn_flags::kAckNow);
      return;
    } else {
      c.rcv_nxt += seg.payload_len;
      counters_.rx_bytes += seg.payload_len;
      const std::uint32_t absorbed = c.has_loss_record != 0 ? absorb_out_of_order(id) : 0;
      // RFC 9293 §3.8.6.3 / RFC 1122 4.2.3.2: at least every second segment, and never later
      // than the delayed-ACK time; at once when the segment fills a hole (RFC 5681 §4.2). Decided
      // before the application runs, since its reply usually carries the ACK; the timer is armed
      // only if nothing did (finish_segment).
      if (config_.delayed_ack == 0 || c.has(conn_flags::kAckDelayed) || absorbed != 0) c.set(conn_flags::kAckNow);
      else c.set(conn_flags::kAckDelayed);
      app_data(id, seg.payload, seg.payload_len, absorbed);
      rx.frame_reusable = true;
      if (!alive(c)) return;
    }
  }
  if (!seg.has(tcp_flags::kFin)) return;
  if (seg.seq + seg.payload_len != c.rcv_nxt) {
    // A FIN after a gap waits for the gap; like any out-of-order segment it is answered by a
    // duplicate ACK at once (RFC 5681 §4.2).
    c.set(conn_flags::kAckNow);
    return;
  }
  c.rcv_nxt += 1;
  c.set(conn_flags::kAckNow);
  switch (c.state) {
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
      set_state(c, TcpState::kCloseWait);
      app_fin(id);
      break;
    case TcpState::kFinWait1:
      if (c.has(conn_flags::kFinQueued) && c.snd_una > c.fin_seq()) {
        enter_time_wait(id);
      } else {
        set_state(c, TcpState::kClosing);  // simultaneous close (RFC 9293 §3.6, figure 13)
      }
      break;
    case TcpState::kFinWait2:
      enter_time_wait(id);
      break;
    default: break;  // CLOSE-WAIT, CLOSING, LAST-ACK: the FIN was a retransmission
  }
}

}  // namespace synwave
