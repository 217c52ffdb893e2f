// Closing a connection: every arrow of RFC 9293 §3.3.2 (figure 5) out of ESTABLISHED, the
// simultaneous close of §3.6 (figure 13), half-close, and the TIME-WAIT rules of §3.10.7.4.
// Every test runs for a passively and an actively opened connection. Map of arrows to tests:
// tests/RFC_ARROWS.md.
#include <gtest/gtest.h>

#include "support/tcp_peer.hpp"

namespace synwave::test {
namespace {

class StateClose : public ::testing::TestWithParam<Side> {
 protected:
  Side side() const { return GetParam(); }
  TcpPeer p;
};

INSTANTIATE_TEST_SUITE_P(BothSides, StateClose, ::testing::Values(Side::kPassive, Side::kActive),
                         [](const ::testing::TestParamInfo<Side>& info) { return side_name(info.param); });

// --- our side closes first: ESTABLISHED -> FIN-WAIT-1 -> ... -------------------------------------

TEST_P(StateClose, Established_Close_SendsFinEntersFinWait1) {
  p.MakeEstablished(side());
  EXPECT_TRUE(p.Close());
  p.ExpectEmit(kFinAck, p.L(1), p.R(1));
  EXPECT_EQ(p.State(), TcpState::kFinWait1);
  EXPECT_FALSE(p.Close());     // closing already
  EXPECT_FALSE(p.Write(10));   // §3.10.2: "connection closing"
  p.ExpectNothing();
}

TEST_P(StateClose, Established_CloseAfterData_FinFollowsData) {
  p.MakeEstablished(side());
  EXPECT_TRUE(p.Write(100));
  const ParsedFrame data = p.ExpectEmit(kAck, p.L(1), p.R(1));
  EXPECT_EQ(data.payload.size(), 100u);
  EXPECT_TRUE(p.Close());
  p.ExpectEmit(kFinAck, p.L(101), p.R(1));
  EXPECT_EQ(p.State(), TcpState::kFinWait1);
}

TEST_P(StateClose, FinWait1_AckOfFin_EntersFinWait2) {
  p.MakeFinWait1(side());
  p.SendAck();
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kFinWait2);
}

// Only the ACK that covers the FIN moves FIN-WAIT-1 on; an ACK of the data before it does not.
TEST_P(StateClose, FinWait1_AckOfDataOnly_StaysFinWait1) {
  p.MakeEstablished(side());
  EXPECT_TRUE(p.Write(100));
  EXPECT_TRUE(p.Close());
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  p.ExpectEmit(kFinAck, p.L(101), p.R(1));
  p.Send({.flags = kAck, .seq = p.R(1), .ack = p.L(101)});
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kFinWait1);
  p.SendAck();
  EXPECT_EQ(p.State(), TcpState::kFinWait2);
}

// FIN-WAIT-1 still reads: the peer's data is taken and acknowledged.
TEST_P(StateClose, FinWait1_Data_DeliveredAndAcked) {
  p.MakeFinWait1(side());
  p.Send({.flags = kAck | kPsh, .seq = p.R(1), .ack = p.L(1), .len = 50});
  p.snd_nxt = p.R(51);
  EXPECT_EQ(p.counters().rx_bytes, 50u);
  p.Advance(p.engine().config().delayed_ack + kMillisecond);
  p.ExpectEmit(kAck, p.L(2), p.R(51));
  EXPECT_EQ(p.State(), TcpState::kFinWait1);
}

// RFC 9293 §3.6 figure 13: the FINs cross; each side ACKs the other's and waits in CLOSING.
TEST_P(StateClose, FinWait1_Fin_SendsAckEntersClosing) {
  p.MakeFinWait1(side());
  p.Send({.flags = kFinAck, .seq = p.R(1), .ack = p.L(1)});
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kClosing);
}

