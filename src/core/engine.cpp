// The engine's set-up, the life of connection records, timers and the user's calls. Frames
// coming in are frame_input.cpp's; ARP, Neighbor Discovery and ICMPv6 are in neighbors.cpp.
#include "synwave/engine.hpp"

#include <algorithm>
#include <bit>

#include "rx_context.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave {

namespace {
constexpr TimeNs kTimerSlotWidth = TimeNs{1} << 20;  // ~1.05 ms
// A node whose expiry is more than a revolution away is walked past (a cache miss) at every
// revolution. Connections wait longest: a kept connection's --request-interval (dperf's default
// keepalive is 10 s) and the idle timeout; half-open entries wait at most a few SYN-ACK timeouts.
constexpr std::uint32_t kConnectionTimerSlots = 16384;  // ~17.2 s per revolution
constexpr std::uint32_t kHalfOpenTimerSlots = 4096;     // ~4.3 s

// Our IPv6 addresses: local_ip6, then the source range (the last 32 bits counted up).
std::vector<Ipv6Addr> ipv6_addresses(const EngineConfig& config) {
  std::vector<Ipv6Addr> out;
  if (is_unspecified(config.local_ip6)) return out;
  if (config.source_ip6_count >= Engine::kIpv6Handles - 1) {
    throw std::invalid_argument("EngineConfig: more IPv6 source addresses than flow-key handles");
  }
  out.push_back(config.local_ip6);
  const std::uint32_t first = load_be32(config.source_ip6_first.data() + 12);
  for (std::uint32_t i = 0; i < config.source_ip6_count; ++i) {
    Ipv6Addr a = config.source_ip6_first;
    store_be32(a.data() + 12, first + i);
    if (a != config.local_ip6) out.push_back(a);
  }
  return out;
}

}  // namespace

