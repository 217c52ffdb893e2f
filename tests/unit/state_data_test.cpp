// Data transfer in the synchronised states: in-order delivery both ways, out-of-order segments,
// delayed ACKs (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2), fast retransmit (RFC 5681 §3.2) and
// zero-window probing (RFC 9293 §3.8.6.1). Map of rules to tests: tests/RFC_ARROWS.md.
#include <gtest/gtest.h>

#include "support/tcp_peer.hpp"

namespace synwave::test {
namespace {

EngineConfig no_delayed_ack() {
  EngineConfig c = TcpPeer::DefaultConfig();
  c.delayed_ack = 0;
  return c;
}

TEST(StateData, Established_DataBothWays_DeliveredInOrderAndAcked) {
  for (Side side : {Side::kPassive, Side::kActive}) {
    SCOPED_TRACE(side_name(side));
    TcpPeer p(no_delayed_ack());
    p.MakeEstablished(side);
    p.SendData(100);
    p.ExpectEmit(kAck, p.L(1), p.R(101));
    p.SendData(200);
    p.ExpectEmit(kAck, p.L(1), p.R(301));
    EXPECT_EQ(p.counters().rx_bytes, 300u);
    EXPECT_TRUE(p.Write(500));
    const ParsedFrame f = p.ExpectEmit(kAck, p.L(1), p.R(301));
    EXPECT_EQ(f.payload.size(), 500u);
    EXPECT_TRUE(f.has(kPsh));  // the last segment of what was written
    p.SendAck();
    p.ExpectNothing();
    EXPECT_EQ(p.Conn().snd_una.raw(), p.L(501));
    EXPECT_EQ(p.counters().tx_bytes, 500u);
  }
}

// Segments are cut at the peer's MSS; only the last one carries PSH.
TEST(StateData, Established_WriteLargerThanMss_CutIntoMssSegments) {
  PeerOptions o;
  o.mss_value = 1000;
  TcpPeer p(TcpPeer::DefaultConfig(), o);
  p.MakeEstablished();
  EXPECT_TRUE(p.Write(2500));
  const ParsedFrame a = p.ExpectEmit(kAck, p.L(1), p.R(1));
  const ParsedFrame b = p.ExpectEmit(kAck, p.L(1001), p.R(1));
  const ParsedFrame c = p.ExpectEmit(kAck, p.L(2001), p.R(1));
  EXPECT_EQ(a.payload.size(), 1000u);
  EXPECT_EQ(b.payload.size(), 1000u);
  EXPECT_EQ(c.payload.size(), 500u);
  EXPECT_FALSE(a.has(kPsh));
  EXPECT_TRUE(c.has(kPsh));
  p.ExpectNothing();
}

// The peer's window bounds what is in flight; its ACK opens room for the rest.
TEST(StateData, Established_PeerWindowSmall_SendsOnlyWhatFits) {
  TcpPeer p;
  p.MakeEstablished();
  p.SendAck(1000);  // window 1000 (no scaling)
  EXPECT_TRUE(p.Write(2500));
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1), p.R(1)).payload.size(), 1000u);
  p.ExpectNothing();
  p.SendAck(1000);
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1001), p.R(1)).payload.size(), 1000u);
  p.ExpectNothing();
}

// Out-of-order data is not queued: it is not delivered, and a duplicate ACK says where we are.
TEST(StateData, Established_OutOfOrderData_DupAckNotDelivered) {
  TcpPeer p;
  p.MakeEstablished();
  p.Send({.flags = kAck | kPsh, .seq = p.R(101), .ack = p.L(1), .len = 100});
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_EQ(p.counters().rx_bytes, 0u);
  EXPECT_EQ(p.counters().drop_out_of_order, 1u);
  EXPECT_EQ(p.Conn().rcv_nxt.raw(), p.R(1));
  // A FIN after the gap waits for the gap too.
  p.Send({.flags = kFinAck, .seq = p.R(201), .ack = p.L(1)});
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_EQ(p.State(), TcpState::kEstablished);
}

