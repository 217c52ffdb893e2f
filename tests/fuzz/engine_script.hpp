#pragma once
// The engine fuzz harness's interpreter: a server engine (two listeners, small tables, so every
// exhaustion path is reachable) and a client engine on one /24, each lending frames from its own
// TestIo, driven by a script of byte-coded steps: frames from the fuzzer, clock steps, a link
// that carries what each engine sent to the other (whole, one frame, or losing one), opens and
// user calls, mutations of frames in flight, spoofed SYNs and their cookie ACKs.
//
// Invariants are checked after every step (gauges against counters, every frame each engine
// sent well-formed and from its own addresses, no frame held beyond the engine's stock), and
// at the end, after a drain of virtual time in silence: every record ended exactly once, and
// every frame lent came back.
//
// The script format (the seed generator writes it, the fuzzer mutates it):
//   byte 0, 1     configuration (see Config below)
//   then steps    [op] [operands]; op & 7 is the command, the upper bits its modifiers
// A script that ends mid-step ends there; unknown bits are ignored, so every input is valid.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "support/segments.hpp"
#include "support/test_io.hpp"
#include "synwave/checksum.hpp"
#include "synwave/engine.hpp"
#include "synwave/syn_cookie.hpp"
#include "synwave/wire/arp.hpp"
#include "synwave/wire/icmpv6.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/ipv6.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave::fuzz {

using test::Bytes;
using test::ip4;

// The addresses of tests/data/make_scapy_frames.py, so its frames are seeds as they are.
inline const MacAddr kServerMac{{0x02, 0, 0, 0, 0, 0x01}};
inline const MacAddr kClientMac{{0x02, 0, 0, 0, 0, 0x02}};
inline constexpr std::uint32_t kServerIp = ip4(198, 18, 0, 1);
inline constexpr std::uint32_t kClientIp = ip4(198, 18, 0, 2);
// Both engines are dual-stack: IPv6 opens, frames and spoofed SYNs reach the same tables.
inline constexpr Ipv6Addr kServerIp6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
inline constexpr Ipv6Addr kClientIp6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
inline constexpr std::uint16_t kHttpPort = 80;
inline constexpr std::uint16_t kAltPort = 8080;
inline constexpr TimeNs kStart = 1 * kSecond;

// Small on purpose: a handful of SYNs fills the backlog, the pools and the TIME-WAIT table.
inline constexpr std::uint32_t kMaxConnections = 8;
inline constexpr std::uint32_t kSynBacklog = 4;
inline constexpr std::uint32_t kAcceptBacklog = 2;

// The engine keeps at most this many empty frames in stock between calls (engine.hpp kBatch);
// its transmit batch is empty after every flush. Any other frame missing from an arena leaked.
inline constexpr std::uint32_t kEngineStock = 32;
inline constexpr std::uint32_t kArenaBuffers = 48;
// Frames waiting on the link per direction; older ones are lost, as a full queue loses them.
inline constexpr std::size_t kLinkQueue = 128;
// Steps of virtual time the final drain may take before the run is declared stuck.
inline constexpr std::uint32_t kMaxDrainSteps = 200000;

enum Op : std::uint8_t {
  kOpServerFrame = 0,  // [len:2][bytes]  bit7: fix checksums, bit6: NIC verified, bit5: to our MAC/IP
  kOpClientFrame = 1,  // same, to the client engine
  kOpClock = 2,        // [n:2] clock += n units; bits 3-4: unit 1 us, 64 us, 1 ms, 64 ms
  kOpLink = 3,         // bits 3-4: 0 deliver all pending, 1 one client->server, 2 one server->client, 3 lose one each way
  kOpOpen = 4,         // [local:2][remote:2] bit5: the server opens toward the client (else the client), bit6: over IPv6
  kOpUser = 5,         // [conn:1][bytes:2] client, manual workload: bits 3-4: send, close, abort, send+close
  kOpMutate = 6,       // [offset:2][xor:1] the newest pending frame, bit3: server->client; bit7: keep checksums
  kOpControl = 7,      // bits 3-4: 0 refill on/off (bit5: client), 1 rotate cookie secret, 2 spoofed SYN [seed:2] (bit6: IPv6), 3 ACK the last cookie SYN-ACK [delta:1]
};

