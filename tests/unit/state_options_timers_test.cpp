// SYN options (RFC 9293 §3.7.1 MSS, RFC 7323 window scale and timestamps, RFC 2018
// SACK-permitted) and the timers: retransmission of SYN, SYN-ACK, FIN and data with RFC 6298
// backoff and Karn's algorithm, retries running out, TIME-WAIT and FIN-WAIT-2 expiry are in
// state_close_test.cpp. Map of rules to tests: tests/RFC_ARROWS.md.
#include <gtest/gtest.h>

#include "support/tcp_peer.hpp"

namespace synwave::test {
namespace {

PeerOptions all_options() {
  PeerOptions o;
  o.window_scale = true;
  o.window_scale_shift = 4;
  o.timestamps = true;
  o.sack_permitted = true;
  return o;
}

// --- MSS (RFC 9293 §3.7.1, RFC 6691) -------------------------------------------------------------

// RFC 9293 §3.7.1: 536 over IPv4, 1220 over IPv6 (RFC 8200 §5's 1280 less 60).
TEST(StateOptions, Listen_SynWithoutMss_UsesTheFamilysDefault) {
  PeerOptions o;
  o.mss = false;
  TcpPeer p(TcpPeer::DefaultConfig(), o);
  p.MakeEstablished();
  const std::uint32_t mss = p.ipv6() ? 1220 : 536;
  EXPECT_EQ(p.Conn().snd_mss, mss);
  EXPECT_TRUE(p.Write(2000));
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1), p.R(1)).payload.size(), mss);
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1 + mss), p.R(1)).payload.size(), std::min(mss, 2000 - mss));
}

TEST(StateOptions, Listen_SynWithMss_SmallerOfBothUsed) {
  for (const auto& [peer, expected] : {std::pair{1000, 1000}, std::pair{9000, 1460}}) {
    SCOPED_TRACE(peer);
    PeerOptions o;
    o.mss_value = static_cast<std::uint16_t>(peer);
    TcpPeer p(TcpPeer::DefaultConfig(), o);
    p.MakeEstablished();
    EXPECT_EQ(p.Conn().snd_mss, expected);
  }
}

// RFC 7323 §3.2 / RFC 6691: the 12 bytes of the timestamp option come out of every segment.
TEST(StateOptions, Established_WithTimestamps_SegmentsLeaveRoomForThem) {
  PeerOptions o;
  o.timestamps = true;
  TcpPeer p(TcpPeer::DefaultConfig(), o);
  p.MakeEstablished();
  EXPECT_TRUE(p.Write(2000));
  const ParsedFrame f = p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_EQ(f.payload.size(), 1448u);
  EXPECT_EQ(TcpPeer::IpPacketLength(f), p.ipv6() ? 1520u : 1500u);
}

// --- window scale (RFC 7323 §2) ------------------------------------------------------------------

// §2.2: the option is echoed only when the SYN had it; the window of a SYN is never scaled;
// afterwards both directions scale. (A passive open keeps only a compact half-open entry until
// the final ACK, which is the first window the connection uses: it is already scaled.)
TEST(StateOptions, Listen_SynWithWindowScale_EchoedAndBothDirectionsScaled) {
  TcpPeer p(TcpPeer::DefaultConfig(), all_options());
  p.Send({.flags = kSyn, .seq = p.R(0), .window = 1000});
  p.snd_nxt = p.R(1);
  const ParsedFrame synack = p.ExpectEmit(kSynAck, kAny, p.R(1));
  EXPECT_TRUE(synack.tcp.options.has_window_scale);
  EXPECT_EQ(synack.tcp.options.window_scale, 7);
  EXPECT_EQ(synack.tcp.window, 65535);             // 262144 does not fit, and is not scaled
  p.SendAck(1000);
  EXPECT_EQ(p.Conn().snd_wscale, 4);
  EXPECT_EQ(p.Conn().rcv_wscale, 7);
  EXPECT_EQ(p.Conn().snd_wnd, 1000u << 4);           // later windows are scaled
  p.SendData(10);
  p.SendData(10);
  const ParsedFrame ack = p.ExpectEmit(kAck, p.L(1), p.R(21));
  EXPECT_EQ(ack.tcp.window, 262144 >> 7);
}

