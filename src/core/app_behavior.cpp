// The workload the engine runs on every connection (workload.hpp): what the client sends, when
// the server answers, and who closes how. Payload bytes are computed from stream offsets.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "synwave/checksum.hpp"
#include "synwave/engine.hpp"

namespace synwave {

namespace {
// The body pattern: printable, and periodic so any offset is a memcpy from one table.
constexpr std::uint32_t kPatternPeriod = 64;
constexpr char kPattern[] = "synwave-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS\n";
static_assert(sizeof(kPattern) - 1 == kPatternPeriod);
struct PatternTable {
  char bytes[4096 + kPatternPeriod];
  PatternTable() {
    for (std::size_t i = 0; i < sizeof bytes; ++i) bytes[i] = kPattern[i % kPatternPeriod];
  }
};
const PatternTable kTable;

bool is_client(const Connection& c) { return !c.has(conn_flags::kPassive); }

// Bytes [offset, offset + len) of a stream made of `head` and then the body pattern. Inlined at
// each of its three uses: out of line it cost 25 instructions more per connection (callgrind).
[[gnu::always_inline]] inline void copy_stream(const std::string& head, std::uint32_t offset, std::uint8_t* dst, std::uint32_t len) {
  if (offset < head.size()) {
    const std::uint32_t n = std::min<std::uint32_t>(len, static_cast<std::uint32_t>(head.size()) - offset);
    std::memcpy(dst, head.data() + offset, n);
    dst += n;
    len -= n;
    offset += n;
  }
  while (len > 0) {
    const std::uint32_t start = (offset - static_cast<std::uint32_t>(head.size())) % kPatternPeriod;
    const std::uint32_t n = std::min<std::uint32_t>(len, 4096);
    std::memcpy(dst, kTable.bytes + start, n);
    dst += n;
    len -= n;
    offset += n;
  }
}
}  // namespace

void Engine::build_payload_templates() {
  templates_.assign(workloads_.size(), MessageTemplates{});
  for (std::size_t i = 0; i < workloads_.size(); ++i) {
    const Workload& w = workloads_[i];
    MessageTemplates& t = templates_[i];
    switch (w.kind) {
      case WorkloadKind::kHttp: {
        // The last request says "Connection: close": an HTTP/1.1 server closes after its response
        // (RFC 9112 §9.6) instead of keeping the connection for another request.
        const std::string get =
            "GET " + w.http_path + " HTTP/1.1\r\nHost: " + w.http_host + "\r\nUser-Agent: synwave\r\nAccept: */*\r\n";
        t.request.head = get + "Connection: close\r\n\r\n";
        t.keep_request.head = get + "\r\n";
        const std::string head = "HTTP/1.1 200 OK\r\nServer: synwave\r\nContent-Length: " + std::to_string(w.response_bytes);
        t.response.head = head + "\r\nConnection: close\r\n\r\n";
        // "keep-alive" spelled out: an HTTP/1.0 client keeps the connection only when told (§9.3).
        t.keep_response.head = head + "\r\nConnection: keep-alive\r\n\r\n";
        t.request.len = static_cast<std::uint32_t>(t.request.head.size());
        t.keep_request.len = static_cast<std::uint32_t>(t.keep_request.head.size());
        t.response.len = static_cast<std::uint32_t>(t.response.head.size()) + w.response_bytes;
        t.keep_response.len = static_cast<std::uint32_t>(t.keep_response.head.size()) + w.response_bytes;
        break;
      }
      case WorkloadKind::kRaw:
        t.request.len = w.request_bytes;
        t.response.len = w.response_bytes;
        break;
      case WorkloadKind::kNone:
      case WorkloadKind::kManual: break;
    }
    // The sum of a whole message, for the segment that carries it all (most do).
    constexpr std::uint32_t kMostPrecomputed = 65535;
    std::vector<std::uint8_t> bytes;
    for (MessageTemplate* m : {&t.request, &t.keep_request, &t.response, &t.keep_response}) {
      if (m->len == 0 || m->len > kMostPrecomputed) continue;
      bytes.resize(m->len);
      copy_stream(m->head, 0, bytes.data(), m->len);
      m->sum = checksum_add(bytes.data(), m->len);
    }
  }
}

std::uint64_t Engine::copy_payload(const Connection& c, std::uint32_t offset, std::uint8_t* dst, std::uint32_t len) const {
  const MessageStream m = tx_messages(c);
  if (m.count > 1) return copy_messages(m, offset, dst, len);
  copy_stream(m.last->head, offset, dst, len);
  if (config_.tx_checksum_offload) return 0;
  if (offset == 0 && len == m.last->len && m.last->sum != kUnknownSum) return m.last->sum;
  return checksum_add(dst, len);
}

// Several messages on a kept connection: a segment may hold the end of one and the start of the
// next. Places are counted back from the stream's end: a connection kept for hours sends more
// than 4 GiB, so 32-bit offsets wrap, but a segment is never far from the end.
std::uint64_t Engine::copy_messages(const MessageStream& m, std::uint32_t offset, std::uint8_t* dst,
                                    std::uint32_t len) const {
  const std::uint32_t end = m.len();  // modulo 2^32, as the offsets
  std::uint8_t* out = dst;
  std::uint32_t left = len;
  while (left > 0) {
    const std::uint32_t back = end - offset;  // bytes from here to the end
    std::uint32_t n = left;
    if (back <= m.last->len) {
      copy_stream(m.last->head, m.last->len - back, out, n);
    } else {
      // The keep messages tile the stream back from the last one's start.
      const std::uint32_t to_last = back - m.last->len;
      const std::uint32_t within = (m.keep->len - to_last % m.keep->len) % m.keep->len;
      n = std::min(left, m.keep->len - within);
      copy_stream(m.keep->head, within, out, n);
    }
    out += n;
    left -= n;
    offset += n;
  }
  return config_.tx_checksum_offload ? 0 : checksum_add(dst, len);
}

void Engine::app_established(std::uint32_t id) {
  Connection& c = conns_[id];
  const Workload& w = config_.workload;  // kind and close: every workload's
  if (w.kind == WorkloadKind::kManual) return;
  // An automatic workload waits on its peer, and a peer that vanished (its retries ran out, it
  // rebooted) would leave this record waiting forever: an idle limit ends it (engine.cpp
  // on_timer; segment_arrives pushes it back while the peer is heard from).
  if (const std::uint64_t think = is_client(c) ? workload_of(c).think_time_ns : 0; think != 0) {
    c.set(conn_flags::kThinking);
    arm_deadline(id, deadline_bits::kState, now_us() + static_cast<std::uint32_t>(think / kMicrosecond));
    return;
  }
  if (is_client(c)) {
    app_start_request(id);  // arms the deadline from the transaction's start
    return;
  }
  arm_deadline(id, deadline_bits::kState, workload_deadline_us(c));
  if (w.kind == WorkloadKind::kNone || c.has(conn_flags::kRequestDone) || c.requests != 0) app_respond(id);
  else if (c.state == TcpState::kCloseWait) app_fin(id);  // the client gave up while we waited to accept
}

// Client: send the request (kNone: nothing to send, so the exchange is over at once). On a kept
// connection, the next one: a new exchange, timed and read from scratch.
void Engine::app_start_request(std::uint32_t id) {
  Connection& c = conns_[id];
  const Workload& w = workload_of(c);
  c.phase_start_us = now_us();  // the transaction starts (after any think time)
  c.clear(conn_flags::kWorkloadDone);
  arm_deadline(id, deadline_bits::kState, workload_deadline_us(c));
  if (w.kind == WorkloadKind::kNone) {
    if (w.close == ClosePolicy::kHalfClose) close(id, now_);  // the "request" is empty: FIN at once
    app_response_complete(id);
    return;
  }
  send_requests(id);
}

// Client: requests until --pipeline are in flight or the connection has none left.
void Engine::send_requests(std::uint32_t id) {
  Connection& c = conns_[id];
  const Workload& w = workload_of(c);
  do {
    if (!request_starts_.empty()) request_start(id, c.requests) = now_us();
    ++c.requests;
    ++c.in_flight;
  } while (c.in_flight < w.pipeline && requests_left(c));
  c.tx_stream_len = tx_messages(c).len();
  if (w.close == ClosePolicy::kHalfClose && c.requests == w.requests_per_connection) close(id, now_);
}

// Client: another request on this connection now? Not beyond the pipeline's depth, not after a
// failed exchange, nor once the server has closed its side.
bool Engine::more_requests(const Connection& c) const {
  const Workload& w = workload_of(c);
  return w.kind == WorkloadKind::kHttp && c.state == TcpState::kEstablished && !c.has(conn_flags::kOutcomeCounted) &&
         c.in_flight < w.pipeline && requests_left(c);
}

std::uint32_t Engine::workload_deadline_us(const Connection& c) const {
  const std::uint32_t idle = now_us() + dur_.idle_us;
  std::uint32_t response = 0;
  if (!response_deadline_us(c, response)) return idle;
  return static_cast<std::int32_t>(response - idle) < 0 ? response : idle;
}

bool Engine::response_deadline_us(const Connection& c, std::uint32_t& at) const {
  if (config_.response_timeout == 0 || !is_client(c) || c.has(conn_flags::kWorkloadDone)) return false;
  at = c.phase_start_us + dur_.response_us;
  return true;
}

// Out-of-order data the receiver may hold: sequence space past RCV.NXT whose bytes the
// application only counts (a raw workload's stream, an HTTP body framed by Content-Length), so
// they can be taken when the hole before them fills without having been looked at.
std::uint32_t Engine::out_of_order_room(const Connection& c) const {
  const bool client = is_client(c);
  switch (config_.workload.kind) {
    case WorkloadKind::kRaw: {
      const MessageTemplates& t = templates_[c.workload];
      const std::uint32_t expected = client ? t.response.len : t.request.len;
      const std::uint32_t got = c.rx_stream_len();
      return got < expected ? expected - got : 0;
    }
    case WorkloadKind::kHttp: return client ? c.http.response.counted_body_left() : 0;
    default: return 0;
  }
}

// skipped: bytes after these n that arrived earlier, out of order, and were only counted
// (out_of_order_room() allowed them: they lie in a body that is counted, not read).
void Engine::app_data(std::uint32_t id, const std::uint8_t* p, std::uint32_t n, std::uint32_t skipped) {
  Connection& c = conns_[id];
  const Workload& w = config_.workload;  // kind and close: every workload's
  if (c.has(conn_flags::kWorkloadDone) && is_client(c)) return;
  switch (w.kind) {
    case WorkloadKind::kHttp:
      if (is_client(c)) {
        // Response after response: a pipelined connection's segment may end one and start the next.
        while (n > 0) {
          const std::uint32_t used = known_response_.feed(c.http.response, p, n);
          if (c.http.response.framing_error) {
            // A malformed chunked body: the exchange failed; no more is read.
            count_outcome(id, &Counters::conn_failed_http_framing);
            c.set(conn_flags::kWorkloadDone);
            abort(id, now_);
            return;
          }
          if (!c.http.response.complete()) {
            if (skipped == 0) return;
            c.http.response.skip(skipped);
            skipped = 0;
            if (!c.http.response.complete()) return;
          }
          app_response_complete(id);
          // Bytes after the last response outstanding are not read (as after any response).
          if (c.state == TcpState::kClosed || c.in_flight == 0) return;
          p += used;
          n -= used;
        }
      } else if (!c.has(conn_flags::kRequestDone)) {
        const std::uint32_t before = c.requests;
        known_request_.feed(c.http.request, p, n, [&](bool keep_alive) {
          ++c.requests;
          const bool last = !keep_alive || c.requests == w.max_requests;
          if (last) c.set(conn_flags::kRequestDone);
          return !last;
        });
        counters_.http_requests_read += c.requests - before;
        if (c.requests != before && !c.has(conn_flags::kAwaitingAccept)) app_respond(id);
      }
      break;
    case WorkloadKind::kRaw:
      if (is_client(c)) {
        if (c.rx_stream_len() >= templates_[c.workload].response.len) app_response_complete(id);
      } else if (!c.has(conn_flags::kRequestDone) && c.rx_stream_len() >= templates_[c.workload].request.len) {
        app_request_complete(id);
      }
      break;
    case WorkloadKind::kNone:
    case WorkloadKind::kManual: break;
  }
}

// Server: the request is in. An application that has not accepted the connection yet answers
// when it does (accept_connection).
void Engine::app_request_complete(std::uint32_t id) {
  Connection& c = conns_[id];
  c.set(conn_flags::kRequestDone);
  if (!c.has(conn_flags::kAwaitingAccept)) app_respond(id);
}

// Server: queue the responses to the requests read so far; after the last request, close the way
// the policy says. An HTTP connection the client keeps waits for its next request.
void Engine::app_respond(std::uint32_t id) {
  Connection& c = conns_[id];
  c.set(conn_flags::kWorkloadDone);
  const Workload& w = config_.workload;  // kind and close: every workload's
  if (w.kind != WorkloadKind::kHttp) c.set(conn_flags::kRequestDone);  // one exchange
  c.tx_stream_len = tx_messages(c).len();
  if (!c.has(conn_flags::kRequestDone)) return;
  switch (w.close) {
    case ClosePolicy::kServerFirst:
      close(id, now_);  // the FIN rides on the last segment of the response
      break;
    case ClosePolicy::kReset:
      if (templates_[c.workload].response.len == 0) {
        ++counters_.conn_aborted_by_policy;
        abort(id, now_);
      } else {
        c.set(conn_flags::kResetOnAcked);
      }
      break;
    case ClosePolicy::kClientFirst:
    case ClosePolicy::kHalfClose:
      if (c.state == TcpState::kCloseWait) close(id, now_);  // the client has closed already
      break;
  }
}

// Client: a response is over, however its end was found: timed, and an HTTP response whose
// status is not 2xx failed all the same (counted now; the connection still closes the way the
// policy says). Responses come in the order of their requests: the one done is the oldest in
// flight, and the next oldest (pipelining) is timed from its own send.
void Engine::response_done(std::uint32_t id) {
  Connection& c = conns_[id];
  const Workload& w = config_.workload;  // kind and close: every workload's
  if (w.kind != WorkloadKind::kNone) latency_.transaction.record(phase_elapsed_ns(c));
  if (c.in_flight > 0) --c.in_flight;
  if (c.in_flight == 0) c.set(conn_flags::kWorkloadDone);
  else c.phase_start_us = request_start(id, c.requests - c.in_flight);
  if (w.kind != WorkloadKind::kHttp) return;
  ++counters_.http_responses_read;
  if (!c.http.response.status_ok()) count_outcome(id, &Counters::conn_failed_http_status);
  c.http.response = HttpResponseScanner{};  // for the next response
}

// Client: the whole response is in. The next request on a kept connection goes at once or after
// --request-interval (the state deadline ends the pause, as it ends a think time).
void Engine::app_response_complete(std::uint32_t id) {
  Connection& c = conns_[id];
  response_done(id);
  const Workload& w = config_.workload;  // kind and close: every workload's
  if (more_requests(c)) {
    const std::uint64_t interval = workload_of(c).request_interval_ns;
    if (c.in_flight > 0) {
      send_requests(id);  // pipelined: one more joins those in flight
    } else if (interval == 0) {
      app_start_request(id);
    } else {
      c.set(conn_flags::kThinking);
      arm_deadline(id, deadline_bits::kState, now_us() + static_cast<std::uint32_t>(interval / kMicrosecond));
    }
    return;
  }
  if (c.in_flight > 0) return;  // responses still to come
  switch (w.close) {
    case ClosePolicy::kClientFirst: close(id, now_); break;
    case ClosePolicy::kReset:
      ++counters_.conn_aborted_by_policy;
      abort(id, now_);
      break;
    case ClosePolicy::kServerFirst:
    case ClosePolicy::kHalfClose:
      if (c.state == TcpState::kCloseWait) {
        close(id, now_);
      } else if (w.kind == WorkloadKind::kHttp) {
        // The server closes first; one that keeps the connection open for another request
        // (HTTP/1.1 keep-alive, our "Connection: close" ignored) is given kServerCloseWait, then
        // the client closes itself (on_timer) rather than waiting out the idle timeout.
        arm_deadline(id, deadline_bits::kState, now_us() + static_cast<std::uint32_t>(kServerCloseWait / kMicrosecond));
      }
      break;
  }
}

// The peer sent FIN (we are in CLOSE-WAIT): a load tester has nothing more to say after that.
void Engine::app_fin(std::uint32_t id) {
  Connection& c = conns_[id];
  const Workload& w = config_.workload;  // kind and close: every workload's
  if (w.kind == WorkloadKind::kManual || c.has(conn_flags::kAwaitingAccept)) return;
  if (is_client(c)) {
    c.clear(conn_flags::kThinking);  // no request follows a server's FIN
    // A response framed by neither Content-Length nor chunks ends with the connection (RFC 9112
    // §6.3): the FIN completes it.
    if (w.kind == WorkloadKind::kHttp && !c.has(conn_flags::kWorkloadDone) && c.http.response.framed_by_close()) {
      response_done(id);
      if (w.close == ClosePolicy::kReset) {  // the policy's abort, as at any response's end
        ++counters_.conn_aborted_by_policy;
        abort(id, now_);
        return;
      }
    }
    close(id, now_);
    return;
  }
  if (c.has(conn_flags::kResetOnAcked)) return;  // the reset follows the response
  close(id, now_);
}

void Engine::app_all_acked(std::uint32_t id) {
  Connection& c = conns_[id];
  if (c.has(conn_flags::kResetOnAcked) && c.snd_una == c.iss + 1 + c.tx_stream_len) {
    ++counters_.conn_aborted_by_policy;
    abort(id, now_);
  }
}

}  // namespace synwave
