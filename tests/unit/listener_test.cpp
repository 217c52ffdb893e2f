// A listening port through the engine (RFC 4987 §3.3, §3.6): the SYN backlog of compact half-open
// entries and their SYN-ACK retransmission, SYN cookies in each mode, and the accept queue. The
// peer is scripted with TcpPeer, or with hand-built frames where a test needs a payload or a TSecr
// of its own. TIME-WAIT entries are in time_wait_engine_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include "crc_collisions.hpp"
#include "support/segments.hpp"
#include "support/tcp_peer.hpp"
#include "support/test_io.hpp"
#include "synwave/half_open.hpp"
#include "synwave/syn_cookie.hpp"

namespace synwave::test {
namespace {

constexpr std::uint16_t kListenPort = TcpPeer::kListenPort;
constexpr std::uint32_t kIss = 1000000;  // the peers' ISNs, one apart per client below
constexpr SipKey kKeyA{0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL};
constexpr SipKey kKeyB{0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL};
constexpr SipKey kKeyC{0x452821e638d01377ULL, 0xbe5466cf34e90c6cULL};

EngineConfig listener_config(SynCookieMode mode, std::uint32_t syn_backlog = 4096) {
  EngineConfig c = TcpPeer::DefaultConfig();
  c.syn_cookies = mode;
  c.syn_backlog = syn_backlog;
  return c;
}

FlowKey key_of(const TcpPeer& p, std::uint16_t peer_port, std::uint16_t engine_port = kListenPort) {
  return p.KeyOf(engine_port, peer_port);
}

// The peer's SYN from `peer_port` with ISN `iss`, and the engine's SYN-ACK to it.
ParsedFrame Syn(TcpPeer& p, std::uint16_t peer_port, std::uint32_t iss,
                std::source_location loc = std::source_location::current()) {
  p.UseTuple(kListenPort, peer_port);
  p.Send({.flags = kSyn, .seq = iss});
  return p.ExpectEmit(kSynAck, kAny, iss + 1, loc);
}

// The final ACK of the handshake that `synack` began, from the tuple in use.
void FinalAck(TcpPeer& p, const ParsedFrame& synack) {
  p.Send({.flags = kAck, .seq = synack.tcp.ack.raw(), .ack = synack.tcp.seq.raw() + 1});
}

// A segment with a payload or a TSecr of the test's choosing (TcpPeer::Send writes 'p' bytes and
// echoes the engine's last TSval).
struct RawSegment {
  std::uint16_t peer_port = TcpPeer::kPeerPort;
  std::uint8_t flags = kAck;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::string payload{};
  std::optional<std::uint32_t> ts_val{};  // timestamps when set
  std::uint32_t ts_ecr = 0;
};

void SendRaw(TcpPeer& p, const RawSegment& r) {
  SegmentSpec s;
  p.Address(s);
  s.src_port = r.peer_port;
  s.dst_port = kListenPort;
  s.seq = r.seq;
  s.ack = r.ack;
  s.flags = r.flags;
  if (r.ts_val) {
    s.options.timestamps = true;
    s.options.ts_val = *r.ts_val;
    s.options.ts_ecr = r.ts_ecr;
  }
  s.payload.assign(r.payload.begin(), r.payload.end());
  p.io().deliver(p.engine(), build_segment(s), p.now());
}

// Every frame the engine sent since the last Expect*, parsed.
std::vector<ParsedFrame> Drain(TcpPeer& p) {
  p.engine().flush();
  std::vector<ParsedFrame> frames;
  while (!p.io().sent().empty()) {
    const std::optional<ParsedFrame> f = parse_frame(p.io().pop_sent());
    if (f) frames.push_back(*f);
  }
  return frames;
}

// Payload bytes sent to one peer port among `frames`.
std::size_t PayloadTo(const std::vector<ParsedFrame>& frames, std::uint16_t peer_port) {
  std::size_t n = 0;
  for (const ParsedFrame& f : frames) {
    if (f.tcp.dst_port == peer_port) n += f.payload.size();
  }
  return n;
}

// Exactly one retransmission of (flags, seq, ack) at `at`, nothing just before it.
void ExpectRetransmitAt(TcpPeer& p, TimeNs at, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
                        std::source_location loc = std::source_location::current()) {
  ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()), "ExpectRetransmitAt");
  p.AdvanceTo(at - kMillisecond);
  p.ExpectNothing();
  p.AdvanceTo(at + 2 * kMillisecond);
  p.ExpectEmit(flags, seq, ack);
  p.ExpectNothing();
}

const std::string kHttpGet = "GET / HTTP/1.1\r\nHost: synwave\r\n\r\n";

// ===============================================================================================
// The SYN backlog

// A SYN costs a half-open entry (at most a cache line), not a connection record: the pool of full
// records, here a single one, stays free for completed handshakes.
TEST(SynBacklog, Syns_HeldAsHalfOpenEntries_PoolOfRecordsUntouched) {
  static_assert(sizeof(HalfOpen) <= 64);
  EngineConfig cfg = listener_config(SynCookieMode::kOff);
  cfg.max_connections = 1;
  cfg.shed_watermark = 1u << 30;  // no overload shedding: this is about the backlog itself
  TcpPeer p(cfg);
  std::vector<ParsedFrame> synacks;
  for (std::uint16_t i = 0; i < 3; ++i) synacks.push_back(Syn(p, static_cast<std::uint16_t>(2000 + i), kIss + i));
  const EngineGauges g = p.engine().gauges();
  EXPECT_EQ(g.in(TcpState::kSynReceived), 3u);
  EXPECT_EQ(g.connections, 3u);
  for (std::uint16_t i = 0; i < 3; ++i) {
    EXPECT_EQ(p.engine().state_of(key_of(p, static_cast<std::uint16_t>(2000 + i))), TcpState::kSynReceived);
    EXPECT_EQ(p.engine().find(key_of(p, static_cast<std::uint16_t>(2000 + i))), kNoIndex);
  }
  // The first final ACK takes the one record.
  p.UseTuple(kListenPort, 2000);
  FinalAck(p, synacks[0]);
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.engine().gauges().in(TcpState::kSynReceived), 2u);
  EXPECT_EQ(p.engine().gauges().in(TcpState::kEstablished), 1u);
  // The next finds the pool empty: its ACK is dropped and the entry stays for the SYN-ACK
  // retransmission to try again.
  p.UseTuple(kListenPort, 2001);
  FinalAck(p, synacks[1]);
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
  EXPECT_EQ(p.counters().drop_pool_full, 1u);
}