TEST(StateOptions, Listen_SynWithoutWindowScale_NoScalingEitherWay) {
  TcpPeer p;
  p.Send({.flags = kSyn, .seq = p.R(0), .window = 1000});
  p.snd_nxt = p.R(1);
  const ParsedFrame synack = p.ExpectEmit(kSynAck, kAny, p.R(1));
  EXPECT_FALSE(synack.tcp.options.has_window_scale);
  p.SendAck(1000);
  EXPECT_EQ(p.Conn().snd_wnd, 1000u);
  EXPECT_EQ(p.Conn().snd_wscale, 0);
  EXPECT_EQ(p.Conn().rcv_wscale, 0);
  p.SendData(10);
  p.SendData(10);
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1), p.R(21)).tcp.window, 65535);
}

TEST(StateOptions, Listen_WindowScalingDisabled_NotEchoed) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.window_scaling = false;
  TcpPeer p(cfg, all_options());
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.snd_nxt = p.R(1);
  const ParsedFrame synack = p.ExpectEmit(kSynAck, kAny, p.R(1));
  EXPECT_FALSE(synack.tcp.options.has_window_scale);
  p.SendAck(1000);
  EXPECT_EQ(p.Conn().snd_wscale, 0);
  EXPECT_EQ(p.Conn().rcv_wscale, 0);
  EXPECT_EQ(p.Conn().snd_wnd, 1000u);
}

// The active side: our SYN offers every option; a SYN-ACK without them turns them all off.
TEST(StateOptions, SynSent_SynAckWithoutOptions_NoneUsed) {
  PeerOptions o;
  o.mss = false;
  TcpPeer p(TcpPeer::DefaultConfig(), o);
  p.MakeSynSent();
  p.Send({.flags = kSynAck, .seq = p.R(0), .ack = p.L(1), .window = 1000});
  const ParsedFrame ack = p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_FALSE(ack.tcp.options.has_timestamps);
  EXPECT_EQ(ack.tcp.window, 65535);
  EXPECT_EQ(p.Conn().snd_wnd, 1000u);
  EXPECT_EQ(p.Conn().snd_mss, p.ipv6() ? 1220 : 536);
  EXPECT_FALSE(p.Conn().has(conn_flags::kWindowScale));
  EXPECT_FALSE(p.Conn().has(conn_flags::kTimestamps));
  EXPECT_FALSE(p.Conn().has(conn_flags::kSackPermitted));
}

// §2.2 on the active side: the SYN-ACK's window is not scaled either.
TEST(StateOptions, SynSent_SynAckWithOptions_AllUsedAndItsWindowNotScaled) {
  TcpPeer p(TcpPeer::DefaultConfig(), all_options());
  p.MakeSynSent();
  p.Send({.flags = kSynAck, .seq = p.R(0), .ack = p.L(1), .window = 1000});
  p.snd_nxt = p.R(1);
  const ParsedFrame ack = p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_TRUE(ack.tcp.options.has_timestamps);
  EXPECT_EQ(ack.tcp.window, 262144 >> 7);
  EXPECT_EQ(p.Conn().snd_wnd, 1000u);
  EXPECT_EQ(p.Conn().snd_wscale, 4);
  EXPECT_TRUE(p.Conn().has(conn_flags::kSackPermitted));
  p.SendAck(1000);
  p.ExpectNothing();
  EXPECT_EQ(p.Conn().snd_wnd, 1000u << 4);
}

// --- timestamps (RFC 7323 §3) --------------------------------------------------------------------

TEST(StateOptions, Listen_SynWithTimestamps_EchoedOnEverySegment) {
  PeerOptions o;
  o.timestamps = true;
  TcpPeer p(TcpPeer::DefaultConfig(), o);
  p.Send({.flags = kSyn, .seq = p.R(0), .ts_val = 4242});
  p.snd_nxt = p.R(1);
  const ParsedFrame synack = p.ExpectEmit(kSynAck, kAny, p.R(1));
  ASSERT_TRUE(synack.tcp.options.has_timestamps);
  EXPECT_EQ(synack.tcp.options.ts_ecr, 4242u);
  p.Send({.flags = kAck, .seq = p.R(1), .ack = p.L(1), .ts_val = 4300});
  EXPECT_TRUE(p.Write(10));
  const ParsedFrame data = p.ExpectEmit(kAck, p.L(1), p.R(1));
  ASSERT_TRUE(data.tcp.options.has_timestamps);
  EXPECT_EQ(data.tcp.options.ts_ecr, 4300u);
  EXPECT_TRUE(p.Abort());
  EXPECT_TRUE(p.ExpectEmit(kRstAck, p.L(11), p.R(1)).tcp.options.has_timestamps);
}

