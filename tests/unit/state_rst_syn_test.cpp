// RST, SYN and ACK validation in the synchronised states: RFC 9293 §3.10.7.4 (first, second,
// fourth and fifth checks) as tightened by RFC 5961 (§3 RST, §4 SYN, §5 ACK, §7 challenge-ACK
// rate limit), RFC 1337 (RST in TIME-WAIT) and RFC 7323 §5 (PAWS). Map of rules to tests:
// tests/RFC_ARROWS.md.
#include <gtest/gtest.h>

#include "support/tcp_peer.hpp"

namespace synwave::test {
namespace {

struct StateCase {
  const char* name;
  void (TcpPeer::*make)(Side);
  TcpState state;
  Side side;
};

void PrintTo(const StateCase& c, std::ostream* os) { *os << c.name << side_name(c.side); }

std::string case_name(const ::testing::TestParamInfo<StateCase>& info) {
  return std::string(info.param.name) + side_name(info.param.side);
}

// Every synchronised state a connection can sit in while both directions are still known, each
// reached from a passive and from an active open.
std::vector<StateCase> synchronised_states() {
  std::vector<StateCase> v;
  for (Side s : {Side::kPassive, Side::kActive}) {
    v.push_back({"Established", &TcpPeer::MakeEstablished, TcpState::kEstablished, s});
    v.push_back({"FinWait1", &TcpPeer::MakeFinWait1, TcpState::kFinWait1, s});
    v.push_back({"FinWait2", &TcpPeer::MakeFinWait2, TcpState::kFinWait2, s});
    v.push_back({"CloseWait", &TcpPeer::MakeCloseWait, TcpState::kCloseWait, s});
    v.push_back({"Closing", &TcpPeer::MakeClosing, TcpState::kClosing, s});
    v.push_back({"LastAck", &TcpPeer::MakeLastAck, TcpState::kLastAck, s});
  }
  return v;
}

class Synchronized : public ::testing::TestWithParam<StateCase> {
 protected:
  void SetUp() override { (p.*GetParam().make)(GetParam().side); }
  TcpState state() const { return GetParam().state; }
  TcpPeer p;
};

INSTANTIATE_TEST_SUITE_P(States, Synchronized, ::testing::ValuesIn(synchronised_states()), case_name);

// In these tests the peer's snd_nxt is the engine's RCV.NXT and the peer's rcv_nxt the engine's
// SND.NXT: a challenge ACK is <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.

// RFC 5961 §3.2: an RST exactly at RCV.NXT resets the connection.
TEST_P(Synchronized, Rst_AtRcvNxt_ConnectionReset) {
  p.Send({.flags = kRst, .seq = p.snd_nxt});
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().rst_received, 1u);
  EXPECT_EQ(p.engine().gauges().connections, 0u);
}

TEST_P(Synchronized, RstAck_AtRcvNxt_ConnectionReset) {
  p.Send({.flags = kRstAck, .seq = p.snd_nxt, .ack = p.rcv_nxt});
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
}

// RFC 5961 §3.2: in the window but not at RCV.NXT: challenge ACK, the connection stays.
TEST_P(Synchronized, Rst_InWindowNotAtRcvNxt_SendsChallengeAck) {
  for (const std::uint32_t off : {1u, 1000u, 65534u}) {
    SCOPED_TRACE(off);
    p.Send({.flags = kRst, .seq = p.snd_nxt + off});
    p.ExpectEmit(kAck, p.rcv_nxt, p.snd_nxt);
    EXPECT_EQ(p.State(), state());
  }
  EXPECT_EQ(p.counters().challenge_acks, 3u);
  EXPECT_EQ(p.counters().rst_received, 0u);
}

// RFC 5961 §3.2 / RFC 9293 §3.10.7.4 first: outside the window: dropped, no reply to an RST.
TEST_P(Synchronized, Rst_OutOfWindow_IgnoredSilently) {
  for (const std::uint32_t seq : {p.snd_nxt + 65535u, p.snd_nxt + 100000u, p.snd_nxt - 1u, p.R(0)}) {
    SCOPED_TRACE(seq);
    p.Send({.flags = kRst, .seq = seq});
    p.ExpectNothing();
    EXPECT_EQ(p.State(), state());
  }
  EXPECT_EQ(p.counters().rst_ignored, 4u);
}

// RFC 5961 §4.2: a SYN in a synchronised state, whatever its sequence number, gets a challenge
// ACK and never resets the connection. (One exception, tested below: a newer SYN for a listened
// tuple in LAST-ACK or CLOSING, where only our FIN is left, opens the tuple again.)
TEST_P(Synchronized, Syn_AnySequence_SendsChallengeAck) {
  const bool reopens_on_newer = GetParam().side == Side::kPassive &&
                                (state() == TcpState::kLastAck || state() == TcpState::kClosing);
  std::vector<std::uint32_t> seqs = {p.snd_nxt, p.R(0)};
  if (!reopens_on_newer) seqs.insert(seqs.end(), {p.snd_nxt + 500u, p.snd_nxt + 100000u});
  for (const std::uint32_t seq : seqs) {
    SCOPED_TRACE(seq);
    p.Send({.flags = kSyn, .seq = seq});
    p.ExpectEmit(kAck, p.rcv_nxt, p.snd_nxt);
    EXPECT_EQ(p.State(), state());
  }
  EXPECT_EQ(p.counters().challenge_acks, seqs.size());
  EXPECT_EQ(p.counters().drop_syn_in_synchronised, seqs.size());
  EXPECT_EQ(p.counters().last_ack_reused, 0u);
}

// A peer with no TIME-WAIT (dperf's client) that lost the ACK of our FIN opens the tuple again
// while we still retransmit the FIN, and drops our challenge ACK instead of resetting: its SYN
// retries would all meet this record. A SYN newer than the old incarnation (RFC 6191's test, here
// an ISN above RCV.NXT) ends LAST-ACK or CLOSING, counted complete, and is a SYN like any other.
TEST(StateRstSyn, LastAckAndClosing_NewerSyn_EndTheRecordAndOpenTheTupleAgain) {
  for (void (TcpPeer::*make)(Side) : {&TcpPeer::MakeLastAck, &TcpPeer::MakeClosing}) {
    TcpPeer p;
    (p.*make)(Side::kPassive);
    const std::uint32_t isn = p.snd_nxt + 1;  // the next ISN a counting peer would choose
    p.Send({.flags = kSyn, .seq = isn});
    p.ExpectEmit(kSynAck, kAny, isn + 1);
    EXPECT_EQ(p.State(), TcpState::kSynReceived);
    EXPECT_EQ(p.counters().last_ack_reused, 1u);
    EXPECT_EQ(p.counters().conn_completed, 1u);
    EXPECT_EQ(p.counters().challenge_acks, 0u);
    EXPECT_EQ(p.engine().gauges().connections, 1u);
  }
}

// Not while data of ours is unacknowledged: the peer may still be owed it, so the SYN gets the
// challenge ACK as in every synchronised state. Nor when the tuple is our own active open.
TEST(StateRstSyn, LastAck_NewerSyn_DataUnacknowledgedOrNoListener_SendsChallengeAck) {
  TcpPeer p;
  p.MakeCloseWait(Side::kPassive);
  ASSERT_TRUE(p.Write(10));
  ASSERT_TRUE(p.Close());
  p.ExpectEmit(kAck | kPsh, p.L(1), p.R(2));
  p.ExpectEmit(kFinAck, p.L(11), p.R(2));
  ASSERT_EQ(p.State(), TcpState::kLastAck);
  p.Send({.flags = kSyn, .seq = p.snd_nxt + 1});
  p.ExpectEmit(kAck, p.L(12), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kLastAck);

  TcpPeer active;
  active.MakeLastAck(Side::kActive);
  active.Send({.flags = kSyn, .seq = active.snd_nxt + 1});
  active.ExpectEmit(kAck, active.rcv_nxt, active.snd_nxt);
  EXPECT_EQ(active.State(), TcpState::kLastAck);
  EXPECT_EQ(p.counters().last_ack_reused + active.counters().last_ack_reused, 0u);
}

// With cookies always a bare SYN from a tuple whose flow-table line is empty skips its lookup
// (flow_table.hpp, may_hold); one for a tuple the engine holds must still find its connection.
TEST(StateRstSyn, CookiesAlways_SynForAHeldTuple_StillSendsChallengeAck) {
  EngineConfig config = TcpPeer::DefaultConfig();
  config.syn_cookies = SynCookieMode::kAlways;
  TcpPeer p(config);
  p.MakeEstablished(Side::kActive);
  p.Send({.flags = kSyn, .seq = p.snd_nxt + 500u});
  p.ExpectEmit(kAck, p.rcv_nxt, p.snd_nxt);
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.counters().drop_syn_in_synchronised, 1u);
  EXPECT_EQ(p.counters().cookies_sent, 0u);
}