// kOff: a full backlog makes room by evicting its oldest entry (FIFO), so a flood cannot lock
// out new clients for a whole SYN-ACK retry cycle; no cookie is ever sent.
TEST(SynBacklog, CookiesOff_FullBacklog_EvictsOldestEntry) {
  TcpPeer p(listener_config(SynCookieMode::kOff, 3));
  std::vector<ParsedFrame> synacks;
  for (std::uint16_t i = 0; i < 5; ++i) synacks.push_back(Syn(p, static_cast<std::uint16_t>(2000 + i), kIss + i));
  EXPECT_EQ(p.counters().half_open_evicted, 2u);
  EXPECT_EQ(p.counters().cookies_sent, 0u);
  EXPECT_EQ(p.engine().gauges().in(TcpState::kSynReceived), 3u);
  EXPECT_EQ(p.engine().state_of(key_of(p, 2000)), TcpState::kClosed);
  EXPECT_EQ(p.engine().state_of(key_of(p, 2001)), TcpState::kClosed);
  for (std::uint16_t port : {2002, 2003, 2004}) {
    EXPECT_EQ(p.engine().state_of(key_of(p, port)), TcpState::kSynReceived);
  }
  // The evicted handshake's final ACK finds no record, and with cookies off it is what it looks
  // like to a listener, a stray ACK: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.2), so the client
  // learns at once instead of waiting out its own timers.
  p.UseTuple(kListenPort, 2000);
  FinalAck(p, synacks[0]);
  p.ExpectEmit(kRst, synacks[0].tcp.seq.raw() + 1, kAny);
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().conn_accepted, 0u);
  // A survivor completes as usual.
  p.UseTuple(kListenPort, 2004);
  FinalAck(p, synacks[4]);
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
}

// syn_backlog bounds each listening port on its own: a flood on one leaves the other's entries.
TEST(SynBacklog, Bound_IsPerListeningPort) {
  EngineConfig cfg = listener_config(SynCookieMode::kOff, 2);
  cfg.listen_ports = {kListenPort, 8080};
  TcpPeer p(cfg);
  p.UseTuple(8080, 3000);
  p.Send({.flags = kSyn, .seq = kIss});
  p.ExpectEmit(kSynAck, kAny, kIss + 1);
  p.UseTuple(8080, 3001);
  p.Send({.flags = kSyn, .seq = kIss});
  p.ExpectEmit(kSynAck, kAny, kIss + 1);
  for (std::uint16_t i = 0; i < 4; ++i) Syn(p, static_cast<std::uint16_t>(2000 + i), kIss + i);
  EXPECT_EQ(p.counters().half_open_evicted, 2u);
  EXPECT_EQ(p.engine().gauges().in(TcpState::kSynReceived), 4u);
  EXPECT_EQ(p.engine().state_of(key_of(p, 3000, 8080)), TcpState::kSynReceived);
  EXPECT_EQ(p.engine().state_of(key_of(p, 3001, 8080)), TcpState::kSynReceived);
  EXPECT_EQ(p.engine().state_of(key_of(p, 2000)), TcpState::kClosed);
}

// A retransmitted SYN (same ISN) gets the same SYN-ACK again and adds nothing.
TEST(SynBacklog, DuplicateSyn_SameSynAckAgain_NothingAdded) {
  TcpPeer p;
  p.MakeSynReceived();
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.ExpectEmit(kSynAck, p.L(0), p.R(1));
  p.ExpectNothing();
  EXPECT_EQ(p.engine().gauges().in(TcpState::kSynReceived), 1u);
  EXPECT_EQ(p.engine().gauges().connections, 1u);
  EXPECT_EQ(p.counters().syn_received, 1u);  // the copy went to the entry, not to the listener
  EXPECT_EQ(p.counters().synack_sent, 1u);
  EXPECT_EQ(p.counters().synack_retransmitted, 1u);
  p.SendAck();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.engine().gauges().connections, 1u);
}

// RFC 9293 §3.10.7.4 second (passive open): an RST at RCV.NXT returns to LISTEN, answering nothing.
TEST(SynBacklog, RstAtRcvNxt_EntryDroppedNoReply) {
  TcpPeer p(listener_config(SynCookieMode::kOff));
  p.MakeSynReceived();
  p.Send({.flags = kRst, .seq = p.R(1)});
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.engine().gauges().connections, 0u);
  EXPECT_EQ(p.counters().syn_rcvd_reset, 1u);
  EXPECT_EQ(p.counters().rst_received, 1u);
  p.AdvanceTo(p.now() + 10 * kSecond);  // and nothing is retransmitted
  p.ExpectNothing();
}

// RFC 5961 §3.2 in SYN-RECEIVED: an RST inside the window but not at RCV.NXT draws a challenge ACK
// (rate-limited like every other, §7) and the entry stays; outside the window, silence.
TEST(SynBacklog, RstInWindowNotAtRcvNxt_ChallengeAckRateLimited) {
  EngineConfig cfg = listener_config(SynCookieMode::kOff);
  cfg.challenge_ack_limit = 1;
  PeerOptions o;
  o.timestamps = true;
  o.window_scale = true;
  TcpPeer p(cfg, o);
  p.MakeSynReceived();
  p.Send({.flags = kRst, .seq = p.R(100)});
  const ParsedFrame ack = p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_TRUE(ack.tcp.options.has_timestamps);
  EXPECT_EQ(ack.tcp.window, 262144 >> 7);  // scaling was agreed in the SYN and SYN-ACK
  p.Send({.flags = kRst, .seq = p.R(200)});
  p.ExpectNothing();
  EXPECT_EQ(p.counters().challenge_acks, 1u);
  EXPECT_EQ(p.counters().challenge_acks_suppressed, 1u);
  EXPECT_EQ(p.counters().rst_ignored, 2u);
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
  p.SendAck();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
}

// SYN-ACK retransmission (RFC 6298 §5.5 backoff, Linux tcp_synack_retries): after synack_timeout,
// then 2x, 4x ...; after synack_retries resends and one more backed-off wait, back to LISTEN.
// synack_timeout need not be whole seconds.
struct RetransmitCase {
  const char* name;
  TimeNs synack_timeout;
  std::uint8_t synack_retries;
};

