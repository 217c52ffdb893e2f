// TIME-WAIT through the engine (RFC 9293 §3.6, §3.10.7.4; RFC 1337; RFC 6191): a connection that
// enters it gives up its full record for a 32-byte entry (time_wait_table.hpp) under the same
// tuple; the entry re-ACKs a retransmitted FIN, ignores RSTs, lets a newer SYN reuse the tuple and
// expires after time_wait. Also FIN-WAIT-2's timeout, the other way a closing connection ends on a
// timer. The decision function itself is tested in time_wait_table_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "support/tcp_peer.hpp"
#include "synwave/time_wait_table.hpp"

namespace synwave::test {
namespace {

PeerOptions with_timestamps() {
  PeerOptions o;
  o.timestamps = true;
  return o;
}

// TIME-WAIT is the engine's smallest record: the full one goes back to the pool (here of one), and
// another connection can have it while the entry waits.
TEST(TimeWaitEngine, Entered_RecordReplacedByCompactEntry) {
  static_assert(sizeof(TimeWaitEntry) <= 32);
  for (Side side : {Side::kPassive, Side::kActive}) {
    SCOPED_TRACE(side_name(side));
    EngineConfig cfg = TcpPeer::DefaultConfig();
    cfg.max_connections = 1;
    TcpPeer p(cfg);
    p.MakeTimeWait(side);
    const FlowKey first = p.key();
    EXPECT_EQ(p.engine().find(first), kNoIndex);
    EXPECT_EQ(p.engine().state_of(first), TcpState::kTimeWait);
    EngineGauges g = p.engine().gauges();
    EXPECT_EQ(g.in(TcpState::kTimeWait), 1u);
    EXPECT_EQ(g.connections, 1u);
    EXPECT_EQ(p.counters().time_wait_entered, 1u);
    EXPECT_EQ(p.counters().conn_completed, 1u);  // counted on entry, not 2MSL later

    p.UseTuple(TcpPeer::kListenPort, 41000);
    p.Send({.flags = kSyn, .seq = p.R(0)});
    p.snd_nxt = p.R(1);
    p.ExpectEmit(kSynAck, kAny, p.R(1));
    p.SendAck();
    EXPECT_EQ(p.State(), TcpState::kEstablished);
    g = p.engine().gauges();
    EXPECT_EQ(g.in(TcpState::kEstablished), 1u);
    EXPECT_EQ(g.in(TcpState::kTimeWait), 1u);
    EXPECT_EQ(g.connections, 2u);
    EXPECT_EQ(p.engine().state_of(first), TcpState::kTimeWait);
  }
}

// max_time_wait bounds the table; beyond it a connection skips TIME-WAIT (Linux's
// tcp_max_tw_buckets), still ACKing the FIN that ended it, and the skip is counted.
TEST(TimeWaitEngine, TableFull_TimeWaitSkippedAndCounted) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.max_time_wait = 1;
  TcpPeer p(cfg);
  p.MakeTimeWait(Side::kPassive);
  const FlowKey first = p.key();
  p.MakeFinWait2(Side::kActive);  // another tuple
  p.SendFin();
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.engine().state_of(first), TcpState::kTimeWait);
  EXPECT_EQ(p.counters().time_wait_overflow, 1u);
  EXPECT_EQ(p.counters().conn_completed, 2u);
  EXPECT_EQ(p.engine().gauges().in(TcpState::kTimeWait), 1u);
  EXPECT_EQ(p.engine().gauges().connections, 1u);
}

// max_time_wait 0 turns TIME-WAIT off altogether.
TEST(TimeWaitEngine, NoCapacity_EveryCloseSkipsTimeWait) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.max_time_wait = 0;
  TcpPeer p(cfg);
  p.MakeFinWait2(Side::kPassive);
  p.SendFin();
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().time_wait_overflow, 1u);
  EXPECT_EQ(p.engine().gauges().connections, 0u);
}

// §3.10.7.4: "the only thing that can arrive in this state is a retransmission of the remote FIN.
// Acknowledge it, and restart the 2 MSL timeout." The ACK echoes the FIN's newer TSval.
TEST(TimeWaitEngine, RetransmittedFin_ReAckedAndTimerRestarted) {
  for (Side side : {Side::kPassive, Side::kActive}) {
    SCOPED_TRACE(side_name(side));
    EngineConfig cfg = TcpPeer::DefaultConfig();
    cfg.time_wait = 10 * kSecond;
    TcpPeer p(cfg, with_timestamps());
    p.MakeTimeWait(side);
    const TimeNs entered = p.now();
    p.AdvanceTo(entered + 4 * kSecond);
    p.Send({.flags = kFinAck, .seq = p.R(1), .ack = p.L(2)});
    const ParsedFrame ack = p.ExpectEmit(kAck, p.L(2), p.R(2));
    ASSERT_TRUE(ack.tcp.options.has_timestamps);
    EXPECT_EQ(ack.tcp.options.ts_ecr, p.peer_ts());
    p.AdvanceTo(entered + 10 * kSecond + 10 * kMillisecond);  // the original expiry has passed
    EXPECT_EQ(p.State(), TcpState::kTimeWait);
    p.AdvanceTo(entered + 14 * kSecond - 10 * kMillisecond);
    EXPECT_EQ(p.State(), TcpState::kTimeWait);
    p.AdvanceTo(entered + 14 * kSecond + 10 * kMillisecond);
    p.ExpectNothing();
    EXPECT_TRUE(p.Gone());
    EXPECT_EQ(p.engine().gauges().connections, 0u);
  }
}