// Byte 0: the server's listener and the workload of both sides. Byte 1: the rest.
struct Config {
  std::uint8_t a = 0;
  std::uint8_t b = 0;

  [[nodiscard]] SynCookieMode cookies() const {
    switch (a & 3) {
      case 1: return SynCookieMode::kAlways;
      case 2: return SynCookieMode::kOff;
      default: return SynCookieMode::kOnOverflow;
    }
  }
  [[nodiscard]] bool reset_bad_cookies() const { return (a & 3) != 3; }
  [[nodiscard]] bool slow_accept() const { return (a & 0x04) != 0; }
  [[nodiscard]] bool abort_on_overflow() const { return (a & 0x08) != 0; }
  [[nodiscard]] WorkloadKind workload() const {
    switch ((a >> 4) & 3) {
      case 1: return WorkloadKind::kRaw;
      case 2: return WorkloadKind::kNone;
      default: return WorkloadKind::kHttp;
    }
  }
  [[nodiscard]] ClosePolicy close() const {
    switch ((a >> 6) & 3) {
      case 1: return ClosePolicy::kClientFirst;
      case 2: return ClosePolicy::kReset;
      case 3: return ClosePolicy::kHalfClose;
      default: return ClosePolicy::kServerFirst;
    }
  }
  [[nodiscard]] bool client_manual() const { return (b & 0x01) != 0; }
  [[nodiscard]] bool no_delayed_ack() const { return (b & 0x02) != 0; }
  [[nodiscard]] bool client_no_timestamps() const { return (b & 0x04) != 0; }
  [[nodiscard]] bool server_no_timestamps() const { return (b & 0x08) != 0; }
  [[nodiscard]] bool client_no_sack_wscale() const { return (b & 0x10) != 0; }
  [[nodiscard]] bool tiny_time_wait_table() const { return (b & 0x20) != 0; }
  [[nodiscard]] bool long_time_wait() const { return (b & 0x40) != 0; }
  [[nodiscard]] bool client_small_mtu() const { return (b & 0x80) != 0; }
};

// Shared by both engines; short so that drains and expiries cost little virtual time.
inline EngineConfig base_config(const Config& cfg) {
  EngineConfig c;
  c.prefix_len = 24;
  c.neighbor_cache_size = 8;
  c.max_connections = kMaxConnections;
  c.syn_backlog = kSynBacklog;  // also sizes a client's half-open pool (one listener's worth)
  c.backlog = kAcceptBacklog;
  c.max_time_wait = cfg.tiny_time_wait_table() ? 1 : 4;
  c.delayed_ack = cfg.no_delayed_ack() ? 0 : 40 * kMillisecond;
  c.rto_initial = 200 * kMillisecond;
  c.rto_min = 50 * kMillisecond;
  c.rto_max = 1 * kSecond;
  c.syn_retries = 2;
  c.synack_retries = 2;
  c.max_retries = 3;
  c.synack_timeout = 100 * kMillisecond;
  c.idle_timeout = 2 * kSecond;
  c.fin_wait2_timeout = 1 * kSecond;
  c.time_wait = cfg.long_time_wait() ? 3 * kSecond : 500 * kMillisecond;
  c.cookie_rotation = 2 * kSecond;
  c.challenge_ack_limit = 4;
  c.workload.kind = cfg.workload();
  c.workload.close = cfg.close();
  c.workload.request_bytes = 100;
  c.workload.response_bytes = 3000;  // several segments, so losses and partial ACKs matter
  return c;
}

inline EngineConfig server_config(const Config& cfg, const CookieSecrets* secrets) {
  EngineConfig c = base_config(cfg);
  c.local_ip = kServerIp;
  c.local_ip6 = kServerIp6;
  c.local_mac = kServerMac;
  c.neighbors.push_back({kClientIp, kClientMac});
  c.neighbors6.push_back({kClientIp6, kClientMac});
  c.listen_ports = {kHttpPort, kAltPort};
  c.syn_cookies = cfg.cookies();
  c.reset_bad_cookies = cfg.reset_bad_cookies();
  c.cookie_secrets = secrets;
  c.accept_rate = cfg.slow_accept() ? 20.0 : 0.0;
  c.abort_on_overflow = cfg.abort_on_overflow();
  c.timestamps = !cfg.server_no_timestamps();
  c.secret0 = 0x1111111111111111ull;
  c.secret1 = 0x2222222222222222ull;
  return c;
}