TEST(StateOptions, Listen_SynWithoutTimestamps_NoneSent) {
  TcpPeer p;
  p.Send({.flags = kSyn, .seq = p.R(0)});
  EXPECT_FALSE(p.ExpectEmit(kSynAck, kAny, p.R(1)).tcp.options.has_timestamps);
  p.snd_nxt = p.R(1);
  p.SendAck();
  EXPECT_TRUE(p.Write(10));
  EXPECT_FALSE(p.ExpectEmit(kAck, p.L(1), p.R(1)).tcp.options.has_timestamps);
}

TEST(StateOptions, Listen_TimestampsDisabled_NotEchoed) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.timestamps = false;
  TcpPeer p(cfg, all_options());
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.snd_nxt = p.R(1);
  EXPECT_FALSE(p.ExpectEmit(kSynAck, kAny, p.R(1)).tcp.options.has_timestamps);
  p.SendAck();  // still carries timestamps: the peer may not use them, and the engine ignores them
  EXPECT_FALSE(p.Conn().has(conn_flags::kTimestamps));
  EXPECT_TRUE(p.Write(10));
  EXPECT_FALSE(p.ExpectEmit(kAck, p.L(1), p.R(1)).tcp.options.has_timestamps);
}

// --- SACK-permitted (RFC 2018 §2) ----------------------------------------------------------------

TEST(StateOptions, Listen_SynWithSackPermitted_Echoed) {
  PeerOptions o;
  o.sack_permitted = true;
  TcpPeer p(TcpPeer::DefaultConfig(), o);
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.snd_nxt = p.R(1);
  EXPECT_TRUE(p.ExpectEmit(kSynAck, kAny, p.R(1)).tcp.options.sack_permitted);
  p.SendAck();
  EXPECT_TRUE(p.Conn().has(conn_flags::kSackPermitted));
}

TEST(StateOptions, Listen_SynWithoutSackPermitted_NotEchoed) {
  TcpPeer p;
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.snd_nxt = p.R(1);
  EXPECT_FALSE(p.ExpectEmit(kSynAck, kAny, p.R(1)).tcp.options.sack_permitted);
  p.SendAck();
  EXPECT_FALSE(p.Conn().has(conn_flags::kSackPermitted));
}

// ===================================================================================================
// Timers: RFC 6298.

// Expects exactly one retransmission of (flags, seq) at `at` and nothing before it.
void ExpectRetransmitAt(TcpPeer& p, TimeNs at, std::uint8_t flags, std::uint32_t seq, std::optional<std::uint32_t> ack,
                        std::source_location loc = std::source_location::current()) {
  ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()), "ExpectRetransmitAt");
  p.AdvanceTo(at - kMillisecond);
  p.ExpectNothing();
  p.AdvanceTo(at + 2 * kMillisecond);
  p.ExpectEmit(flags, seq, ack);
  p.ExpectNothing();
}

// §5.5 backoff: the SYN goes again after 1, 2, 4 ... s; after syn_retries retransmissions and one
// more RTO the connection fails (Linux's tcp_syn_retries: 127 s for 6).
TEST(StateTimers, SynSent_NoAnswer_SynRetransmittedWithDoublingRtoThenFails) {
  TcpPeer p;
  p.MakeSynSent();
  const TimeNs start = p.now();
  TimeNs at = start;
  TimeNs rto = kSecond;
  for (int i = 0; i < 6; ++i) {
    at += rto;
    ExpectRetransmitAt(p, at, kSyn, p.L(0), kAny);
    rto *= 2;
    EXPECT_EQ(p.Conn().rto_us, rto / kMicrosecond);
  }
  EXPECT_EQ(p.counters().syn_retransmitted, 6u);
  p.AdvanceTo(at + rto - kMillisecond);
  EXPECT_EQ(p.State(), TcpState::kSynSent);
  p.AdvanceTo(at + rto + 2 * kMillisecond);
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().conn_failed_connect_timeout, 1u);
  EXPECT_EQ(p.counters().conn_failed, 1u);
}