// RFC 1337: RSTs, wherever they fall, neither end TIME-WAIT nor get an answer; 2MSL runs as set.
TEST(TimeWaitEngine, Rst_IgnoredAndExpiryUnchanged) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.time_wait = 5 * kSecond;
  TcpPeer p(cfg);
  p.MakeTimeWait(Side::kPassive);
  const TimeNs entered = p.now();
  p.AdvanceTo(entered + kSecond);
  p.Send({.flags = kRst, .seq = p.R(2)});
  p.Send({.flags = kRstAck, .seq = p.R(2), .ack = p.L(2)});
  p.Send({.flags = kRst, .seq = p.R(1000)});
  p.ExpectNothing();
  EXPECT_EQ(p.counters().rst_ignored, 3u);
  EXPECT_EQ(p.counters().rst_received, 0u);
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
  p.AdvanceTo(entered + 5 * kSecond + 10 * kMillisecond);
  EXPECT_TRUE(p.Gone());
}

// Other segments: a bare ACK at RCV.NXT needs nothing; anything unacceptable (data after the
// peer's FIN, a SYN-ACK, a SYN+FIN) gets the entry's ACK and leaves the timer alone.
TEST(TimeWaitEngine, OtherSegments_AckedOrDropped_TimerNotRestarted) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.time_wait = 5 * kSecond;
  TcpPeer p(cfg);
  p.MakeTimeWait(Side::kPassive);
  const TimeNs entered = p.now();
  p.AdvanceTo(entered + kSecond);
  p.Send({.flags = kAck, .seq = p.R(2), .ack = p.L(2)});
  p.ExpectNothing();
  p.Send({.flags = kAck | kPsh, .seq = p.R(2), .ack = p.L(2), .len = 10});
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  p.Send({.flags = kSynAck, .seq = p.R(100000), .ack = p.L(2)});
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  p.Send({.flags = kSyn | kFin, .seq = p.R(100000)});
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  EXPECT_EQ(p.counters().time_wait_reused, 0u);
  p.AdvanceTo(entered + 5 * kSecond + 10 * kMillisecond);
  EXPECT_TRUE(p.Gone());
}

// RFC 6191 §2: a SYN for a tuple in TIME-WAIT reuses it when it is certainly not from the old
// incarnation: with timestamps on both, a larger TSval (or an equal one and a larger ISN);
// without, an ISN above RCV.NXT (RFC 1122 §4.2.2.13). Otherwise it gets the entry's ACK.
struct ReuseCase {
  const char* name;
  bool timestamps;
  std::int32_t ts_delta;    // the SYN's TSval minus TS.Recent (the FIN's)
  std::int32_t isn_delta;   // the SYN's ISN minus RCV.NXT
  bool reused;
};

class TimeWaitReuse : public ::testing::TestWithParam<ReuseCase> {};

