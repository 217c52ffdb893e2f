// The HTTP client against servers that are not synwave (issue 11): it asks for the connection to
// be closed, reads Content-Length and chunked bodies, checks the status, and never waits forever
// for a FIN from a server that keeps the connection open.
#include <gtest/gtest.h>

#include <string>

#include "support/tcp_peer.hpp"

namespace synwave::test {
namespace {

// The engine is an HTTP client (GET /, --close server by default) and the peer a server; the
// handshake is done and the request read, so the peer's next segment is the response.
class HttpClient : public ::testing::Test {
 protected:
  void Start(ClosePolicy close = ClosePolicy::kServerFirst, std::uint32_t requests = 1, TimeNs interval = 0,
             std::uint32_t pipeline = 1) {
    EngineConfig cfg = TcpPeer::DefaultConfig();
    cfg.delayed_ack = 0;
    cfg.workload.kind = WorkloadKind::kHttp;
    cfg.workload.http_path = "/";
    cfg.workload.close = close;
    cfg.workload.requests_per_connection = requests;
    cfg.workload.request_interval_ns = interval;
    cfg.workload.pipeline = pipeline;
    peer_ = std::make_unique<TcpPeer>(cfg);
    TcpPeer& p = *peer_;
    p.MakeSynSent();
    p.Send({.flags = kSynAck, .seq = p.R(0), .ack = p.L(1)});
    p.snd_nxt = p.R(1);
    const ParsedFrame request = p.ExpectEmit(kAck | kPsh, p.L(1), p.R(1));
    request_ = std::string(request.payload.begin(), request.payload.end());
    p.rcv_nxt = p.L(1) + static_cast<std::uint32_t>(request_.size());
  }
  // The server's response, with or without its FIN.
  void Respond(const std::string& text, bool fin) {
    TcpPeer& p = *peer_;
    p.Send({.flags = static_cast<std::uint8_t>(kAck | kPsh | (fin ? kFin : 0)), .seq = p.snd_nxt, .ack = p.rcv_nxt,
            .text = text});
    p.snd_nxt += static_cast<std::uint32_t>(text.size()) + (fin ? 1u : 0u);
  }
  // The next request on a kept connection, as the engine sends it.
  std::string ExpectRequest() {
    TcpPeer& p = *peer_;
    const ParsedFrame f = p.ExpectEmit(kAck, kAny, p.snd_nxt);  // (the peer's rcv_nxt follows it)
    return std::string(f.payload.begin(), f.payload.end());
  }