// §5.5 "a maximum value MAY be placed on RTO": the backoff stops doubling at rto_max.
TEST(StateTimers, SynSent_NoAnswer_BackoffCappedAtRtoMax) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.rto_max = 3 * kSecond;
  TcpPeer p(cfg);
  p.MakeSynSent();
  TimeNs at = p.now();
  for (const TimeNs rto : {1 * kSecond, 2 * kSecond, 3 * kSecond, 3 * kSecond, 3 * kSecond}) {
    at += rto;
    ExpectRetransmitAt(p, at, kSyn, p.L(0), kAny);
  }
  EXPECT_EQ(p.Conn().rto_us, 3 * kSecond / kMicrosecond);
}

// §2.2: the first SYN answered gives the first RTT sample.
TEST(StateTimers, SynSent_SynAnswered_RttSampled) {
  TcpPeer p;
  p.MakeSynSent();
  p.Advance(50 * kMillisecond);
  p.Send({.flags = kSynAck, .seq = p.R(0), .ack = p.L(1)});
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_EQ(p.Conn().srtt_us, 50000u);
  EXPECT_EQ(p.Conn().rttvar_us, 25000u);
  EXPECT_EQ(p.Conn().rto_us, 200000u);  // 50 + 4 * 25 ms = 150 ms, raised to rto_min
}

// Karn (§3): no sample from a retransmitted SYN; and §5.7: the RTO is 3 s once data flows.
TEST(StateTimers, SynSent_RetransmittedSynAnswered_NoRttSampleAndRtoThreeSeconds) {
  TcpPeer p;
  p.MakeSynSent();
  ExpectRetransmitAt(p, p.now() + kSecond, kSyn, p.L(0), kAny);
  p.Advance(50 * kMillisecond);
  p.Send({.flags = kSynAck, .seq = p.R(0), .ack = p.L(1)});
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.Conn().srtt_us, 0u);
  EXPECT_EQ(p.Conn().rto_us, 3000000u);
}

TEST(StateTimers, SynReceived_NoAck_SynAckRetransmittedWithBackoffThenDropped) {
  TcpPeer p;
  p.MakeSynReceived();
  TimeNs at = p.now();
  TimeNs rto = kSecond;
  for (int i = 0; i < 5; ++i) {  // synack_retries
    at += rto;
    ExpectRetransmitAt(p, at, kSynAck, p.L(0), p.R(1));
    rto *= 2;
  }
  EXPECT_EQ(p.counters().synack_retransmitted, 5u);
  p.AdvanceTo(at + rto + 2 * kMillisecond);
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().syn_rcvd_timeout, 1u);
  EXPECT_EQ(p.counters().conn_failed, 0u);  // a half-open entry is not a connection
}

TEST(StateTimers, SynReceived_AckOfFirstSynAck_RttSampled) {
  TcpPeer p;
  p.MakeSynReceived();
  p.Advance(30 * kMillisecond);
  p.SendAck();
  EXPECT_EQ(p.Conn().srtt_us, 30000u);
}

TEST(StateTimers, SynReceived_RetransmittedSynAckAcked_NoRttSample) {
  TcpPeer p;
  p.MakeSynReceived();
  ExpectRetransmitAt(p, p.now() + kSecond, kSynAck, p.L(0), p.R(1));
  p.Advance(30 * kMillisecond);
  p.SendAck();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.Conn().srtt_us, 0u);
  EXPECT_EQ(p.Conn().rto_us, 3000000u);  // §5.7
}

// A SYN-ACK sent again for a duplicate SYN is a retransmission too: its ACK is ambiguous.
TEST(StateTimers, SynReceived_SynAckResentForDuplicateSyn_NoRttSample) {
  TcpPeer p;
  p.MakeSynReceived();
  p.Advance(800 * kMillisecond);
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.ExpectEmit(kSynAck, p.L(0), p.R(1));
  p.Advance(30 * kMillisecond);
  p.SendAck();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.Conn().srtt_us, 0u);
}