Engine::Engine(const EngineConfig& config, const FrameIo& io, TimeNs now)
    : config_(config),
      io_(io),
      now_(now),
      dur_{static_cast<std::uint32_t>(config.rto_initial / kMicrosecond),
           static_cast<std::uint32_t>(config.rto_min / kMicrosecond),
           static_cast<std::uint32_t>(config.rto_max / kMicrosecond),
           static_cast<std::uint32_t>(config.delayed_ack / kMicrosecond),
           static_cast<std::uint32_t>(config.fin_wait2_timeout / kMicrosecond),
           static_cast<std::uint32_t>(config.idle_timeout / kMicrosecond),
           static_cast<std::uint32_t>(config.response_timeout / kMicrosecond),
           static_cast<std::uint32_t>(config.connect_timeout / kMicrosecond),
           static_cast<std::uint32_t>((config.time_wait + kMillisecond - 1) / kMillisecond),
           static_cast<std::uint32_t>(std::clamp(3 * kSecond, config.rto_min, config.rto_max) / kMicrosecond)},
      now_us_(static_cast<std::uint32_t>(now / kMicrosecond)),
      now_ms_(static_cast<std::uint32_t>(now / kMillisecond)),
      conns_(config.max_connections),
      half_open_(std::max<std::uint32_t>(1, config.syn_backlog * static_cast<std::uint32_t>(
                                                std::max<std::size_t>(1, config.listen_ports.size())))),
      time_wait_(config.max_time_wait),
      flows_(config.max_connections + half_open_.capacity() + config.max_time_wait),
      loss_(config.loss_recovery_entries == 0 ? 0 : std::bit_ceil(config.loss_recovery_entries)),
      wheel_(kConnectionTimerSlots, kTimerSlotWidth, now),
      half_open_wheel_(kHalfOpenTimerSlots, kTimerSlotWidth, now),
      cookie_codec_(config.cookie_rotation == 0 ? SynCookieCodec::kDefaultPeriod : config.cookie_rotation),
      own_secrets_(SipKey{config.secret1 ^ 0x5a5a5a5a5a5a5a5aull, config.secret0 ^ 0xa5a5a5a5a5a5a5a5ull}),
      secrets_(config.cookie_secrets != nullptr ? config.cookie_secrets : &own_secrets_),
      neighbors_(config.neighbor_cache_size),
      isn_(SipKey{config.secret0, config.secret1}),
      local6_(ipv6_addresses(config)),
      digest_key_{config.secret0 * 0x9e3779b97f4a7c15ull, config.secret1 * 0xc2b2ae3d27d4eb4full,
                  config.secret0 ^ 0x165667b19e3779f9ull, config.secret1 ^ 0x27d4eb2f165667c5ull},
      neighbors6_(local6_.empty() ? 8 : config.neighbor_cache_size),
      rx_(std::make_unique<RxContext>()) {
  admission_window_start_ = now;
  if (config_.local_ip != 0 && config_.local_ip < kIpv6Handles) {
    throw std::invalid_argument("EngineConfig: local_ip in 0.0.0.0/8");
  }
  if (!local6_.empty()) {
    // The on-link prefix as two masked 8-byte words (memory order, like the loads in is_on_link).
    Ipv6Addr mask{};
    for (std::uint32_t bit = 0; bit < std::min<std::uint32_t>(config_.prefix_len6, 128); ++bit) {
      mask[bit / 8] = static_cast<std::uint8_t>(mask[bit / 8] | (0x80u >> (bit % 8)));
    }
    std::memcpy(on_link_mask_.data(), mask.data(), 16);
    std::memcpy(on_link_.data(), config_.local_ip6.data(), 16);
    conn_remote6_.assign(conns_.capacity(), Ipv6Addr{});
    half_open_remote6_.assign(half_open_.capacity(), Ipv6Addr{});
    for (const auto& n : config_.neighbors6) neighbors6_.learn(n.ip, n.mac, true);
  }
  wheel_.bind(&conns_.data()->timer, sizeof(Connection));
  half_open_wheel_.bind(&half_open_.data()->timer, sizeof(HalfOpen));
  for (const auto& n : config_.neighbors) neighbors_.learn(n.ip, n.mac, true);
  for (std::uint16_t port : config_.listen_ports) {
    if (listen_count_ < listeners_.size()) listeners_[listen_count_++].port = port;
  }
  // Twice the backlog: a connection freed while it waits leaves a stale slot behind it.
  accept_ring_size_ = config_.accept_rate > 0 ? std::max<std::uint32_t>(2, config_.backlog * 2) : 0;
  accept_ring_.assign(std::size_t{accept_ring_size_} * listen_count_, kNoIndex);
  accept_refilled_at_ = now;
  subnet_mask_ = ipv4_prefix_mask(config_.prefix_len);
  shed_watermark_ = config_.shed_watermark_or_default();
  const std::uint32_t mtu_mss = config_.mtu > 40 ? config_.mtu - 40u : 536u;
  our_mss_ = static_cast<std::uint16_t>(mtu_mss > 65535 ? 65535 : mtu_mss);
  SynAckTemplates::Settings handshake{config_.local_mac, config_.ttl, advertised_window(true, 0), our_mss_,
                                     config_.window_scale, config_.tx_checksum_offload};
  synack_ = SynAckTemplates(handshake);
  segments_ = SegmentTemplates({config_.local_mac, config_.ttl, config_.tx_checksum_offload});
  handshake.flags = tcp_flags::kSyn;
  syn_ = SynAckTemplates(handshake);
  if (!local6_.empty()) {
    // RFC 8200 §5: 40 bytes of IPv6 header where IPv4 has 20.
    handshake.mss = our_mss(FlowKey{1, 0, 0, 0});
    handshake.ipv6 = true;
    syn6_ = SynAckTemplates(handshake);
    handshake.flags = tcp_flags::kSyn | tcp_flags::kAck;
    synack6_ = SynAckTemplates(handshake);
  }
  if (config_.timestamps) syn_options_ |= synack_options::kTimestamps;
  if (config_.sack_permitted) syn_options_ |= synack_options::kSackPermitted;
  if (config_.window_scaling) syn_options_ |= synack_options::kWindowScale;
  workloads_.push_back(config_.workload);
  workloads_.insert(workloads_.end(), config_.phase_workloads.begin(), config_.phase_workloads.end());
  if (workloads_.size() > 256) throw std::invalid_argument("EngineConfig: more than 255 phase workloads");
  build_payload_templates();
  for (const Workload& w : workloads_) request_start_slots_ = std::max(request_start_slots_, w.pipeline);
  if (request_start_slots_ > 1) {
    request_starts_.assign(std::size_t{config_.max_connections} * request_start_slots_, 0);
  }
}