// Overlapping data: the part already received is trimmed off, the rest taken.
TEST(StateData, Established_OverlappingData_NewPartTaken) {
  TcpPeer p(no_delayed_ack());
  p.MakeEstablished();
  p.SendData(100);
  p.ExpectEmit(kAck, p.L(1), p.R(101));
  p.Send({.flags = kAck | kPsh, .seq = p.R(51), .ack = p.L(1), .len = 100});
  p.ExpectEmit(kAck, p.L(1), p.R(151));
  EXPECT_EQ(p.counters().rx_bytes, 150u);
}

// Sequence numbers wrap at 2^32 (RFC 9293 §3.4): a peer ISS just below the wrap.
TEST(StateData, Established_DataAcrossSequenceWrap_Delivered) {
  TcpPeer p(no_delayed_ack(), PeerOptions{}, 0xffffff00u);
  p.MakeEstablished();
  for (int i = 0; i < 4; ++i) {
    p.SendData(100);
    p.ExpectEmit(kAck, p.L(1), p.snd_nxt);
  }
  EXPECT_EQ(p.counters().rx_bytes, 400u);
  EXPECT_EQ(p.Conn().rcv_nxt.raw(), 0xffffff00u + 401u);
}

// --- delayed ACK ---------------------------------------------------------------------------------

// RFC 1122 §4.2.3.2: an ACK for at least every second full segment, at once.
TEST(StateData, Established_TwoSegments_SecondAckedAtOnce) {
  TcpPeer p;
  p.MakeEstablished();
  p.SendData(1460);
  p.ExpectNothing();
  p.SendData(1460);
  p.ExpectEmit(kAck, p.L(1), p.R(2921));
  p.Advance(p.engine().config().delayed_ack + kMillisecond);
  p.ExpectNothing();  // the delayed ACK went out with the immediate one
  EXPECT_EQ(p.counters().delayed_acks, 0u);
}

// A lone segment is ACKed when the delayed-ACK time runs out, not before.
TEST(StateData, Established_LoneSegment_AckedAfterDelayedAckTime) {
  TcpPeer p;
  p.MakeEstablished();
  const TimeNs delay = p.engine().config().delayed_ack;
  p.SendData(100);
  p.Advance(delay - kMillisecond);
  p.ExpectNothing();
  p.Advance(2 * kMillisecond);
  p.ExpectEmit(kAck, p.L(1), p.R(101));
  EXPECT_EQ(p.counters().delayed_acks, 1u);
}

// Our data carries the ACK: no separate ACK follows.
TEST(StateData, Established_DataToSendAfterLoneSegment_AckPiggybacked) {
  TcpPeer p;
  p.MakeEstablished();
  p.SendData(100);
  EXPECT_TRUE(p.Write(50));
  p.ExpectEmit(kAck, p.L(1), p.R(101));
  p.Advance(p.engine().config().delayed_ack + kMillisecond);
  p.ExpectNothing();
}

TEST(StateData, Established_DelayedAckOff_EverySegmentAckedAtOnce) {
  TcpPeer p(no_delayed_ack());
  p.MakeEstablished();
  p.SendData(100);
  p.ExpectEmit(kAck, p.L(1), p.R(101));
  p.SendData(100);
  p.ExpectEmit(kAck, p.L(1), p.R(201));
}

// --- fast retransmit (RFC 5681 §3.2) -------------------------------------------------------------

TEST(StateData, Established_ThreeDupAcks_FastRetransmit) {
  TcpPeer p;
  p.MakeEstablished();
  EXPECT_TRUE(p.Write(4 * 1460));
  for (std::uint32_t i = 0; i < 4; ++i) p.ExpectEmit(kAck, p.L(1 + i * 1460), p.R(1));
  p.rcv_nxt = p.L(1);  // the first segment was lost
  p.SendAck();
  p.SendAck();
  p.ExpectNothing();
  EXPECT_EQ(p.counters().dup_acks, 2u);
  p.SendAck();
  const ParsedFrame f = p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_EQ(f.payload.size(), 1460u);
  EXPECT_EQ(p.counters().fast_retransmits, 1u);
  EXPECT_EQ(p.counters().retransmits, 1u);
  EXPECT_EQ(p.Conn().ssthresh, 2u * 1460u);  // max(FlightSize / 2, 2 * SMSS)
  p.ExpectNothing();
}

