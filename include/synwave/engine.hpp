#pragma once
// The sans-IO TCP engine of one lcore: frames in (input), frames out (through FrameIo), time in
// (every call takes `now`), nothing else. It owns every per-lcore table and never allocates
// after construction.
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "synwave/connection.hpp"
#include "synwave/counters.hpp"
#include "synwave/engine_config.hpp"
#include "synwave/flow_table.hpp"
#include "synwave/frame.hpp"
#include "synwave/half_open.hpp"
#include "synwave/isn.hpp"
#include "synwave/latency_histogram.hpp"
#include "synwave/loss_recovery.hpp"
#include "synwave/neighbor_cache.hpp"
#include "synwave/segment_template.hpp"
#include "synwave/slab.hpp"
#include "synwave/syn_cookie.hpp"
#include "synwave/synack_template.hpp"
#include "synwave/tcp_state.hpp"
#include "synwave/time.hpp"
#include "synwave/time_wait_table.hpp"
#include "synwave/timer_wheel.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/ipv6.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave {

enum class OpenError : std::uint8_t {
  kOk,
  kNoRoute,          // off-subnet destination and no gateway
  kNeighborPending,  // next hop's MAC unknown: an ARP request went out, try again shortly
  kTupleInUse,       // the 4-tuple already has a connection (any state, TIME_WAIT included)
  kNoMemory,         // connection pool or flow table full, or no transmit buffer for the SYN
  kNotLocal,         // the source address is not one of ours
};

struct OpenResult {
  std::uint32_t conn = kNoIndex;
  OpenError error = OpenError::kOk;
};

// Numbers that are levels, not events.
struct EngineGauges {
  std::uint32_t connections = 0;  // records in use, any state
  std::array<std::uint32_t, 11> by_state{};
  [[nodiscard]] std::uint32_t in(TcpState s) const { return by_state[static_cast<std::size_t>(s)]; }
};