Engine::~Engine() {
  flush();
  if (stock_count_ > 0 && io_.release != nullptr) io_.release(io_.ctx, stock_.data(), stock_count_);
  stock_count_ = 0;
}

std::size_t Engine::memory_bytes() const {
  return conns_.memory_bytes() + half_open_.memory_bytes() + time_wait_.memory_bytes() + flows_.memory_bytes() +
         loss_.memory_bytes() + (conn_remote6_.capacity() + half_open_remote6_.capacity()) * sizeof(Ipv6Addr) +
         accept_ring_.capacity() * sizeof(std::uint32_t) + request_starts_.capacity() * sizeof(std::uint32_t) +
         sizeof(*this);
}

EngineGauges Engine::gauges() const {
  EngineGauges g;
  g.by_state = state_count_;
  g.by_state[static_cast<std::size_t>(TcpState::kSynReceived)] += half_open_.in_use();
  g.by_state[static_cast<std::size_t>(TcpState::kTimeWait)] += time_wait_.size();
  g.connections = conns_.in_use() + half_open_.in_use() + time_wait_.size();
  return g;
}

std::uint32_t Engine::find(const FlowKey& key) const {
  const std::uint32_t v = flows_.find(key, flow_hash(key));
  if (v == FlowTable::kNotFound || kind_of(v) != FlowKind::kConnection) return kNoIndex;
  return v;
}

TcpState Engine::state_of(const FlowKey& key) const {
  const std::uint32_t v = flows_.find(key, flow_hash(key));
  if (v == FlowTable::kNotFound) return TcpState::kClosed;
  switch (kind_of(v)) {
    case FlowKind::kHalfOpen: return TcpState::kSynReceived;
    case FlowKind::kTimeWait: return TcpState::kTimeWait;
    default: return conns_[v & kIndexMask].state;
  }
}

int Engine::listener_of(std::uint16_t port) const {
  for (std::uint32_t i = 0; i < listen_count_; ++i) {
    if (listeners_[i].port == port) return static_cast<int>(i);
  }
  return -1;
}

bool Engine::is_local_subnet(std::uint32_t ip) const {
  return (ip & subnet_mask_) == (config_.local_ip & subnet_mask_);
}

std::uint32_t Engine::source_range_handle(const Ipv6Addr& ip) const {
  // The source range: its last 32 bits counted up from the first's.
  const Ipv6Addr& first = config_.source_ip6_first;
  if (config_.source_ip6_count == 0 || std::memcmp(ip.data(), first.data(), 12) != 0) return 0;
  const std::uint32_t offset = load_be32(ip.data() + 12) - load_be32(first.data() + 12);
  if (offset >= config_.source_ip6_count) return 0;
  // The range's address at `offset` is local6_[1 + offset], or local6_[offset] when the range
  // holds local_ip6 before it (local6_ skips that copy): handle offset + 2 or offset + 1.
  for (std::uint32_t h = std::min<std::uint32_t>(offset + 2, static_cast<std::uint32_t>(local6_.size()));; --h) {
    if (same_address(local6_[h - 1], ip)) return h;
    if (h == 1) return 0;
  }
}

const Ipv6Addr* Engine::remote_ip6_of(std::uint32_t value) const {
  switch (kind_of(value)) {
    case FlowKind::kConnection: return &conn_remote6_[value & kIndexMask];
    case FlowKind::kHalfOpen: return &half_open_remote6_[value & kIndexMask];
    default: return nullptr;
  }
}

// ---------------------------------------------------------------------------------------------
// Connection records

[[gnu::cold]] bool Engine::count_flow_refusal() {
  if (flows_.full()) {
    ++counters_.drop_flow_table_full;
    return false;
  }
  ++counters_.flow_probe_limit;
  return true;
}