// NewReno (RFC 6582 §3.2): two segments of one window lost. The third duplicate ACK resends the
// first; the ACK that follows covers only up to the second hole (a partial ACK), which is resent at
// once; duplicates within the recovery start no second fast retransmit; the ACK of everything sent
// before the loss ends the recovery.
TEST(StateData, Established_TwoLossesInOneWindow_PartialAckResendsTheSecondAtOnce) {
  TcpPeer p;
  p.MakeEstablished();
  EXPECT_TRUE(p.Write(6 * 1460));
  for (std::uint32_t i = 0; i < 6; ++i) p.ExpectEmit(kAck, p.L(1 + i * 1460), p.R(1));
  p.rcv_nxt = p.L(1);  // segments 0 and 2 lost
  for (int i = 0; i < 3; ++i) p.SendAck();
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1), p.R(1)).payload.size(), 1460u);
  EXPECT_EQ(p.counters().fast_retransmits, 1u);
  p.rcv_nxt = p.L(1);  // (ExpectEmit moved it past what it read)
  p.SendAck();  // a fourth duplicate: the same recovery
  p.ExpectNothing();
  p.rcv_nxt = p.L(1 + 2 * 1460);  // the resent segment 0 filled the first hole; segment 1 had arrived
  p.SendAck();
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1 + 2 * 1460), p.R(1)).payload.size(), 1460u);
  EXPECT_EQ(p.counters().recovery_retransmits, 1u);
  EXPECT_EQ(p.counters().tx_retransmitted_bytes, 2u * 1460u);
  p.rcv_nxt = p.L(1 + 2 * 1460);
  for (int i = 0; i < 3; ++i) p.SendAck();  // duplicates of the partial ACK
  p.ExpectNothing();
  EXPECT_EQ(p.counters().fast_retransmits, 1u);
  p.rcv_nxt = p.L(1 + 6 * 1460);  // the full acknowledgment
  p.SendAck();
  p.ExpectNothing();
  EXPECT_EQ(p.counters().retransmits, 2u);
  EXPECT_EQ(p.Conn().snd_una.raw(), p.L(1 + 6 * 1460));
  EXPECT_EQ(p.Conn().cwnd, p.Conn().ssthresh);
  // A later loss is a new recovery (cwnd is ssthresh, three segments, after the first).
  EXPECT_TRUE(p.Write(3 * 1460));
  for (std::uint32_t i = 0; i < 3; ++i) p.ExpectEmit(kAck, p.L(1 + (6 + i) * 1460), p.R(1));
  p.rcv_nxt = p.L(1 + 6 * 1460);
  for (int i = 0; i < 3; ++i) p.SendAck();
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1 + 6 * 1460), p.R(1)).payload.size(), 1460u);
  EXPECT_EQ(p.counters().fast_retransmits, 2u);
}

// RFC 3042 limited transmit: with a small window, the first two duplicate ACKs each let one new
// segment go, which is what brings the third duplicate.
TEST(StateData, Established_SmallWindowFirstTwoDuplicates_OneNewSegmentEach) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.initial_cwnd_segments = 2;
  TcpPeer p(cfg);
  p.MakeEstablished();
  EXPECT_TRUE(p.Write(6 * 1460));
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  p.ExpectEmit(kAck, p.L(1461), p.R(1));
  p.ExpectNothing();
  p.rcv_nxt = p.L(1);  // the first was lost; the second arrived
  p.SendAck();
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1 + 2 * 1460), p.R(1)).payload.size(), 1460u);
  p.rcv_nxt = p.L(1);
  p.SendAck();
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1 + 3 * 1460), p.R(1)).payload.size(), 1460u);
  p.rcv_nxt = p.L(1);
  p.SendAck();
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1), p.R(1)).payload.size(), 1460u);  // the third: fast retransmit
  EXPECT_EQ(p.counters().fast_retransmits, 1u);
}

