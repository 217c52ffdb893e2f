// Opening a connection, one test per arrow of RFC 9293 §3.3.2 (figure 5) into ESTABLISHED, and
// the §3.10.7.1 / §3.10.7.2 / §3.10.7.3 rules for CLOSED, LISTEN and SYN-SENT. Each test drives
// one engine with a scripted peer (support/tcp_peer.hpp). Map of arrows to tests:
// tests/RFC_ARROWS.md.
#include <gtest/gtest.h>

#include "support/tcp_peer.hpp"

namespace synwave::test {
namespace {

// --- LISTEN (RFC 9293 §3.10.7.2) -----------------------------------------------------------------

TEST(StateOpen, Listen_Syn_SendsSynAckAndEntersSynReceived) {
  TcpPeer p;
  p.Send({.flags = kSyn, .seq = p.R(0)});
  const ParsedFrame f = p.ExpectEmit(kSynAck, kAny, p.R(1));
  EXPECT_TRUE(f.tcp.options.has_mss);
  EXPECT_EQ(f.tcp.options.mss, 1460);
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
  EXPECT_EQ(p.engine().gauges().in(TcpState::kSynReceived), 1u);
  EXPECT_EQ(p.engine().find(p.key()), kNoIndex);  // a compact half-open entry, no full record
  EXPECT_EQ(p.counters().syn_received, 1u);
  EXPECT_EQ(p.counters().synack_sent, 1u);
}

// A frame whose checksum is wrong is dropped and counted, unless the device vouched for it: a NIC
// that checked it (rx offload) or a memory link the data plane trusts (net_ring, net_memif).
TEST(StateOpen, Listen_SynWithBadChecksum_DroppedUnlessTheDeviceVouchesForIt) {
  TcpPeer p;
  p.Send({.flags = kSyn, .seq = p.R(0), .bad_tcp_checksum = true});
  p.ExpectNothing();
  EXPECT_EQ(p.counters().drop_tcp_bad_checksum, 1u);
  EXPECT_EQ(p.counters().syn_received, 0u);
  p.rx_frame_flags = frame_flags::kRxIpChecksumGood | frame_flags::kRxL4ChecksumGood;
  p.Send({.flags = kSyn, .seq = p.R(0), .bad_tcp_checksum = true});
  p.ExpectEmit(kSynAck, kAny, p.R(1));
  EXPECT_EQ(p.counters().drop_tcp_bad_checksum, 1u);
}

TEST(StateOpen, Listen_Rst_IgnoredSilently) {
  TcpPeer p;
  p.Send({.flags = kRst, .seq = p.R(0)});
  p.Send({.flags = kRstAck, .seq = p.R(0), .ack = 12345});
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.engine().gauges().connections, 0u);
}

// RFC 9293 §3.10.7.2 second: any ACK to a listener is bad: <SEQ=SEG.ACK><CTL=RST>.
TEST(StateOpen, Listen_Ack_SendsRstWithSeqOfSegAck) {
  struct Case {
    const char* name;
    std::uint8_t flags;
    std::uint32_t len;
  };
  for (const Case& c : {Case{"bare ACK", kAck, 0}, Case{"ACK with data", kAck | kPsh, 10},
                        Case{"SYN-ACK", kSynAck, 0}, Case{"FIN-ACK", kFinAck, 0}}) {
    SCOPED_TRACE(c.name);
    TcpPeer p;
    p.Send({.flags = c.flags, .seq = 777, .ack = 0xdeadbeef, .len = c.len});
    p.ExpectEmit(kRst, 0xdeadbeef, kAny);
    EXPECT_TRUE(p.Gone());
  }
}

// Linux drops SYN+FIN in LISTEN; RFC 9293 leaves it undefined.
TEST(StateOpen, Listen_SynFin_DroppedSilently) {
  TcpPeer p;
  p.Send({.flags = kSyn | kFin, .seq = p.R(0)});
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
}

TEST(StateOpen, Listen_NoControlBits_DroppedSilently) {
  TcpPeer p;
  p.Send({.flags = kPsh, .seq = p.R(0), .len = 5});
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
}

// Data on a SYN is not accepted (no TCP Fast Open): the SYN-ACK acknowledges the SYN only, and
// the peer has to send the bytes again.
TEST(StateOpen, Listen_SynWithData_DataNotAcked) {
  TcpPeer p;
  p.Send({.flags = kSyn, .seq = p.R(0), .len = 20});
  p.ExpectEmit(kSynAck, kAny, p.R(1));
  p.snd_nxt = p.R(1);
  p.SendAck();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.counters().rx_bytes, 0u);
  p.SendData(20);  // the retransmission is taken
  EXPECT_EQ(p.counters().rx_bytes, 20u);
  EXPECT_EQ(p.Conn().rcv_nxt.raw(), p.R(21));
}