// A fresh record in CLOSED for key. flow_exists: the tuple already has a flow-table entry (a
// half-open one being promoted), which is pointed at the new record instead of inserted.
std::uint32_t Engine::create_connection(const FlowKey& key, std::uint32_t hash, const MacAddr& peer_mac,
                                        const Ipv6Addr* remote6, bool flow_exists) {
  const std::uint32_t id = conns_.alloc();
  if (id == kNoIndex) {
    ++counters_.drop_pool_full;
    return kNoIndex;
  }
  if (flow_exists) {
    flows_.update(key, hash, tag(FlowKind::kConnection, id));
  } else if (!flows_.insert(key, hash, tag(FlowKind::kConnection, id))) {
    conns_.free(id);
    count_flow_refusal();
    return kNoIndex;
  }
  if (remote6 != nullptr) [[unlikely]] conn_remote6_[id] = *remote6;
  Connection& c = conns_[id];
  c.timer = TimerNode{};
  c.has_loss_record = 0;
  c.key = key;
  c.peer_mac = peer_mac;
  c.state = TcpState::kClosed;
  c.rto_us = dur_.rto_initial_us;
  c.snd_mss = default_mss(key);
  c.rcv_wscale = 0;
  ++state_count_[static_cast<std::size_t>(TcpState::kClosed)];
  return id;
}

void Engine::reclaim(std::uint32_t id) {
  Connection& c = conns_[id];
  if (is_synchronized(c.state)) send_reset(c);  // the peer learns at once, as from an abort
  // In LAST-ACK or CLOSING with nothing but our FIN unacknowledged the exchange is over (the peer
  // closed, everything we sent but the FIN arrived): freeing the record is no overload failure,
  // and it counts as the ACK of the FIN would have counted it, as TIME-WAIT's entry does.
  const bool exchange_over = c.only_fin_unacknowledged();
  if (exchange_over) ++counters_.reclaimed_exchange_over;
  connection_done(id, exchange_over ? nullptr : &Counters::conn_failed_overload);
}

// The records that block everyone under overload are those waiting on a peer that stopped
// answering (a client that gave up, segments lost at a full queue): their retransmission backoff
// can hold them for minutes. A record with retries == 0 is making progress and is left alone.
void Engine::reclaim_stuck_records() {
  constexpr std::uint32_t kLooksPerCall = 64;
  const std::uint32_t capacity = conns_.capacity();
  for (std::uint32_t i = 0; i < kLooksPerCall && capacity > 0; ++i) {
    const std::uint32_t id = reclaim_hand_;
    reclaim_hand_ = reclaim_hand_ + 1 == capacity ? 0 : reclaim_hand_ + 1;
    const Connection& c = conns_[id];
    if (c.state != TcpState::kClosed && c.retries > 0) reclaim(id);
  }
}

void Engine::set_state(Connection& c, TcpState s) {
  --state_count_[static_cast<std::size_t>(c.state)];
  ++state_count_[static_cast<std::size_t>(s)];
  c.state = s;
}

void Engine::free_connection(std::uint32_t id, bool erase_flow) {
  Connection& c = conns_[id];
  if (c.has(conn_flags::kAwaitingAccept)) --listeners_[c.listener].accept_waiting;
  c.flags = 0;
  wheel_.cancel(id);
  if (c.has_loss_record != 0) [[unlikely]] {
    loss_.erase(id);
    c.has_loss_record = 0;
  }
  if (erase_flow) flows_.erase(c.key, flow_hash(c.key));
  set_state(c, TcpState::kClosed);
  --state_count_[static_cast<std::size_t>(TcpState::kClosed)];
  c.deadlines = 0;
  conns_.free(id);
}

// Every record ends here, exactly once, with its outcome counted (unless TIME-WAIT counted it on
// entry: the exchange was over then, and a run should not wait 2MSL to see its completions).
void Engine::connection_done(std::uint32_t id, std::uint64_t Counters::*failure) {
  count_outcome(id, failure);
  free_connection(id);
}