class SynAckRetransmission : public ::testing::TestWithParam<RetransmitCase> {};

TEST_P(SynAckRetransmission, NoFinalAck_DoublingIntervalsThenDropped) {
  const RetransmitCase& c = GetParam();
  EngineConfig cfg = listener_config(SynCookieMode::kOff);
  cfg.synack_timeout = c.synack_timeout;
  cfg.synack_retries = c.synack_retries;
  TcpPeer p(cfg);
  p.MakeSynReceived();
  TimeNs at = p.now();
  TimeNs interval = c.synack_timeout;
  for (int i = 0; i < c.synack_retries; ++i) {
    at += interval;
    ExpectRetransmitAt(p, at, kSynAck, p.L(0), p.R(1));
    interval *= 2;
  }
  EXPECT_EQ(p.counters().synack_retransmitted, c.synack_retries);
  p.AdvanceTo(at + interval - kMillisecond);
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
  EXPECT_EQ(p.counters().syn_rcvd_timeout, 0u);
  p.AdvanceTo(at + interval + 2 * kMillisecond);
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().syn_rcvd_timeout, 1u);
  EXPECT_EQ(p.engine().gauges().connections, 0u);
}

INSTANTIATE_TEST_SUITE_P(Timeouts, SynAckRetransmission,
                         ::testing::Values(RetransmitCase{"Default1s5Retries", kSecond, 5},
                                           RetransmitCase{"Milliseconds20_3Retries", 20 * kMillisecond, 3},
                                           RetransmitCase{"NoRetries", 250 * kMillisecond, 0}),
                         [](const auto& info) { return std::string(info.param.name); });

// A final ACK after a retransmitted SYN-ACK still completes the handshake (Karn: no RTT sample).
TEST(SynBacklog, AckAfterRetransmittedSynAck_Established) {
  EngineConfig cfg = listener_config(SynCookieMode::kOff);
  cfg.synack_timeout = 50 * kMillisecond;
  TcpPeer p(cfg);
  p.MakeSynReceived();
  ExpectRetransmitAt(p, p.now() + 50 * kMillisecond, kSynAck, p.L(0), p.R(1));
  p.SendAck();
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.Conn().srtt_us, 0u);
  EXPECT_EQ(p.Conn().rto_us, 3000000u);  // RFC 6298 §5.7
}

// The final ACK's TSval becomes TS.Recent (RFC 7323 §4.3): it is what our next segment echoes.
TEST(SynBacklog, FinalAckTimestamp_BecomesTsRecent) {
  PeerOptions o;
  o.timestamps = true;
  TcpPeer p(TcpPeer::DefaultConfig(), o);
  p.UsePassiveTuple();
  p.Send({.flags = kSyn, .seq = p.R(0), .ts_val = 100});
  p.snd_nxt = p.R(1);
  EXPECT_EQ(p.ExpectEmit(kSynAck, kAny, p.R(1)).tcp.options.ts_ecr, 100u);
  p.Send({.flags = kAck, .seq = p.R(1), .ack = p.L(1), .ts_val = 170});
  EXPECT_EQ(p.Conn().ts_recent, 170u);
}

// ===============================================================================================
// SYN cookies: when they are sent

struct ModeCase {
  const char* name;
  SynCookieMode mode;
  bool cookie_while_room;  // a SYN while the backlog has room
  bool cookie_when_full;   // a SYN to a full backlog
};

class CookieMode : public ::testing::TestWithParam<ModeCase> {};

