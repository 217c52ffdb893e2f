#pragma once
// A scripted TCP peer for state-machine tests: it talks to ONE engine under test with segments
// built by hand, and checks every segment the engine sends back (the style of smoltcp's socket
// tests and msquic's per-state fixtures). Time is virtual and only moves when a test says so.
//
//   TcpPeer p;
//   p.MakeEstablished();                        // passive open, three-way handshake done
//   p.Send({.flags = kRst, .seq = p.R(1)});     // hand-built segment, absolute numbers
//   p.ExpectNothing();
//   EXPECT_TRUE(p.Gone());
//
// Sequence numbers: L(n) is the engine's ISS + n, R(n) the peer's ISS + n. The peer also keeps
// its own view (snd_nxt: what it sends next, rcv_nxt: what it expects from the engine) so the
// Send* helpers write the common segments without arithmetic in the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>
#include <source_location>
#include <string>

#include "support/family.hpp"
#include "support/segments.hpp"
#include "support/test_io.hpp"
#include "synwave/engine.hpp"

namespace synwave::test {

inline constexpr std::uint8_t kFin = tcp_flags::kFin;
inline constexpr std::uint8_t kSyn = tcp_flags::kSyn;
inline constexpr std::uint8_t kRst = tcp_flags::kRst;
inline constexpr std::uint8_t kPsh = tcp_flags::kPsh;
inline constexpr std::uint8_t kAck = tcp_flags::kAck;
inline constexpr std::uint8_t kSynAck = kSyn | kAck;
inline constexpr std::uint8_t kFinAck = kFin | kAck;
inline constexpr std::uint8_t kRstAck = kRst | kAck;

// "Any value" for ExpectEmit's sequence and acknowledgment numbers.
inline constexpr std::optional<std::uint32_t> kAny = std::nullopt;

inline std::string flag_names(std::uint8_t f) {
  std::string s;
  auto add = [&](std::uint8_t bit, const char* name) {
    if ((f & bit) == 0) return;
    if (!s.empty()) s += '|';
    s += name;
  };
  add(kSyn, "SYN");
  add(kFin, "FIN");
  add(kRst, "RST");
  add(kPsh, "PSH");
  add(kAck, "ACK");
  return s.empty() ? "none" : s;
}

// What the peer's SYN (or SYN-ACK) offers; timestamps, when on, ride on every segment.
struct PeerOptions {
  bool mss = true;
  std::uint16_t mss_value = 1460;
  bool window_scale = false;
  std::uint8_t window_scale_shift = 7;
  bool timestamps = false;
  bool sack_permitted = false;
};

// One segment the peer sends. Numbers are absolute (use L(n) / R(n)).
struct Seg {
  std::uint8_t flags = kAck;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint32_t len = 0;                // payload bytes
  std::uint16_t window = 65535;         // the raw header field
  std::optional<std::uint32_t> ts_val = std::nullopt;  // overrides the peer's timestamp clock
  std::string_view text = {};           // the payload's bytes (len is then ignored)
  std::vector<SackBlock> sack = {};     // SACK blocks (absolute sequence numbers)
  bool bad_tcp_checksum = false;        // the TCP checksum field corrupted after it was computed
};

// Which side opened the connection under test.
enum class Side : std::uint8_t { kPassive, kActive };

inline const char* side_name(Side s) { return s == Side::kPassive ? "Passive" : "Active"; }

class TcpPeer {
 public:
  static inline const MacAddr kEngineMac{{0x02, 0, 0, 0, 0, 0x10}};
  static inline const MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x20}};
  static constexpr std::uint32_t kEngineIp = ip4(198, 18, 0, 1);
  static constexpr std::uint32_t kPeerIp = ip4(198, 18, 0, 2);
  static constexpr Ipv6Addr kEngineIp6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  static constexpr Ipv6Addr kPeerIp6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
  static constexpr std::uint16_t kListenPort = 80;       // the engine listens here
  static constexpr std::uint16_t kClosedPort = 81;       // nobody listens here
  static constexpr std::uint16_t kPeerPort = 40000;      // the peer's port in a passive open
  static constexpr std::uint16_t kEngineActivePort = 30000;  // the engine's port in an active open
  static constexpr std::uint16_t kPeerServerPort = 5000;     // the peer's port in an active open
  static constexpr std::uint32_t kDefaultPeerIss = 1000000;
  static constexpr TimeNs kStart = 10 * kSecond;

  // The engine as these tests run it: kManual (nothing automatic), one listener, the peer known.
  static EngineConfig DefaultConfig() {
    EngineConfig c;
    c.local_ip = kEngineIp;
    c.local_mac = kEngineMac;
    c.prefix_len = 24;
    c.neighbors.push_back({kPeerIp, kPeerMac});
    c.listen_ports = {kListenPort};
    c.max_connections = 64;
    c.workload.kind = WorkloadKind::kManual;
    if (family_from_environment() == Family::kIpv6) {
      c.local_ip6 = kEngineIp6;
      c.neighbors6.push_back({kPeerIp6, kPeerMac});
      // 20 bytes more for the longer header: the same MSS (1460) and segment sizes as over IPv4,
      // so one test's numbers hold for both families.
      c.mtu = 1520;
    }
    return c;
  }
  [[nodiscard]] bool ipv6() const { return family_ == Family::kIpv6; }
  // Bytes before the TCP header in the frames of the connection under test.
  [[nodiscard]] std::size_t tcp_offset() const {
    return EthernetHeader::kSize + (ipv6() ? Ipv6Header::kSize : Ipv4Header::kMinSize);
  }

  explicit TcpPeer(const EngineConfig& config = DefaultConfig(), const PeerOptions& options = {},
                   std::uint32_t peer_iss = kDefaultPeerIss)
      : options_(options), remote_iss_(peer_iss), now_(kStart) {
    engine_ = std::make_unique<Engine>(config, io_.io(), now_);
    UsePassiveTuple();
  }

  Engine& engine() { return *engine_; }
  const Counters& counters() const { return engine_->counters(); }
  TestIo& io() { return io_; }
  TimeNs now() const { return now_; }
  PeerOptions& options() { return options_; }

  // --- the connection under test -------------------------------------------------------------

  FlowKey key() const { return KeyOf(engine_port_, peer_port_); }
  // The key of another tuple between the two hosts, in the family under test.
  FlowKey KeyOf(std::uint16_t engine_port, std::uint16_t peer_port) const {
    if (ipv6()) return engine_->flow_key(kEngineIp6, kPeerIp6, engine_port, peer_port);
    return FlowKey{kEngineIp, kPeerIp, engine_port, peer_port};
  }
  // The engine's active open toward the peer, in the family under test.
  OpenResult Open(std::uint16_t peer_port, std::uint16_t engine_port) {
    return ipv6() ? engine_->open(kPeerIp6, peer_port, engine_port, now_)
                  : engine_->open(kPeerIp, peer_port, engine_port, now_);
  }
  // A hand-built segment's link and network fields, peer to engine, in the family under test.
  void Address(SegmentSpec& spec) const {
    spec.src_mac = kPeerMac;
    spec.dst_mac = kEngineMac;
    spec.src_ip = kPeerIp;
    spec.dst_ip = kEngineIp;
    spec.ipv6 = ipv6();
    spec.src_ip6 = kPeerIp6;
    spec.dst_ip6 = kEngineIp6;
  }
  // The IP packet's length of a frame the engine sent (header included, as IPv4 counts it).
  static std::size_t IpPacketLength(const ParsedFrame& f) {
    return f.ipv6 ? Ipv6Header::kSize + f.ip6.payload_len : f.ip.total_len;
  }
  // The full connection record (none for a half-open passive open or for TIME-WAIT, which the
  // engine keeps as compact entries).
  std::uint32_t id() const { return engine_->find(key()); }
  // The engine holds nothing for the 4-tuple (freed, or never made).
  bool Gone() const { return State() == TcpState::kClosed; }
  // kClosed when nothing is held.
  TcpState State() const { return engine_->state_of(key()); }
  const Connection& Conn() const {
    static const Connection kMissing{};
    if (id() == kNoIndex) {
      ADD_FAILURE() << "the engine has no full record for the connection under test";
      return kMissing;
    }
    return engine_->connection(id());
  }

  // Ports of the 4-tuple; the Make* fixtures pick them.
  void UsePassiveTuple() {
    engine_port_ = kListenPort;
    peer_port_ = kPeerPort;
  }
  void UseActiveTuple() {
    engine_port_ = kEngineActivePort;
    peer_port_ = kPeerServerPort;
  }
  void UseTuple(std::uint16_t engine_port, std::uint16_t peer_port) {
    engine_port_ = engine_port;
    peer_port_ = peer_port;
  }

  // --- sequence numbers ------------------------------------------------------------------------

  std::uint32_t L(std::uint32_t n) const { return local_iss_ + n; }
  std::uint32_t R(std::uint32_t n) const { return remote_iss_ + n; }
  std::uint32_t local_iss() const { return local_iss_; }
  std::uint32_t remote_iss() const { return remote_iss_; }
  // The engine's last TSval (what the peer echoes in TSecr).
  std::uint32_t last_ts_val() const { return last_engine_ts_; }
  // The peer's timestamp clock (milliseconds, like Linux).
  std::uint32_t peer_ts() const { return 5000 + static_cast<std::uint32_t>(now_ / kMillisecond); }

  std::uint16_t rx_frame_flags = 0;  // what the device says of each frame the peer sends (frame_flags)
  std::uint32_t snd_nxt = 0;  // the peer's next sequence number
  std::uint32_t rcv_nxt = 0;  // what the peer expects from the engine next

  // --- the peer sends --------------------------------------------------------------------------

  void Send(const Seg& s) {
    SegmentSpec spec;
    Address(spec);
    spec.src_port = peer_port_;
    spec.dst_port = engine_port_;
    spec.seq = s.seq;
    spec.ack = s.ack;
    spec.flags = s.flags;
    spec.window = s.window;
    if ((s.flags & kSyn) != 0) {
      spec.options.mss = options_.mss;
      spec.options.mss_value = options_.mss_value;
      spec.options.window_scale = options_.window_scale;
      spec.options.window_scale_shift = options_.window_scale_shift;
      spec.options.sack_permitted = options_.sack_permitted;
    }
    if (options_.timestamps) {
      spec.options.timestamps = true;
      spec.options.ts_val = s.ts_val.value_or(peer_ts());
      spec.options.ts_ecr = (s.flags & kSyn) != 0 && (s.flags & kAck) == 0 ? 0 : last_engine_ts_;
    }
    spec.sack = s.sack;
    if (s.text.empty()) spec.payload.assign(s.len, static_cast<std::uint8_t>('p'));
    else spec.payload.assign(s.text.begin(), s.text.end());
    Bytes frame = build_segment(spec);
    if (s.bad_tcp_checksum) frame[tcp_offset() + 16] ^= 0xff;
    io_.deliver(*engine_, frame, now_, rx_frame_flags);
  }

  // The peer's side of the common segments, from its own snd_nxt / rcv_nxt.
  void SendAck(std::uint16_t window = 65535) { Send({.flags = kAck, .seq = snd_nxt, .ack = rcv_nxt, .window = window}); }
  void SendData(std::uint32_t len) {
    Send({.flags = kAck | kPsh, .seq = snd_nxt, .ack = rcv_nxt, .len = len});
    snd_nxt += len;
  }
  void SendFin() {
    Send({.flags = kFinAck, .seq = snd_nxt, .ack = rcv_nxt});
    snd_nxt += 1;
  }

  // --- the user calls, at the peer's clock (output is flushed) ---------------------------------

  bool Write(std::uint32_t bytes) { return Flushed(engine_->send(id(), bytes, now_)); }
  bool Close() { return Flushed(engine_->close(id(), now_)); }
  bool Abort() { return Flushed(engine_->abort(id(), now_)); }

  // --- what the engine sends -------------------------------------------------------------------

  // The next segment the engine sent must have exactly these flags (PSH is not compared) and
  // these numbers (the acknowledgment number only when ACK is expected). Returns it.
  ParsedFrame ExpectEmit(std::uint8_t flags, std::optional<std::uint32_t> seq, std::optional<std::uint32_t> ack,
                         std::source_location loc = std::source_location::current()) {
    ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()), "ExpectEmit");
    engine_->flush();
    if (io_.sent().empty()) {
      ADD_FAILURE() << "expected " << flag_names(flags) << " from the engine; it sent nothing";
      return {};
    }
    const std::optional<ParsedFrame> parsed = parse_frame(io_.pop_sent());
    if (!parsed) {
      ADD_FAILURE() << "the engine sent a frame that is not IPv4/TCP or IPv6/TCP";
      return {};
    }
    const ParsedFrame& f = *parsed;
    EXPECT_TRUE(f.ip_checksum_ok);
    EXPECT_TRUE(f.tcp_checksum_ok);
    EXPECT_EQ(f.ipv6, ipv6());
    if (ipv6()) {
      EXPECT_TRUE(f.ip6.src == kEngineIp6);
      EXPECT_TRUE(f.ip6.dst == kPeerIp6);
    } else {
      EXPECT_EQ(f.ip.src, kEngineIp);
      EXPECT_EQ(f.ip.dst, kPeerIp);
    }
    EXPECT_EQ(f.tcp.src_port, engine_port_);
    EXPECT_EQ(f.tcp.dst_port, peer_port_);
    constexpr std::uint8_t kCompared = kSyn | kFin | kRst | kAck;
    EXPECT_EQ(flag_names(f.tcp.flags & kCompared), flag_names(flags & kCompared));
    if (seq) {
      EXPECT_EQ(f.tcp.seq.raw(), *seq) << "sequence number of " << flag_names(f.tcp.flags);
    }
    if (ack && (flags & kAck) != 0) {
      EXPECT_EQ(f.tcp.ack.raw(), *ack) << "acknowledgment number of " << flag_names(f.tcp.flags);
    }
    Observe(f);
    return f;
  }

  // The engine sent nothing (since the last Expect*).
  void ExpectNothing(std::source_location loc = std::source_location::current()) {
    ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()), "ExpectNothing");
    engine_->flush();
    while (!io_.sent().empty()) {
      const std::optional<ParsedFrame> f = parse_frame(io_.pop_sent());
      if (f) {
        ADD_FAILURE() << "unexpected " << flag_names(f->tcp.flags) << " seq=" << f->tcp.seq.raw()
                      << " ack=" << f->tcp.ack.raw() << " len=" << f->payload.size();
      } else {
        ADD_FAILURE() << "unexpected non-TCP frame";
      }
    }
  }

  // Frames the engine has sent and no Expect* has taken yet.
  std::size_t Pending() {
    engine_->flush();
    return io_.sent().size();
  }

  // --- time ------------------------------------------------------------------------------------

  // Runs the engine's timers up to now + dt, stopping at every deadline on the way so each
  // fires at its own time.
  void Advance(TimeNs dt) { AdvanceTo(now_ + dt); }
  void AdvanceTo(TimeNs t) {
    while (now_ < t) {
      TimeNs next = engine_->next_deadline();
      if (next <= now_) next = now_ + kMillisecond;  // a stale lower bound: step past it
      now_ = std::min(next, t);
      engine_->advance(now_);
    }
    engine_->advance(now_);
  }

  // --- per-state fixtures (RFC 9293 §3.3.2) ----------------------------------------------------
  // Each drives the engine from nothing into the state, checking every segment on the way.
  // Afterwards snd_nxt / rcv_nxt hold the peer's view and L() / R() are meaningful.

  // LISTEN -> SYN-RECEIVED: the peer's SYN, the engine's SYN-ACK.
  void MakeSynReceived() {
    UsePassiveTuple();
    Send({.flags = kSyn, .seq = R(0), .ack = 0});
    snd_nxt = R(1);
    ExpectEmit(kSynAck, kAny, R(1));
    EXPECT_EQ(State(), TcpState::kSynReceived);
  }
  // SYN-RECEIVED reached by a simultaneous open (RFC 9293 §3.5 figure 8): the one SYN-RECEIVED
  // the user holds a connection in (a passive one is a half-open entry nobody has accepted yet).
  void MakeSimultaneousSynReceived() {
    MakeSynSent();
    Send({.flags = kSyn, .seq = R(0)});
    ExpectEmit(kSynAck, L(0), R(1));
    snd_nxt = R(1);
    ASSERT_EQ(State(), TcpState::kSynReceived);
  }


  // CLOSED -> SYN-SENT: OPEN, the engine's SYN.
  void MakeSynSent() {
    UseActiveTuple();
    const OpenResult r = Open(kPeerServerPort, kEngineActivePort);
    EXPECT_EQ(r.error, OpenError::kOk);
    ExpectEmit(kSyn, kAny, kAny);
    snd_nxt = R(0);
    EXPECT_EQ(State(), TcpState::kSynSent);
  }

  void MakeEstablished(Side side = Side::kPassive) {
    if (side == Side::kPassive) {
      MakeSynReceived();
      SendAck();
      ExpectNothing();
    } else {
      MakeSynSent();
      Send({.flags = kSynAck, .seq = R(0), .ack = L(1)});
      snd_nxt = R(1);
      ExpectEmit(kAck, L(1), R(1));
    }
    EXPECT_EQ(State(), TcpState::kEstablished);
  }

  // ESTABLISHED -> FIN-WAIT-1: CLOSE, the engine's FIN.
  void MakeFinWait1(Side side = Side::kPassive) {
    MakeEstablished(side);
    EXPECT_TRUE(Close());
    ExpectEmit(kFinAck, L(1), R(1));
    EXPECT_EQ(State(), TcpState::kFinWait1);
  }

  // FIN-WAIT-1 -> FIN-WAIT-2: the peer ACKs the FIN.
  void MakeFinWait2(Side side = Side::kPassive) {
    MakeFinWait1(side);
    SendAck();
    ExpectNothing();
    EXPECT_EQ(State(), TcpState::kFinWait2);
  }

  // ESTABLISHED -> CLOSE-WAIT: the peer's FIN, the engine's ACK.
  void MakeCloseWait(Side side = Side::kPassive) {
    MakeEstablished(side);
    SendFin();
    ExpectEmit(kAck, L(1), R(2));
    EXPECT_EQ(State(), TcpState::kCloseWait);
  }

  // FIN-WAIT-1 -> CLOSING: the peer's FIN crosses ours (it does not acknowledge ours).
  void MakeClosing(Side side = Side::kPassive) {
    MakeFinWait1(side);
    Send({.flags = kFinAck, .seq = snd_nxt, .ack = L(1)});
    snd_nxt += 1;
    ExpectEmit(kAck, L(2), R(2));
    EXPECT_EQ(State(), TcpState::kClosing);
  }

  // CLOSE-WAIT -> LAST-ACK: CLOSE, the engine's FIN.
  void MakeLastAck(Side side = Side::kPassive) {
    MakeCloseWait(side);
    EXPECT_TRUE(Close());
    ExpectEmit(kFinAck, L(1), R(2));
    EXPECT_EQ(State(), TcpState::kLastAck);
  }

  // FIN-WAIT-2 -> TIME-WAIT: the peer's FIN, the engine's ACK.
  void MakeTimeWait(Side side = Side::kPassive) {
    MakeFinWait2(side);
    SendFin();
    ExpectEmit(kAck, L(2), R(2));
    EXPECT_EQ(State(), TcpState::kTimeWait);
  }

 private:
  bool Flushed(bool result) {
    engine_->flush();
    return result;
  }

  // What a receiver learns from a segment: in-order sequence space advances its RCV.NXT.
  void Observe(const ParsedFrame& f) {
    if (f.tcp.options.has_timestamps) last_engine_ts_ = f.tcp.options.ts_val;
    if (f.has(kRst)) return;
    if (f.has(kSyn)) {
      // A new SYN teaches the engine's ISS; a retransmitted one changes nothing.
      if (!iss_known_ || f.tcp.seq.raw() != local_iss_) {
        local_iss_ = f.tcp.seq.raw();
        rcv_nxt = L(1);
        iss_known_ = true;
      }
      return;
    }
    const std::uint32_t len = static_cast<std::uint32_t>(f.payload.size()) + (f.has(kFin) ? 1u : 0u);
    if (f.tcp.seq.raw() == rcv_nxt) rcv_nxt += len;
  }

  Family family_ = family_from_environment();
  TestIo io_;
  std::unique_ptr<Engine> engine_;
  PeerOptions options_;
  std::uint32_t local_iss_ = 0;
  bool iss_known_ = false;
  std::uint32_t remote_iss_;
  std::uint32_t last_engine_ts_ = 0;
  std::uint16_t engine_port_ = kListenPort;
  std::uint16_t peer_port_ = kPeerPort;
  TimeNs now_;
};

}  // namespace synwave::test