inline EngineConfig client_config(const Config& cfg) {
  EngineConfig c = base_config(cfg);
  c.local_ip = kClientIp;
  c.local_ip6 = kClientIp6;
  c.local_mac = kClientMac;
  c.neighbors.push_back({kServerIp, kServerMac});
  c.neighbors6.push_back({kServerIp6, kServerMac});
  if (cfg.client_manual()) c.workload.kind = WorkloadKind::kManual;
  c.timestamps = !cfg.client_no_timestamps();
  c.sack_permitted = !cfg.client_no_sack_wscale();
  c.window_scaling = !cfg.client_no_sack_wscale();
  if (cfg.client_small_mtu()) c.mtu = 576;
  return c;
}

// Sets the IPv4 header checksum and the TCP checksum of an Ethernet/IPv4/TCP frame to their
// correct values, so that a mutated frame reaches the state machine instead of dying at the
// checksum check. Anything that does not parse that far is left as it is.
inline void fix_checksums6(std::uint8_t* f, std::size_t len) {
  Ipv6Header ip;
  std::uint8_t* start = f + EthernetHeader::kSize;
  if (parse_ipv6(start, len - EthernetHeader::kSize, ip) != Ipv6Error::kOk) return;
  std::uint8_t* upper = start + ip.upper_offset;
  const std::uint32_t upper_len = ip.upper_len();
  std::size_t field = 0;
  if (ip.next_header == kIpProtoTcp && upper_len >= TcpSegment::kMinHeaderSize) field = 16;
  else if (ip.next_header == kIpProtoIcmpv6 && upper_len >= 4) field = 2;
  else return;
  store_be16(upper + field, 0);
  store_be16(upper + field,
             checksum_finish(checksum_add(upper, upper_len, pseudo_header_sum_ipv6(ip.src, ip.dst, ip.next_header, upper_len))));
}

inline void fix_checksums(std::uint8_t* f, std::size_t len) {
  if (len >= EthernetHeader::kSize + Ipv6Header::kSize && load_be16(f + 12) == kEtherTypeIpv6) return fix_checksums6(f, len);
  if (len < EthernetHeader::kSize + Ipv4Header::kMinSize || load_be16(f + 12) != kEtherTypeIpv4) return;
  std::uint8_t* ip = f + EthernetHeader::kSize;
  const std::size_t ip_avail = len - EthernetHeader::kSize;
  const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
  if (ihl < Ipv4Header::kMinSize || ihl > ip_avail) return;
  store_be16(ip + 10, 0);
  store_be16(ip + 10, checksum_finish(checksum_add(ip, ihl)));
  const std::uint16_t total = load_be16(ip + 2);
  if (ip[9] != kIpProtoTcp || total < ihl + TcpSegment::kMinHeaderSize || total > ip_avail) return;
  std::uint8_t* tcp = ip + ihl;
  const auto tcp_len = static_cast<std::uint16_t>(total - ihl);
  store_be16(tcp + 16, 0);
  store_be16(tcp + 16, checksum_finish(checksum_add(
                           tcp, tcp_len, pseudo_header_sum(load_be32(ip + 12), load_be32(ip + 16), kIpProtoTcp, tcp_len))));
}

