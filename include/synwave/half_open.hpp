#pragma once
// A half-open connection (SYN-RECEIVED after a passive open): what a listener keeps between the
// SYN and the final ACK. A fraction of a full record, so a SYN flood fills a small, bounded
// table instead of the connection pool (Linux's request sock, FreeBSD's syncache entry).
#include <cstdint>

#include "synwave/flow_table.hpp"
#include "synwave/seq_num.hpp"
#include "synwave/timer_wheel.hpp"
#include "synwave/wire/ethernet.hpp"

namespace synwave {

namespace half_open_flags {
inline constexpr std::uint8_t kTimestamps = 1u << 0;
inline constexpr std::uint8_t kSackPermitted = 1u << 1;
inline constexpr std::uint8_t kWindowScale = 1u << 2;
inline constexpr std::uint8_t kRetransmitted = 1u << 3;  // a SYN-ACK went out again: no RTT sample (Karn)
}  // namespace half_open_flags

struct HalfOpen {
  TimerNode timer;            // SYN-ACK retransmission
  FlowKey key;
  SeqNum iss;
  SeqNum irs;
  std::uint32_t ts_recent;
  std::uint32_t age_prev;     // the listener's age list, oldest first (eviction order)
  std::uint32_t age_next;
  MacAddr peer_mac;
  std::uint16_t peer_mss;     // from the SYN (536 when absent)
  std::uint16_t peer_window;  // the SYN's window, never scaled
  std::uint8_t peer_wscale;
  std::uint8_t flags;         // half_open_flags
  std::uint8_t retries;       // SYN-ACKs sent again
  std::uint8_t listener;      // index of the listening port
};
static_assert(sizeof(HalfOpen) <= 64, "a half-open entry is one cache line");

}  // namespace synwave