  std::unique_ptr<TcpPeer> peer_;
  std::string request_;
};

TEST_F(HttpClient, Request_AsksTheServerToClose) {
  Start();
  EXPECT_EQ(request_.rfind("GET / HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(request_.find("\r\nConnection: close\r\n"), std::string::npos) << request_;
  EXPECT_EQ(request_.substr(request_.size() - 4), "\r\n\r\n");
}

// A keep-alive server (HTTP/1.1's default) sends the whole response and no FIN: the client closes
// after a second instead of sitting in ESTABLISHED until the idle timeout, and it is a success.
TEST_F(HttpClient, KeepAliveServer_CompleteResponse_ClientClosesAfterOneSecond) {
  Start();
  TcpPeer& p = *peer_;
  Respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello", false);
  p.ExpectEmit(kAck, kAny, p.snd_nxt);
  p.Advance(900 * kMillisecond);
  p.ExpectNothing();
  p.Advance(200 * kMillisecond);
  p.ExpectEmit(kFinAck, kAny, p.snd_nxt);
  EXPECT_EQ(p.counters().http_server_kept_open, 1u);
  p.SendFin();  // the server follows
  p.ExpectEmit(kAck, kAny, p.snd_nxt);
  EXPECT_EQ(p.State(), TcpState::kTimeWait);
  EXPECT_EQ(p.counters().conn_completed, 1u);
  EXPECT_EQ(p.counters().conn_failed, 0u);
}

// A server that honours "Connection: close" closes after its response: nothing else happens.
TEST_F(HttpClient, ClosingServer_NoKeptOpenCount) {
  Start();
  TcpPeer& p = *peer_;
  Respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", true);
  p.ExpectEmit(kFinAck, kAny, p.snd_nxt);
  p.SendAck();
  EXPECT_TRUE(p.Gone());
  p.Advance(2 * kSecond);
  EXPECT_EQ(p.counters().http_server_kept_open, 0u);
  EXPECT_EQ(p.counters().conn_completed, 1u);
}

TEST_F(HttpClient, ChunkedResponse_CompleteAtTheLastChunk) {
  Start(ClosePolicy::kClientFirst);
  TcpPeer& p = *peer_;
  Respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", false);
  p.ExpectEmit(kAck, kAny, p.snd_nxt);  // not complete: no FIN from a client that closes first
  Respond("6\r\n world\r\n0\r\n\r\n", false);
  p.ExpectEmit(kFinAck, kAny, p.snd_nxt);
  EXPECT_EQ(p.counters().conn_failed, 0u);
}

TEST_F(HttpClient, Non2xxStatus_CountedAsFailed) {
  Start();
  TcpPeer& p = *peer_;
  Respond("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", true);
  p.ExpectEmit(kFinAck, kAny, p.snd_nxt);
  EXPECT_EQ(p.counters().conn_failed_http_status, 1u);
  EXPECT_EQ(p.counters().conn_failed, 1u);
  p.SendAck();
  EXPECT_EQ(p.counters().conn_completed, 0u);
}

// A response with neither Content-Length nor chunks ends with the server's FIN; with --close rst
// the client then resets, as after any other response (it used to wait in CLOSE-WAIT for the idle
// timeout).
TEST_F(HttpClient, ResponseFramedByTheFin_ResetPolicy_ResetsAtOnce) {
  Start(ClosePolicy::kReset);
  TcpPeer& p = *peer_;
  Respond("HTTP/1.0 200 OK\r\n\r\nhello", true);
  p.ExpectEmit(kAck, kAny, p.snd_nxt);  // the ACK owed for the data and the FIN goes first (abort())
  p.ExpectEmit(kRst | kAck, kAny, kAny);
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().conn_aborted_by_policy, 1u);
  EXPECT_EQ(p.counters().conn_completed, 1u);
  EXPECT_EQ(p.counters().conn_failed, 0u);
}

TEST_F(HttpClient, MalformedChunk_FailedAndReset) {
  Start();
  TcpPeer& p = *peer_;
  Respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false);
  p.ExpectEmit(kAck, kAny, p.snd_nxt);
  p.ExpectEmit(kRst | kAck, kAny, kAny);
  EXPECT_EQ(p.counters().conn_failed_http_framing, 1u);
  EXPECT_TRUE(p.Gone());
}

// Kept connections (issue 12): --requests-per-connection N sends N requests one after another,
// all but the last without "Connection: close", each when the previous response is complete.

const std::string kKeepResponse = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

TEST_F(HttpClient, ThreeRequestsPerConnection_OnlyTheLastAsksToClose) {
  Start(ClosePolicy::kServerFirst, 3);
  TcpPeer& p = *peer_;
  EXPECT_EQ(request_.find("Connection: close"), std::string::npos) << request_;
  Respond(kKeepResponse, false);
  const std::string second = ExpectRequest();  // it carries the ACK of the response
  EXPECT_EQ(second, request_);
  Respond(kKeepResponse, false);
  const std::string third = ExpectRequest();
  EXPECT_NE(third.find("\r\nConnection: close\r\n"), std::string::npos) << third;
  Respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", true);
  p.ExpectEmit(kFinAck, kAny, p.snd_nxt);
  p.SendAck();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().http_responses_read, 3u);
  EXPECT_EQ(p.counters().conn_completed, 1u);
  EXPECT_EQ(p.engine().latency().transaction.count(), 3u);
}

TEST_F(HttpClient, RequestInterval_TheNextRequestWaitsForIt) {
  Start(ClosePolicy::kClientFirst, 2, 10 * kSecond);  // dperf's keepalive interval, in seconds
  TcpPeer& p = *peer_;
  Respond(kKeepResponse, false);
  p.ExpectEmit(kAck, kAny, p.snd_nxt);
  p.Advance(9990 * kMillisecond);
  p.ExpectNothing();
  p.Advance(20 * kMillisecond);
  EXPECT_NE(ExpectRequest().find("Connection: close"), std::string::npos);
  Respond(kKeepResponse, false);
  p.ExpectEmit(kFinAck, kAny, p.snd_nxt);  // --close client: after the last response
  EXPECT_EQ(p.counters().http_responses_read, 2u);
}

// The server closes during the pause: no request follows, and the connection is a success.
TEST_F(HttpClient, ServerClosesDuringTheInterval_NoMoreRequests) {
  Start(ClosePolicy::kServerFirst, 0, 200 * kMillisecond);
  TcpPeer& p = *peer_;
  Respond(kKeepResponse, false);
  p.ExpectEmit(kAck, kAny, p.snd_nxt);
  p.SendFin();
  p.ExpectEmit(kFinAck, kAny, p.snd_nxt);
  p.SendAck();
  EXPECT_TRUE(p.Gone());
  p.Advance(300 * kMillisecond);
  p.ExpectNothing();
  EXPECT_EQ(p.counters().conn_completed, 1u);
  EXPECT_EQ(p.counters().conn_failed, 0u);
}

// A failed exchange ends the connection's requests: it closes the way the policy says.
TEST_F(HttpClient, Non2xxOnAKeptConnection_NoMoreRequests) {
  Start(ClosePolicy::kClientFirst, 3);
  TcpPeer& p = *peer_;
  Respond("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", false);
  p.ExpectEmit(kFinAck, kAny, p.snd_nxt);
  EXPECT_EQ(p.counters().conn_failed_http_status, 1u);
}

// --pipeline K: K requests in flight; each complete response lets the next go (RFC 9112 §9.3.2),
// and the responses are told apart inside one segment.
TEST_F(HttpClient, Pipeline_ThreeInFlight_EachResponseLetsOneMoreGo) {
  Start(ClosePolicy::kServerFirst, 5, 0, 3);
  TcpPeer& p = *peer_;
  const std::string keep = "GET / HTTP/1.1\r\nHost: synwave\r\nUser-Agent: synwave\r\nAccept: */*\r\n\r\n";
  EXPECT_EQ(request_, keep + keep + keep);
  Respond(kKeepResponse + kKeepResponse, false);  // two responses in one segment
  const std::string more = ExpectRequest();       // the 4th and the 5th, the last
  EXPECT_EQ(more, keep + "GET / HTTP/1.1\r\nHost: synwave\r\nUser-Agent: synwave\r\nAccept: */*\r\nConnection: close\r\n\r\n");
  // The third response cut in two, the last two whole, then the FIN.
  const std::string rest = kKeepResponse + kKeepResponse + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
  Respond(rest.substr(0, 20), false);
  p.ExpectEmit(kAck, kAny, p.snd_nxt);
  EXPECT_EQ(p.counters().http_responses_read, 2u);
  Respond(rest.substr(20), true);
  p.ExpectEmit(kFinAck, kAny, p.snd_nxt);
  p.SendAck();
  EXPECT_TRUE(p.Gone());
  EXPECT_EQ(p.counters().http_responses_read, 5u);
  EXPECT_EQ(p.engine().latency().transaction.count(), 5u);
  EXPECT_EQ(p.counters().conn_completed, 1u);
}

// A body framed by Content-Length is only counted, so a segment of it that arrives past a hole is
// held (its range, not its bytes); the retransmission that fills the hole is acknowledged with
// everything held, and the response completes.
TEST_F(HttpClient, ContentLengthBody_OutOfOrderPartHeld_HoleFillsAndCompletes) {
  Start(ClosePolicy::kClientFirst);
  TcpPeer& p = *peer_;
  const std::string header = "HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n";
  Respond(header + std::string(100, 'a'), false);
  p.ExpectEmit(kAck, kAny, p.snd_nxt);
  const SeqNum hole = SeqNum(p.snd_nxt);
  p.snd_nxt += 100;  // the next 100 body bytes are lost
  Respond(std::string(100, 'c'), false);
  p.ExpectEmit(kAck, kAny, hole.raw());  // a duplicate ACK at once, where the hole starts
  EXPECT_EQ(p.counters().rx_out_of_order_held, 1u);
  EXPECT_EQ(p.counters().drop_out_of_order, 0u);
  p.Send({.flags = kAck | kPsh, .seq = hole.raw(), .ack = p.rcv_nxt, .text = std::string(100, 'b')});
  // Everything acknowledged at once, and the response is complete: the client closes.
  p.ExpectEmit(kFinAck, kAny, p.snd_nxt);
  EXPECT_EQ(p.counters().rx_bytes, header.size() + 300);
  EXPECT_EQ(p.counters().http_responses_read, 1u);
  EXPECT_EQ(p.counters().conn_failed, 0u);
}

// With SACK permitted, the ACKs that follow held segments report them, the latest first
// (RFC 2018 §4).
TEST(HttpClientSack, HeldRanges_ReportedInSackBlocks_LatestFirst) {
  EngineConfig cfg = TcpPeer::DefaultConfig();
  cfg.delayed_ack = 0;
  cfg.workload.kind = WorkloadKind::kHttp;
  cfg.workload.close = ClosePolicy::kClientFirst;
  PeerOptions o;
  o.sack_permitted = true;
  TcpPeer p(cfg, o);
  p.MakeSynSent();
  p.Send({.flags = kSynAck, .seq = p.R(0), .ack = p.L(1)});
  p.snd_nxt = p.R(1);
  const ParsedFrame request = p.ExpectEmit(kAck | kPsh, p.L(1), p.R(1));
  p.rcv_nxt = p.L(1) + static_cast<std::uint32_t>(request.payload.size());
  ASSERT_TRUE(p.Conn().has(conn_flags::kSackPermitted));
  const std::string header = "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n";
  p.Send({.flags = kAck, .seq = p.snd_nxt, .ack = p.rcv_nxt, .text = header});
  p.ExpectEmit(kAck, kAny, p.snd_nxt + static_cast<std::uint32_t>(header.size()));
  const std::uint32_t body = p.snd_nxt + static_cast<std::uint32_t>(header.size());
  const std::string hundred(100, 'x');
  p.Send({.flags = kAck, .seq = body + 300, .ack = p.rcv_nxt, .text = hundred});
  ParsedFrame a = p.ExpectEmit(kAck, kAny, body);
  ASSERT_EQ(a.tcp.options.sack_count, 1u);
  EXPECT_EQ(a.tcp.options.sack[0].left, body + 300);
  EXPECT_EQ(a.tcp.options.sack[0].right, body + 400);
  p.Send({.flags = kAck, .seq = body + 100, .ack = p.rcv_nxt, .text = hundred});
  ParsedFrame b = p.ExpectEmit(kAck, kAny, body);
  ASSERT_EQ(b.tcp.options.sack_count, 2u);
  EXPECT_EQ(b.tcp.options.sack[0].left, body + 100);  // the latest first
  EXPECT_EQ(b.tcp.options.sack[1].left, body + 300);
  p.Send({.flags = kAck, .seq = body, .ack = p.rcv_nxt, .text = hundred});
  ParsedFrame c = p.ExpectEmit(kAck, kAny, body + 200);  // the first hole filled: 100-200 taken too
  ASSERT_EQ(c.tcp.options.sack_count, 1u);
  EXPECT_EQ(c.tcp.options.sack[0].left, body + 300);
}

// A chunked body is read, not counted: what arrives past a hole is not held (the server resends it).
TEST_F(HttpClient, ChunkedBody_OutOfOrderPartNotHeld) {
  Start(ClosePolicy::kClientFirst);
  TcpPeer& p = *peer_;
  Respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", false);
  p.ExpectEmit(kAck, kAny, p.snd_nxt);
  const std::uint32_t hole = p.snd_nxt;
  p.snd_nxt += 10;
  Respond("0\r\n\r\n", false);
  p.ExpectEmit(kAck, kAny, hole);
  EXPECT_EQ(p.counters().rx_out_of_order_held, 0u);
  EXPECT_EQ(p.counters().drop_out_of_order, 1u);
}

}  // namespace
}  // namespace synwave::test