// SACK (RFC 2018, RFC 6675 simplified): the peer's blocks say which segments arrived; the hole
// after the first is resent on the next duplicate, without waiting for the partial ACK, and a hole
// already resent is not resent again.
TEST(StateData, Established_SackBlocks_EachHoleResentOnce) {
  PeerOptions o;
  o.sack_permitted = true;
  TcpPeer p(TcpPeer::DefaultConfig(), o);
  p.MakeEstablished();
  ASSERT_TRUE(p.Conn().has(conn_flags::kSackPermitted));
  EXPECT_TRUE(p.Write(8 * 1460));
  for (std::uint32_t i = 0; i < 8; ++i) p.ExpectEmit(kAck, p.L(1 + i * 1460), p.R(1));
  // Segments 0 and 3 lost: the peer holds 1-2 and 4-7.
  auto seg = [&](std::uint32_t i) { return p.L(1 + i * 1460); };
  const std::vector<SackBlock> first = {{seg(1), seg(3)}};
  const std::vector<SackBlock> both = {{seg(4), seg(8)}, {seg(1), seg(3)}};
  p.Send({.flags = kAck, .seq = p.snd_nxt, .ack = p.L(1), .sack = first});
  p.Send({.flags = kAck, .seq = p.snd_nxt, .ack = p.L(1), .sack = both});
  p.ExpectNothing();
  p.Send({.flags = kAck, .seq = p.snd_nxt, .ack = p.L(1), .sack = both});
  EXPECT_EQ(p.ExpectEmit(kAck, seg(0), p.R(1)).payload.size(), 1460u);  // fast retransmit of the first hole
  p.Send({.flags = kAck, .seq = p.snd_nxt, .ack = p.L(1), .sack = both});
  EXPECT_EQ(p.ExpectEmit(kAck, seg(3), p.R(1)).payload.size(), 1460u);  // the second hole, from the blocks
  EXPECT_EQ(p.counters().recovery_retransmits, 1u);
  p.Send({.flags = kAck, .seq = p.snd_nxt, .ack = p.L(1), .sack = both});
  p.ExpectNothing();  // both holes resent: nothing more to send
  p.Send({.flags = kAck, .seq = p.snd_nxt, .ack = seg(3), .sack = {{seg(4), seg(8)}}});
  p.ExpectNothing();  // partial ACK: segment 3 was resent already
  p.Send({.flags = kAck, .seq = p.snd_nxt, .ack = seg(8)});
  p.ExpectNothing();
  EXPECT_EQ(p.counters().retransmits, 2u);
  EXPECT_EQ(p.counters().tx_retransmitted_bytes, 2u * 1460u);
}

// A pure window update or an ACK with data is not a duplicate ACK (RFC 5681 §2).
TEST(StateData, Established_AcksThatAreNotDuplicates_NoFastRetransmit) {
  TcpPeer p(no_delayed_ack());
  p.MakeEstablished();
  EXPECT_TRUE(p.Write(4 * 1460));
  for (std::uint32_t i = 0; i < 4; ++i) p.ExpectEmit(kAck, p.L(1 + i * 1460), p.R(1));
  p.rcv_nxt = p.L(1);
  p.SendAck(60000);  // window changed
  p.SendAck(50000);
  p.SendData(10);  // carries data
  p.ExpectEmit(kAck, p.L(5841), p.R(11));
  EXPECT_EQ(p.counters().dup_acks, 0u);
  EXPECT_EQ(p.counters().fast_retransmits, 0u);
}

// --- zero window (RFC 9293 §3.8.6.1) -------------------------------------------------------------

// With a zero window nothing is sent; when the RTO runs out, a one-byte probe goes.
TEST(StateData, Established_ZeroWindow_ProbedAfterRto) {
  TcpPeer p;
  p.MakeEstablished();
  p.SendAck(0);
  EXPECT_TRUE(p.Write(100));
  p.ExpectNothing();
  const TimeNs rto = TimeNs{p.Conn().rto_us} * kMicrosecond;
  p.Advance(rto - kMillisecond);
  p.ExpectNothing();
  p.Advance(2 * kMillisecond);
  const ParsedFrame probe = p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_EQ(probe.payload.size(), 1u);
  // The peer's window opens: the data flows.
  p.rcv_nxt = p.L(1);
  p.SendAck(65535);
  std::uint32_t received = 0;
  for (int round = 0; round < 20 && received < 100; ++round) {
    while (p.Pending() > 0) {
      const ParsedFrame f = p.ExpectEmit(kAck, kAny, p.R(1));
      if (f.tcp.seq.raw() == p.L(1) + received) received += static_cast<std::uint32_t>(f.payload.size());
    }
    p.rcv_nxt = p.L(1) + received;
    p.SendAck();
    p.Advance(100 * kMillisecond);
  }
  EXPECT_EQ(received, 100u);
}