// An IPv6 frame an engine sent: TCP from its address, or Neighbor Discovery, an echo reply or a
// Parameter Problem (ICMPv6, from its address), the checksum complete.
inline void check_sent_frame6(const Bytes& f) {
  const std::uint8_t* start = f.data() + EthernetHeader::kSize;
  Ipv6Header ip;
  FUZZ_CHECK(parse_ipv6(start, f.size() - EthernetHeader::kSize, ip) == Ipv6Error::kOk);
  FUZZ_CHECK(ip.upper_offset == Ipv6Header::kSize);
  FUZZ_CHECK(Ipv6Header::kSize + ip.payload_len == f.size() - EthernetHeader::kSize);
  FUZZ_CHECK(ip.src == kServerIp6 || ip.src == kClientIp6);
  const std::uint8_t* upper = start + ip.upper_offset;
  const std::uint32_t len = ip.upper_len();
  FUZZ_CHECK(checksum_fold(checksum_add(upper, len, pseudo_header_sum_ipv6(ip.src, ip.dst, ip.next_header, len))) ==
             0xffff);
  if (ip.next_header == kIpProtoIcmpv6) {
    FUZZ_CHECK(upper[0] == kIcmpv6NeighborAdvertisement || upper[0] == kIcmpv6NeighborSolicitation ||
               upper[0] == kIcmpv6EchoReply || upper[0] == kIcmpv6ParameterProblem);
    // An error message never exceeds IPv6's minimum MTU (RFC 4443 §2.4(c)).
    if (upper[0] == kIcmpv6ParameterProblem) FUZZ_CHECK(f.size() - EthernetHeader::kSize <= 1280);
    return;
  }
  FUZZ_CHECK(ip.next_header == kIpProtoTcp);
  TcpSegment seg;
  FUZZ_CHECK(parse_tcp(upper, static_cast<std::uint16_t>(len), seg) == TcpError::kOk);
  FUZZ_CHECK(!seg.options.malformed);
  FUZZ_CHECK(!(seg.has(tcp_flags::kSyn) && seg.has(tcp_flags::kRst)));
  if (seg.has(tcp_flags::kRst)) FUZZ_CHECK(seg.payload_len == 0);
}

// Checks one frame an engine sent: well-formed at every layer, checksums complete (no offload
// configured), from the engine's own addresses, within the MTU.
inline void check_sent_frame(const Bytes& f, const EngineConfig& c) {
  EthernetHeader eth;
  FUZZ_CHECK(parse_ethernet(f.data(), f.size(), eth) == EthernetError::kOk);
  FUZZ_CHECK(eth.src == c.local_mac);
  if (eth.ether_type == kEtherTypeArp) {
    ArpPacket arp;
    FUZZ_CHECK(f.size() == EthernetHeader::kSize + ArpPacket::kSize);
    FUZZ_CHECK(parse_arp(f.data() + EthernetHeader::kSize, ArpPacket::kSize, arp) == ArpError::kOk);
    FUZZ_CHECK(arp.sender_ip == c.local_ip && arp.sender_mac == c.local_mac);
    return;
  }
  FUZZ_CHECK(f.size() <= EthernetHeader::kSize + c.mtu);
  if (eth.ether_type == kEtherTypeIpv6) return check_sent_frame6(f);
  FUZZ_CHECK(eth.ether_type == kEtherTypeIpv4);
  const std::uint8_t* ip_start = f.data() + EthernetHeader::kSize;
  Ipv4Header ip;
  FUZZ_CHECK(parse_ipv4(ip_start, f.size() - EthernetHeader::kSize, ip, true) == Ipv4Error::kOk);
  FUZZ_CHECK(ip.total_len == f.size() - EthernetHeader::kSize);
  FUZZ_CHECK(ip.src == c.local_ip && ip.protocol == kIpProtoTcp);
  const std::uint8_t* tcp = ip_start + ip.header_len;
  const auto tcp_len = static_cast<std::uint16_t>(ip.total_len - ip.header_len);
  TcpSegment seg;
  FUZZ_CHECK(parse_tcp(tcp, tcp_len, seg) == TcpError::kOk);
  FUZZ_CHECK(!seg.options.malformed);
  FUZZ_CHECK(checksum_fold(checksum_add(tcp, tcp_len, pseudo_header_sum(ip.src, ip.dst, kIpProtoTcp, tcp_len))) ==
             0xffff);
  // RFC 9293: a segment never carries both SYN and RST; an RST carries no data.
  FUZZ_CHECK(!(seg.has(tcp_flags::kSyn) && seg.has(tcp_flags::kRst)));
  if (seg.has(tcp_flags::kRst)) FUZZ_CHECK(seg.payload_len == 0);
}