// RFC 9293 §3.10.7.4 first: an unacceptable segment is answered by an ACK and dropped.
TEST_P(Synchronized, DataOutsideWindow_SendsAck) {
  for (const std::uint32_t seq : {p.snd_nxt + 70000u, p.snd_nxt - 200u}) {
    SCOPED_TRACE(seq);
    p.Send({.flags = kAck | kPsh, .seq = seq, .ack = p.rcv_nxt, .len = 100});
    p.ExpectEmit(kAck, p.rcv_nxt, p.snd_nxt);
    EXPECT_EQ(p.State(), state());
  }
  EXPECT_EQ(p.counters().rx_bytes, 0u);
  EXPECT_EQ(p.counters().drop_unacceptable, 2u);
}

// RFC 9293 §3.10.7.4 fifth: an ACK of something not yet sent: send an ACK, drop the segment.
TEST_P(Synchronized, AckAboveSndNxt_SendsAckAndDrops) {
  const std::uint32_t rcv_before = p.Conn().rcv_nxt.raw();
  p.Send({.flags = kFinAck | kPsh, .seq = p.snd_nxt, .ack = p.rcv_nxt + 100, .len = 10});
  p.ExpectEmit(kAck, p.rcv_nxt, p.snd_nxt);
  EXPECT_EQ(p.State(), state());
  EXPECT_EQ(p.Conn().rcv_nxt.raw(), rcv_before);
  EXPECT_EQ(p.counters().drop_ack_invalid, 1u);
}