// With syn_backlog 2, three SYNs: each SYN-ACK is a cookie (an ISN that validates under the
// secrets, nothing kept) exactly when the mode says so.
TEST_P(CookieMode, SynAckIsACookieExactlyWhenTheModeSays) {
  const ModeCase& c = GetParam();
  CookieSecrets secrets(kKeyA);
  EngineConfig cfg = listener_config(c.mode, 2);
  cfg.cookie_secrets = &secrets;
  TcpPeer p(cfg);
  const SynCookieCodec codec(cfg.cookie_rotation);
  std::uint64_t cookies = 0;
  for (std::uint16_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const std::uint16_t port = static_cast<std::uint16_t>(2000 + i);
    const ParsedFrame synack = Syn(p, port, kIss + i);
    const bool cookie = i < 2 ? c.cookie_while_room : c.cookie_when_full;
    cookies += cookie ? 1 : 0;
    EXPECT_EQ(p.counters().cookies_sent, cookies);
    EXPECT_EQ(p.counters().synack_sent, i + 1u);
    const CookieCheck check =
        codec.validate(secrets.keys(), synack.tcp.seq.raw() + 1, kIss + i + 1, key_of(p, port), p.now());
    EXPECT_EQ(check.accepted(), cookie);
    EXPECT_EQ(p.engine().state_of(key_of(p, port)), cookie ? TcpState::kClosed : TcpState::kSynReceived);
  }
  EXPECT_EQ(p.counters().half_open_evicted, c.mode == SynCookieMode::kOff ? 1u : 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, CookieMode,
                         ::testing::Values(ModeCase{"Off", SynCookieMode::kOff, false, false},
                                           ModeCase{"OnOverflow", SynCookieMode::kOnOverflow, false, true},
                                           ModeCase{"Always", SynCookieMode::kAlways, true, true}),
                         [](const auto& info) { return std::string(info.param.name); });

// The cookie SYN-ACK is the codec's: ISN from SynCookieCodec::encode over the tuple, the SYN's ISN
// and its MSS rounded to the table; TSval from cookie_tsval() with the SYN's options.
TEST(SynCookie, SynAck_IsnAndTsvalAreTheCodecs) {
  CookieSecrets secrets(kKeyA);
  EngineConfig cfg = listener_config(SynCookieMode::kAlways);
  cfg.cookie_secrets = &secrets;
  PeerOptions o;
  o.mss_value = 1400;
  o.window_scale = true;
  o.window_scale_shift = 9;
  o.sack_permitted = true;
  o.timestamps = true;
  TcpPeer p(cfg, o);
  p.Advance(1234 * kMillisecond);
  const ParsedFrame synack = Syn(p, TcpPeer::kPeerPort, kIss);
  const SynCookieCodec codec(cfg.cookie_rotation);
  EXPECT_EQ(synack.tcp.seq.raw(),
            codec.encode(secrets.current(), CookieInput{p.key(), kIss}, cookie_mss_index(1400, p.ipv6()), p.now()));
  TcpOptions syn;
  syn.has_mss = true;
  syn.mss = 1400;
  syn.has_window_scale = true;
  syn.window_scale = 9;
  syn.sack_permitted = true;
  ASSERT_TRUE(synack.tcp.options.has_timestamps);
  EXPECT_EQ(synack.tcp.options.ts_val,
            cookie_tsval(static_cast<std::uint32_t>(p.now() / kMillisecond), cookie_options_from_syn(syn, p.ipv6())));
  EXPECT_EQ(synack.tcp.options.ts_ecr, p.peer_ts());
  EXPECT_TRUE(synack.tcp.options.has_window_scale);
  EXPECT_TRUE(synack.tcp.options.sack_permitted);
  EXPECT_EQ(synack.tcp.options.mss, 1460);  // our own MSS, whatever the cookie rounds theirs to
}

// ===============================================================================================
// SYN cookies: the connection a valid final ACK rebuilds

struct RebuildCase {
  const char* name;
  PeerOptions syn;
  // What the SYN-ACK offers back, and the connection has.
  bool window_scale;
  bool sack;
  bool timestamps;
  std::uint16_t snd_mss;
};

PeerOptions peer_options(bool mss, std::uint16_t mss_value, bool ws, std::uint8_t shift, bool sack, bool ts) {
  PeerOptions o;
  o.mss = mss;
  o.mss_value = mss_value;
  o.window_scale = ws;
  o.window_scale_shift = shift;
  o.sack_permitted = sack;
  o.timestamps = ts;
  return o;
}

class CookieRebuild : public ::testing::TestWithParam<RebuildCase> {};

// Everything the SYN offered comes back from the cookie: the MSS (rounded down to the table, then
// less 12 bytes when timestamps ride on every segment) from the ISN, the window scale and SACK
// from the TSecr bits; without timestamps there is nowhere to keep the last two, so the SYN-ACK
// does not offer them.
TEST_P(CookieRebuild, ValidFinalAck_EstablishedWithTheSynsOptions) {
  const RebuildCase& c = GetParam();
  TcpPeer p(listener_config(SynCookieMode::kAlways), c.syn);
  // The cases' MSS are IPv4's; IPv6 has its own table (kCookieMssTable6) and default.
  const std::uint16_t offered = c.syn.mss ? c.syn.mss_value : kDefaultMss6;
  const std::uint16_t snd_mss =
      p.ipv6() ? static_cast<std::uint16_t>(std::min<int>(cookie_mss(cookie_mss_index(offered, true), true), 1460) -
                                            (c.timestamps ? 12 : 0))
               : c.snd_mss;
  const ParsedFrame synack = Syn(p, TcpPeer::kPeerPort, p.R(0));
  p.snd_nxt = p.R(1);
  EXPECT_EQ(synack.tcp.options.has_window_scale, c.window_scale);
  EXPECT_EQ(synack.tcp.options.sack_permitted, c.sack);
  EXPECT_EQ(synack.tcp.options.has_timestamps, c.timestamps);
  EXPECT_TRUE(p.Gone());  // nothing kept
  p.SendAck();
  p.ExpectNothing();
  ASSERT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.counters().cookies_valid, 1u);
  EXPECT_EQ(p.counters().conn_accepted, 1u);
  const Connection& conn = p.Conn();
  EXPECT_EQ(conn.iss.raw(), synack.tcp.seq.raw());
  EXPECT_EQ(conn.rcv_nxt.raw(), p.R(1));
  EXPECT_EQ(conn.snd_nxt.raw(), p.L(1));
  EXPECT_EQ(conn.snd_mss, snd_mss);
  EXPECT_EQ(conn.has(conn_flags::kWindowScale), c.window_scale);
  EXPECT_EQ(conn.snd_wscale, c.window_scale ? c.syn.window_scale_shift : 0);
  EXPECT_EQ(conn.rcv_wscale, c.window_scale ? 7 : 0);
  EXPECT_EQ(conn.snd_wnd, 65535u << conn.snd_wscale);
  EXPECT_EQ(conn.has(conn_flags::kSackPermitted), c.sack);
  EXPECT_EQ(conn.has(conn_flags::kTimestamps), c.timestamps);
  if (c.timestamps) {
    EXPECT_EQ(conn.ts_recent, p.peer_ts());
  }
  // And it works: data goes out in segments of that MSS.
  EXPECT_TRUE(p.Write(3000));
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1), p.R(1)).payload.size(), snd_mss);
}

INSTANTIATE_TEST_SUITE_P(
    Options, CookieRebuild,
    ::testing::Values(
        RebuildCase{"Everything", peer_options(true, 1460, true, 4, true, true), true, true, true, 1448},
        RebuildCase{"Mss1400RoundsTo1360", peer_options(true, 1400, true, 14, true, true), true, true, true, 1348},
        RebuildCase{"WindowScaleZero", peer_options(true, 1300, true, 0, false, true), true, false, true, 1288},
        RebuildCase{"NoMssIs536", peer_options(false, 0, false, 0, true, true), false, true, true, 524},
        RebuildCase{"JumboMssCappedAtOurs", peer_options(true, 9000, false, 0, false, true), false, false, true, 1448},
        RebuildCase{"NoTimestampsNoScalingNoSack", peer_options(true, 1460, true, 4, true, false), false, false,
                    false, 1460},
        RebuildCase{"NoOptionsAtAll", peer_options(false, 0, false, 0, false, false), false, false, false, 536}),
    [](const auto& info) { return std::string(info.param.name); });