// --- CLOSED: no connection, no listener (RFC 9293 §3.10.7.1) -------------------------------------

TEST(StateOpen, Closed_Syn_SendsRstAckWithAckOfSegSeqPlusOne) {
  TcpPeer p;
  p.UseTuple(TcpPeer::kClosedPort, TcpPeer::kPeerPort);
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.ExpectEmit(kRstAck, 0, p.R(1));
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().drop_no_listener_rst, 1u);
}

// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>: SEG.LEN counts the data, the SYN and the FIN.
TEST(StateOpen, Closed_SegmentWithoutAck_RstAcksWholeSegment) {
  TcpPeer p;
  p.UseTuple(TcpPeer::kClosedPort, TcpPeer::kPeerPort);
  p.Send({.flags = kSyn, .seq = p.R(0), .len = 30});
  p.ExpectEmit(kRstAck, 0, p.R(31));
  p.Send({.flags = kFin | kPsh, .seq = p.R(100), .len = 9});
  p.ExpectEmit(kRstAck, 0, p.R(110));
}

TEST(StateOpen, Closed_Ack_SendsRstWithSeqOfSegAck) {
  TcpPeer p;
  p.UseTuple(TcpPeer::kClosedPort, TcpPeer::kPeerPort);
  p.Send({.flags = kAck, .seq = p.R(5), .ack = 424242});
  p.ExpectEmit(kRst, 424242, kAny);
}

TEST(StateOpen, Closed_Rst_IgnoredSilently) {
  TcpPeer p;
  p.UseTuple(TcpPeer::kClosedPort, TcpPeer::kPeerPort);
  p.Send({.flags = kRst, .seq = p.R(0)});
  p.Send({.flags = kRstAck, .seq = p.R(0), .ack = 99});
  p.ExpectNothing();
}

// --- SYN-RECEIVED, passive (RFC 9293 §3.10.7.4) --------------------------------------------------

TEST(StateOpen, SynReceived_Ack_EntersEstablished) {
  TcpPeer p;
  p.MakeSynReceived();
  p.SendAck();
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.Conn().snd_una.raw(), p.L(1));
  EXPECT_EQ(p.counters().conn_established, 1u);
  EXPECT_EQ(p.counters().conn_accepted, 1u);
}

TEST(StateOpen, SynReceived_AckWithData_EntersEstablishedAndTakesData) {
  TcpPeer p;
  p.MakeSynReceived();
  p.SendData(100);
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.counters().rx_bytes, 100u);
  EXPECT_EQ(p.Conn().rcv_nxt.raw(), p.R(101));
}

// The ACK that completes the handshake may carry the peer's FIN as well: on to CLOSE-WAIT.
TEST(StateOpen, SynReceived_AckWithFin_EntersCloseWait) {
  TcpPeer p;
  p.MakeSynReceived();
  p.SendFin();
  p.ExpectEmit(kAck, p.L(1), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kCloseWait);
  EXPECT_EQ(p.counters().conn_established, 1u);
}

// §3.10.7.4 fifth, SYN-RECEIVED: an ACK outside SND.UNA < SEG.ACK =< SND.NXT gets
// <SEQ=SEG.ACK><CTL=RST>, and the half-open connection stays.
TEST(StateOpen, SynReceived_UnacceptableAck_SendsRstAndStays) {
  for (const std::uint32_t delta : {0u, 2u, 1000u, 0u - 1000u}) {
    SCOPED_TRACE(delta);
    TcpPeer p;
    p.MakeSynReceived();
    p.Send({.flags = kAck, .seq = p.R(1), .ack = p.L(delta)});
    p.ExpectEmit(kRst, p.L(delta), kAny);
    EXPECT_EQ(p.State(), TcpState::kSynReceived);
    p.SendAck();  // the right ACK still completes the handshake
    EXPECT_EQ(p.State(), TcpState::kEstablished);
  }
}