// RFC 5961 §5.2: an ACK older than SND.UNA - MAX.SND.WND is dropped with a challenge ACK.
TEST_P(Synchronized, AckTooOld_SendsChallengeAck) {
  p.Send({.flags = kAck, .seq = p.snd_nxt, .ack = p.L(1) - 70000});
  p.ExpectEmit(kAck, p.rcv_nxt, p.snd_nxt);
  EXPECT_EQ(p.State(), state());
  EXPECT_EQ(p.counters().challenge_acks, 1u);
}

// RFC 9293 §3.10.7.4 fifth: "if the ACK bit is off, drop the segment and return".
TEST_P(Synchronized, NoAckBit_DroppedSilently) {
  p.Send({.flags = kPsh, .seq = p.snd_nxt, .len = 10});
  p.Send({.flags = kFin, .seq = p.snd_nxt});
  p.ExpectNothing();
  EXPECT_EQ(p.State(), state());
  EXPECT_EQ(p.counters().rx_bytes, 0u);
}

// --- the rules one state at a time ---------------------------------------------------------------

// RFC 5961 §5.2: an old ACK within MAX.SND.WND below SND.UNA is a duplicate: its data is taken.
TEST(StateRstSyn, Established_AckOldWithinMaxWindow_DataAccepted) {
  TcpPeer p;
  p.MakeEstablished();
  EXPECT_TRUE(p.Write(1000));
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  p.SendAck();
  p.Send({.flags = kAck | kPsh, .seq = p.R(1), .ack = p.L(1), .len = 10});  // ack 1000 bytes old
  EXPECT_EQ(p.counters().rx_bytes, 10u);
  EXPECT_EQ(p.counters().challenge_acks, 0u);
  EXPECT_EQ(p.Conn().snd_una.raw(), p.L(1001));
}

// RFC 5961 §7: at most challenge_ack_limit challenge ACKs per second, the rest withheld.
TEST(StateRstSyn, Established_SynBurst_ChallengeAcksRateLimited) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.challenge_ack_limit = 3;
  TcpPeer p(cfg);
  p.MakeEstablished();
  for (int i = 0; i < 3; ++i) {
    p.Send({.flags = kSyn, .seq = p.R(1)});
    p.ExpectEmit(kAck, p.L(1), p.R(1));
  }
  p.Send({.flags = kSyn, .seq = p.R(1)});
  p.Send({.flags = kSyn, .seq = p.R(1) + 100000});
  p.ExpectNothing();
  EXPECT_EQ(p.counters().challenge_acks, 3u);
  EXPECT_EQ(p.counters().challenge_acks_suppressed, 2u);
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  p.Advance(kSecond + kMillisecond);  // a new second, a new budget
  p.Send({.flags = kSyn, .seq = p.R(1)});
  p.ExpectEmit(kAck, p.L(1), p.R(1));
}