// A request riding on the final ACK is processed as in ESTABLISHED: a server answers it at once.
TEST(SynCookie, RequestOnFinalAck_Answered) {
  EngineConfig cfg = listener_config(SynCookieMode::kAlways);
  cfg.workload.kind = WorkloadKind::kHttp;
  cfg.workload.response_bytes = 100;
  TcpPeer p(cfg);
  const ParsedFrame synack = Syn(p, TcpPeer::kPeerPort, p.R(0));
  SendRaw(p, {.flags = kAck | kPsh, .seq = p.R(1), .ack = synack.tcp.seq.raw() + 1, .payload = kHttpGet});
  EXPECT_EQ(p.counters().cookies_valid, 1u);
  EXPECT_EQ(p.counters().rx_bytes, kHttpGet.size());
  const std::vector<ParsedFrame> out = Drain(p);
  ASSERT_FALSE(out.empty());
  const ParsedFrame& response = out.front();
  EXPECT_EQ(response.tcp.seq.raw(), p.L(1));
  EXPECT_EQ(response.tcp.ack.raw(), p.R(1) + kHttpGet.size());
  const std::string text(response.payload.begin(), response.payload.end());
  EXPECT_EQ(text.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << text;
}

// A kManual connection takes the data too: RCV.NXT moves past it and the (delayed) ACK covers it.
TEST(SynCookie, DataOnFinalAck_DeliveredAndAcked) {
  TcpPeer p(listener_config(SynCookieMode::kAlways));
  Syn(p, TcpPeer::kPeerPort, p.R(0));
  p.Send({.flags = kAck | kPsh, .seq = p.R(1), .ack = p.L(1), .len = 100});
  ASSERT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.Conn().rcv_nxt.raw(), p.R(101));
  EXPECT_EQ(p.counters().rx_bytes, 100u);
  p.Advance(p.engine().config().delayed_ack + kMillisecond);
  p.ExpectEmit(kAck, p.L(1), p.R(101));
}

// ===============================================================================================
// SYN cookies: final ACKs that do not validate

enum class Badness : std::uint8_t { kForgedAck, kWrongClientIsn, kStale, kReservedTsecrBit };

struct BadCookieCase {
  const char* name;
  Badness badness;
  bool reset_bad_cookies;
};

class BadCookie : public ::testing::TestWithParam<BadCookieCase> {};

// Forged (wrong ACK number), for another SYN (wrong client ISN), stale (older than two counter
// periods) or with a TSecr we never send: counted, no connection, and answered with
// <SEQ=SEG.ACK><CTL=RST> only when reset_bad_cookies says so.
TEST_P(BadCookie, FinalAck_CountedNoConnection_RstOnlyWhenConfigured) {
  const BadCookieCase& c = GetParam();
  EngineConfig cfg = listener_config(SynCookieMode::kAlways);
  cfg.reset_bad_cookies = c.reset_bad_cookies;
  cfg.cookie_rotation = kSecond;
  PeerOptions o;
  o.timestamps = true;
  TcpPeer p(cfg, o);
  const ParsedFrame synack = Syn(p, TcpPeer::kPeerPort, p.R(0));
  std::uint32_t seq = p.R(1);
  std::uint32_t ack = synack.tcp.seq.raw() + 1;
  std::uint32_t ts_ecr = synack.tcp.options.ts_val;
  switch (c.badness) {
    case Badness::kForgedAck: ack ^= 1; break;
    case Badness::kWrongClientIsn: seq += 1; break;
    case Badness::kStale: p.Advance(2 * cfg.cookie_rotation); break;
    case Badness::kReservedTsecrBit: ts_ecr |= kCookieTsReserved; break;
  }
  SendRaw(p, {.seq = seq, .ack = ack, .ts_val = p.peer_ts(), .ts_ecr = ts_ecr});
  if (c.reset_bad_cookies) {
    const ParsedFrame rst = p.ExpectEmit(kRst, ack, kAny);
    EXPECT_FALSE(rst.tcp.options.has_timestamps);
  }
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.engine().gauges().connections, 0u);
  EXPECT_EQ(p.counters().cookies_valid, 0u);
  EXPECT_EQ(p.counters().conn_accepted, 0u);
  EXPECT_EQ(p.counters().cookies_stale, c.badness == Badness::kStale ? 1u : 0u);
  EXPECT_EQ(p.counters().cookies_invalid, c.badness == Badness::kStale ? 0u : 1u);
  EXPECT_EQ(p.counters().rst_sent, c.reset_bad_cookies ? 1u : 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadCookie,
    ::testing::Values(BadCookieCase{"ForgedAckReset", Badness::kForgedAck, true},
                      BadCookieCase{"ForgedAckSilent", Badness::kForgedAck, false},
                      BadCookieCase{"WrongClientIsnReset", Badness::kWrongClientIsn, true},
                      BadCookieCase{"WrongClientIsnSilent", Badness::kWrongClientIsn, false},
                      BadCookieCase{"StaleReset", Badness::kStale, true},
                      BadCookieCase{"StaleSilent", Badness::kStale, false},
                      BadCookieCase{"ReservedTsecrBitReset", Badness::kReservedTsecrBit, true},
                      BadCookieCase{"ReservedTsecrBitSilent", Badness::kReservedTsecrBit, false}),
    [](const auto& info) { return std::string(info.param.name); });

// The other side of the stale boundary: one period later the cookie still holds.
TEST(SynCookie, FinalAckOnePeriodLate_StillValid) {
  EngineConfig cfg = listener_config(SynCookieMode::kAlways);
  cfg.cookie_rotation = kSecond;
  TcpPeer p(cfg);
  Syn(p, TcpPeer::kPeerPort, p.R(0));
  p.snd_nxt = p.R(1);
  p.Advance(cfg.cookie_rotation);
  p.SendAck();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.counters().cookies_valid, 1u);
}

// Secrets shared by the control plane (EngineConfig::cookie_secrets) rotate under the engine: a
// cookie made before one rotation still validates (the previous secret), after two it does not.
TEST(SynCookie, SharedSecretsRotated_OnceStillValid_TwiceInvalid) {
  CookieSecrets secrets(kKeyA);
  EngineConfig cfg = listener_config(SynCookieMode::kAlways);
  cfg.cookie_secrets = &secrets;
  TcpPeer p(cfg);
  const ParsedFrame once = Syn(p, 2000, kIss);
  const ParsedFrame twice = Syn(p, 2001, kIss + 7);
  secrets.rotate(kKeyB);
  p.UseTuple(kListenPort, 2000);
  FinalAck(p, once);
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.counters().cookies_valid, 1u);
  secrets.rotate(kKeyC);
  p.UseTuple(kListenPort, 2001);
  FinalAck(p, twice);
  p.ExpectEmit(kRst, twice.tcp.seq.raw() + 1, kAny);
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().cookies_invalid, 1u);
  EXPECT_EQ(p.counters().cookies_stale, 0u);  // under a secret rotated out, no MAC can match
  // A cookie made now, under the current secret, is fine again.
  const ParsedFrame fresh = Syn(p, 2002, kIss + 9);
  FinalAck(p, fresh);
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.counters().cookies_valid, 2u);
}

