#pragma once
// The sans-IO TCP engine of one lcore: frames in (input), frames out (through FrameIo), time in
// (every call takes `now`), nothing else. It owns every per-lcore table and never allocates
// after construction.
#include <array>
#include <cstdint>
#include <string>

#include "synwave/connection.hpp"
#include "synwave/counters.hpp"
#include "synwave/engine_config.hpp"
#include "synwave/flow_table.hpp"
#include "synwave/frame.hpp"
#include "synwave/isn.hpp"
#include "synwave/neighbor_cache.hpp"
#include "synwave/slab.hpp"
#include "synwave/tcp_state.hpp"
#include "synwave/time.hpp"
#include "synwave/timer_wheel.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave {

enum class OpenError : std::uint8_t {
  kOk,
  kNoRoute,          // off-subnet destination and no gateway
  kNeighborPending,  // next hop's MAC unknown: an ARP request went out, try again shortly
  kTupleInUse,       // the 4-tuple already has a connection (any state, TIME_WAIT included)
  kNoMemory,         // connection pool or flow table full
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
  // Fires due timers (within the configured work budget) and flushes output.
  void advance(TimeNs now);
  // When advance() next has work; kNever when nothing is armed. May be early, never late.
  [[nodiscard]] TimeNs next_deadline() const;
  // Hands every frame built so far to FrameIo::transmit.
  void flush();

  // Active open (RFC 9293 §3.10.1) from our address and local_port.
  OpenResult open(std::uint32_t remote_ip, std::uint16_t remote_port, std::uint16_t local_port, TimeNs now);
  // User calls of RFC 9293 §3.10 for the kManual workload (and tests). False if conn is not open.
  bool send(std::uint32_t conn, std::uint32_t bytes, TimeNs now);
  bool close(std::uint32_t conn, TimeNs now);
  bool abort(std::uint32_t conn, TimeNs now);

  [[nodiscard]] std::uint32_t find(const FlowKey& key) const;
  [[nodiscard]] const Connection& connection(std::uint32_t conn) const { return conns_[conn]; }
  [[nodiscard]] const Counters& counters() const { return counters_; }
  [[nodiscard]] EngineGauges gauges() const;
  [[nodiscard]] const EngineConfig& config() const { return config_; }
  [[nodiscard]] std::size_t memory_bytes() const;

 private:
  struct RxContext;  // the received segment being processed, and its frame for in-place replies

  // engine.cpp: dispatch, ARP, listener, stray segments, timers, record lifetime.
  bool input_arp(Frame& frame, const EthernetHeader& eth);
  bool input_ipv4(Frame& frame, const EthernetHeader& eth);
  void listen_input(RxContext& rx);
  void closed_input(RxContext& rx);
  std::uint32_t create_connection(const FlowKey& key, std::uint32_t hash, const MacAddr& peer_mac);
  void free_connection(std::uint32_t id);
  void set_state(Connection& c, TcpState s);
  void on_timer(std::uint32_t id);
  void arm_deadline(std::uint32_t id, std::uint8_t which, std::uint32_t at_us);
  void disarm_deadline(std::uint32_t id, std::uint8_t which);
  void rearm_timer(std::uint32_t id);
  [[nodiscard]] const MacAddr* next_hop_mac(std::uint32_t ip, TimeNs now);
  void send_arp_request(std::uint32_t target_ip);
  [[nodiscard]] bool is_local_subnet(std::uint32_t ip) const;
  [[nodiscard]] bool is_listening(std::uint16_t port) const;
  [[nodiscard]] std::uint32_t now_us() const { return static_cast<std::uint32_t>(now_ / kMicrosecond); }
  [[nodiscard]] std::uint32_t ts_clock() const { return static_cast<std::uint32_t>(now_ / kMillisecond); }

  // tcp_input.cpp: RFC 9293 §3.10.7 segment arrives, for a connection that exists.
  void segment_arrives(std::uint32_t id, RxContext& rx);
  void syn_sent_input(std::uint32_t id, RxContext& rx);
  bool check_sequence(std::uint32_t id, RxContext& rx);
  bool process_rst(std::uint32_t id, RxContext& rx);
  bool process_ack(std::uint32_t id, RxContext& rx);
  void process_text_and_fin(std::uint32_t id, RxContext& rx);
  void finish_segment(std::uint32_t id);
  void negotiate_options(Connection& c, const TcpSegment& seg);
  void update_rtt(Connection& c, std::uint32_t sample_us);
  void enter_time_wait(std::uint32_t id);
  void connection_reset(std::uint32_t id, std::uint64_t Counters::*reason);
  void connection_done(std::uint32_t id, std::uint64_t Counters::*failure);
  void count_outcome(std::uint32_t id, std::uint64_t Counters::*failure);
  [[nodiscard]] bool challenge_ack_allowed();

  // tcp_output.cpp: building and sending segments.
  void output(std::uint32_t id);
  void retransmit_timeout(std::uint32_t id);
  void send_segment(Connection& c, std::uint8_t flags, SeqNum seq, std::uint32_t payload_len, bool syn_options);
  void send_ack(Connection& c) { send_segment(c, tcp_flags::kAck, c.snd_nxt, 0, false); }
  void send_rst_for(RxContext& rx);
  void send_syn(Connection& c);
  void fast_retransmit(Connection& c);
  void send_reset(Connection& c);
  void arm_rto(std::uint32_t id);
  Frame* take_tx_frame();
  void queue_tx(const Frame& f);
  void finish_tcp_frame(Frame& f, std::uint32_t src_ip, std::uint32_t dst_ip, std::uint16_t tcp_len);
  void copy_payload(const Connection& c, std::uint32_t offset, std::uint8_t* dst, std::uint32_t len) const;

  // app_behavior.cpp: what the workload does at each step of a connection's life.
  void app_established(std::uint32_t id);
  void app_data(std::uint32_t id, const std::uint8_t* p, std::uint32_t n);
  void app_fin(std::uint32_t id);
  void app_all_acked(std::uint32_t id);
  void app_respond(std::uint32_t id);
  void app_response_complete(std::uint32_t id);
  void build_payload_templates();

  EngineConfig config_;
  FrameIo io_;
  TimeNs now_;
  Counters counters_;

  Slab<Connection> conns_;
  FlowTable flows_;
  TimerWheel wheel_;
  NeighborCache neighbors_;
  IsnGenerator isn_;
  std::array<std::uint16_t, 16> listen_ports_{};
  std::uint32_t listen_count_ = 0;
  std::uint32_t subnet_mask_ = 0;
  std::uint16_t our_mss_ = 1460;
  std::uint16_t ip_id_ = 0;
  std::array<std::uint32_t, 11> state_count_{};
  RxContext* current_rx_ = nullptr;  // set while input() runs: its frame may carry the reply

  // RFC 5961 §7 rate limit: a budget of challenge ACKs per second.
  TimeNs challenge_window_start_ = 0;
  std::uint32_t challenge_acks_in_window_ = 0;

  // Frames: a stock of empty ones to fill and a batch of built ones to send.
  static constexpr std::uint32_t kBatch = 32;
  std::array<Frame, kBatch> stock_{};
  std::uint32_t stock_count_ = 0;
  std::array<Frame, kBatch> tx_{};
  std::uint32_t tx_count_ = 0;

  // Payload templates, built once: the request and the response header, then a body pattern.
  std::string request_head_;
  std::string response_head_;
  std::uint32_t request_len_ = 0;
  std::uint32_t response_len_ = 0;
};

}  // namespace synwave