// §3.10.7.4 first check: a segment that is not acceptable (here an ACK of our SYN from before
// the window) gets <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and is dropped; the half-open entry stays.
// Found by the conformance suite (tests/conformance): the entry used to drop it silently.
TEST(StateOpen, SynReceived_SegmentBeforeWindow_AckedAndDropped) {
  for (const std::uint32_t before : {1u, 5000u}) {
    SCOPED_TRACE(before);
    TcpPeer p;
    p.MakeSynReceived();
    p.Send({.flags = kAck, .seq = p.R(1) - before, .ack = p.L(1)});
    p.ExpectEmit(kAck, p.L(1), p.R(1));
    EXPECT_EQ(p.State(), TcpState::kSynReceived);
    EXPECT_EQ(p.counters().drop_unacceptable, 1u);
    EXPECT_EQ(p.counters().conn_accepted, 0u);
    p.SendAck();  // the right ACK still completes the handshake
    EXPECT_EQ(p.State(), TcpState::kEstablished);
  }
}

TEST(StateOpen, SynReceived_SegmentWithoutAck_Dropped) {
  TcpPeer p;
  p.MakeSynReceived();
  p.Send({.flags = kPsh, .seq = p.R(1), .len = 10});
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
  EXPECT_EQ(p.counters().rx_bytes, 0u);
}

// A retransmitted SYN means our SYN-ACK was lost: send the same SYN-ACK again, keep one record.
TEST(StateOpen, SynReceived_DuplicateSyn_SendsSameSynAckAgain) {
  TcpPeer p;
  p.MakeSynReceived();
  const std::uint32_t iss = p.local_iss();
  p.Advance(500 * kMillisecond);
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.ExpectEmit(kSynAck, iss, p.R(1));
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
  EXPECT_EQ(p.engine().gauges().connections, 1u);
  EXPECT_EQ(p.counters().syn_received, 1u);
  EXPECT_EQ(p.counters().synack_retransmitted, 1u);
}

// §3.10.7.4 fourth: a (new) SYN in the window of a passive SYN-RECEIVED returns it to LISTEN.
TEST(StateOpen, SynReceived_SynInWindow_ReturnsToListen) {
  TcpPeer p;
  p.MakeSynReceived();
  p.Send({.flags = kSyn, .seq = p.R(10)});
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().syn_rcvd_reset, 1u);
}

// §3.10.7.4 second: RST in a passive SYN-RECEIVED returns to LISTEN; the user is not told and
// no RST answers an RST.
TEST(StateOpen, SynReceived_Rst_ReturnsToListenSendsNothing) {
  TcpPeer p;
  p.MakeSynReceived();
  p.Send({.flags = kRst, .seq = p.R(1)});
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().syn_rcvd_reset, 1u);
  EXPECT_EQ(p.counters().conn_failed, 0u);
  EXPECT_EQ(p.engine().gauges().connections, 0u);
  // The listener is still there: the same peer may try again.
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.ExpectEmit(kSynAck, kAny, p.R(1));
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
}

// RFC 9293 §3.10.4: CLOSE in SYN-RECEIVED with nothing to send: FIN, FIN-WAIT-1.
// A passive open in SYN-RECEIVED is a compact half-open entry the application has no handle on
// (it cannot close what it has not accepted); the arrow is exercised from the SYN-RECEIVED that
// a simultaneous open reaches, where the user does hold the connection.
TEST(StateOpen, SynReceived_Close_SendsFinEntersFinWait1) {
  TcpPeer p;
  p.MakeSimultaneousSynReceived();
  EXPECT_TRUE(p.Close());
  p.ExpectEmit(kFinAck, p.L(1), p.R(1));
  EXPECT_EQ(p.State(), TcpState::kFinWait1);
  // The peer's ACK of SYN and FIN together ends in FIN-WAIT-2.
  p.SendAck();
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kFinWait2);
}