// §3.10.7.4 eighth, FIN-WAIT-1: "If our FIN has been ACKed ... enter TIME-WAIT".
TEST_P(StateClose, FinWait1_FinAckingOurFin_SendsAckEntersTimeWait) {
  p.MakeFinWait1(side());
  p.SendFin();
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
  EXPECT_EQ(p.counters().time_wait_entered, 1u);
}

TEST_P(StateClose, FinWait2_Fin_SendsAckEntersTimeWait) {
  p.MakeFinWait2(side());
  p.SendFin();
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
  EXPECT_EQ(p.counters().time_wait_entered, 1u);
}

// Half-close the other way: FIN-WAIT-2 keeps reading until the peer's FIN.
TEST_P(StateClose, FinWait2_Data_DeliveredAndAcked) {
  p.MakeFinWait2(side());
  p.SendData(100);
  p.SendData(100);  // the second segment is acknowledged at once
  p.ExpectEmit(kAck, p.L(2), p.R(201));
  EXPECT_EQ(p.counters().rx_bytes, 200u);
  EXPECT_EQ(p.State(), TcpState::kFinWait2);
  p.SendFin();
  p.ExpectEmit(kAck, p.L(2), p.R(202));
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
}

// Linux's tcp_fin_timeout: a FIN-WAIT-2 whose peer never closes is given up.
TEST_P(StateClose, FinWait2_NoFin_TimesOut) {
  p.MakeFinWait2(side());
  const TimeNs timeout = p.engine().config().fin_wait2_timeout;
  p.Advance(timeout - kMillisecond);
  EXPECT_EQ(p.State(), TcpState::kFinWait2);
  p.Advance(2 * kMillisecond);
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().conn_failed_fin_wait2_timeout, 1u);
}

TEST_P(StateClose, Closing_AckOfFin_EntersTimeWait) {
  p.MakeClosing(side());
  p.SendAck();
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
}

TEST_P(StateClose, Closing_AckNotCoveringFin_StaysClosing) {
  p.MakeClosing(side());
  p.Send({.flags = kAck, .seq = p.R(2), .ack = p.L(1)});
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kClosing);
}

// --- TIME-WAIT (RFC 9293 §3.10.7.4, §3.6) --------------------------------------------------------

TEST_P(StateClose, TimeWait_TwoMslElapse_RecordFreed) {
  p.MakeTimeWait(side());
  const TimeNs two_msl = p.engine().config().time_wait;
  p.Advance(two_msl - kMillisecond);
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
  p.Advance(2 * kMillisecond);
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().conn_completed, 1u);
  EXPECT_EQ(p.counters().conn_failed, 0u);
  EXPECT_EQ(p.engine().gauges().connections, 0u);
}

// §3.10.7.4 eighth, TIME-WAIT: "Remain in the TIME-WAIT state. Restart the 2 MSL time-wait
// timeout." The retransmitted FIN means our ACK was lost: ACK it again.
TEST_P(StateClose, TimeWait_RetransmittedFin_AcksAndRestartsTwoMsl) {
  p.MakeTimeWait(side());
  const TimeNs two_msl = p.engine().config().time_wait;
  p.Advance(two_msl / 2);
  p.Send({.flags = kFinAck, .seq = p.R(1), .ack = p.L(2)});
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
  p.Advance(two_msl / 2 + 10 * kMillisecond);  // the first 2MSL is over
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
  p.Advance(two_msl / 2);  // the restarted one is too
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
}

// RFC 9293 §3.10.5 ABORT in TIME-WAIT only deletes the TCB. Here the record is already gone on
// entering TIME-WAIT (a 32-byte entry, as Linux's timewait sockets, that no user holds): ABORT on
// the handle the user had is refused, sends nothing, and leaves the entry to run its 2MSL.
TEST_P(StateClose, TimeWait_AbortOnOldHandle_RefusedNothingSent) {
  p.MakeFinWait2(side());
  const std::uint32_t handle = p.id();
  p.SendFin();
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  ASSERT_EQ(p.State(), TcpState::kTimeWait);
  EXPECT_EQ(p.id(), kNoIndex);
  EXPECT_FALSE(p.engine().abort(handle, p.now()));
  EXPECT_FALSE(p.Abort());  // the handle of nothing (kNoIndex)
  p.ExpectNothing();
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
  p.Advance(p.engine().config().time_wait + kMillisecond);
  EXPECT_TRUE(p.Gone());
}