void Engine::count_outcome(std::uint32_t id, std::uint64_t Counters::*failure) {
  Connection& c = conns_[id];
  if (c.has(conn_flags::kOutcomeCounted)) return;
  c.set(conn_flags::kOutcomeCounted);
  bool completed = false;
  if (failure == nullptr) {
    const bool manual = config_.workload.kind == WorkloadKind::kManual;
    completed = manual || c.has(conn_flags::kWorkloadDone);
    if (completed) ++counters_.conn_completed;
    else {
      ++counters_.conn_failed_incomplete;
      ++counters_.conn_failed;
    }
  } else {
    ++(counters_.*failure);
    ++counters_.conn_failed;
  }
  if (is_ipv6(c.key)) [[unlikely]] ++(completed ? counters_.ipv6_conn_completed : counters_.ipv6_conn_failed);
}

// ---------------------------------------------------------------------------------------------
// Timers: one wheel node per connection, armed at the earliest of its three deadlines.

// Lazy (timer_no_later_than, engine.hpp): the wheel node fires no later than every armed
// deadline, and moves only when a deadline comes earlier than its expiry. A deadline pushed later
// (the RTO restarted by every ACK) or dropped leaves the node where it is; if it fires early,
// on_timer finds nothing due and re-arms for what is left. A connection that lives a few round
// trips thus costs one arm and one cancel instead of one per event, and half the arm_deadline
// calls end at the inlined comparison; the move stays out of line.
void Engine::move_timer(std::uint32_t id, TimeNs when) { wheel_.arm(id, when); }

// After on_timer: the node again at the earliest deadline still armed.
void Engine::rearm_timer(std::uint32_t id) {
  const Connection& c = conns_[id];
  if (c.deadlines == 0) return;
  TimeNs soonest = kNever;
  if ((c.deadlines & deadline_bits::kRto) != 0) soonest = std::min(soonest, deadline_time(c.rto_deadline_us));
  if ((c.deadlines & deadline_bits::kDelayedAck) != 0) soonest = std::min(soonest, deadline_time(c.delack_deadline_us));
  if ((c.deadlines & deadline_bits::kState) != 0) soonest = std::min(soonest, deadline_time(c.state_deadline_us));
  timer_no_later_than(id, soonest);
}

void Engine::advance(TimeNs now) {
  set_now(now);
  if (pool_under_pressure()) reclaim_stuck_records();
  wheel_.expire(now_, config_.timer_budget, [this](std::uint32_t id) { on_timer(id); });
  half_open_wheel_.expire(now_, config_.timer_budget, [this](std::uint32_t idx) { half_open_timeout(idx); });
  time_wait_.expire(ms_clock(), config_.timer_budget, [this](const TimeWaitEntry& e, std::uint32_t) {
    flows_.erase(e.key, flow_hash(e.key));
  });
  if (accept_ring_size_ != 0) run_accept_queues();
  flush();
}

TimeNs Engine::next_deadline() const {
  TimeNs next = std::min(wheel_.next_deadline(), half_open_wheel_.next_deadline());
  bool any = false;
  const std::uint32_t tw_ms = time_wait_.next_expiry_ms(any);
  if (any) {
    const std::int32_t ahead = static_cast<std::int32_t>(tw_ms - ms_clock());
    const TimeNs tw = ahead <= 0 ? now_ : (now_ / kMillisecond + static_cast<TimeNs>(ahead)) * kMillisecond;
    next = std::min(next, tw);
  }
  if (accept_ring_size_ != 0) {
    for (std::uint32_t i = 0; i < listen_count_; ++i) {
      if (listeners_[i].accept_waiting > 0) next = std::min(next, now_ + kMillisecond);
    }
  }
  return next;
}