// The cookie of a cached entry, rebuilt and compared. With kOnOverflow a SYN gets a half-open
// entry; the cookie the same SYN would have got is computed with SynCookieCodec, presented in a
// hand-built final ACK to a second engine (kAlways, equal secrets) that never saw the SYN, and the
// connection it rebuilds must match the one the cached entry produced, up to the MSS table's
// rounding.
TEST(SynCookie, CookieOfCachedEntry_RebuildsTheSameConnection) {
  CookieSecrets secrets(kKeyA);
  PeerOptions o;
  o.mss_value = 1400;
  o.window_scale = true;
  o.window_scale_shift = 5;
  o.sack_permitted = true;
  o.timestamps = true;

  EngineConfig cached_cfg = listener_config(SynCookieMode::kOnOverflow);
  cached_cfg.cookie_secrets = &secrets;
  TcpPeer cached(cached_cfg, o);
  const std::uint32_t syn_tsval = cached.peer_ts();
  const ParsedFrame synack = Syn(cached, TcpPeer::kPeerPort, cached.R(0));
  ASSERT_EQ(cached.counters().cookies_sent, 0u);
  ASSERT_EQ(cached.State(), TcpState::kSynReceived);

  const SynCookieCodec codec(cached_cfg.cookie_rotation);
  const std::uint32_t cookie =
      codec.encode(secrets.current(), CookieInput{cached.key(), cached.R(0)}, cookie_mss_index(1400, cached.ipv6()), cached.now());
  TcpOptions syn;
  syn.has_mss = true;
  syn.mss = 1400;
  syn.has_window_scale = true;
  syn.window_scale = 5;
  syn.sack_permitted = true;
  const std::uint32_t cookie_ts =
      cookie_tsval(static_cast<std::uint32_t>(cached.now() / kMillisecond), cookie_options_from_syn(syn));

  cached.snd_nxt = cached.R(1);
  cached.SendAck(500);
  ASSERT_EQ(cached.State(), TcpState::kEstablished);
  const Connection& from_entry = cached.Conn();

  EngineConfig stateless_cfg = listener_config(SynCookieMode::kAlways);
  stateless_cfg.cookie_secrets = &secrets;
  TcpPeer stateless(stateless_cfg, o);
  ASSERT_EQ(stateless.now(), cached.now());
  SendRaw(stateless, {.seq = cached.R(1), .ack = cookie + 1, .ts_val = syn_tsval, .ts_ecr = cookie_ts});
  stateless.ExpectNothing();
  ASSERT_EQ(stateless.State(), TcpState::kEstablished);
  EXPECT_EQ(stateless.counters().cookies_valid, 1u);
  const Connection& from_cookie = stateless.Conn();

  EXPECT_NE(from_entry.iss.raw(), from_cookie.iss.raw());  // RFC 6528 ISN vs the cookie
  EXPECT_EQ(from_entry.iss.raw(), synack.tcp.seq.raw());
  EXPECT_EQ(from_cookie.iss.raw(), cookie);
  EXPECT_EQ(from_entry.irs, from_cookie.irs);
  EXPECT_EQ(from_entry.rcv_nxt, from_cookie.rcv_nxt);
  constexpr std::uint16_t kTsBytes = 12;
  EXPECT_EQ(from_entry.snd_mss, 1400 - kTsBytes);
  EXPECT_EQ(from_cookie.snd_mss, cookie_mss(cookie_mss_index(from_entry.snd_mss + kTsBytes, cached.ipv6()), cached.ipv6()) - kTsBytes);
  EXPECT_EQ(from_entry.has(conn_flags::kWindowScale), from_cookie.has(conn_flags::kWindowScale));
  EXPECT_EQ(from_entry.snd_wscale, from_cookie.snd_wscale);
  EXPECT_EQ(from_entry.rcv_wscale, from_cookie.rcv_wscale);
  EXPECT_EQ(from_entry.has(conn_flags::kSackPermitted), from_cookie.has(conn_flags::kSackPermitted));
  EXPECT_EQ(from_entry.has(conn_flags::kTimestamps), from_cookie.has(conn_flags::kTimestamps));
  EXPECT_TRUE(from_cookie.has(conn_flags::kWindowScale));
  EXPECT_EQ(from_cookie.snd_wscale, 5);
  EXPECT_TRUE(from_cookie.has(conn_flags::kSackPermitted));
  EXPECT_TRUE(from_cookie.has(conn_flags::kTimestamps));
}

// ===============================================================================================
// The accept queue

EngineConfig accept_config(double rate, std::uint32_t backlog, bool abort_on_overflow) {
  EngineConfig c = listener_config(SynCookieMode::kOff);
  c.accept_rate = rate;
  c.backlog = backlog;
  c.abort_on_overflow = abort_on_overflow;
  return c;
}

// accept_rate > 0: completed handshakes are ESTABLISHED at once but wait to be accepted; the
// workload starts at accept, so a kHttp server answers a request that came early only then.
TEST(AcceptQueue, AcceptRate_HoldsConnections_WorkloadStartsAtAccept) {
  EngineConfig cfg = accept_config(10, 8, false);  // one accept per 100 ms
  cfg.workload.kind = WorkloadKind::kHttp;
  cfg.workload.response_bytes = 100;
  TcpPeer p(cfg);
  for (std::uint16_t port : {2000, 2001}) {
    const ParsedFrame synack = Syn(p, port, kIss);
    SendRaw(p, {.peer_port = port, .flags = kAck | kPsh, .seq = kIss + 1, .ack = synack.tcp.seq.raw() + 1,
                .payload = kHttpGet});
    EXPECT_EQ(p.engine().state_of(key_of(p, port)), TcpState::kEstablished);
  }
  EXPECT_EQ(p.counters().conn_accepted, 2u);
  EXPECT_EQ(p.counters().accepted_by_app, 0u);
  p.Advance(90 * kMillisecond);
  std::vector<ParsedFrame> out = Drain(p);  // the delayed ACKs of the requests, no answer
  EXPECT_EQ(PayloadTo(out, 2000) + PayloadTo(out, 2001), 0u);
  EXPECT_EQ(p.counters().accepted_by_app, 0u);

  p.Advance(20 * kMillisecond);  // 110 ms: one accepted, first come first served
  EXPECT_EQ(p.counters().accepted_by_app, 1u);
  out = Drain(p);
  EXPECT_GT(PayloadTo(out, 2000), 100u);
  EXPECT_EQ(PayloadTo(out, 2001), 0u);

  p.Advance(100 * kMillisecond);  // 210 ms: the second
  EXPECT_EQ(p.counters().accepted_by_app, 2u);
  out = Drain(p);
  EXPECT_GT(PayloadTo(out, 2001), 100u);
}