// Every failure has exactly one reason: the reasons are every counter named conn_failed_*, read
// from the counter list itself so that a reason added later is never left out. Both sides only
// grow, so a miss stays visible: checked once, at the end (it is the costliest check).
inline void check_failure_reasons(const Counters& c) {
  std::uint64_t reasons = 0;
  c.for_each([&](std::string_view name, std::uint64_t value) {
    if (name.starts_with("conn_failed_")) reasons += value;
  });
  FUZZ_CHECK(reasons == c.conn_failed);
}

// Per-step invariants of one engine's books.
inline void check_books(const Engine& e) {
  const Counters& c = e.counters();
  const EngineGauges g = e.gauges();
  std::uint64_t by_state = 0;
  for (std::uint32_t n : g.by_state) by_state += n;
  FUZZ_CHECK(by_state == g.connections);
  // Between calls no record sits in CLOSED or LISTEN: those are not states a record is kept in.
  FUZZ_CHECK(g.in(TcpState::kClosed) == 0 && g.in(TcpState::kListen) == 0);
  const EngineConfig& cfg = e.config();
  const std::uint64_t half_open_cap = std::uint64_t{cfg.syn_backlog} * std::max<std::size_t>(1, cfg.listen_ports.size());
  FUZZ_CHECK(g.connections <= cfg.max_connections + half_open_cap + cfg.max_time_wait);
  FUZZ_CHECK(g.in(TcpState::kTimeWait) <= cfg.max_connections + cfg.max_time_wait);
  // An outcome is counted once per record, and only for records that were opened or accepted.
  FUZZ_CHECK(c.conn_completed + c.conn_failed <= c.conn_opened + c.conn_accepted);
  FUZZ_CHECK(c.conn_established <= c.conn_opened + c.conn_accepted);
}

class EngineScript {
 public:
  // Called with every frame an engine sends (side 0: client, 1: server), for the seed generator.
  using Recorder = std::function<void(int side, const Bytes& frame)>;

  EngineScript(const std::uint8_t* data, std::size_t size, Recorder recorder = nullptr)
      : p_(data), end_(data + size), recorder_(std::move(recorder)) {}

  void run() {
    if (end_ - p_ < 2) return;
    cfg_.a = *p_++;
    cfg_.b = *p_++;
    secrets_ = std::make_unique<CookieSecrets>(SipKey{0x0123456789abcdefull, 0x0fedcba987654321ull});
    peers_[0].io = std::make_unique<test::TestIo>(kArenaBuffers);
    peers_[1].io = std::make_unique<test::TestIo>(kArenaBuffers);
    peers_[0].engine = std::make_unique<Engine>(client_config(cfg_), peers_[0].io->io(), now_);
    peers_[1].engine = std::make_unique<Engine>(server_config(cfg_, secrets_.get()), peers_[1].io->io(), now_);

    std::uint32_t steps = 0;
    while (p_ < end_ && steps++ < 1024) {
      step(*p_++);
      collect();
      for (auto& peer : peers_) check_books(*peer.engine);
    }
    finish();
  }

  // Each engine's counters at the end of run() (0: client, 1: server).
  [[nodiscard]] const Counters& final_counters(int side) const { return final_[side]; }

 private:
  struct Peer {
    std::unique_ptr<test::TestIo> io;
    std::unique_ptr<Engine> engine;
    std::deque<Bytes> inbound;  // sent by the other engine, not yet delivered
    std::uint64_t delivered = 0;
    std::uint64_t transmitted = 0;
    bool refill = true;
  };

  bool take(std::size_t n) const { return static_cast<std::size_t>(end_ - p_) >= n; }
  std::uint16_t u16() {
    const std::uint16_t v = load_be16(p_);
    p_ += 2;
    return v;
  }