// --- CLOSED -> SYN-SENT, and SYN-SENT (RFC 9293 §3.10.1, §3.10.7.3) ------------------------------

TEST(StateOpen, Closed_Open_SendsSynEntersSynSent) {
  TcpPeer p;
  const OpenResult r = p.Open(TcpPeer::kPeerServerPort, TcpPeer::kEngineActivePort);
  ASSERT_EQ(r.error, OpenError::kOk);
  p.UseActiveTuple();
  const ParsedFrame f = p.ExpectEmit(kSyn, kAny, kAny);
  EXPECT_EQ(r.conn, p.id());
  EXPECT_EQ(p.State(), TcpState::kSynSent);
  EXPECT_TRUE(f.tcp.options.has_mss);
  EXPECT_EQ(f.tcp.options.mss, 1460);
  EXPECT_TRUE(f.tcp.options.has_window_scale);
  EXPECT_EQ(f.tcp.options.window_scale, 7);
  EXPECT_TRUE(f.tcp.options.has_timestamps);
  EXPECT_EQ(f.tcp.options.ts_ecr, 0u);
  EXPECT_TRUE(f.tcp.options.sack_permitted);
  EXPECT_EQ(f.tcp.window, 65535);  // RFC 7323 §2.2: never scaled in a SYN
  EXPECT_EQ(p.counters().conn_opened, 1u);
  EXPECT_EQ(p.counters().syn_sent, 1u);
}

TEST(StateOpen, Closed_OpenOnTupleInUse_Refused) {
  TcpPeer p;
  p.MakeSynSent();
  const OpenResult r = p.Open(TcpPeer::kPeerServerPort, TcpPeer::kEngineActivePort);
  EXPECT_EQ(r.error, OpenError::kTupleInUse);
  p.ExpectNothing();
}

TEST(StateOpen, SynSent_SynAck_SendsAckEntersEstablished) {
  TcpPeer p;
  p.MakeSynSent();
  p.Send({.flags = kSynAck, .seq = p.R(0), .ack = p.L(1)});
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.Conn().irs.raw(), p.R(0));
  EXPECT_EQ(p.Conn().snd_una.raw(), p.L(1));
  EXPECT_EQ(p.counters().conn_established, 1u);
  EXPECT_EQ(p.counters().conn_accepted, 0u);
}

// Data the user wrote in SYN-SENT is queued and leaves with the handshake's ACK.
TEST(StateOpen, SynSent_DataQueuedThenSynAck_DataFollowsHandshake) {
  TcpPeer p;
  p.MakeSynSent();
  EXPECT_TRUE(p.Write(100));
  p.ExpectNothing();
  p.Send({.flags = kSynAck, .seq = p.R(0), .ack = p.L(1)});
  const ParsedFrame f = p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_EQ(f.payload.size(), 100u);
  EXPECT_EQ(p.State(), TcpState::kEstablished);
}

// RFC 9293 §3.5 figure 8: a SYN without ACK in SYN-SENT is a simultaneous open.
TEST(StateOpen, SynSent_Syn_SendsSynAckEntersSynReceived) {
  TcpPeer p;
  p.MakeSynSent();
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.ExpectEmit(kSynAck, p.L(0), p.R(1));
  EXPECT_EQ(p.State(), TcpState::kSynReceived);
  EXPECT_EQ(p.Conn().irs.raw(), p.R(0));
}

// Figure 8 line 5: the peer's SYN-ACK acknowledges our SYN: ESTABLISHED.
TEST(StateOpen, SimultaneousOpen_SynAck_EntersEstablished) {
  TcpPeer p;
  p.MakeSynSent();
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.ExpectEmit(kSynAck, p.L(0), p.R(1));
  p.Send({.flags = kSynAck, .seq = p.R(0), .ack = p.L(1)});
  p.ExpectNothing();  // figure 8 line 7: nothing more to say
  EXPECT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.Conn().snd_una.raw(), p.L(1));
  EXPECT_EQ(p.Conn().rcv_nxt.raw(), p.R(1));
  EXPECT_EQ(p.counters().conn_established, 1u);
  EXPECT_EQ(p.counters().conn_accepted, 0u);
  // And it is a working connection.
  p.snd_nxt = p.R(1);
  EXPECT_TRUE(p.Write(10));
  const ParsedFrame f = p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_EQ(f.payload.size(), 10u);
}