// RSTs and SYNs draw on the same budget (it is the attacker's cost that is limited).
TEST(StateRstSyn, Established_RstAndSynChallenges_ShareOneBudget) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.challenge_ack_limit = 2;
  TcpPeer p(cfg);
  p.MakeEstablished();
  p.Send({.flags = kRst, .seq = p.R(5)});
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  p.Send({.flags = kSyn, .seq = p.R(1)});
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  p.Send({.flags = kRst, .seq = p.R(5)});
  p.Send({.flags = kAck, .seq = p.R(1), .ack = p.L(1) - 70000});
  p.ExpectNothing();
  EXPECT_EQ(p.counters().challenge_acks_suppressed, 2u);
}

// The ACK that answers an ordinary unacceptable segment is not a challenge ACK: not limited.
TEST(StateRstSyn, Established_UnacceptableSegments_AlwaysAcked) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.challenge_ack_limit = 1;
  TcpPeer p(cfg);
  p.MakeEstablished();
  for (int i = 0; i < 5; ++i) {
    p.Send({.flags = kAck | kPsh, .seq = p.R(0) - 100, .ack = p.L(1), .len = 100});
    p.ExpectEmit(kAck, p.L(1), p.R(1));
  }
}

// RFC 5961 §3 covers SYN-RECEIVED too.
TEST(StateRstSyn, SynReceived_RstInWindowNotAtRcvNxt_SendsChallengeAck) {
  TcpPeer p;
  p.MakeSynReceived();
  p.Send({.flags = kRst, .seq = p.R(2)});
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
  EXPECT_EQ(p.counters().challenge_acks, 1u);
}

TEST(StateRstSyn, SynReceived_RstOutOfWindow_IgnoredSilently) {
  TcpPeer p;
  p.MakeSynReceived();
  p.Send({.flags = kRst, .seq = p.R(0)});
  p.Send({.flags = kRst, .seq = p.R(1) + 70000});
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
}

// RFC 1337 (TIME-WAIT assassination): an RST in TIME-WAIT is ignored; 2MSL runs its course.
TEST(StateRstSyn, TimeWait_Rst_IgnoredRfc1337) {
  for (Side side : {Side::kPassive, Side::kActive}) {
    SCOPED_TRACE(side_name(side));
    TcpPeer p;
    p.MakeTimeWait(side);
    p.Send({.flags = kRst, .seq = p.R(2)});
    p.Send({.flags = kRstAck, .seq = p.R(2), .ack = p.L(2)});
    p.Send({.flags = kRst, .seq = p.R(3)});
    p.ExpectNothing();
    EXPECT_EQ(p.State(), TcpState::kTimeWait);
    EXPECT_EQ(p.counters().rst_ignored, 3u);
    EXPECT_EQ(p.counters().rst_received, 0u);
    p.Advance(p.engine().config().time_wait + kMillisecond);
    EXPECT_TRUE(p.Gone());
  }
}

// RFC 6191 / RFC 1122 §4.2.2.13: a SYN unmistakably newer than the old incarnation (here: above
// RCV.NXT, no timestamps) may end TIME-WAIT early and open the tuple again, as Linux does.
TEST(StateRstSyn, TimeWait_NewerSyn_ReusesTuple) {
  TcpPeer p;
  p.MakeTimeWait(Side::kPassive);
  p.Send({.flags = kSyn, .seq = p.R(100000)});
  p.ExpectEmit(kSynAck, kAny, p.R(100001));
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
  EXPECT_EQ(p.counters().time_wait_reused, 1u);
  EXPECT_EQ(p.engine().gauges().connections, 1u);
}

// A SYN in TIME-WAIT that is not newer than the old incarnation cannot reuse the tuple; it is
// answered with the entry's ACK (as Linux does; RFC 6191 would drop it), which lets a peer that
// really restarted reset its side. It is TIME-WAIT's ordinary ACK, not a rate-limited challenge.
TEST(StateRstSyn, TimeWait_OldSyn_AnsweredWithAck) {
  TcpPeer p;
  p.MakeTimeWait(Side::kPassive);
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
  EXPECT_EQ(p.counters().time_wait_reused, 0u);
  EXPECT_EQ(p.counters().challenge_acks, 0u);
}

