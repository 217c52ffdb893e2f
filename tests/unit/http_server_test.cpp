// The HTTP server keeps connections (issue 12): it answers every request on a connection, in order
// (pipelined ones included), and closes after the request that asks it to (RFC 9112 §9.3) or the
// --max-requests-th; each response but the last says "Connection: keep-alive".
#include <gtest/gtest.h>

#include <string>

#include "support/tcp_peer.hpp"

namespace synwave::test {
namespace {

const std::string kKeep = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
const std::string kClose = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
const std::string kKeepResponse =
    "HTTP/1.1 200 OK\r\nServer: synwave\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nsynwa";
const std::string kCloseResponse =
    "HTTP/1.1 200 OK\r\nServer: synwave\r\nContent-Length: 5\r\nConnection: close\r\n\r\nsynwa";

// The engine is an HTTP server (5-byte body, --close server) and the peer its client, connected.
class HttpServer : public ::testing::Test {
 protected:
  void Start(std::uint32_t max_requests = 0) {
    EngineConfig cfg = TcpPeer::DefaultConfig();
    cfg.delayed_ack = 0;
    cfg.workload.kind = WorkloadKind::kHttp;
    cfg.workload.response_bytes = 5;
    cfg.workload.max_requests = max_requests;
    cfg.idle_timeout = 5 * kSecond;
    peer_ = std::make_unique<TcpPeer>(cfg);
    peer_->MakeEstablished();
  }
  // The peer sends `text`; the engine's answer, with the flags it must carry.
  std::string Exchange(const std::string& text, std::uint8_t answer_flags) {
    TcpPeer& p = *peer_;
    p.Send({.flags = kAck | kPsh, .seq = p.snd_nxt, .ack = p.rcv_nxt, .text = text});
    p.snd_nxt += static_cast<std::uint32_t>(text.size());
    const ParsedFrame f = p.ExpectEmit(answer_flags, kAny, p.snd_nxt);
    return std::string(f.payload.begin(), f.payload.end());
  }

  std::unique_ptr<TcpPeer> peer_;
};

TEST_F(HttpServer, KeptConnection_AnswersEachRequest_ClosesAfterTheOneThatAsks) {
  Start();
  EXPECT_EQ(Exchange(kKeep, kAck), kKeepResponse);
  EXPECT_EQ(peer_->State(), TcpState::kEstablished);
  EXPECT_EQ(Exchange(kKeep, kAck), kKeepResponse);
  EXPECT_EQ(Exchange(kClose, kFinAck), kCloseResponse);  // --close server: the FIN rides on it
  EXPECT_EQ(peer_->State(), TcpState::kFinWait1);
  EXPECT_EQ(peer_->counters().http_requests_read, 3u);
}

TEST_F(HttpServer, PipelinedRequests_ResponsesInOrderInOneSegment) {
  Start();
  EXPECT_EQ(Exchange(kKeep + kKeep + kClose, kFinAck), kKeepResponse + kKeepResponse + kCloseResponse);
  EXPECT_EQ(peer_->counters().http_requests_read, 3u);
}

TEST_F(HttpServer, RequestsAfterTheClosingOne_NotRead) {
  Start();
  EXPECT_EQ(Exchange(kClose + kKeep, kFinAck), kCloseResponse);
  EXPECT_EQ(peer_->counters().http_requests_read, 1u);
}

TEST_F(HttpServer, MaxRequests_TheLastAllowedIsAnsweredWithClose) {
  Start(2);
  EXPECT_EQ(Exchange(kKeep, kAck), kKeepResponse);
  EXPECT_EQ(Exchange(kKeep, kFinAck), kCloseResponse);
}

TEST_F(HttpServer, MaxRequestsOne_EveryResponseSaysClose) {
  Start(1);
  EXPECT_EQ(Exchange(kKeep, kFinAck), kCloseResponse);
}

TEST_F(HttpServer, Http10_ClosesUnlessAskedToKeep) {
  Start();
  const std::string keep10 = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
  EXPECT_EQ(Exchange(keep10, kAck), kKeepResponse);
  EXPECT_EQ(Exchange("GET / HTTP/1.0\r\n\r\n", kFinAck), kCloseResponse);
}

// A kept connection's client closes first: the server follows, the exchange a success.
TEST_F(HttpServer, ClientClosesAKeptConnection_Completed) {
  Start();
  TcpPeer& p = *peer_;
  EXPECT_EQ(Exchange(kKeep, kAck), kKeepResponse);
  p.SendFin();
  p.ExpectEmit(kFinAck, kAny, p.snd_nxt);
  p.SendAck();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().conn_completed, 1u);
  EXPECT_EQ(p.counters().conn_failed, 0u);
}

// A kept connection left idle: closed with FIN after --idle-timeout, a success (an idle
// connection still waiting for its first request is reset, as before).
TEST_F(HttpServer, KeptConnectionIdle_ClosedWithFinAfterTheIdleTimeout) {
  Start();
  TcpPeer& p = *peer_;
  EXPECT_EQ(Exchange(kKeep, kAck), kKeepResponse);
  p.SendAck();
  p.Advance(4900 * kMillisecond);
  p.ExpectNothing();
  p.Advance(200 * kMillisecond);
  p.ExpectEmit(kFinAck, kAny, p.snd_nxt);
  EXPECT_EQ(p.counters().http_keep_alive_closed, 1u);
  p.SendFin();
  p.ExpectEmit(kAck, kAny, p.snd_nxt);
  EXPECT_EQ(p.counters().conn_completed, 1u);
  EXPECT_EQ(p.counters().conn_failed, 0u);
}

// A request cut anywhere, even inside "\r\n\r\n": answered once whole.
TEST_F(HttpServer, RequestInTwoSegments_AnsweredWhenComplete) {
  Start();
  TcpPeer& p = *peer_;
  const std::string first = kKeep.substr(0, kKeep.size() - 3);
  p.Send({.flags = kAck | kPsh, .seq = p.snd_nxt, .ack = p.rcv_nxt, .text = first});
  p.snd_nxt += static_cast<std::uint32_t>(first.size());
  EXPECT_TRUE(p.ExpectEmit(kAck, kAny, p.snd_nxt).payload.empty());  // no response yet
  EXPECT_EQ(Exchange(kKeep.substr(first.size()), kAck), kKeepResponse);
}

}  // namespace
}  // namespace synwave::test