  void step(std::uint8_t op) {
    const std::uint8_t mode = (op >> 3) & 3;
    switch (op & 7) {
      case kOpServerFrame:
      case kOpClientFrame: {
        if (!take(2)) return end();
        const std::size_t want = u16() % (test::TestIo::kBufferSize + 1);
        const std::size_t n = std::min<std::size_t>(want, static_cast<std::size_t>(end_ - p_));
        Bytes f(p_, p_ + n);
        p_ += n;
        const int side = (op & 7) == kOpServerFrame ? 1 : 0;
        if ((op & 0x20) != 0 && f.size() >= EthernetHeader::kSize + Ipv6Header::kSize &&
            load_be16(f.data() + 12) == kEtherTypeIpv6) {
          const EngineConfig& c = peers_[side].engine->config();
          c.local_mac.store(f.data());
          std::copy(c.local_ip6.begin(), c.local_ip6.end(), f.begin() + EthernetHeader::kSize + 24);
        } else if ((op & 0x20) != 0 && f.size() >= EthernetHeader::kSize + Ipv4Header::kMinSize) {
          const EngineConfig& c = peers_[side].engine->config();
          c.local_mac.store(f.data());
          store_be32(f.data() + EthernetHeader::kSize + 16, c.local_ip);
        }
        if ((op & 0x80) != 0) fix_checksums(f.data(), f.size());
        deliver(side, f, (op & 0x40) != 0);
        return;
      }
      case kOpClock: {
        if (!take(2)) return end();
        static constexpr TimeNs kUnits[4] = {kMicrosecond, 64 * kMicrosecond, kMillisecond, 64 * kMillisecond};
        now_ += TimeNs{u16()} * kUnits[mode];
        for (auto& peer : peers_) peer.engine->advance(now_);
        if (secret_rotated_at_ + cfg_cookie_rotation() <= now_) rotate_secret();
        return;
      }
      case kOpLink: link(mode); return;
      case kOpOpen: {
        if (!take(4)) return end();
        const std::uint16_t local = u16();
        const std::uint16_t remote = u16();
        const int side = (op & 0x20) != 0 ? 1 : 0;
        Engine& e = *peers_[side].engine;
        if ((op & 0x40) != 0) (void)e.open(side == 0 ? kServerIp6 : kClientIp6, remote, local, now_);
        else (void)e.open(side == 0 ? kServerIp : kClientIp, remote, local, now_);
        e.flush();
        return;
      }
      case kOpUser: {
        if (!take(3)) return end();
        const std::uint32_t conn = *p_++ % kMaxConnections;
        const std::uint16_t bytes = u16();
        if (!cfg_.client_manual()) return;  // user calls belong to the manual workload
        Engine& e = *peers_[0].engine;
        if (mode == 0 || mode == 3) (void)e.send(conn, bytes, now_);
        if (mode == 1 || mode == 3) (void)e.close(conn, now_);
        if (mode == 2) (void)e.abort(conn, now_);
        e.flush();
        return;
      }
      case kOpMutate: {
        if (!take(3)) return end();
        const std::uint16_t offset = u16();
        const std::uint8_t mask = *p_++;
        const int to = (op & 0x08) != 0 ? 0 : 1;
        auto& q = peers_[to].inbound;
        if (q.empty()) return;
        Bytes f = q.back();
        q.pop_back();
        if (f.empty()) return;
        f[offset % f.size()] ^= mask;
        if ((op & 0x80) == 0) fix_checksums(f.data(), f.size());
        deliver(to, f, false);
        return;
      }
      case kOpControl: control(op, mode); return;
      default: return;
    }
  }

  TimeNs cfg_cookie_rotation() const { return peers_[1].engine->config().cookie_rotation; }

  void rotate_secret() {
    ++rotations_;
    secrets_->rotate(SipKey{0x9e3779b97f4a7c15ull * rotations_, 0xc2b2ae3d27d4eb4full ^ rotations_});
    secret_rotated_at_ = now_;
  }