TEST_P(TimeWaitReuse, Syn_ReusesTupleOnlyWhenNewer) {
  const ReuseCase& c = GetParam();
  PeerOptions o;
  o.timestamps = c.timestamps;
  TcpPeer p(TcpPeer::DefaultConfig(), o);
  p.MakeTimeWait(Side::kPassive);
  const std::uint32_t ts_recent = p.peer_ts();  // the FIN's TSval: no time has passed since
  const std::uint32_t old_iss = p.local_iss();
  p.Advance(kSecond);
  const std::uint32_t isn = p.R(2) + static_cast<std::uint32_t>(c.isn_delta);
  const std::uint32_t ts_val = ts_recent + static_cast<std::uint32_t>(c.ts_delta);
  p.Send({.flags = kSyn, .seq = isn, .ts_val = ts_val});
  if (c.reused) {
    const ParsedFrame synack = p.ExpectEmit(kSynAck, kAny, isn + 1);
    EXPECT_NE(synack.tcp.seq.raw(), old_iss);  // a new incarnation, a new ISN
    if (c.timestamps) {
      EXPECT_EQ(synack.tcp.options.ts_ecr, ts_val);
    }
    EXPECT_EQ(p.State(), TcpState::kSynReceived);
    EXPECT_EQ(p.counters().time_wait_reused, 1u);
    EXPECT_EQ(p.counters().syn_refused_time_wait, 0u);
    EXPECT_EQ(p.engine().gauges().in(TcpState::kTimeWait), 0u);
    p.Send({.flags = kAck, .seq = isn + 1, .ack = synack.tcp.seq.raw() + 1, .ts_val = ts_val});
    EXPECT_EQ(p.State(), TcpState::kEstablished);
  } else {
    const ParsedFrame ack = p.ExpectEmit(kAck, p.L(2), p.R(2));
    if (c.timestamps) {
      EXPECT_EQ(ack.tcp.options.ts_ecr, ts_recent);
    }
    EXPECT_EQ(p.State(), TcpState::kTimeWait);
    EXPECT_EQ(p.counters().time_wait_reused, 0u);
    EXPECT_EQ(p.counters().syn_refused_time_wait, 1u);
  }
  p.ExpectNothing();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TimeWaitReuse,
    ::testing::Values(ReuseCase{"TsNewerIsnLower", true, 1, -1000, true},
                      ReuseCase{"TsEqualIsnHigher", true, 0, 1000, true},
                      ReuseCase{"TsEqualIsnLower", true, 0, -1000, false},
                      ReuseCase{"TsOlderIsnHigher", true, -1, 1000, false},
                      ReuseCase{"NoTsIsnHigher", false, 0, 1000, true},
                      ReuseCase{"NoTsIsnAtRcvNxt", false, 0, 0, false},
                      ReuseCase{"NoTsIsnLower", false, 0, -1000, false}),
    [](const auto& info) { return std::string(info.param.name); });

// On the side that opened actively there is no listener to hand the SYN to: even a newer SYN is
// answered with the entry's ACK.
TEST(TimeWaitEngine, ActiveSideNoListener_NewerSynOnlyAcked) {
  TcpPeer p;
  p.MakeTimeWait(Side::kActive);
  p.Send({.flags = kSyn, .seq = p.R(100000)});
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
  EXPECT_EQ(p.counters().time_wait_reused, 0u);
  EXPECT_EQ(p.counters().syn_refused_time_wait, 1u);
}

// §3.10.8: after time_wait the entry goes and the tuple is free: any SYN opens it again.
TEST(TimeWaitEngine, Expiry_FreesTheTuple) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.time_wait = 3 * kSecond;
  TcpPeer p(cfg);
  p.MakeTimeWait(Side::kPassive);
  const TimeNs entered = p.now();
  p.AdvanceTo(entered + 3 * kSecond - 10 * kMillisecond);
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
  p.AdvanceTo(entered + 3 * kSecond + 10 * kMillisecond);
  p.ExpectNothing();
  EXPECT_EQ(p.engine().state_of(p.key()), TcpState::kClosed);
  EXPECT_EQ(p.engine().gauges().connections, 0u);
  EXPECT_EQ(p.engine().next_deadline(), kNever);
  p.Send({.flags = kSyn, .seq = p.R(0)});  // below the old RCV.NXT: TIME-WAIT would have refused it
  p.ExpectEmit(kSynAck, kAny, p.R(1));
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
  EXPECT_EQ(p.counters().time_wait_reused, 0u);
}

// FIN-WAIT-2 with a peer that never sends its FIN ends after fin_wait2_timeout (Linux's
// tcp_fin_timeout), silently, counted as a failure; the tuple is then free.
TEST(FinWait2Timeout, NoFin_ConnectionEndedAndCounted) {
  for (Side side : {Side::kPassive, Side::kActive}) {
    SCOPED_TRACE(side_name(side));
    EngineConfig cfg = TcpPeer::DefaultConfig();
    cfg.fin_wait2_timeout = 3 * kSecond;
    TcpPeer p(cfg);
    p.MakeFinWait2(side);
    const TimeNs entered = p.now();
    p.AdvanceTo(entered + 3 * kSecond - 10 * kMillisecond);
    EXPECT_EQ(p.State(), TcpState::kFinWait2);
    p.AdvanceTo(entered + 3 * kSecond + 10 * kMillisecond);
    p.ExpectNothing();
    EXPECT_TRUE(p.Gone());
    EXPECT_EQ(p.counters().conn_failed_fin_wait2_timeout, 1u);
    EXPECT_EQ(p.counters().conn_failed, 1u);
    EXPECT_EQ(p.counters().time_wait_entered, 0u);
    EXPECT_EQ(p.engine().gauges().connections, 0u);
    // The peer's FIN, if it ever comes, finds nothing: <SEQ=SEG.ACK><CTL=RST>.
    p.SendFin();
    p.ExpectEmit(kRst, p.L(2), kAny);
  }
}

}  // namespace
}  // namespace synwave::test