void Engine::on_timer(std::uint32_t id) {
  Connection& c = conns_[id];
  const std::uint32_t now = now_us();
  auto due = [&](std::uint8_t bit, std::uint32_t at) {
    return (c.deadlines & bit) != 0 && static_cast<std::int32_t>(now - at) >= 0;
  };
  if (due(deadline_bits::kState, c.state_deadline_us)) {
    std::uint32_t response_at = 0;
    c.deadlines = static_cast<std::uint8_t>(c.deadlines & ~deadline_bits::kState);
    if (c.state == TcpState::kFinWait2) {
      connection_done(id, &Counters::conn_failed_fin_wait2_timeout);
      return;
    }
    if (c.state == TcpState::kSynSent) {  // connect_timeout (RFC 9293 §3.8.3's "user timeout")
      connection_done(id, &Counters::conn_failed_connect_timeout);
      return;
    }
    if (c.has(conn_flags::kThinking)) {
      c.clear(conn_flags::kThinking);
      app_start_request(id);
      if (conns_[id].state == TcpState::kClosed) return;
      output(id);
    } else if (waiting_for_server_close(c)) {
      // The response is complete and the server has not closed (app_response_complete): we do.
      ++counters_.http_server_kept_open;
      close(id, now_);
    } else if ((c.state == TcpState::kEstablished || c.state == TcpState::kCloseWait) &&
               response_deadline_us(c, response_at) && static_cast<std::int32_t>(now - response_at) >= 0) {
      send_reset(c);  // the way an application that stops waiting closes: abort
      connection_done(id, &Counters::conn_failed_response_timeout);
      return;
    } else if (c.state == TcpState::kEstablished || c.state == TcpState::kCloseWait) {
      // The workload's idle limit (armed by app_established): the peer has been silent that
      // long. With data outstanding the retransmission limit decides; with nothing outstanding
      // no other timer would ever end the record (no keepalives), so give up the way an
      // application's read timeout does: abort.
      if (c.snd_una != c.snd_max) {
        arm_deadline(id, deadline_bits::kState, workload_deadline_us(c));
      } else if (kept_for_next_request(c)) {
        // An HTTP server's kept connection with every response delivered: closed the way web
        // servers end an idle keep-alive connection (nginx's keepalive_timeout), a success.
        ++counters_.http_keep_alive_closed;
        close(id, now_);
      } else {
        send_reset(c);
        connection_done(id, &Counters::conn_failed_idle_timeout);
        return;
      }
    }
  }
  if (due(deadline_bits::kDelayedAck, c.delack_deadline_us)) {
    c.deadlines = static_cast<std::uint8_t>(c.deadlines & ~deadline_bits::kDelayedAck);
    if (c.has(conn_flags::kAckDelayed)) {
      ++counters_.delayed_acks;
      send_ack(c);
    }
  }
  if (due(deadline_bits::kRto, c.rto_deadline_us)) {
    c.deadlines = static_cast<std::uint8_t>(c.deadlines & ~deadline_bits::kRto);
    retransmit_timeout(id);
    if (conns_[id].state == TcpState::kClosed) return;  // the retries ran out
  }
  rearm_timer(id);
}

// ---------------------------------------------------------------------------------------------
// User calls (RFC 9293 §3.10.1 - §3.10.5)

OpenResult Engine::open(std::uint32_t remote_ip, std::uint16_t remote_port, std::uint32_t local_ip,
                        std::uint16_t local_port, TimeNs now) {
  set_now(now);
  if (!is_local_address(local_ip)) return {kNoIndex, OpenError::kNotLocal};
  if (!is_local_subnet(remote_ip) && config_.gateway == 0) return {kNoIndex, OpenError::kNoRoute};
  const MacAddr* mac = next_hop_mac(remote_ip, now_);
  if (mac == nullptr) return {kNoIndex, OpenError::kNeighborPending};
  return open_key(FlowKey{local_ip, remote_ip, local_port, remote_port}, *mac, nullptr);
}

OpenResult Engine::open(const Ipv6Addr& remote_ip, std::uint16_t remote_port, const Ipv6Addr& local_ip,
                        std::uint16_t local_port, TimeNs now) {
  set_now(now);
  const std::uint32_t handle = local_handle(local_ip);
  if (handle == 0) return {kNoIndex, OpenError::kNotLocal};
  if (!is_on_link(remote_ip) && is_unspecified(config_.gateway6)) return {kNoIndex, OpenError::kNoRoute};
  const MacAddr* mac = next_hop_mac6(remote_ip, now_);
  if (mac == nullptr) return {kNoIndex, OpenError::kNeighborPending};
  return open_key(FlowKey{handle, remote_digest(remote_ip), local_port, remote_port}, *mac, &remote_ip);
}