// accept_rate 0: the application accepts at once.
TEST(AcceptQueue, AcceptRateZero_AcceptedAtHandshake) {
  TcpPeer p(accept_config(0, 1, false));
  for (std::uint16_t port : {2000, 2001, 2002}) FinalAck(p, Syn(p, port, kIss));
  EXPECT_EQ(p.counters().accepted_by_app, 3u);
  EXPECT_EQ(p.counters().accept_queue_overflow, 0u);
}

// A full accept queue with abort_on_overflow = false drops the final ACK (Linux's default): the
// half-open entry stays, the SYN-ACK retransmission draws the ACK again, and by then the
// application has made room.
TEST(AcceptQueue, Overflow_DropsFinalAck_AcceptedAfterSynAckRetransmission) {
  EngineConfig cfg = accept_config(10, 1, false);
  cfg.synack_timeout = kSecond;
  TcpPeer p(cfg);
  FinalAck(p, Syn(p, 2000, kIss));
  EXPECT_EQ(p.engine().state_of(key_of(p, 2000)), TcpState::kEstablished);
  const TimeNs start = p.now();
  const ParsedFrame second = Syn(p, 2001, kIss);
  FinalAck(p, second);
  p.ExpectNothing();
  EXPECT_EQ(p.counters().accept_queue_overflow, 1u);
  EXPECT_EQ(p.State(), TcpState::kSynReceived);

  p.AdvanceTo(start + 200 * kMillisecond);  // the first is accepted: there is room now
  EXPECT_EQ(p.counters().accepted_by_app, 1u);
  p.ExpectNothing();
  ExpectRetransmitAt(p, start + kSecond, kSynAck, second.tcp.seq.raw(), kIss + 1);
  FinalAck(p, second);
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.counters().accept_queue_overflow, 1u);
  p.Advance(200 * kMillisecond);
  EXPECT_EQ(p.counters().accepted_by_app, 2u);
}

// abort_on_overflow = true: the final ACK is answered with <SEQ=SEG.ACK><CTL=RST> and the entry
// dropped, so the client hears at once rather than after its first request times out.
TEST(AcceptQueue, OverflowWithAbort_RstAndEntryDropped) {
  TcpPeer p(accept_config(10, 1, true));
  FinalAck(p, Syn(p, 2000, kIss));
  const ParsedFrame second = Syn(p, 2001, kIss);
  FinalAck(p, second);
  p.ExpectEmit(kRst, second.tcp.seq.raw() + 1, kAny);
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().accept_queue_overflow, 1u);
  EXPECT_EQ(p.counters().syn_rcvd_reset, 1u);
  p.Advance(5 * kSecond);  // no SYN-ACK retransmission for an entry that is gone
  p.ExpectNothing();
  EXPECT_EQ(p.counters().accepted_by_app, 1u);
}

// A cookie's final ACK meets the same queue: with abort_on_overflow = false it is dropped, and the
// client's next segment (which still carries the cookie in its ACK number) opens the connection
// once there is room.
TEST(AcceptQueue, OverflowOnCookieAck_NextSegmentStillOpensIt) {
  EngineConfig cfg = accept_config(10, 1, false);
  cfg.syn_cookies = SynCookieMode::kAlways;
  TcpPeer p(cfg);
  FinalAck(p, Syn(p, 2000, kIss));
  const ParsedFrame second = Syn(p, 2001, kIss);
  FinalAck(p, second);
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().accept_queue_overflow, 1u);
  EXPECT_EQ(p.counters().cookies_valid, 1u);
  p.Advance(200 * kMillisecond);
  p.Send({.flags = kAck | kPsh, .seq = kIss + 1, .ack = second.tcp.seq.raw() + 1, .len = 10});
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.counters().cookies_valid, 2u);
  EXPECT_EQ(p.Conn().rcv_nxt.raw(), kIss + 11);
}

// ===============================================================================================
// Automatic workloads and a silent peer

// idle_timeout: a server whose client never sends its request gives up with RST, counted; a peer
// that is heard from pushes the limit back.
TEST(IdleTimeout, SilentClient_ResetAfterIdleTimeout) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.workload.kind = WorkloadKind::kHttp;
  cfg.idle_timeout = 2 * kSecond;
  TcpPeer p(cfg);
  p.MakeEstablished();
  const TimeNs start = p.now();
  p.AdvanceTo(start + kSecond);
  p.SendData(5);  // part of a request: heard from
  p.AdvanceTo(start + kSecond + 2 * kSecond - 10 * kMillisecond);
  Drain(p);  // the delayed ACK of those bytes
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  p.AdvanceTo(start + kSecond + 2 * kSecond + 10 * kMillisecond);
  p.ExpectEmit(kRstAck, p.L(1), p.R(6));
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().conn_failed_idle_timeout, 1u);
  EXPECT_EQ(p.counters().conn_failed, 1u);
}

}  // namespace
}  // namespace synwave::test

