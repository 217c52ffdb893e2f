#pragma once
// Every setting of one engine (one lcore). Sizes here are the only sizes: the engine allocates
// once from them at construction and never again.
#include <cstdint>
#include <vector>

#include "synwave/syn_cookie.hpp"
#include "synwave/time.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/ipv6.hpp"
#include "synwave/workload.hpp"

namespace synwave {

struct StaticNeighbor {
  std::uint32_t ip = 0;  // host order
  MacAddr mac;
};

struct StaticNeighbor6 {
  Ipv6Addr ip{};
  MacAddr mac;
};

enum class SynCookieMode : std::uint8_t {
  kOff,         // never: a full SYN backlog evicts its oldest entry
  kOnOverflow,  // only while the SYN backlog is full (Linux's tcp_syncookies=1)
  kAlways,      // every SYN: the listener keeps no half-open state at all
};

struct EngineConfig {
  // Addressing (host byte order).
  std::uint32_t local_ip = 0;
  std::uint32_t source_ip_first = 0;  // more addresses we own: a client's source range
  std::uint32_t source_ip_count = 0;  //   source_ip_first .. + count - 1 (0: none)
  std::uint8_t prefix_len = 24;
  MacAddr local_mac;
  std::uint32_t gateway = 0;  // 0: none, off-subnet peers are unreachable
  std::vector<StaticNeighbor> neighbors;
  std::uint32_t neighbor_cache_size = 1024;
  // Answer ARP requests and Neighbor Solicitations: false on all lcores but one when a dispatcher
  // copies them to each.
  bool answer_arp = true;

  // IPv6 (RFC 8200), beside IPv4 or instead of it. With local_ip6 set the engine answers Neighbor
  // Discovery and TCP for it (a dual-stack server when local_ip is set too; local_ip 0: IPv6
  // only); unspecified: the engine speaks IPv4 only and keeps no IPv6 tables.
  Ipv6Addr local_ip6{};
  std::uint8_t prefix_len6 = 64;
  Ipv6Addr source_ip6_first{};        // more IPv6 addresses we own (a client's source range):
  std::uint32_t source_ip6_count = 0;  //   the first, its last 32 bits counted up, count in all
  Ipv6Addr gateway6{};                 // unspecified: none, off-link peers are unreachable
  std::vector<StaticNeighbor6> neighbors6;

  // Listening ports (server side); empty for a pure client.
  std::vector<std::uint16_t> listen_ports;

  // Capacity. Every table is allocated from these at construction and never grows.
  std::uint32_t max_connections = 65536;  // full connection records
  std::uint32_t syn_backlog = 4096;       // half-open entries per listening port
  std::uint32_t backlog = 4096;           // accept queue per listening port
  std::uint32_t max_time_wait = 262144;   // TIME-WAIT entries; beyond, TIME-WAIT is skipped and counted
  // Overload (DESIGN "shed cheap work first"): once this many records are in use, new SYNs are
  // dropped before any table work, and records stuck retransmitting are reset to make room.
  // 0: max_connections - max_connections / 16.
  std::uint32_t shed_watermark = 0;
  [[nodiscard]] std::uint32_t shed_watermark_or_default() const {
    return shed_watermark != 0 ? shed_watermark : max_connections - max_connections / 16;
  }

  // Listener behaviour.
  SynCookieMode syn_cookies = SynCookieMode::kOnOverflow;
  TimeNs cookie_rotation = 64 * kSecond;  // secret rotation and cookie counter period
  const CookieSecrets* cookie_secrets = nullptr;  // shared, rotated by the control plane; nullptr: the engine's own
  bool reset_bad_cookies = true;          // answer a forged or stale cookie ACK with RST (else drop it)
  TimeNs synack_timeout = 1 * kSecond;    // first SYN-ACK retransmission; doubles each time
  double accept_rate = 0;                 // connections the application accepts per second; 0: at once
  bool abort_on_overflow = false;         // accept queue full: RST the final ACK (else drop it)
  bool reset_shed_syns = false;           // SYNs shed while the lcore is saturated: RST (else drop them)
  TimeNs idle_timeout = 60 * kSecond;     // automatic workloads: a silent peer is given up after this
  TimeNs connect_timeout = 0;             // active opens give up after this (0: when the SYN retries run out)
  TimeNs response_timeout = 0;            // client: the request's start to the response's last byte (0: none)

  // TCP behaviour.
  std::uint16_t mtu = 1500;
  bool window_scaling = true;
  bool timestamps = true;
  // Added to the TSval clock (milliseconds). The program gives the time since boot, so TSvals keep
  // growing from one run to the next, as a kernel's do: a peer that still holds an earlier run's
  // tuple in TIME-WAIT accepts a new SYN on it when its TSval is newer (RFC 6191; Linux), where a
  // clock restarting at 0 had every reused tuple's first SYN refused for a whole RTO.
  std::uint32_t timestamp_base_ms = 0;
  bool sack_permitted = true;
  std::uint8_t window_scale = 7;          // our shift, when scaling is negotiated
  std::uint32_t receive_window = 262144;  // bytes we advertise (data is consumed on arrival)
  std::uint32_t initial_cwnd_segments = 10;  // RFC 6928
  // Connections that may recover from a loss at once with out-of-order ranges held and NewReno's
  // recovery point (loss_recovery.hpp); rounded up to a power of two. Beyond, a connection
  // recovers by go-back-N (counted: loss_recovery_table_full).
  std::uint32_t loss_recovery_entries = 4096;
  TimeNs delayed_ack = 40 * kMillisecond;    // 0: ACK every segment at once
  TimeNs rto_initial = 1 * kSecond;          // RFC 6298 §2.1
  TimeNs rto_min = 200 * kMillisecond;       // Linux's floor (RFC 6298 says 1 s; it allows lower)
  TimeNs rto_max = 120 * kSecond;            // RFC 6298 §2.5 allows a cap of at least 60 s
  std::uint8_t syn_retries = 6;              // Linux tcp_syn_retries
  std::uint8_t synack_retries = 5;           // Linux tcp_synack_retries
  std::uint8_t max_retries = 15;             // Linux tcp_retries2
  TimeNs time_wait = 60 * kSecond;           // 2MSL
  TimeNs fin_wait2_timeout = 60 * kSecond;
  // Per second (RFC 5961 §7). Linux 6.x lifted its global limit (1000 before) for want of a
  // per-socket one; a load tester's peers reuse tuples, and each reuse that meets a closing
  // record needs its challenge ACK to clear it, so the default is high.
  std::uint32_t challenge_ack_limit = 100000;
  std::uint8_t ttl = 64;
  bool tx_checksum_offload = false;  // leave IP/TCP checksums to the NIC
  std::uint32_t timer_budget = 4096; // timer expiries handled per advance() call

  // Application.
  Workload workload;
  // Client: further workloads a run's phases switch to (Engine::use_workload(i) takes
  // phase_workloads[i - 1]). Their kind, close policy and message sizes are the workload's: the
  // server expects those.
  std::vector<Workload> phase_workloads;

  // Keys for ISN generation (RFC 6528); the caller draws them at random.
  std::uint64_t secret0 = 0x0123456789abcdefull;
  std::uint64_t secret1 = 0xfedcba9876543210ull;
};

}  // namespace synwave