TEST(StateOpen, SimultaneousOpen_Ack_EntersEstablished) {
  TcpPeer p;
  p.MakeSynSent();
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.ExpectEmit(kSynAck, p.L(0), p.R(1));
  p.Send({.flags = kAck, .seq = p.R(1), .ack = p.L(1)});
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kEstablished);
}

// An actively opened SYN-RECEIVED that gets an RST was refused (§3.10.7.4 second).
TEST(StateOpen, SimultaneousOpen_Rst_ClosesRefused) {
  TcpPeer p;
  p.MakeSynSent();
  p.Send({.flags = kSyn, .seq = p.R(0)});
  p.ExpectEmit(kSynAck, p.L(0), p.R(1));
  p.Send({.flags = kRst, .seq = p.R(1)});
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().conn_failed_refused, 1u);
}

// §3.10.7.3 second: RST with an acceptable ACK: "connection reset", CLOSED, nothing sent.
TEST(StateOpen, SynSent_RstWithAcceptableAck_Closes) {
  TcpPeer p;
  p.MakeSynSent();
  p.Send({.flags = kRstAck, .seq = 0, .ack = p.L(1)});
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().conn_failed_refused, 1u);
  EXPECT_EQ(p.counters().rst_received, 1u);
  EXPECT_EQ(p.engine().gauges().connections, 0u);
}

// An RST that does not acknowledge our SYN could be blind: dropped (RFC 5961 §3.2, §3.10.7.3).
TEST(StateOpen, SynSent_RstWithoutAck_Ignored) {
  TcpPeer p;
  p.MakeSynSent();
  p.Send({.flags = kRst, .seq = p.R(0)});
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kSynSent);
}

// §3.10.7.3 first: an unacceptable ACK with RST is dropped, without RST with <SEQ=SEG.ACK><CTL=RST>.
TEST(StateOpen, SynSent_UnacceptableAck_SendsRstUnlessRst) {
  for (const std::uint32_t delta : {0u, 2u, 0u - 5u}) {
    SCOPED_TRACE(delta);
    TcpPeer p;
    p.MakeSynSent();
    p.Send({.flags = kRstAck, .seq = p.R(0), .ack = p.L(delta)});
    p.ExpectNothing();
    EXPECT_EQ(p.State(), TcpState::kSynSent);
    p.Send({.flags = kSynAck, .seq = p.R(0), .ack = p.L(delta)});
    p.ExpectEmit(kRst, p.L(delta), kAny);
    EXPECT_EQ(p.State(), TcpState::kSynSent);
    p.Send({.flags = kAck, .seq = p.R(0), .ack = p.L(delta)});
    p.ExpectEmit(kRst, p.L(delta), kAny);
    EXPECT_EQ(p.State(), TcpState::kSynSent);
  }
}

// §3.10.7.3 fifth: neither SYN nor RST: drop.
TEST(StateOpen, SynSent_AckWithoutSyn_Dropped) {
  TcpPeer p;
  p.MakeSynSent();
  p.Send({.flags = kAck, .seq = p.R(0), .ack = p.L(1)});
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kSynSent);
}

// RFC 9293 §3.10.4: CLOSE in SYN-SENT deletes the TCB; nothing is sent.
TEST(StateOpen, SynSent_Close_ClosesSilently) {
  TcpPeer p;
  p.MakeSynSent();
  EXPECT_TRUE(p.Close());
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  p.Advance(5 * kSecond);
  p.ExpectNothing();  // and no SYN retransmission follows
}

// RFC 9293 §3.10.5: ABORT in SYN-SENT sends nothing.
TEST(StateOpen, SynSent_Abort_ClosesSilently) {
  TcpPeer p;
  p.MakeSynSent();
  EXPECT_TRUE(p.Abort());
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
}

}  // namespace
}  // namespace synwave::test