class Engine {
 public:
  Engine(const EngineConfig& config, const FrameIo& io, TimeNs now);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Consumes one received frame. Returns true when the engine kept the frame (it became a reply
  // built in place, and will leave through FrameIo::transmit); false when the caller still owns
  // it and frees it.
  [[nodiscard]] bool input(Frame frame, TimeNs now);
  // Consumes frames[0..n) as input() would, and returns a bit per frame, set when the engine
  // kept it (n <= 32). The flow-table slots of the whole burst are requested from memory before
  // the first frame is processed, so their cache misses overlap instead of adding up; the SYN
  // cookies of the burst are computed together at its end, side by side (siphash24_words_batch).
  [[nodiscard]] std::uint32_t input_burst(Frame* frames, std::uint32_t n, TimeNs now);
  // Starts loading the flow-table slot of a tuple about to be opened (the connection generator
  // calls it a burst ahead of open()).
  void prefetch_flow(const FlowKey& key) const { flows_.prefetch(flow_hash(key)); }
  // Fires due timers (within the configured work budget) and flushes output.
  void advance(TimeNs now);
  // When advance() next has work; kNever when nothing is armed. May be early, never late.
  [[nodiscard]] TimeNs next_deadline() const;
  // Hands every frame built so far to FrameIo::transmit.
  void flush();

  // Active open (RFC 9293 §3.10.1) from local_ip (one of ours; the first when not given) and local_port.
  OpenResult open(std::uint32_t remote_ip, std::uint16_t remote_port, std::uint32_t local_ip, std::uint16_t local_port,
                  TimeNs now);
  OpenResult open(std::uint32_t remote_ip, std::uint16_t remote_port, std::uint16_t local_port, TimeNs now) {
    return open(remote_ip, remote_port, config_.local_ip, local_port, now);
  }
  // Is the next hop toward remote_ip known? When it is not, asks for it by ARP (at most once per
  // retry interval), as open() does: a client resolves its destinations ahead of its start.
  [[nodiscard]] bool resolve_next_hop(std::uint32_t remote_ip, TimeNs now) {
    set_now(now);
    return next_hop_mac(remote_ip, now_) != nullptr;
  }
  // Is ip one of our addresses?
  [[nodiscard]] bool is_local_address(std::uint32_t ip) const {
    return (ip == config_.local_ip && ip != 0) || ip - config_.source_ip_first < config_.source_ip_count;
  }

  // IPv6 (config().local_ip6 set). An IPv6 tuple has a FlowKey like an IPv4 one, so both
  // families share the flow table, the records and every path after the lookup: its local
  // address is a handle (1 + the address's index among ours), below 2^24, where no IPv4 address
  // of ours can be (0.0.0.0/8 is "this network", RFC 1122 §3.2.1.3); its remote address a keyed
  // 32-bit digest, the full address kept beside the record (remote_ip6) and compared on each
  // lookup. An IPv4 record is thus unchanged; an IPv6 one costs 16 bytes more, beside it.
  static constexpr std::uint32_t kIpv6Handles = 1u << 24;
  [[nodiscard]] static bool is_ipv6(const FlowKey& key) { return key.local_ip < kIpv6Handles; }
  OpenResult open(const Ipv6Addr& remote_ip, std::uint16_t remote_port, const Ipv6Addr& local_ip,
                  std::uint16_t local_port, TimeNs now);
  OpenResult open(const Ipv6Addr& remote_ip, std::uint16_t remote_port, std::uint16_t local_port, TimeNs now) {
    return open(remote_ip, remote_port, config_.local_ip6, local_port, now);
  }
  [[nodiscard]] bool resolve_next_hop(const Ipv6Addr& remote_ip, TimeNs now) {
    set_now(now);
    return next_hop_mac6(remote_ip, now_) != nullptr;
  }
  // 1 + the index of ip among our IPv6 addresses (local_ip6, then the source range); 0: not ours.
  // local_ip6 itself is two compares, inline: every IPv6 frame asks.
  [[nodiscard]] std::uint32_t local_handle(const Ipv6Addr& ip) const {
    if (same_address(ip, config_.local_ip6) && !local6_.empty()) return 1;
    return config_.source_ip6_count == 0 ? 0 : source_range_handle(ip);
  }
  [[nodiscard]] bool is_local_address(const Ipv6Addr& ip) const { return local_handle(ip) != 0; }
  // The FlowKey of an IPv6 tuple (for find() and state_of()); local must be one of ours.
  [[nodiscard]] FlowKey flow_key(const Ipv6Addr& local, const Ipv6Addr& remote, std::uint16_t local_port,
                                 std::uint16_t remote_port) const {
    return FlowKey{local_handle(local), remote_digest(remote), local_port, remote_port};
  }
  // The addresses of an IPv6 connection's record.
  [[nodiscard]] const Ipv6Addr& local_ip6(const FlowKey& key) const { return local6_[key.local_ip - 1]; }
  [[nodiscard]] const Ipv6Addr& remote_ip6(std::uint32_t conn) const { return conn_remote6_[conn]; }
  // User calls of RFC 9293 §3.10 for the kManual workload (and tests). False if conn is not open.
  bool send(std::uint32_t conn, std::uint32_t bytes, TimeNs now);
  bool close(std::uint32_t conn, TimeNs now);
  bool abort(std::uint32_t conn, TimeNs now);

  // The full connection record of a 4-tuple (kNoIndex for none, and for half-open and TIME-WAIT
  // tuples, which have compact entries instead).
  [[nodiscard]] std::uint32_t find(const FlowKey& key) const;
  // The TCP state of a 4-tuple whatever holds it (kClosed when nothing does).
  [[nodiscard]] TcpState state_of(const FlowKey& key) const;
  [[nodiscard]] const Connection& connection(std::uint32_t conn) const { return conns_[conn]; }
  [[nodiscard]] const Counters& counters() const { return counters_; }
  // Client-side latencies at 1 us resolution (the engine's microsecond clock). connect: from the
  // first SYN open() sends to ESTABLISHED, SYN retransmissions included, as a user of connect()
  // sees it. transaction (kHttp and kRaw workloads): from ESTABLISHED, when the request starts,
  // to the last byte of the response.
  [[nodiscard]] const LatencyStats& latency() const { return latency_; }
  [[nodiscard]] EngineGauges gauges() const;
  [[nodiscard]] const EngineConfig& config() const { return config_; }
  [[nodiscard]] std::size_t memory_bytes() const;
  // The data plane's verdict on the lcore: saturated while it is busy nearly all the time and its
  // rx bursts keep coming back full. With the SYN backlog half full too (listener_overloaded), new
  // SYNs are then dropped before any work, so the queue drains instead of overflowing onto the
  // segments of the connections already admitted. Also where the engine closes its admission
  // window (handshakes_completing_), once per kAdmissionWindow of its clock.
  void set_saturated(bool saturated) {
    saturated_ = saturated;
    if (now_ - admission_window_start_ >= kAdmissionWindow) close_admission_window();
  }
  // Client: the connections open() makes from now on follow workload i (0: config().workload;
  // i > 0: config().phase_workloads[i - 1]); those already open keep theirs.
  void use_workload(std::uint8_t i) { next_workload_ = i < workloads_.size() ? i : 0; }
  // The workload connection c follows (a server's: config().workload). Their kind and close
  // policy are all config().workload's, which the paths read directly.
  [[nodiscard]] const Workload& workload_of(const Connection& c) const { return workloads_[c.workload]; }

 private:
  struct RxContext;  // the received segment being processed, and its frame for in-place replies

  // One flow-table lookup finds any of the three record kinds (DESIGN: "three record sizes,
  // one lookup"): the top two bits of the value say which table the index is in.
  enum class FlowKind : std::uint32_t { kConnection = 0, kHalfOpen = 1, kTimeWait = 2 };
  static constexpr std::uint32_t kKindShift = 30;
  static constexpr std::uint32_t kIndexMask = (1u << kKindShift) - 1;
  static constexpr std::uint32_t tag(FlowKind kind, std::uint32_t index) {
    return (static_cast<std::uint32_t>(kind) << kKindShift) | index;
  }
  static constexpr FlowKind kind_of(std::uint32_t value) { return static_cast<FlowKind>(value >> kKindShift); }

  struct Listener {
    std::uint16_t port = 0;
    std::uint32_t half_open = 0;       // entries in the SYN backlog
    std::uint32_t oldest = kNoIndex;   // age list of half-open entries
    std::uint32_t newest = kNoIndex;
    std::uint32_t accept_head = 0;     // accept ring (slots may hold stale ids, skipped on pop)
    std::uint32_t accept_slots = 0;
    std::uint32_t accept_waiting = 0;  // live connections waiting to be accepted
    double accept_tokens = 0;
    TimeNs last_cookie_at = kNever;    // when this listener last answered a SYN with a cookie
  };

  // What a passive handshake knows when its final ACK arrives, from a half-open entry or a cookie.
  struct PassiveOpen {
    FlowKey key;
    std::uint32_t hash;
    SeqNum iss;
    SeqNum irs;
    std::uint32_t ts_recent;
    MacAddr peer_mac;
    TcpOptions syn_options;     // what the peer's SYN offered (as far as we know it)
    std::uint32_t rtt_us;       // 0: no sample (retransmitted, or a cookie)
    bool retransmitted;
    std::uint8_t listener;
  };

  // A client that waits for the server to close (--close server) after a complete response
  // closes itself after this long (HTTP servers that keep the connection open despite our
  // "Connection: close"), counting it in http_server_kept_open.
  static constexpr TimeNs kServerCloseWait = 1 * kSecond;
  // An HTTP client with its response complete, in ESTABLISHED: its state deadline is that wait.
  [[nodiscard]] bool waiting_for_server_close(const Connection& c) const {
    return config_.workload.kind == WorkloadKind::kHttp && !c.has(conn_flags::kPassive) &&
           c.has(conn_flags::kWorkloadDone) && c.state == TcpState::kEstablished;
  }

  // An HTTP server's connection that the client keeps: its responses so far are queued, and the
  // next request may come.
  [[nodiscard]] bool kept_for_next_request(const Connection& c) const {
    return config_.workload.kind == WorkloadKind::kHttp && c.has(conn_flags::kPassive) &&
           c.has(conn_flags::kWorkloadDone) && !c.has(conn_flags::kRequestDone) && c.state == TcpState::kEstablished;
  }

  // frame_input.cpp: dispatch, listener and stray segments (ARP and ICMPv6: neighbors.cpp).
  bool input_frame(Frame& frame, TimeNs now);  // input() but for the cookies set aside
  bool input_arp(Frame& frame, const EthernetHeader& eth);
  // Both give the frame its turn with rx_ (current_rx_ set) and find the tuple's kind (dispatch_tcp).
  bool input_ipv4(Frame& frame);  // the Ethernet header is in rx_->eth
  bool input_ipv6(Frame& frame);
  bool input_icmpv6(Frame& frame, const std::uint8_t* msg, std::uint32_t len);
  bool send_parameter_problem(Frame& frame, const Ipv6Problem& problem);
  template <bool kIpv6>
  void dispatch_tcp(RxContext& rx);
  template <class PseudoSum>
  bool tcp_segment_ok(RxContext& rx, const Frame& frame, const std::uint8_t* tcp, std::uint16_t tcp_len,
                      PseudoSum pseudo);
  // The flow-key hash of an IPv6 frame, for the prefetch of its slot (peek_flow_key's IPv6 twin).
  [[nodiscard]] bool peek_flow_hash6(const Frame& f, std::uint32_t& hash) const;
  // A keyed 32-bit digest (NH, RFC 4418 §5.2.2's inner hash: a flood cannot aim collisions
  // without the key; a collision is caught by the full-address check anyway).
  [[nodiscard]] std::uint32_t remote_digest(const Ipv6Addr& a) const { return remote_digest(a.data()); }
  [[nodiscard]] std::uint32_t remote_digest(const std::uint8_t* a) const {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    std::memcpy(&high, a, 8);
    std::memcpy(&low, a + 8, 8);
    const auto lane = [](std::uint64_t word, std::uint64_t k0, std::uint64_t k1) {
      return std::uint64_t{static_cast<std::uint32_t>(word + k0)} * static_cast<std::uint32_t>((word >> 32) + k1);
    };
    const std::uint64_t h = lane(high, digest_key_[0], digest_key_[1]) + lane(low, digest_key_[2], digest_key_[3]);
    return static_cast<std::uint32_t>(h ^ (h >> 32));
  }
  void listen_input(RxContext& rx, std::uint32_t listener);
  void closed_input(RxContext& rx);
  // engine.cpp: records, overload, timers, opens (shed_syn, syns_answered_statelessly and
  // close_admission_window are frame_input.cpp's).
  // The remote IPv6 address held for a flow-table value (a record or a half-open entry; a
  // TIME-WAIT entry keeps none: nullptr).
  [[nodiscard]] const Ipv6Addr* remote_ip6_of(std::uint32_t value) const;
  // remote6: an IPv6 tuple's remote address (nullptr for IPv4).
  std::uint32_t create_connection(const FlowKey& key, std::uint32_t hash, const MacAddr& peer_mac,
                                  const Ipv6Addr* remote6, bool flow_exists = false);
  // Counts why the flow table refused an insert: full (drop_flow_table_full), or no free slot
  // near the tuple's home (flow_probe_limit: tuples crafted to collide, flow_table.hpp), which it
  // returns true for.
  [[gnu::cold]] bool count_flow_refusal();
  void free_connection(std::uint32_t id, bool erase_flow = true);
  // Records in use, and those promised to half-open entries (each takes one when its handshake
  // completes), have reached the shed watermark.
  [[nodiscard]] bool pool_under_pressure() const { return conns_.in_use() + half_open_.in_use() >= shed_watermark_; }
  // The lcore is saturated and SYNs are accepted faster than handshakes complete: half the SYN
  // backlog is waiting on final ACKs, which queue behind the new SYNs. A closed-loop client at the
  // lcore's capacity also keeps it saturated, but never has more handshakes in flight than its
  // concurrency, and dropping its SYNs would only stall it for an RTO. With cookies always there
  // is no backlog and a SYN costs no state: it is answered whatever the load, because a flood
  // that keeps the lcore saturated would otherwise have every legitimate SYN shed with its own
  // (over memif at 20M SYN/s offered: 0.9M SYN-ACKs/s when shedding, 3.8M without).
  // With SYN cookies on overflow, only while handshakes are completing: then the excess SYNs are
  // clients beyond capacity, each answered one more connection the lcore cannot serve. A flood's
  // SYNs never complete, and answered statelessly they hold nothing: shedding them would only
  // shed the legitimate clients among them three times in four (1.8M SYN-ACKs/s and 78 %
  // legitimate success at 10M SYN/s offered, against 5.2M and 99.6 % with cookies always).
  [[nodiscard]] bool listener_overloaded() const {
    return saturated_ && config_.syn_cookies != SynCookieMode::kAlways && 2 * half_open_.in_use() >= half_open_.capacity() &&
           (config_.syn_cookies == SynCookieMode::kOff || handshakes_completing_);
  }
  // The admission window: SYNs received and handshakes completed over the last one decide
  // handshakes_completing_ (at least one in kCompletingShareInverse of the SYNs).
  static constexpr TimeNs kAdmissionWindow = 50 * kMillisecond;
  static constexpr std::uint64_t kCompletingShareInverse = 8;
  void close_admission_window();
  // While the listener is overloaded, one SYN in this many still goes on: a flood that fills the
  // backlog and saturates the lcore must not shut every legitimate client out.
  static constexpr std::uint32_t kOverloadedSynAdmitEvery = 4;
  [[nodiscard]] bool shed_syn(const Frame& f);
  [[gnu::cold, gnu::noinline]] bool input_shed_syn(Frame& frame, TimeNs now);
  [[nodiscard]] bool syns_answered_statelessly() const;
  // Resets a record that holds the pool while it waits on retransmissions (overload).
  void reclaim(std::uint32_t id);
  // Under pressure: looks at the next records of the pool (a clock hand) and reclaims those that
  // are retransmitting; bounded work per call.
  void reclaim_stuck_records();
  void set_state(Connection& c, TcpState s);
  void count_established(const Connection& c) {
    ++counters_.conn_established;
    if (is_ipv6(c.key)) [[unlikely]] ++counters_.ipv6_conn_established;
  }
  void connection_done(std::uint32_t id, std::uint64_t Counters::*failure);
  void count_outcome(std::uint32_t id, std::uint64_t Counters::*failure);
  void on_timer(std::uint32_t id);
  // Half the calls end at timer_no_later_than's comparison, so the call is inlined, where `which`
  // is a constant.
  void arm_deadline(std::uint32_t id, std::uint8_t which, std::uint32_t at_us) {
    Connection& c = conns_[id];
    switch (which) {
      case deadline_bits::kRto: c.rto_deadline_us = at_us; break;
      case deadline_bits::kDelayedAck: c.delack_deadline_us = at_us; break;
      default: c.state_deadline_us = at_us; break;
    }
    c.deadlines = static_cast<std::uint8_t>(c.deadlines | which);
    timer_no_later_than(id, deadline_time(at_us));
  }
  // The wheel node is lazy (engine.cpp, move_timer, says why): it moves only for an earlier time.
  void timer_no_later_than(std::uint32_t id, TimeNs when) {
    if (wheel_.armed(id) && wheel_.expiry(id) <= when) return;
    move_timer(id, when);
  }
  void move_timer(std::uint32_t id, TimeNs when);
  // Only the bit: the node fires early at worst, and on_timer re-arms it for what is left.
  void disarm_deadline(std::uint32_t id, std::uint8_t which) {
    conns_[id].deadlines = static_cast<std::uint8_t>(conns_[id].deadlines & ~which);
  }
  // The engine's time of a deadline in the 32-bit microsecond clock (wrap-safe: within 35 minutes).
  [[nodiscard]] TimeNs deadline_time(std::uint32_t at_us) const {
    const std::int32_t delta = static_cast<std::int32_t>(at_us - now_us());
    return delta <= 0 ? now_ : now_ + static_cast<TimeNs>(delta) * kMicrosecond;
  }
  void rearm_timer(std::uint32_t id);
  [[nodiscard]] std::uint32_t source_range_handle(const Ipv6Addr& ip) const;
  // A connection opened by open(): both families after their checks.
  OpenResult open_key(const FlowKey& key, const MacAddr& mac, const Ipv6Addr* remote6);
  [[nodiscard]] bool is_local_subnet(std::uint32_t ip) const;
  [[nodiscard]] int listener_of(std::uint16_t port) const;  // -1 when not listening
  // neighbors.cpp: next hops.
  [[nodiscard]] const MacAddr* next_hop_mac(std::uint32_t ip, TimeNs now);
  void send_arp_request(std::uint32_t target_ip);
  [[nodiscard]] const MacAddr* next_hop_mac6(const Ipv6Addr& ip, TimeNs now);
  void send_neighbor_solicitation(const Ipv6Addr& target);
  [[nodiscard]] bool is_on_link(const Ipv6Addr& ip) const;
  // The MSS we offer and send at most, and the peer's when its SYN gave none (RFC 9293 §3.7.1),
  // by family: an IPv6 header is 20 bytes longer.
  [[nodiscard]] std::uint16_t our_mss(const FlowKey& key) const {
    return is_ipv6(key) ? static_cast<std::uint16_t>(our_mss_ - (Ipv6Header::kSize - Ipv4Header::kMinSize)) : our_mss_;
  }
  [[nodiscard]] static std::uint16_t default_mss(const FlowKey& key) { return is_ipv6(key) ? kDefaultMss6 : kDefaultMss; }
  [[nodiscard]] std::uint32_t now_us() const { return now_us_; }
  // The clock only moves forward; its microsecond and millisecond readings are kept with it, since
  // the paths read them several times per segment and each is a 64-bit division.
  void set_now(TimeNs now) {
    if (now <= now_) return;
    now_ = now;
    now_us_ = static_cast<std::uint32_t>(now / kMicrosecond);
    now_ms_ = static_cast<std::uint32_t>(now / kMillisecond);
  }
  // Time since the connection's phase_start_us, wrap-safe (phases are far shorter than 71 min).
  [[nodiscard]] std::uint64_t phase_elapsed_ns(const Connection& c) const {
    return std::uint64_t{static_cast<std::uint32_t>(now_us() - c.phase_start_us)} * kMicrosecond;
  }
  [[nodiscard]] std::uint32_t ts_clock() const {
    return config_.timestamp_base_ms + now_ms_;
  }

  // listener.cpp: the SYN backlog, SYN cookies, the accept queue.
  void syn_arrives(RxContext& rx, std::uint32_t listener);
  void half_open_input(std::uint32_t idx, RxContext& rx);
  void cookie_ack_input(RxContext& rx, std::uint32_t listener);
  void send_half_open_synack(const HalfOpen& h);
  void send_cookie_synack(RxContext& rx);
  void send_overflow_cookie(Listener& l, RxContext& rx);
  // The cookie SYN-ACKs send_cookie_synack() set aside, their MACs computed together, out.
  void finish_cookie_synacks();
  void emit_synack(const SynAckFields& f, const Ipv6Addr* remote6);
  Frame* take_synack_frame();  // take_tx_frame(), nullptr (counted) when none fits a SYN-ACK
  void half_open_timeout(std::uint32_t idx);
  void free_half_open(std::uint32_t idx, bool erase_flow);
  std::uint32_t establish_passive(const PassiveOpen& p, RxContext& rx, bool flow_exists);
  void finish_passive_open(std::uint32_t id, RxContext& rx);
  [[nodiscard]] bool accept_queue_full(const Listener& l) const;
  [[nodiscard]] bool may_hold_cookie(const Listener& l) const;
  void run_accept_queues();
  void accept_connection(std::uint32_t id);

  // time_wait.cpp: compact TIME-WAIT entries.
  void time_wait_input(std::uint32_t slot, RxContext& rx);
  void send_time_wait_ack(const TimeWaitEntry& e, RxContext& rx);
  [[nodiscard]] std::uint32_t ms_clock() const { return now_ms_; }
  // When a TIME-WAIT entry made or restarted now expires (the time_wait setting, rounded up to ms).
  [[nodiscard]] std::uint32_t time_wait_expiry_ms() const {
    return ms_clock() + dur_.time_wait_ms;
  }

  // tcp_input.cpp: RFC 9293 §3.10.7 segment arrives, for a connection that exists.
  void segment_arrives(std::uint32_t id, RxContext& rx);
  void syn_sent_input(std::uint32_t id, RxContext& rx);
  bool check_sequence(std::uint32_t id, RxContext& rx);
  // RFC 9293 §3.10.7.4 first check, for a segment that failed it: an RST ignored, a SYN as
  // syn_in_synchronised says, anything else ACKed.
  [[gnu::cold, gnu::noinline]] void unacceptable_segment(std::uint32_t id, RxContext& rx);
  bool process_rst(std::uint32_t id, RxContext& rx);
  bool process_ack(std::uint32_t id, RxContext& rx);
  void process_text_and_fin(std::uint32_t id, RxContext& rx);
  bool hold_out_of_order(std::uint32_t id, const TcpSegment& seg);
  std::uint32_t absorb_out_of_order(std::uint32_t id);
  void enter_fast_recovery(std::uint32_t id, SeqNum resent_to);
  [[gnu::cold, gnu::noinline]] void limited_transmit(std::uint32_t id);
  void partial_ack(std::uint32_t id, LossRecord& r);
  void finish_segment(std::uint32_t id);
  [[gnu::cold, gnu::noinline]] void syn_in_synchronised(std::uint32_t id, RxContext& rx);
  void negotiate_options(Connection& c, const TcpOptions& o);
  void update_rtt(Connection& c, std::uint32_t sample_us);
  void enter_time_wait(std::uint32_t id);
  void connection_reset(std::uint32_t id, std::uint64_t Counters::*reason);
  [[nodiscard]] bool challenge_ack_allowed();
  // The loss-recovery record and the SACK scoreboard.
  [[gnu::cold, gnu::noinline]] void note_sacks(std::uint32_t id, const TcpOptions& o);
  [[gnu::cold, gnu::noinline]] LossRecord* loss_state(std::uint32_t id, const TcpOptions& o);
  [[gnu::cold, gnu::noinline]] bool ack_in_recovery(std::uint32_t id, LossRecord& r);
  LossRecord* make_loss_record(std::uint32_t id);
  void drop_loss_record_if_idle(std::uint32_t id, const LossRecord& r);
  bool resend_next_hole(std::uint32_t id, LossRecord& r);

  // tcp_output.cpp: building and sending segments.
  void output(std::uint32_t id);
  void retransmit_timeout(std::uint32_t id);
  // Everything a segment we build needs; send_segment fills it from a connection record.
  struct SegmentOut {
    const MacAddr* dst_mac;
    FlowKey key;
    const Ipv6Addr* remote6;  // an IPv6 key's remote address (nullptr for IPv4)
    SeqNum seq;
    SeqNum ack;
    std::uint8_t flags;
    std::uint16_t window;
    TcpOptionsOut options;
    const Connection* payload_from;  // nullptr: no payload
    std::uint32_t payload_len;
  };
  void emit_segment(const SegmentOut& s);
  template <bool kWithSack>
  void build_segment(const SegmentOut& s);
  [[nodiscard]] std::uint16_t advertised_window(bool syn, std::uint8_t shift) const;
  void send_segment(Connection& c, std::uint8_t flags, SeqNum seq, std::uint32_t payload_len, bool syn_options);
  void send_ack(Connection& c) {
    if (c.has_loss_record != 0) [[unlikely]] return send_ack_with_sack(c);
    send_segment(c, tcp_flags::kAck, c.snd_nxt, 0, false);
  }
  [[gnu::cold, gnu::noinline]] void send_ack_with_sack(Connection& c);
  void send_rst_for(RxContext& rx);
  void send_syn(Connection& c);
  SeqNum retransmit_from(Connection& c, SeqNum from, SeqNum limit, std::uint64_t Counters::*kind);
  SeqNum fast_retransmit(Connection& c, std::uint64_t Counters::*kind) {
    return retransmit_from(c, c.snd_una, c.snd_max, kind);
  }
  [[gnu::cold, gnu::noinline]] std::uint8_t sack_blocks(const Connection& c);
  std::array<SackBlock, kMaxSackBlocksOut> sack_out_{};  // the blocks of the ACK being built
  std::uint8_t sack_out_count_ = 0;
  void send_reset(Connection& c);
  void arm_rto(std::uint32_t id);
  Frame* take_tx_frame();
  // Queues frame f, len bytes long, with these tx flags. Length and flags come as values rather
  // than through f: written into f just before, they would be read back by the descriptor's copy
  // with wider loads, which the store buffer cannot forward (a stall per frame, measured).
  void queue_tx(const Frame& f, std::uint16_t len, std::uint16_t flags);
  // Writes the Ethernet and IP headers of a TCP segment of tcp_len bytes for key's family; returns
  // where the TCP header starts.
  std::size_t write_tcp_frame_headers(std::uint8_t* p, const MacAddr& dst, const FlowKey& key, const Ipv6Addr* remote6,
                                      std::size_t tcp_len);
  [[gnu::cold, gnu::noinline]] std::size_t write_ipv6_frame_headers(std::uint8_t* p, const MacAddr& dst,
                                                                    const FlowKey& key, const Ipv6Addr& remote6,
                                                                    std::size_t tcp_len);
  [[gnu::cold, gnu::noinline]] std::uint16_t finish_tcp_frame6(std::uint8_t* tcp, const FlowKey& key,
                                                               const Ipv6Addr& remote6, std::uint16_t tcp_len,
                                                               std::uint64_t segment_sum);
  // Writes the TCP checksum (or, offloaded, the pseudo-header sum); returns the frame's tx flags.
  [[nodiscard]] std::uint16_t finish_tcp_frame(std::uint8_t* tcp, const FlowKey& key, const Ipv6Addr* remote6,
                                               std::uint16_t tcp_len, std::uint64_t segment_sum);

  // app_behavior.cpp: what the workload does at each step of a connection's life.
  // Writes bytes [offset, offset + len) of the connection's stream to dst; returns their checksum
  // sum (0 when checksums are offloaded).
  std::uint64_t copy_payload(const Connection& c, std::uint32_t offset, std::uint8_t* dst, std::uint32_t len) const;
  [[nodiscard]] std::uint32_t out_of_order_room(const Connection& c) const;
  void app_established(std::uint32_t id);
  void app_start_request(std::uint32_t id);
  // When an automatic workload's connection is given up: the idle limit from now, and for a
  // client waiting on its response no later than the response deadline.
  [[nodiscard]] std::uint32_t workload_deadline_us(const Connection& c) const;
  // A client waiting on its response, under --response-timeout: when the wait ends (engine µs clock).
  [[nodiscard]] bool response_deadline_us(const Connection& c, std::uint32_t& at) const;
  void app_data(std::uint32_t id, const std::uint8_t* p, std::uint32_t n, std::uint32_t skipped);
  void app_fin(std::uint32_t id);
  void app_all_acked(std::uint32_t id);
  void app_request_complete(std::uint32_t id);
  // Client: has the connection requests it has not sent yet (0 per connection: without end)?
  [[nodiscard]] bool requests_left(const Connection& c) const {
    const std::uint32_t per_connection = workload_of(c).requests_per_connection;
    return per_connection == 0 || c.requests < per_connection;
  }
  [[nodiscard]] bool more_requests(const Connection& c) const;
  void send_requests(std::uint32_t id);
  void app_respond(std::uint32_t id);
  void response_done(std::uint32_t id);
  void app_response_complete(std::uint32_t id);
  void build_payload_templates();

  EngineConfig config_;
  FrameIo io_;
  TimeNs now_;
  // The configured durations in the units the paths add them in, converted once (as a 64-bit
  // division each, they cost every connection a few dozen instructions when done at each use).
  struct Durations {
    std::uint32_t rto_initial_us, rto_min_us, rto_max_us, delayed_ack_us, fin_wait2_us, idle_us, response_us,
        connect_us, time_wait_ms;
    // RFC 6298 §5.7: after a handshake that was sent again (no RTT sample, Karn), data starts
    // with an RTO of 3 s (Linux's TCP_TIMEOUT_FALLBACK) within the configured bounds.
    std::uint32_t fallback_rto_us;
  } dur_;
  std::uint32_t now_us_;  // now_ in the 32-bit microsecond clock of the deadlines (set_now)
  std::uint32_t now_ms_;  // now_ in milliseconds (TIME-WAIT, timestamps)
  Counters counters_;

  Slab<Connection> conns_;
  Slab<HalfOpen> half_open_;
  TimeWaitTable time_wait_;
  FlowTable flows_;
  LossRecoveryTable loss_;
  TimerWheel wheel_;
  TimerWheel half_open_wheel_;
  SynCookieCodec cookie_codec_;
  CookieSecrets own_secrets_;
  const CookieSecrets* secrets_;
  std::array<Listener, 16> listeners_{};
  std::vector<std::uint32_t> accept_ring_;
  std::uint32_t accept_ring_size_ = 0;  // slots per listener
  TimeNs accept_refilled_at_ = 0;
  NeighborCache neighbors_;
  IsnGenerator isn_;
  // IPv6: our addresses (a key's handle - 1), the remote address of each record and half-open
  // entry (empty without IPv6), the digest's key, the neighbours.
  std::vector<Ipv6Addr> local6_;
  std::vector<Ipv6Addr> conn_remote6_;
  std::vector<Ipv6Addr> half_open_remote6_;
  std::array<std::uint64_t, 4> digest_key_{};
  std::array<std::uint64_t, 2> on_link_{};       // local_ip6 and the prefix mask, as is_on_link loads them
  std::array<std::uint64_t, 2> on_link_mask_{};
  NeighborCache6 neighbors6_;
  std::uint32_t listen_count_ = 0;
  std::uint32_t shed_watermark_ = 0;
  bool saturated_ = false;
  bool handshakes_completing_ = true;  // until a window says otherwise, excess SYNs are clients
  TimeNs admission_window_start_ = 0;  // set to the engine's start
  std::uint64_t window_syns_ = 0;      // counters_.syn_received when the window began
  std::uint64_t window_accepted_ = 0;  // counters_.conn_accepted then
  std::uint32_t overloaded_syns_ = 0;  // SYNs met while listener_overloaded()
  bool refusing_shed_syn_ = false;     // set by input_shed_syn around its frame
  std::uint32_t reclaim_hand_ = 0;  // reclaim_stuck_records' position in the pool
  std::uint32_t subnet_mask_ = 0;
  std::uint16_t our_mss_ = 1460;
  std::uint16_t ip_id_ = 0;
  std::array<std::uint32_t, 11> state_count_{};
  std::unique_ptr<RxContext> rx_;     // the frame being processed (input_ipv4)
  RxContext* current_rx_ = nullptr;  // set while input() runs: its frame may carry the reply
  std::uint32_t output_held_for_ = kNoIndex;  // process_text_and_fin's record: output() waits

  // RFC 4443 §2.4(f): ICMPv6 errors are rate-limited, a budget per second.
  static constexpr std::uint32_t kIcmpv6ErrorsPerSecond = 100;
  TimeNs icmp_error_window_start_ = 0;
  std::uint32_t icmp_errors_in_window_ = 0;

  // RFC 5961 §7 rate limit: a budget of challenge ACKs per second.
  TimeNs challenge_window_start_ = 0;
  std::uint32_t challenge_acks_in_window_ = 0;

  // Frames: a stock of empty ones to fill and a batch of built ones to send.
  static constexpr std::uint32_t kBatch = 32;
  std::array<Frame, kBatch> stock_{};
  std::uint32_t stock_count_ = 0;
  std::array<Frame, kBatch> tx_{};
  std::uint32_t tx_count_ = 0;

  // Payload templates, built once: a request or response is a header, then the body pattern.
  static constexpr std::uint64_t kUnknownSum = ~std::uint64_t{0};
  struct MessageTemplate {
    std::string head;
    std::uint32_t len = 0;  // header and body
    // The checksum sum of the whole message, for the common segment that carries one whole
    // (kUnknownSum when too long to precompute).
    std::uint64_t sum = kUnknownSum;
  };
  // On a kept HTTP connection every message but the last is a keep_ one: a request without
  // "Connection: close", a response with "Connection: keep-alive".
  struct MessageTemplates {
    MessageTemplate request;
    MessageTemplate keep_request;
    MessageTemplate response;
    MessageTemplate keep_response;
  };
  std::vector<MessageTemplates> templates_;  // per workload (workloads_)
  KnownResponseHeader known_response_;       // client, HTTP: the last response header read whole
  KnownRequest known_request_;               // server, HTTP: the last request read whole
  // A connection's stream: `count` messages, every one but the last a `keep` one.
  struct MessageStream {
    const MessageTemplate* keep;
    const MessageTemplate* last;
    std::uint32_t count;
    [[nodiscard]] std::uint32_t len() const { return (count - 1) * keep->len + last->len; }
  };
  // What the connection has to send: its requests (client) or responses (server) so far. Only
  // HTTP has several on one connection; the last is a keep_ one while more may follow.
  [[nodiscard]] MessageStream tx_messages(const Connection& c) const {
    const MessageTemplates& t = templates_[c.workload];
    const bool http = config_.workload.kind == WorkloadKind::kHttp;
    if (!c.has(conn_flags::kPassive)) {
      if (!http) return {&t.request, &t.request, 1};
      const std::uint32_t per_connection = workload_of(c).requests_per_connection;
      return {&t.keep_request, c.requests == per_connection ? &t.request : &t.keep_request, c.requests};
    }
    if (!http) return {&t.response, &t.response, 1};
    return {&t.keep_response, c.has(conn_flags::kRequestDone) ? &t.response : &t.keep_response, c.requests};
  }
  std::uint64_t copy_messages(const MessageStream& m, std::uint32_t offset, std::uint8_t* dst, std::uint32_t len) const;
  // A pipelining client's send times of its requests in flight, request_start_slots_ per
  // connection (the deepest pipeline of its workloads; request r in slot r mod its pipeline);
  // empty without pipelining, where phase_start_us does.
  std::vector<std::uint32_t> request_starts_;
  std::uint32_t request_start_slots_ = 1;
  [[nodiscard]] std::uint32_t& request_start(std::uint32_t id, std::uint32_t request) {
    return request_starts_[std::size_t{id} * request_start_slots_ + request % workload_of(conns_[id]).pipeline];
  }
  // workloads_[0] is config_.workload, then config_.phase_workloads; a client's new connections
  // take next_workload_.
  std::vector<Workload> workloads_;
  std::uint8_t next_workload_ = 0;

  SynAckTemplates synack_;  // ~0.9 KiB, one frame per option layout
  SynAckTemplates syn_;     // a client's SYN, the same way
  SynAckTemplates synack6_;  // the same over IPv6
  SynAckTemplates syn6_;
  SegmentTemplates segments_;  // a synchronised connection's segments over IPv4 (~0.2 KiB)
  std::uint8_t syn_options_ = 0;  // what our SYN offers (synack_options bits), from the configuration

  // Cookie SYN-ACKs of the current burst, their frames taken, waiting for their MACs. The three
  // words each MAC hashes are kept apart for the vector lanes (SynCookieCodec::tuple_words).
  struct PendingCookies {
    static constexpr std::uint32_t kMax = 32;
    std::uint32_t count = 0;
    std::array<Frame, kMax> frames{};
    std::array<SynAckFields, kMax> fields{};  // all but seq; dst_mac points into macs
    std::array<MacAddr, kMax> macs{};
    std::array<std::uint8_t, kMax> mss_index{};
    std::array<Ipv6Addr, kMax> remote6{};  // IPv6 tuples' remote addresses
    alignas(64) std::array<std::uint64_t, kMax> addresses{};
    alignas(64) std::array<std::uint64_t, kMax> ports_isn{};
    alignas(64) std::array<std::uint64_t, kMax> context{};
    alignas(64) std::array<std::uint64_t, kMax> mac{};
  };
  PendingCookies cookies_;

  LatencyStats latency_;  // last: 35 KiB, kept away from the fields every packet touches
};

}  // namespace synwave