  void control(std::uint8_t op, std::uint8_t mode) {
    switch (mode) {
      case 0: {
        Peer& peer = peers_[(op & 0x20) != 0 ? 0 : 1];
        peer.refill = !peer.refill;
        peer.io->set_refill_allowed(peer.refill);
        return;
      }
      case 1: rotate_secret(); return;
      case 2: {
        // A SYN from a host the simulation does not model (a flood's spoofed source, another /24
        // of 198.18.0.0/15), answered to a MAC nobody owns: the SYN-ACK is kept for mode 3.
        if (!take(2)) return end();
        const std::uint16_t seed = u16();
        test::SegmentSpec s;
        s.src_mac = MacAddr{{0x02, 0x5f, 0, 0, static_cast<std::uint8_t>(seed >> 8), static_cast<std::uint8_t>(seed)}};
        s.dst_mac = kServerMac;
        s.src_ip = ip4(198, 19, static_cast<std::uint8_t>(seed >> 8), static_cast<std::uint8_t>(seed | 1));
        s.dst_ip = kServerIp;
        s.ipv6 = (op & 0x40) != 0;
        s.src_ip6 = Ipv6Addr{0x20, 0x01, 0x0d, 0xb8, 0, 0x5f, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(seed >> 8),
                             static_cast<std::uint8_t>(seed | 1)};
        s.dst_ip6 = kServerIp6;
        s.src_port = static_cast<std::uint16_t>(1024 + seed);
        s.dst_port = (op & 0x20) != 0 ? kAltPort : kHttpPort;
        s.seq = 0x9e3779b9u * (seed + 1u);
        s.flags = tcp_flags::kSyn;
        s.window = 64240;
        s.options.mss = true;
        s.options.mss_value = static_cast<std::uint16_t>(536 + (seed & 1023));
        s.options.timestamps = (seed & 0x100) == 0;
        s.options.ts_val = seed * 7919u + 1u;
        s.options.sack_permitted = (seed & 0x200) == 0;
        s.options.window_scale = (seed & 0x400) == 0;
        s.options.window_scale_shift = static_cast<std::uint8_t>(seed & 15);
        deliver(1, test::build_segment(s), false);
        return;
      }
      case 3: {
        // The spoofed host's final ACK (a cookie ACK when the SYN-ACK carried one), its
        // acknowledgment number moved by delta so forged cookies are tried as well.
        if (!take(1)) return end();
        const std::uint8_t delta = *p_++;
        if (spoofed_synack_.empty()) return;
        const auto parsed = test::parse_frame(spoofed_synack_);
        if (!parsed || !parsed->has(tcp_flags::kSyn) || !parsed->has(tcp_flags::kAck)) return;
        test::SegmentSpec s;
        s.src_mac = parsed->eth.dst;
        s.dst_mac = kServerMac;
        s.src_ip = parsed->ip.dst;
        s.dst_ip = kServerIp;
        s.ipv6 = parsed->ipv6;
        s.src_ip6 = parsed->ip6.dst;
        s.dst_ip6 = kServerIp6;
        s.src_port = parsed->tcp.dst_port;
        s.dst_port = parsed->tcp.src_port;
        s.seq = parsed->tcp.ack.raw();
        s.ack = parsed->tcp.seq.raw() + 1u + delta;
        s.flags = tcp_flags::kAck;
        s.window = 502;
        if (parsed->tcp.options.has_timestamps) {
          s.options.timestamps = true;
          s.options.ts_val = parsed->tcp.options.ts_ecr + 1u;
          s.options.ts_ecr = parsed->tcp.options.ts_val;
        }
        deliver(1, test::build_segment(s), false);
        return;
      }
      default: return;
    }
  }

  void link(std::uint8_t mode) {
    switch (mode) {
      case 0: {
        // One round: what is pending now; replies join the queues for a later round.
        std::deque<Bytes> pending[2];
        pending[0].swap(peers_[0].inbound);
        pending[1].swap(peers_[1].inbound);
        for (int side : {1, 0}) {
          for (const Bytes& f : pending[side]) deliver(side, f, false);
        }
        return;
      }
      case 1:
      case 2: {
        const int to = mode == 1 ? 1 : 0;
        auto& q = peers_[to].inbound;
        if (q.empty()) return;
        const Bytes f = std::move(q.front());
        q.pop_front();
        deliver(to, f, false);
        return;
      }
      default:
        for (auto& peer : peers_) {
          if (!peer.inbound.empty()) peer.inbound.pop_front();
        }
        return;
    }
  }

