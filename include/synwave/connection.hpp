#pragma once
// The record of one full connection (RFC 9293 §3.3.1's TCB), fixed-size, addressed by index.
// It holds no buffer: payload is a virtual stream (workload.hpp), so retransmissions are rebuilt
// from sequence offsets.
#include <cstdint>

#include "synwave/flow_table.hpp"
#include "synwave/http_scan.hpp"
#include "synwave/seq_num.hpp"
#include "synwave/tcp_state.hpp"
#include "synwave/timer_wheel.hpp"
#include "synwave/wire/ethernet.hpp"

namespace synwave {

namespace conn_flags {
inline constexpr std::uint16_t kPassive = 1u << 0;        // created by a listener
inline constexpr std::uint16_t kTimestamps = 1u << 1;     // both SYNs carried timestamps
inline constexpr std::uint16_t kWindowScale = 1u << 2;    // both SYNs carried window scale
inline constexpr std::uint16_t kSackPermitted = 1u << 3;
inline constexpr std::uint16_t kFinQueued = 1u << 4;      // our side called close
inline constexpr std::uint16_t kAckNow = 1u << 5;         // an ACK must go out after this segment
inline constexpr std::uint16_t kAckDelayed = 1u << 6;     // one segment is waiting for its ACK
inline constexpr std::uint16_t kRttTiming = 1u << 7;      // rtt_seq is being timed (Karn)
inline constexpr std::uint16_t kWorkloadDone = 1u << 8;   // the application finished its exchange
inline constexpr std::uint16_t kRequestDone = 1u << 9;    // server: the last request is read (nothing more is)
inline constexpr std::uint16_t kResetOnAcked = 1u << 10;  // send RST once everything is acked
inline constexpr std::uint16_t kEstablishedOnce = 1u << 11;
inline constexpr std::uint16_t kAcceptCounted = 1u << 12;
inline constexpr std::uint16_t kOutcomeCounted = 1u << 13;  // completed/failed already counted (TIME-WAIT)
inline constexpr std::uint16_t kAwaitingAccept = 1u << 14;  // in a listener's accept queue
inline constexpr std::uint16_t kThinking = 1u << 15;        // client: the state deadline ends the think time
}  // namespace conn_flags

struct Connection {
  TimerNode timer;  // one wheel node, armed at the earliest of the deadlines below
  FlowKey key;      // local/remote address and port, host order (its flow_hash() is 2 CRC32
                    // instructions: recomputed when the record leaves the flow table, not kept)

  SeqNum iss;      // initial send sequence number
  SeqNum irs;      // initial receive sequence number
  SeqNum snd_una;  // oldest unacknowledged
  SeqNum snd_nxt;  // next to send (pulled back to snd_una on a timeout: go-back-N)
  SeqNum snd_max;  // highest sequence ever sent + 1: what ACKs are checked against
  SeqNum snd_wl1;  // segment sequence of the last window update
  SeqNum snd_wl2;  // segment acknowledgment of the last window update
  SeqNum rcv_nxt;

  std::uint32_t snd_wnd;      // peer's window, scaled to bytes
  std::uint32_t max_snd_wnd;  // largest window seen (RFC 5961 §5.2)
  std::uint32_t cwnd;
  std::uint32_t ssthresh;
  std::uint32_t ts_recent;  // RFC 7323 TS.Recent

  std::uint32_t srtt_us;
  std::uint32_t rttvar_us;
  std::uint32_t rto_us;
  SeqNum rtt_seq;               // sequence whose ACK gives the next RTT sample
  std::uint32_t rtt_start_us;

  // Deadlines in the engine's 32-bit microsecond clock (wrap-safe for intervals under 35 min).
  std::uint32_t rto_deadline_us;
  std::uint32_t delack_deadline_us;
  std::uint32_t state_deadline_us;  // TIME_WAIT and FIN_WAIT_2 expiry

  std::uint32_t tx_stream_len;  // bytes the application has written so far

  // The HTTP workload's reader: a client reads its response, a server its requests (set when the
  // server's record is made).
  union HttpReader {
    HttpResponseScanner response;
    HttpRequestScanner request;
    HttpReader() : response() {}
  } http;

  MacAddr peer_mac;
  std::uint16_t snd_mss;   // payload bytes per segment we send (options already taken off)
  std::uint16_t flags;     // conn_flags
  TcpState state;
  std::uint8_t snd_wscale;  // shift applied to the peer's window
  std::uint8_t rcv_wscale;  // shift the peer applies to ours
  std::uint8_t retries;     // consecutive timeouts of the current segment
  std::uint8_t dupacks;
  std::uint8_t deadlines;   // which of the deadlines above are armed (deadline_bits)
  std::uint8_t listener;    // passive: index of the listening port
  std::uint8_t in_flight;   // HTTP client: requests sent whose responses are not complete yet
  // Nonzero when the connection has a record in the loss-recovery table (loss_recovery.hpp):
  // one byte read on the fast paths instead of a table lookup. (It fills padding.)
  std::uint8_t has_loss_record;
  // Client: which workload it follows (Engine::workload_of; a run's phases switch them). It
  // fills the record's last padding byte.
  std::uint8_t workload;
  // Client: when the phase being timed began (engine.hpp latency()): the first SYN, then
  // ESTABLISHED. In the 32-bit microsecond clock like the deadlines; here it fills padding.
  std::uint32_t phase_start_us;
  // HTTP server: requests read on this connection (each answered once it is accepted); client:
  // requests sent.
  std::uint32_t requests;

  [[nodiscard]] bool has(std::uint16_t f) const { return (flags & f) != 0; }
  void set(std::uint16_t f) { flags = static_cast<std::uint16_t>(flags | f); }
  void clear(std::uint16_t f) { flags = static_cast<std::uint16_t>(flags & ~f); }
  // Bytes of the stream after `offset` (0 at or past its end). Both wrap at 2^32 (a kept
  // connection passes 4 GiB), so they are compared by their difference, as sequence numbers are.
  [[nodiscard]] std::uint32_t unsent_after(std::uint32_t offset) const {
    const std::uint32_t d = tx_stream_len - offset;
    return static_cast<std::int32_t>(d) > 0 ? d : 0;
  }
  // Sequence number of our FIN (meaningful once kFinQueued is set).
  [[nodiscard]] SeqNum fin_seq() const { return iss + 1 + tx_stream_len; }
  // LAST-ACK or CLOSING with everything but our FIN acknowledged: the peer has closed and has all
  // we sent, so the exchange is over whether or not the FIN's ACK ever comes.
  [[nodiscard]] bool only_fin_unacknowledged() const {
    return (state == TcpState::kLastAck || state == TcpState::kClosing) && snd_una == fin_seq();
  }
  // Bytes received in order so far, while the peer's FIN has not been taken (RCV.NXT counts it).
  [[nodiscard]] std::uint32_t rx_stream_len() const { return static_cast<std::uint32_t>(rcv_nxt - (irs + 1)); }
};
static_assert(sizeof(Connection) == 160, "the record's size is a cache budget: grow it on purpose");

namespace deadline_bits {
inline constexpr std::uint8_t kRto = 1;
inline constexpr std::uint8_t kDelayedAck = 2;
inline constexpr std::uint8_t kState = 4;
}  // namespace deadline_bits

}  // namespace synwave