// --- the peer closes first: ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED -----------------------

TEST_P(StateClose, Established_Fin_SendsAckEntersCloseWait) {
  p.MakeEstablished(side());
  p.SendFin();
  p.ExpectEmit(kAck, p.L(1), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kCloseWait);
}

TEST_P(StateClose, Established_DataWithFin_DeliveredAndAcked) {
  p.MakeEstablished(side());
  p.Send({.flags = kFinAck | kPsh, .seq = p.R(1), .ack = p.L(1), .len = 30});
  p.ExpectEmit(kAck, p.L(1), p.R(32));
  EXPECT_EQ(p.counters().rx_bytes, 30u);
  EXPECT_EQ(p.State(), TcpState::kCloseWait);
}

// Half-close: after the peer's FIN our data still flows, and our segments keep ACKing its FIN.
TEST_P(StateClose, CloseWait_Write_DataStillFlows) {
  p.MakeCloseWait(side());
  EXPECT_TRUE(p.Write(3000));
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1), p.R(2)).payload.size(), 1460u);
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(1461), p.R(2)).payload.size(), 1460u);
  EXPECT_EQ(p.ExpectEmit(kAck, p.L(2921), p.R(2)).payload.size(), 80u);
  p.SendAck();
  p.ExpectNothing();
  EXPECT_EQ(p.Conn().snd_una.raw(), p.L(3001));
  EXPECT_EQ(p.State(), TcpState::kCloseWait);
  EXPECT_TRUE(p.Close());
  p.ExpectEmit(kFinAck, p.L(3001), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kLastAck);
  p.SendAck();
  EXPECT_TRUE(p.Gone());
}

// §3.10.7.4 seventh, CLOSE-WAIT: "This should not occur ... Ignore the segment text."
TEST_P(StateClose, CloseWait_DataAfterFin_Ignored) {
  p.MakeCloseWait(side());
  p.SendData(10);
  EXPECT_EQ(p.counters().rx_bytes, 0u);
  EXPECT_EQ(p.counters().drop_data_after_close, 1u);
  EXPECT_EQ(p.Conn().rcv_nxt.raw(), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kCloseWait);
}

TEST_P(StateClose, CloseWait_Close_SendsFinEntersLastAck) {
  p.MakeCloseWait(side());
  EXPECT_TRUE(p.Close());
  p.ExpectEmit(kFinAck, p.L(1), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kLastAck);
}

TEST_P(StateClose, LastAck_AckOfFin_Closes) {
  p.MakeLastAck(side());
  p.SendAck();
  p.ExpectNothing();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().conn_completed, 1u);
  EXPECT_EQ(p.counters().conn_failed, 0u);
  EXPECT_EQ(p.counters().time_wait_entered, 0u);
  EXPECT_EQ(p.engine().gauges().connections, 0u);
}

// The peer did not get our ACK of its FIN: the retransmitted FIN is old, so it is ACKed.
TEST_P(StateClose, LastAck_RetransmittedFin_Acked) {
  p.MakeLastAck(side());
  p.Send({.flags = kFinAck, .seq = p.R(1), .ack = p.L(1)});
  p.ExpectEmit(kAck, p.L(2), p.R(2));
  EXPECT_EQ(p.State(), TcpState::kLastAck);
}

// --- ABORT (RFC 9293 §3.10.5) --------------------------------------------------------------------

TEST_P(StateClose, Established_Abort_SendsRstAndFrees) {
  p.MakeEstablished(side());
  EXPECT_TRUE(p.Abort());
  p.ExpectEmit(kRstAck, p.L(1), p.R(1));
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().rst_sent, 1u);
}

}  // namespace
}  // namespace synwave::test