  // Hands a frame to an engine as a driver does, and frees it unless the engine kept it.
  void deliver(int side, const Bytes& bytes, bool nic_verified) {
    Peer& peer = peers_[side];
    if (bytes.size() > test::TestIo::kBufferSize) return;
    // Every buffer but the engine's stock is free between calls (checked in collect()).
    FUZZ_CHECK(peer.io->free_buffers() > 0);
    // An empty frame is still a frame (counted as truncated); TestIo copies at least one byte.
    Frame f = peer.io->rx_frame(bytes.empty() ? Bytes{0} : bytes);
    f.len = static_cast<std::uint16_t>(bytes.size());
    if (nic_verified) f.flags = frame_flags::kRxIpChecksumGood | frame_flags::kRxL4ChecksumGood;
    ++peer.delivered;
    const bool kept = peer.engine->input(f, now_);
    if (!kept) {
      Frame none[1] = {f};
      peer.io->io().release(peer.io.get(), none, 1);
    }
    peer.engine->flush();
    collect();
  }

  // Moves what each engine sent onto the link, checking each frame and the engine's frame books.
  void collect() {
    for (int side = 0; side < 2; ++side) {
      Peer& peer = peers_[side];
      Peer& other = peers_[1 - side];
      const EngineConfig& cfg = peer.engine->config();
      auto& sent = peer.io->sent();
      while (!sent.empty()) {
        Bytes f = std::move(sent.front());
        sent.pop_front();
        ++peer.transmitted;
        check_sent_frame(f, cfg);
        if (recorder_) recorder_(side, f);
        const MacAddr dst = MacAddr::load(f.data());
        if (dst == other.engine->config().local_mac || dst.is_broadcast()) {
          if (other.inbound.size() == kLinkQueue) other.inbound.pop_front();
          other.inbound.push_back(std::move(f));
        } else if (side == 1) {
          spoofed_synack_ = std::move(f);  // to a spoofed source: nobody receives it
        }
      }
      const Counters& c = peer.engine->counters();
      FUZZ_CHECK(c.tx_frames == peer.transmitted);
      FUZZ_CHECK(c.rx_frames == peer.delivered);
      FUZZ_CHECK(peer.io->free_buffers() + kEngineStock >= kArenaBuffers);
    }
  }

  void end() { p_ = end_; }

  // Silence until every timer has run out: then no record may be left, each record ended exactly
  // once, and each engine gives back every frame it was lent.
  void finish() {
    if (cfg_.client_manual()) {
      // Manual connections have no idle limit: the application ends them.
      for (std::uint32_t id = 0; id < kMaxConnections; ++id) (void)peers_[0].engine->abort(id, now_);
      peers_[0].engine->flush();
      collect();
    }
    for (auto& peer : peers_) peer.inbound.clear();
    std::uint32_t steps = 0;
    for (;;) {
      const TimeNs next = std::min(peers_[0].engine->next_deadline(), peers_[1].engine->next_deadline());
      if (next == kNever) break;
      FUZZ_CHECK(++steps <= kMaxDrainSteps);
      if (next > now_) now_ = next;
      for (auto& peer : peers_) peer.engine->advance(now_);
      collect();
      for (auto& peer : peers_) peer.inbound.clear();
    }
    for (auto& peer : peers_) {
      const Engine& e = *peer.engine;
      check_books(e);
      check_failure_reasons(e.counters());
      FUZZ_CHECK(e.gauges().connections == 0);
      const Counters& c = e.counters();
      FUZZ_CHECK(c.conn_opened + c.conn_accepted == c.conn_completed + c.conn_failed);
    }
    for (int side = 0; side < 2; ++side) final_[side] = peers_[side].engine->counters();
    for (auto& peer : peers_) {
      peer.engine.reset();
      FUZZ_CHECK(peer.io->free_buffers() == kArenaBuffers);
    }
  }

  const std::uint8_t* p_;
  const std::uint8_t* end_;
  Recorder recorder_;
  Config cfg_;
  TimeNs now_ = kStart;
  std::unique_ptr<CookieSecrets> secrets_;
  TimeNs secret_rotated_at_ = kStart;
  std::uint64_t rotations_ = 0;
  Peer peers_[2];
  Bytes spoofed_synack_;
  Counters final_[2];
};

}  // namespace synwave::fuzz