[[gnu::always_inline]] inline OpenResult Engine::open_key(const FlowKey& key, const MacAddr& mac,
                                                          const Ipv6Addr* remote6) {
  const std::uint32_t hash = flow_hash(key);
  if (flows_.find(key, hash) != FlowTable::kNotFound) return {kNoIndex, OpenError::kTupleInUse};
  // The SYN needs a fresh buffer. Opened without one, the connection would wait out its
  // retransmission timeout, and a burst of opens that met an empty pool would retransmit in
  // lockstep, meet it empty again and back off together until the SYN retries ran out. Refused,
  // the caller tries again once buffers are back (the generator counts it as no_memory).
  if (stock_count_ == 0 && io_.refill != nullptr) {
    stock_count_ = io_.refill(io_.ctx, stock_.data(), kBatch);
    if (stock_count_ == 0) return {kNoIndex, OpenError::kNoMemory};  // no segment lost: not a drop
  }
  const std::uint32_t id = create_connection(key, hash, mac, remote6);
  if (id == kNoIndex) return {kNoIndex, OpenError::kNoMemory};
  Connection& c = conns_[id];
  c.iss = SeqNum(remote6 == nullptr
                     ? isn_.isn(key.local_ip, key.local_port, key.remote_ip, key.remote_port, now_)
                     : isn_.isn(local_ip6(key), key.local_port, *remote6, key.remote_port, now_));
  c.snd_una = c.iss;
  c.snd_nxt = c.iss;
  c.snd_max = c.iss;
  c.snd_wnd = 0;
  set_state(c, TcpState::kSynSent);
  c.phase_start_us = now_us();
  c.workload = next_workload_;
  ++counters_.conn_opened;
  send_syn(c);
  ++counters_.syn_sent;
  arm_rto(id);
  if (config_.connect_timeout != 0) {
    arm_deadline(id, deadline_bits::kState, now_us() + dur_.connect_us);
  }
  return {id, OpenError::kOk};
}

bool Engine::send(std::uint32_t conn, std::uint32_t bytes, TimeNs now) {
  set_now(now);
  if (conn >= conns_.capacity()) return false;  // kNoIndex: find() of a half-open or TIME-WAIT tuple
  Connection& c = conns_[conn];
  if (c.has(conn_flags::kFinQueued)) return false;
  switch (c.state) {
    case TcpState::kSynSent:
    case TcpState::kSynReceived:
      c.tx_stream_len += bytes;  // queued until ESTABLISHED (RFC 9293 §3.10.2)
      return true;
    case TcpState::kEstablished:
    case TcpState::kCloseWait:
      c.tx_stream_len += bytes;
      output(conn);
      return true;
    default: return false;
  }
}

bool Engine::close(std::uint32_t conn, TimeNs now) {
  set_now(now);
  if (conn >= conns_.capacity()) return false;
  Connection& c = conns_[conn];
  switch (c.state) {
    case TcpState::kSynSent:
      // Nothing was synchronised: the connection just goes away (RFC 9293 §3.10.4).
      connection_done(conn, nullptr);
      return true;
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
      // SYN-RECEIVED with nothing queued goes to FIN-WAIT-1 as well (RFC 9293 §3.10.4).
      c.set(conn_flags::kFinQueued);
      set_state(c, TcpState::kFinWait1);
      output(conn);
      return true;
    case TcpState::kCloseWait:
      c.set(conn_flags::kFinQueued);
      set_state(c, TcpState::kLastAck);
      output(conn);
      return true;
    default: return false;  // closing already
  }
}

bool Engine::abort(std::uint32_t conn, TimeNs now) {
  set_now(now);
  if (conn >= conns_.capacity()) return false;
  Connection& c = conns_[conn];
  if (c.state == TcpState::kClosed) return false;
  // RFC 9293 §3.10.5: SYN-SENT and TIME-WAIT-like states send nothing; synchronised ones send RST.
  if (c.state != TcpState::kSynSent && c.state != TcpState::kTimeWait) {
    // An ACK still owed (the handshake's last one, when a workload aborts at once) goes first,
    // so the peer sees a connection that was established and then reset.
    if (c.has(conn_flags::kAckNow)) send_ack(c);
    send_reset(c);
  }
  connection_done(conn, nullptr);
  return true;
}

}  // namespace synwave