// §2.4: "RTO SHOULD be rounded up to 1 second" -- Linux, and this engine, use rto_min instead.
TEST(StateTimers, Established_TinyRttSample_RtoRaisedToRtoMin) {
  TcpPeer p;
  p.MakeEstablished();  // the SYN-ACK was answered at once: a 0 us sample
  EXPECT_EQ(p.Conn().rto_us, p.engine().config().rto_min / kMicrosecond);
}

// §5.4-5.6: the oldest unacknowledged segment again, the RTO doubling up to rto_max.
TEST(StateTimers, Established_DataUnacked_RetransmittedWithBackoffCappedAtRtoMax) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.rto_max = 1 * kSecond;
  TcpPeer p(cfg);
  p.MakeEstablished();
  EXPECT_TRUE(p.Write(100));
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  TimeNs at = p.now();
  for (const TimeNs rto : {200 * kMillisecond, 400 * kMillisecond, 800 * kMillisecond, kSecond, kSecond}) {
    at += rto;
    ExpectRetransmitAt(p, at, kAck, p.L(1), p.R(1));
  }
  EXPECT_EQ(p.counters().rto_expired, 5u);
  EXPECT_EQ(p.counters().retransmits, 5u);
  EXPECT_EQ(p.counters().tx_bytes, 100u);  // first transmissions only
}

// Karn: the ACK of a retransmitted segment gives no sample and the backed-off RTO stays; the
// next segment sent once gives a sample again.
TEST(StateTimers, Established_RetransmittedDataAcked_NoRttSampleBackoffKept) {
  TcpPeer p;
  p.MakeEstablished();
  const std::uint32_t srtt = p.Conn().srtt_us;
  EXPECT_TRUE(p.Write(100));
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  ExpectRetransmitAt(p, p.now() + 200 * kMillisecond, kAck, p.L(1), p.R(1));
  p.Advance(100 * kMillisecond);
  p.SendAck();
  EXPECT_EQ(p.Conn().snd_una.raw(), p.L(101));
  EXPECT_EQ(p.Conn().srtt_us, srtt);
  EXPECT_EQ(p.Conn().rto_us, 400000u);
  EXPECT_TRUE(p.Write(100));
  p.ExpectEmit(kAck, p.L(101), p.R(1));
  p.Advance(100 * kMillisecond);
  p.SendAck();
  EXPECT_NE(p.Conn().srtt_us, srtt);
  EXPECT_EQ(p.Conn().rto_us, 200000u);
}

// RFC 7323 §4.1: with timestamps the same ACK does give a sample, because its echo names the
// retransmission; the backed-off RTO comes back at once.
TEST(StateTimers, Established_RetransmittedDataAckedWithTimestamps_SampleFromTheEcho) {
  PeerOptions o;
  o.timestamps = true;
  TcpPeer p(TcpPeer::DefaultConfig(), o);
  p.MakeEstablished();
  ASSERT_TRUE(p.Conn().has(conn_flags::kTimestamps));
  const std::uint32_t srtt = p.Conn().srtt_us;
  EXPECT_TRUE(p.Write(100));
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  ExpectRetransmitAt(p, p.now() + 200 * kMillisecond, kAck, p.L(1), p.R(1));
  p.Advance(30 * kMillisecond);
  p.SendAck();  // echoes the retransmission's TSval
  EXPECT_EQ(p.Conn().snd_una.raw(), p.L(101));
  // RFC 6298 §2.3 with a sample of the 30 ms since, plus the few the timer fired late by.
  EXPECT_GE(p.Conn().srtt_us, (7 * srtt + 30000) / 8);
  EXPECT_LE(p.Conn().srtt_us, (7 * srtt + 35000) / 8);
  EXPECT_EQ(p.Conn().rto_us, 200000u);                 // not the backed-off 400 ms
}

