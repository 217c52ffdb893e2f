// A listening port's side of the handshake: the SYN backlog of compact half-open entries with
// SYN-ACK retransmission, SYN cookies when the backlog is full (or always), the promotion of a
// completed handshake to a full connection, and the accept queue (RFC 4987 §3.3, §3.6).
#include <algorithm>

#include "rx_context.hpp"
#include "synwave/engine.hpp"

namespace synwave {

namespace {
bool alive(const Connection& c) { return c.state != TcpState::kClosed; }
}  // namespace

void Engine::syn_arrives(RxContext& rx, std::uint32_t li) {
  if (refusing_shed_syn_) [[unlikely]] {
    ++counters_.drop_syn_shed_busy;  // input_shed_syn: the lcore is saturated, the SYN is refused
    send_rst_for(rx);
    return;
  }
  ++counters_.syn_received;
  const TcpSegment& seg = rx.seg;
  Listener& l = listeners_[li];
  if (config_.syn_cookies == SynCookieMode::kAlways) {
    send_cookie_synack(rx);
    return;
  }
  if (l.half_open >= config_.syn_backlog) {
    if (config_.syn_cookies == SynCookieMode::kOnOverflow) {
      send_overflow_cookie(l, rx);
      return;
    }
    if (l.oldest == kNoIndex) {
      ++counters_.drop_pool_full;  // a SYN backlog of 0 with cookies off accepts nothing
      return;
    }
    ++counters_.half_open_evicted;
    free_half_open(l.oldest, true);
  }
  const std::uint32_t idx = half_open_.alloc();
  if (idx == kNoIndex) {
    ++counters_.drop_pool_full;
    return;
  }
  if (!flows_.insert(rx.key, rx.hash, tag(FlowKind::kHalfOpen, idx))) {
    half_open_.free(idx);
    // At the probe limit, cookies on overflow answer the SYN as they answer a full backlog.
    if (count_flow_refusal() && config_.syn_cookies == SynCookieMode::kOnOverflow) send_overflow_cookie(l, rx);
    return;
  }
  HalfOpen& h = half_open_[idx];
  h.timer = TimerNode{};
  h.key = rx.key;
  h.irs = seg.seq;
  if (is_ipv6(rx.key)) [[unlikely]] {
    half_open_remote6_[idx] = rx.ip6.src;
    h.iss = SeqNum(isn_.isn(rx.ip6.dst, rx.key.local_port, rx.ip6.src, rx.key.remote_port, now_));
  } else {
    h.iss = SeqNum(isn_.isn(rx.key.local_ip, rx.key.local_port, rx.key.remote_ip, rx.key.remote_port, now_));
  }
  h.peer_mac = rx.eth.src;
  h.peer_mss = seg.options.has_mss ? seg.options.mss : default_mss(rx.key);
  h.peer_window = seg.window;
  h.peer_wscale = seg.options.window_scale;
  h.flags = 0;
  if (config_.timestamps && seg.options.has_timestamps) h.flags |= half_open_flags::kTimestamps;
  if (config_.sack_permitted && seg.options.sack_permitted) h.flags |= half_open_flags::kSackPermitted;
  if (config_.window_scaling && seg.options.has_window_scale) h.flags |= half_open_flags::kWindowScale;
  h.ts_recent = seg.options.has_timestamps ? seg.options.ts_val : 0;
  h.retries = 0;
  h.listener = static_cast<std::uint8_t>(li);
  h.age_prev = l.newest;
  h.age_next = kNoIndex;
  if (l.newest != kNoIndex) half_open_[l.newest].age_next = idx;
  else l.oldest = idx;
  l.newest = idx;
  ++l.half_open;
  send_half_open_synack(h);
  ++counters_.synack_sent;
  half_open_wheel_.arm(idx, now_ + config_.synack_timeout);
}

void Engine::send_half_open_synack(const HalfOpen& h) {
  // A SYN-ACK echoes only what the SYN offered (RFC 7323 §1.3, RFC 2018 §2).
  std::uint8_t options = 0;
  if ((h.flags & half_open_flags::kTimestamps) != 0) options |= synack_options::kTimestamps;
  if ((h.flags & half_open_flags::kSackPermitted) != 0) options |= synack_options::kSackPermitted;
  if ((h.flags & half_open_flags::kWindowScale) != 0) options |= synack_options::kWindowScale;
  const SynAckFields f{&h.peer_mac, h.key.local_ip, h.key.remote_ip, h.key.local_port, h.key.remote_port,
                      h.iss.raw(), (h.irs + 1).raw(), ip_id_++, options, ts_clock(), h.ts_recent};
  const bool v6 = is_ipv6(h.key);
  emit_synack(f, v6 ? &half_open_remote6_[static_cast<std::uint32_t>(&h - &half_open_[0])] : nullptr);
}

// Cookies on overflow, for a SYN the listener keeps no entry for (its backlog full, or no flow-table
// slot near the tuple's home): stamped, so that its final ACK is checked as a cookie (may_hold_cookie).
void Engine::send_overflow_cookie(Listener& l, RxContext& rx) {
  l.last_cookie_at = now_;
  send_cookie_synack(rx);
}

// A stateless SYN-ACK: everything the final ACK must prove or restore is in our ISN and TSval
// (syn_cookie.hpp draws both layouts). Built in the SYN's own frame, at the end of the burst.
void Engine::send_cookie_synack(RxContext& rx) {
  const TcpSegment& seg = rx.seg;
  const bool ts = config_.timestamps && seg.options.has_timestamps;
  const bool v6 = is_ipv6(rx.key);
  CookieOptions opts = cookie_options_from_syn(seg.options, v6);
  // Only what the cookie can remember may be agreed to: without timestamps there is no room for
  // the window scale or SACK-permitted, so the SYN-ACK does not offer them.
  opts.window_scale = ts && config_.window_scaling && opts.window_scale;
  opts.sack_permitted = ts && config_.sack_permitted && opts.sack_permitted;
  if (cookies_.count == PendingCookies::kMax) finish_cookie_synacks();
  Frame* frame = take_synack_frame();
  if (frame == nullptr) return;
  std::uint8_t options = 0;
  if (ts) options |= synack_options::kTimestamps;
  if (opts.sack_permitted) options |= synack_options::kSackPermitted;
  if (opts.window_scale) options |= synack_options::kWindowScale;
  const std::uint32_t i = cookies_.count++;
  // The frame by value: the received one may be a copy that does not outlive this input.
  cookies_.frames[i] = *frame;
  cookies_.macs[i] = rx.eth.src;
  cookies_.fields[i] = SynAckFields{&cookies_.macs[i], rx.key.local_ip, rx.key.remote_ip, rx.key.local_port,
                                    rx.key.remote_port, 0, (seg.seq + 1).raw(), ip_id_++, options,
                                    cookie_tsval(ts_clock(), opts), seg.options.ts_val};
  if (v6) [[unlikely]] cookies_.remote6[i] = rx.ip6.src;
  cookies_.mss_index[i] = cookie_mss_index(seg.options.has_mss ? seg.options.mss : default_mss(rx.key), v6);
  const SynCookieCodec::TupleWords w = SynCookieCodec::tuple_words(rx.key, seg.seq.raw());
  cookies_.addresses[i] = w.addresses;
  cookies_.ports_isn[i] = w.ports_isn;
  ++counters_.cookies_sent;
  ++counters_.synack_sent;
}

void Engine::finish_cookie_synacks() {
  const std::uint32_t n = cookies_.count;
  if (n == 0) return;
  cookies_.count = 0;
  // One clock reading and one secret for the burst: it all arrived at the same now_.
  const std::uint32_t count = cookie_codec_.counter(now_);
  for (std::uint32_t i = 0; i < n; ++i) cookies_.context[i] = SynCookieCodec::mac_context(cookies_.mss_index[i], count);
  siphash24_words_batch(secrets_->current(), cookies_.addresses.data(), cookies_.ports_isn.data(),
                        cookies_.context.data(), cookies_.mac.data(), n);
  for (std::uint32_t i = 0; i < n; ++i) {
    SynAckFields& f = cookies_.fields[i];
    f.seq = SynCookieCodec::cookie(count, cookies_.mss_index[i], cookies_.mac[i]);
    if (f.local_ip < kIpv6Handles) [[unlikely]] {
      const FlowKey key{f.local_ip, f.remote_ip, f.local_port, f.remote_port};
      queue_tx(cookies_.frames[i], synack6_.write6(cookies_.frames[i].data, f, local_ip6(key), cookies_.remote6[i]),
               synack6_.tx_flags());
    } else {
      queue_tx(cookies_.frames[i], synack_.write(cookies_.frames[i].data, f), synack_.tx_flags());
    }
  }
}

// Every SYN-ACK the listener sends, from its template (synack_template.hpp), in the received
// frame when it is free. remote6: an IPv6 tuple's remote address.
void Engine::emit_synack(const SynAckFields& f, const Ipv6Addr* remote6) {
  Frame* frame = take_synack_frame();
  if (frame == nullptr) return;
  if (remote6 != nullptr) [[unlikely]] {
    const FlowKey key{f.local_ip, f.remote_ip, f.local_port, f.remote_port};
    queue_tx(*frame, synack6_.write6(frame->data, f, local_ip6(key), *remote6), synack6_.tx_flags());
    return;
  }
  queue_tx(*frame, synack_.write(frame->data, f), synack_.tx_flags());
}

Frame* Engine::take_synack_frame() {
  Frame* frame = take_tx_frame();
  if (frame != nullptr && frame->capacity >= SynAckTemplates::kMaxFrame6) return frame;
  ++counters_.drop_tx_no_buffer;
  return nullptr;
}

// Could an ACK to this listener be the last step of a cookie handshake? Only if a cookie went out
// recently enough to be still valid (two periods): otherwise, with cookies on overflow, a stray
// ACK is answered as RFC 9293 §3.10.7.2 says without a cookie check, as Linux does
// (tcp_synq_no_recent_overflow).
bool Engine::may_hold_cookie(const Listener& l) const {
  if (config_.syn_cookies == SynCookieMode::kAlways) return true;
  if (config_.syn_cookies == SynCookieMode::kOff || l.last_cookie_at == kNever) return false;
  return now_ - l.last_cookie_at <= 2 * config_.cookie_rotation;
}

// An ACK to a listening port with no record: the last step of a cookie handshake, or a forgery.
void Engine::cookie_ack_input(RxContext& rx, std::uint32_t li) {
  const TcpSegment& seg = rx.seg;
  // A request riding on the ACK is read after app_established(), which may already send (a kNone
  // server's FIN): the frame must not become that reply while its payload is still unread.
  rx.frame_reusable = seg.payload_len == 0;
  const CookieCheck check = cookie_codec_.validate(secrets_->keys(), seg.ack.raw(), seg.seq.raw(), rx.key, now_);
  std::optional<CookieOptions> opts;
  TcpOptions ack_options = seg.options;
  if (!config_.timestamps) ack_options.has_timestamps = false;  // our SYN-ACK carried none
  if (check.accepted()) opts = cookie_options_from_ack(check.mss_index, ack_options, is_ipv6(rx.key));
  if (!opts) {
    ++(check.verdict == CookieVerdict::kStale ? counters_.cookies_stale : counters_.cookies_invalid);
    if (config_.reset_bad_cookies) send_rst_for(rx);
    return;
  }
  if (accept_queue_full(listeners_[li])) {
    ++counters_.accept_queue_overflow;
    if (config_.abort_on_overflow) send_rst_for(rx);
    return;
  }
  PassiveOpen p{};
  p.key = rx.key;
  p.hash = rx.hash;
  p.iss = seg.ack - 1;
  p.irs = seg.seq - 1;
  p.ts_recent = ack_options.has_timestamps ? seg.options.ts_val : 0;
  p.peer_mac = rx.eth.src;
  p.syn_options.has_mss = true;
  p.syn_options.mss = opts->mss;
  p.syn_options.has_window_scale = opts->window_scale;
  p.syn_options.window_scale = opts->wscale;
  p.syn_options.sack_permitted = opts->sack_permitted;
  p.syn_options.has_timestamps = ack_options.has_timestamps;
  p.listener = static_cast<std::uint8_t>(li);
  const std::uint32_t id = establish_passive(p, rx, false);
  if (id == kNoIndex) return;
  ++counters_.cookies_valid;  // counted once the connection is really rebuilt
  finish_passive_open(id, rx);
}

// RFC 9293 §3.10.7.4 in SYN-RECEIVED, for an entry of the SYN backlog.
void Engine::half_open_input(std::uint32_t idx, RxContext& rx) {
  HalfOpen& h = half_open_[idx];
  const TcpSegment& seg = rx.seg;
  rx.frame_reusable = seg.payload_len == 0;
  // <SEQ=ISS+1><ACK=IRS+1><CTL=ACK>, with the options the SYN-ACK agreed to.
  auto send_entry_ack = [this, &h, &rx] {
    const bool scaled = (h.flags & half_open_flags::kWindowScale) != 0;
    SegmentOut s{};
    s.dst_mac = &h.peer_mac;
    s.key = h.key;
    s.remote6 = &rx.ip6.src;
    s.seq = h.iss + 1;
    s.ack = h.irs + 1;
    s.flags = tcp_flags::kAck;
    s.window = advertised_window(false, scaled ? config_.window_scale : 0);
    s.options.timestamps = (h.flags & half_open_flags::kTimestamps) != 0;
    s.options.ts_val = ts_clock();
    s.options.ts_ecr = h.ts_recent;
    emit_segment(s);
  };
  if (seg.has(tcp_flags::kRst)) {
    // RFC 5961 §3.2 (which covers SYN-RECEIVED): only an RST exactly at RCV.NXT is believed; one
    // elsewhere in the window we advertised may be blind, so the peer is asked to prove itself
    // with a challenge ACK (rate-limited, §7); one outside the window is dropped silently.
    const SeqNum rcv_nxt = h.irs + 1;
    if (seg.seq == rcv_nxt) {
      ++counters_.rst_received;
      ++counters_.syn_rcvd_reset;
      free_half_open(idx, true);
      return;
    }
    ++counters_.rst_ignored;
    if (rcv_nxt < seg.seq && seg.seq < rcv_nxt + advertised_window(true, 0) && challenge_ack_allowed()) {
      send_entry_ack();
    }
    return;
  }
  if (seg.has(tcp_flags::kSyn)) {
    if (!seg.has(tcp_flags::kAck) && seg.seq == h.irs) {
      // A retransmitted SYN: the same SYN-ACK again, and nothing new kept. The ACK that follows
      // may answer either copy, so it gives no RTT sample (Karn).
      ++counters_.synack_retransmitted;
      h.flags |= half_open_flags::kRetransmitted;
      send_half_open_synack(h);
      return;
    }
    // Any other SYN: the passive open goes back to LISTEN (RFC 9293 §3.10.7.4 fourth).
    ++counters_.syn_rcvd_reset;
    free_half_open(idx, true);
    return;
  }
  if (!seg.has(tcp_flags::kAck)) {
    ++counters_.drop_ack_invalid;
    return;
  }
  if (seg.ack != h.iss + 1) {
    // SYN-RECEIVED, unacceptable ACK: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.4 fifth).
    ++counters_.drop_ack_invalid;
    send_rst_for(rx);
    return;
  }
  if (seg.seq != h.irs + 1) {
    // RFC 9293 §3.10.7.4 first check: a segment that is not acceptable gets an ACK and is dropped
    // (Linux's tcp_check_req too). The entry keeps no data, so one in the window but past RCV.NXT
    // is treated the same way: the ACK tells the peer where we are, as a duplicate ACK would.
    ++counters_.drop_unacceptable;
    send_entry_ack();
    return;
  }
  Listener& l = listeners_[h.listener];
  if (accept_queue_full(l)) {
    // Linux's default drops the ACK: the entry stays, and the next SYN-ACK retransmission
    // draws the ACK again, by which time the application may have made room.
    ++counters_.accept_queue_overflow;
    if (config_.abort_on_overflow) {
      send_rst_for(rx);
      ++counters_.syn_rcvd_reset;
      free_half_open(idx, true);
    }
    return;
  }
  PassiveOpen p{};
  p.key = h.key;
  p.hash = rx.hash;
  p.iss = h.iss;
  p.irs = h.irs;
  // RFC 7323 §4.3: the final ACK starts at RCV.NXT, so its TSval becomes TS.Recent when it is
  // not older than the SYN's (as Linux's tcp_check_req updates the request's ts_recent).
  p.ts_recent = h.ts_recent;
  if ((h.flags & half_open_flags::kTimestamps) != 0 && seg.options.has_timestamps &&
      static_cast<std::int32_t>(seg.options.ts_val - h.ts_recent) >= 0) {
    p.ts_recent = seg.options.ts_val;
  }
  p.peer_mac = h.peer_mac;
  p.syn_options.has_mss = true;
  p.syn_options.mss = h.peer_mss;
  p.syn_options.has_window_scale = (h.flags & half_open_flags::kWindowScale) != 0;
  p.syn_options.window_scale = h.peer_wscale;
  p.syn_options.sack_permitted = (h.flags & half_open_flags::kSackPermitted) != 0;
  p.syn_options.has_timestamps = (h.flags & half_open_flags::kTimestamps) != 0;
  p.retransmitted = h.retries != 0 || (h.flags & half_open_flags::kRetransmitted) != 0;
  if (!p.retransmitted) {
    const TimeNs sent = half_open_wheel_.expiry(idx) - config_.synack_timeout;
    p.rtt_us = static_cast<std::uint32_t>(std::max<TimeNs>(1, (now_ - sent) / kMicrosecond));
  }
  p.listener = h.listener;
  const std::uint32_t id = establish_passive(p, rx, true);
  if (id == kNoIndex) return;  // no record free: the ACK is dropped, the SYN-ACK retransmission retries
  free_half_open(idx, false);
  finish_passive_open(id, rx);
}

void Engine::half_open_timeout(std::uint32_t idx) {
  HalfOpen& h = half_open_[idx];
  if (h.retries >= config_.synack_retries) {
    ++counters_.syn_rcvd_timeout;
    free_half_open(idx, true);
    return;
  }
  ++h.retries;
  ++counters_.synack_retransmitted;
  ++counters_.retransmits;
  send_half_open_synack(h);
  const TimeNs backoff = std::min(config_.synack_timeout << h.retries, config_.rto_max);
  half_open_wheel_.arm(idx, now_ + backoff);
}

void Engine::free_half_open(std::uint32_t idx, bool erase_flow) {
  HalfOpen& h = half_open_[idx];
  Listener& l = listeners_[h.listener];
  if (h.age_prev != kNoIndex) half_open_[h.age_prev].age_next = h.age_next;
  else l.oldest = h.age_next;
  if (h.age_next != kNoIndex) half_open_[h.age_next].age_prev = h.age_prev;
  else l.newest = h.age_prev;
  --l.half_open;
  half_open_wheel_.cancel(idx);
  if (erase_flow) flows_.erase(h.key, flow_hash(h.key));
  half_open_.free(idx);
}

// A full connection for a completed passive handshake. kNoIndex when no record is free.
std::uint32_t Engine::establish_passive(const PassiveOpen& p, RxContext& rx, bool flow_exists) {
  const std::uint32_t id =
      create_connection(p.key, p.hash, p.peer_mac, is_ipv6(p.key) ? &rx.ip6.src : nullptr, flow_exists);
  if (id == kNoIndex) return kNoIndex;
  const TcpSegment& seg = rx.seg;
  Connection& c = conns_[id];
  c.set(conn_flags::kPassive | conn_flags::kEstablishedOnce);
  c.listener = p.listener;
  c.http.request = HttpRequestScanner{};
  c.iss = p.iss;
  c.irs = p.irs;
  c.snd_una = p.iss + 1;
  c.snd_nxt = c.snd_una;
  c.snd_max = c.snd_una;
  c.rcv_nxt = p.irs + 1;
  negotiate_options(c, p.syn_options);
  if (c.has(conn_flags::kTimestamps)) c.ts_recent = p.ts_recent;
  c.snd_wnd = static_cast<std::uint32_t>(seg.window) << c.snd_wscale;
  c.max_snd_wnd = c.snd_wnd;
  c.snd_wl1 = seg.seq;
  c.snd_wl2 = seg.ack;
  if (p.rtt_us != 0) {
    update_rtt(c, p.rtt_us);
  } else {
    // RFC 6298 §5.7: a retransmitted handshake leaves a 3 s RTO; a cookie, no sample at all.
    c.rto_us = p.retransmitted ? dur_.fallback_rto_us : std::clamp(dur_.rto_initial_us, dur_.rto_min_us, dur_.rto_max_us);
  }
  set_state(c, TcpState::kEstablished);
  count_established(c);
  ++counters_.conn_accepted;
  return id;
}

// The application takes the connection now, or it waits in the accept queue; then the rest of
// the final ACK (a request riding on it, a FIN) is processed as in ESTABLISHED.
void Engine::finish_passive_open(std::uint32_t id, RxContext& rx) {
  Connection& c = conns_[id];
  if (accept_ring_size_ == 0) {
    ++counters_.accepted_by_app;
    app_established(id);
  } else {
    Listener& l = listeners_[c.listener];
    const std::uint32_t base = c.listener * accept_ring_size_;
    accept_ring_[base + (l.accept_head + l.accept_slots) % accept_ring_size_] = id;
    ++l.accept_slots;
    ++l.accept_waiting;
    c.set(conn_flags::kAwaitingAccept);
  }
  if (!alive(c)) return;
  if (rx.seg.payload_len > 0 || rx.seg.has(tcp_flags::kFin)) segment_arrives(id, rx);
  else finish_segment(id);
}

bool Engine::accept_queue_full(const Listener& l) const {
  return accept_ring_size_ != 0 && (l.accept_waiting >= config_.backlog || l.accept_slots >= accept_ring_size_);
}

// The application's accept() at accept_rate per second, per listener (token bucket).
void Engine::run_accept_queues() {
  const double elapsed = static_cast<double>(now_ - accept_refilled_at_) / 1e9;
  accept_refilled_at_ = now_;
  for (std::uint32_t li = 0; li < listen_count_; ++li) {
    Listener& l = listeners_[li];
    l.accept_tokens = std::min(l.accept_tokens + elapsed * config_.accept_rate, std::max(1.0, double(config_.backlog)));
    const std::uint32_t base = li * accept_ring_size_;
    while (l.accept_slots > 0 && l.accept_tokens >= 1.0) {
      const std::uint32_t id = accept_ring_[base + l.accept_head];
      l.accept_head = (l.accept_head + 1) % accept_ring_size_;
      --l.accept_slots;
      // A slot whose connection ended while it waited is stale: skip it.
      if (!conns_[id].has(conn_flags::kAwaitingAccept) || conns_[id].listener != li) continue;
      l.accept_tokens -= 1.0;
      accept_connection(id);
    }
  }
}

void Engine::accept_connection(std::uint32_t id) {
  Connection& c = conns_[id];
  c.clear(conn_flags::kAwaitingAccept);
  --listeners_[c.listener].accept_waiting;
  ++counters_.accepted_by_app;
  app_established(id);
  if (alive(c)) output(id);
}

}  // namespace synwave