// "As long as the receiving TCP peer continues to send acknowledgments in response to the probe
// segments, the sending TCP peer MUST allow the connection to stay open" (RFC 9293 §3.8.6.1),
// and the probes back off exponentially (SHLD-30).
TEST(StateData, Established_ZeroWindowProbesAnswered_ConnectionStaysOpen) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.max_retries = 3;
  cfg.rto_max = 2 * kSecond;
  TcpPeer p(cfg);
  p.MakeEstablished();
  p.SendAck(0);
  EXPECT_TRUE(p.Write(100));
  std::uint32_t probes = 0;
  for (int i = 0; i < 10; ++i) {
    p.Advance(2 * kSecond + kMillisecond);
    while (p.Pending() > 0) {
      const ParsedFrame f = p.ExpectEmit(kAck, p.L(1), p.R(1));
      EXPECT_LE(f.payload.size(), 1u);
      ++probes;
    }
    p.rcv_nxt = p.L(1);
    p.SendAck(0);  // still closed
  }
  EXPECT_GE(probes, 5u);
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.counters().conn_failed_timeout, 0u);
  EXPECT_EQ(p.counters().fast_retransmits, 0u);  // probe answers are not duplicate ACKs
}

// RFC 9293 §3.10.7.4 processes a segment's text and then its FIN before anything is sent: a
// request that arrives with the FIN is answered by a segment that acknowledges the FIN too (as
// Linux does), not by a response that acknowledges the data and a separate ACK for the FIN.
struct FinWithDataCase {
  const char* name;
  ClosePolicy close;
  bool response_carries_fin;  // the server closes on the response (or on the peer's FIN)
};

class FinWithRequest : public ::testing::TestWithParam<FinWithDataCase> {};

TEST_P(FinWithRequest, ResponseAcknowledgesTheFin) {
  const FinWithDataCase& c = GetParam();
  EngineConfig cfg = no_delayed_ack();
  cfg.workload.kind = WorkloadKind::kRaw;
  cfg.workload.request_bytes = 100;
  cfg.workload.response_bytes = 200;
  cfg.workload.close = c.close;
  TcpPeer p(cfg);
  p.MakeEstablished();
  p.Send({.flags = kAck | kPsh | kFin, .seq = p.R(1), .ack = p.L(1), .len = 100});
  const ParsedFrame response = p.ExpectEmit(c.response_carries_fin ? (kAck | kFin) : kAck, p.L(1), p.R(102));
  EXPECT_EQ(response.payload.size(), 200u);
  EXPECT_EQ(response.has(kFin), c.response_carries_fin);
  p.ExpectNothing();  // no separate ACK for the FIN: the response carried it
  // The peer acknowledges everything; the connection ends the way the policy says.
  const std::uint32_t sent = 200 + (c.response_carries_fin ? 1u : 0u);
  p.Send({.flags = kAck, .seq = p.R(102), .ack = p.L(1 + sent)});
  if (c.close == ClosePolicy::kReset) {
    p.ExpectEmit(kRst | kAck, p.L(201), kAny);
    EXPECT_TRUE(p.Gone());
  } else {
    // Server first: our FIN and theirs crossed (CLOSING), their ACK brings TIME-WAIT.
    // Client first: LAST-ACK, their ACK ends it.
    EXPECT_EQ(p.State(), c.close == ClosePolicy::kServerFirst ? TcpState::kTimeWait : TcpState::kClosed);
  }
  EXPECT_EQ(p.counters().conn_completed, 1u);
}

INSTANTIATE_TEST_SUITE_P(ClosePolicies, FinWithRequest,
                         ::testing::Values(FinWithDataCase{"ServerFirst", ClosePolicy::kServerFirst, true},
                                           FinWithDataCase{"ClientFirst", ClosePolicy::kClientFirst, true},
                                           FinWithDataCase{"Reset", ClosePolicy::kReset, false}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace synwave::test