// A timeout sends only the first unacknowledged segment (cwnd = 1 SMSS, RFC 5681 §3.1).
TEST(StateTimers, Established_SeveralSegmentsUnacked_TimeoutResendsFirstOnly) {
  TcpPeer p;
  p.MakeEstablished();
  EXPECT_TRUE(p.Write(3 * 1460));
  for (std::uint32_t i = 0; i < 3; ++i) p.ExpectEmit(kAck, p.L(1 + i * 1460), p.R(1));
  ExpectRetransmitAt(p, p.now() + 200 * kMillisecond, kAck, p.L(1), p.R(1));
  EXPECT_EQ(p.Conn().cwnd, 1460u);
}

// Linux's tcp_retries2: after max_retries retransmissions and one more RTO the connection is
// given up, silently.
TEST(StateTimers, Established_RetriesExhausted_ConnFailedTimeout) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.max_retries = 3;
  TcpPeer p(cfg);
  p.MakeEstablished();
  EXPECT_TRUE(p.Write(100));
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  TimeNs at = p.now();
  TimeNs rto = 200 * kMillisecond;
  for (int i = 0; i < 3; ++i) {
    at += rto;
    ExpectRetransmitAt(p, at, kAck, p.L(1), p.R(1));
    rto *= 2;
  }
  p.AdvanceTo(at + rto - kMillisecond);
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  p.AdvanceTo(at + rto + 2 * kMillisecond);
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().conn_failed_timeout, 1u);
}

// An ACK that moves SND.UNA ends the backoff count: the retries are consecutive ones.
TEST(StateTimers, Established_AckAfterRetransmit_RetriesReset) {
  TcpPeer p;
  p.MakeEstablished();
  EXPECT_TRUE(p.Write(200));
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  ExpectRetransmitAt(p, p.now() + 200 * kMillisecond, kAck, p.L(1), p.R(1));
  EXPECT_EQ(p.Conn().retries, 1);
  p.Send({.flags = kAck, .seq = p.R(1), .ack = p.L(101)});
  EXPECT_EQ(p.Conn().retries, 0);
}

TEST(StateTimers, FinWait1_FinUnacked_RetransmittedWithBackoff) {
  for (Side side : {Side::kPassive, Side::kActive}) {
    SCOPED_TRACE(side_name(side));
    TcpPeer p;
    p.MakeFinWait1(side);
    TimeNs at = p.now();
    for (const TimeNs rto : {200 * kMillisecond, 400 * kMillisecond, 800 * kMillisecond}) {
      at += rto;
      ExpectRetransmitAt(p, at, kFinAck, p.L(1), p.R(1));
    }
    p.SendAck();
    EXPECT_EQ(p.State(), TcpState::kFinWait2);
    p.Advance(5 * kSecond);
    p.ExpectNothing();
  }
}

TEST(StateTimers, LastAck_FinUnacked_RetransmittedWithBackoff) {
  TcpPeer p;
  p.MakeLastAck();
  TimeNs at = p.now();
  for (const TimeNs rto : {200 * kMillisecond, 400 * kMillisecond}) {
    at += rto;
    ExpectRetransmitAt(p, at, kFinAck, p.L(1), p.R(2));
  }
  p.SendAck();
  EXPECT_TRUE(p.Gone());
}

TEST(StateTimers, Closing_FinUnacked_Retransmitted) {
  TcpPeer p;
  p.MakeClosing();
  ExpectRetransmitAt(p, p.now() + 200 * kMillisecond, kFinAck, p.L(1), p.R(2));
  p.SendAck();
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
}

// A FIN closed from SYN-RECEIVED waits behind the SYN-ACK: the SYN-ACK is what goes again. The
// user holds a SYN-RECEIVED connection only after a simultaneous open (a passive one is a
// half-open entry nobody has accepted yet), so that is where the arrow is taken.
TEST(StateTimers, FinWait1FromSynReceived_NothingAcked_SynAckRetransmitted) {
  TcpPeer p;
  p.MakeSimultaneousSynReceived();
  EXPECT_TRUE(p.Close());
  p.ExpectEmit(kFinAck, p.L(1), p.R(1));
  ExpectRetransmitAt(p, p.now() + kSecond, kSynAck, p.L(0), p.R(1));
  p.SendAck();  // acknowledges SYN and FIN
  EXPECT_EQ(p.State(), TcpState::kFinWait2);
}

}  // namespace
}  // namespace synwave::test