namespace synwave::test {
namespace {

// Cookies on overflow: a stray ACK is checked as a cookie only while one could be out there
// (Linux's tcp_synq_no_recent_overflow): before any overflow, and two periods after the last,
// it is an ACK in LISTEN like any other (RFC 9293 §3.10.7.2: RST).
TEST(SynCookie, OnOverflow_StrayAckCheckedAsCookieOnlyAfterARecentOverflow) {
  EngineConfig cfg = listener_config(SynCookieMode::kOnOverflow, /*syn_backlog=*/1);
  cfg.synack_retries = 0;  // the half-open entry leaves quietly while time passes
  TcpPeer p(cfg);
  p.UseTuple(kListenPort, 3000);
  p.Send({.flags = kAck, .seq = 100, .ack = 0x12345678});
  p.ExpectEmit(kRst, 0x12345678, kAny);
  EXPECT_EQ(p.counters().drop_no_listener_rst, 1u);
  EXPECT_EQ(p.counters().cookies_invalid, 0u);

  Syn(p, 3001, kIss);      // fills the backlog of one
  Syn(p, 3002, kIss + 5);  // overflows: a cookie
  EXPECT_EQ(p.counters().cookies_sent, 1u);
  p.UseTuple(kListenPort, 3003);
  p.Send({.flags = kAck, .seq = 100, .ack = 0x12345678});
  p.ExpectEmit(kRst, 0x12345678, kAny);
  EXPECT_EQ(p.counters().cookies_invalid, 1u);  // checked as a cookie now

  p.Advance(2 * cfg.cookie_rotation + kSecond);
  p.UseTuple(kListenPort, 3004);
  p.Send({.flags = kAck, .seq = 100, .ack = 0x12345678});
  p.ExpectEmit(kRst, 0x12345678, kAny);
  EXPECT_EQ(p.counters().cookies_invalid, 1u);
  EXPECT_EQ(p.counters().drop_no_listener_rst, 2u);
}

// SYNs from sources crafted to share one flow-table home (bench/crc_collisions.hpp): the first 64
// get half-open entries, the rest are refused one (flow_probe_limit) and, with cookies on overflow,
// answered with a cookie; with cookies off, dropped. As many random sources all get entries. A
// refused tuple's cookie completes once its neighbourhood has room again.
class CraftedCollisions : public ::testing::TestWithParam<SynCookieMode> {};

TEST_P(CraftedCollisions, BeyondTheProbeLimit_CookieOrDropped_RandomSourcesUnaffected) {
  const SynCookieMode mode = GetParam();
  EngineConfig c = listener_config(mode, 1024);
  c.max_connections = 65536;  // with the backlog and TIME-WAIT table: a flow table of 2^20 slots
  c.synack_timeout = 100 * kMillisecond;
  c.synack_retries = 1;  // a half-open entry is gone 0.3 s after its SYN
  TestIo io;
  TimeNs now = TcpPeer::kStart;
  Engine engine(c, io.io(), now);
  auto segment_from = [&](std::uint32_t ip, std::uint16_t port, std::uint8_t flags, std::uint32_t ack) {
    SegmentSpec spec;
    spec.src_mac = TcpPeer::kPeerMac;
    spec.dst_mac = TcpPeer::kEngineMac;
    spec.src_ip = ip;
    spec.dst_ip = TcpPeer::kEngineIp;
    spec.src_port = port;
    spec.dst_port = kListenPort;
    spec.seq = (flags & tcp_flags::kAck) != 0 ? kIss + 1 : kIss;
    spec.ack = ack;
    spec.flags = flags;
    io.deliver(engine, build_segment(spec), now);
  };
  std::uint32_t crafted = 0;
  bench::SpoofedSource last{};
  for (const bench::SpoofedSource& src : bench::crc_colliding_sources(TcpPeer::kEngineIp, kListenPort, 20, 400)) {
    if ((src.ip >> 8) == (TcpPeer::kEngineIp >> 8)) continue;  // the engine's own /24: not a valid source
    segment_from(src.ip, src.port, tcp_flags::kSyn, 0);
    last = src;
    if (++crafted == 200) break;
  }
  ASSERT_EQ(crafted, 200u);
  const std::uint32_t held = FlowTable::kDefaultMaxDisplacement + 1;
  const std::uint32_t refused = crafted - held;
  EXPECT_EQ(engine.gauges().in(TcpState::kSynReceived), held);
  EXPECT_EQ(engine.counters().flow_probe_limit, refused);
  EXPECT_EQ(engine.counters().drop_flow_table_full, 0u);
  EXPECT_EQ(engine.counters().cookies_sent, mode == SynCookieMode::kOnOverflow ? refused : 0u);
  EXPECT_EQ(engine.counters().synack_sent, mode == SynCookieMode::kOnOverflow ? crafted : held);
  const std::optional<ParsedFrame> last_synack = parse_frame(io.sent().back());

  for (std::uint32_t i = 0; i < 200; ++i) {
    segment_from(ip4(198, 19, 1, 1) + i, static_cast<std::uint16_t>(20000 + i), tcp_flags::kSyn, 0);
  }
  EXPECT_EQ(engine.gauges().in(TcpState::kSynReceived), held + 200);
  EXPECT_EQ(engine.counters().flow_probe_limit, refused);

  if (mode != SynCookieMode::kOnOverflow) return;
  ASSERT_TRUE(last_synack.has_value());
  ASSERT_EQ(last_synack->ip.dst, last.ip);
  const std::uint32_t final_ack = (last_synack->tcp.seq + 1).raw();
  // A valid cookie, but no room for a record while the crafted entries hold the neighbourhood.
  segment_from(last.ip, last.port, tcp_flags::kAck, final_ack);
  EXPECT_EQ(engine.counters().flow_probe_limit, refused + 1);
  EXPECT_EQ(engine.gauges().in(TcpState::kEstablished), 0u);
  for (int step = 0; step < 40; ++step) {  // 1 s: every entry retransmits once and expires
    now += 25 * kMillisecond;
    engine.advance(now);
  }
  EXPECT_EQ(engine.gauges().in(TcpState::kSynReceived), 0u);
  segment_from(last.ip, last.port, tcp_flags::kAck, final_ack);  // the peer's retransmission
  EXPECT_EQ(engine.counters().cookies_valid, 1u);
  EXPECT_EQ(engine.gauges().in(TcpState::kEstablished), 1u);
}

INSTANTIATE_TEST_SUITE_P(Listener, CraftedCollisions, ::testing::Values(SynCookieMode::kOnOverflow, SynCookieMode::kOff),
                         [](const ::testing::TestParamInfo<SynCookieMode>& info) {
                           return info.param == SynCookieMode::kOff ? "CookiesOff" : "CookiesOnOverflow";
                         });

}  // namespace
}  // namespace synwave::test