// --- PAWS (RFC 7323 §5.3) ------------------------------------------------------------------------

PeerOptions with_timestamps() {
  PeerOptions o;
  o.timestamps = true;
  return o;
}

// R1: a segment whose TSval is older than TS.Recent is an old duplicate: ACK and drop.
TEST(StateRstSyn, Established_OldTimestamp_DroppedByPawsAndAcked) {
  TcpPeer p(TcpPeer::DefaultConfig(), with_timestamps());
  p.MakeEstablished();
  p.Advance(100 * kMillisecond);
  p.SendData(10);  // TS.Recent moves to the peer's clock now
  const std::uint32_t recent = p.peer_ts();
  EXPECT_EQ(p.Conn().ts_recent, recent);
  p.Send({.flags = kAck | kPsh, .seq = p.snd_nxt, .ack = p.rcv_nxt, .len = 10, .ts_val = recent - 1});
  const ParsedFrame ack = p.ExpectEmit(kAck, p.L(1), p.R(11));
  EXPECT_TRUE(ack.tcp.options.has_timestamps);
  EXPECT_EQ(ack.tcp.options.ts_ecr, recent);
  EXPECT_EQ(p.counters().drop_paws, 1u);
  EXPECT_EQ(p.counters().rx_bytes, 10u);
  EXPECT_EQ(p.Conn().ts_recent, recent);
  // The same bytes with a current timestamp are taken.
  p.SendData(10);
  EXPECT_EQ(p.counters().rx_bytes, 20u);
}

// With timestamps on both sides the TSval decides (RFC 6191): an older one cannot end LAST-ACK,
// whatever its ISN (PAWS answers it); an equal one needs the larger ISN too; a larger one is
// newer even with the ISN at RCV.NXT, where the SYN is in the window: its TSval must not become
// TS.Recent first (RFC 7323 §4.3 takes it only from an accepted segment).
TEST(StateRstSyn, LastAck_SynTimestampDecides) {
  TcpPeer p(TcpPeer::DefaultConfig(), with_timestamps());
  p.MakeLastAck(Side::kPassive);
  const std::uint32_t recent = p.Conn().ts_recent;
  p.Send({.flags = kSyn, .seq = p.snd_nxt + 100000u, .ts_val = recent - 1});
  p.ExpectEmit(kAck, p.rcv_nxt, p.snd_nxt);
  p.Send({.flags = kSyn, .seq = p.snd_nxt, .ts_val = recent});
  p.ExpectEmit(kAck, p.rcv_nxt, p.snd_nxt);
  EXPECT_EQ(p.State(), TcpState::kLastAck);
  EXPECT_EQ(p.Conn().ts_recent, recent);
  p.Send({.flags = kSyn, .seq = p.snd_nxt, .ts_val = recent + 1});
  p.ExpectEmit(kSynAck, kAny, p.snd_nxt + 1);
  EXPECT_EQ(p.counters().last_ack_reused, 1u);
}

// A SYN carrying data does not end LAST-ACK: check_sequence may have cut a SYN+FIN's data and FIN
// at the window's edge, so only a SYN that arrived bare is trusted.
TEST(StateRstSyn, LastAck_NewerSynWithData_SendsChallengeAck) {
  TcpPeer p;
  p.MakeLastAck(Side::kPassive);
  p.Send({.flags = kSyn, .seq = p.snd_nxt + 1, .len = 10});
  p.ExpectEmit(kAck, p.rcv_nxt, p.snd_nxt);
  EXPECT_EQ(p.State(), TcpState::kLastAck);
  EXPECT_EQ(p.counters().last_ack_reused, 0u);
}

// R1 applies only "if the RST bit is off".
TEST(StateRstSyn, Established_RstWithOldTimestamp_NotSubjectToPaws) {
  TcpPeer p(TcpPeer::DefaultConfig(), with_timestamps());
  p.MakeEstablished();
  p.Send({.flags = kRst, .seq = p.R(1), .ts_val = p.peer_ts() - 1000});
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().drop_paws, 0u);
}

}  // namespace
}  // namespace synwave::test
