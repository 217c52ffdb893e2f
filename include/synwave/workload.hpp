#pragma once
// What the application does on each connection: the engine drives it itself, so a connection
// needs no callback and no buffer. Payload is a virtual stream computed from its offset, which
// is also how retransmissions are rebuilt without a send buffer.
#include <cstdint>
#include <string>

namespace synwave {

enum class WorkloadKind : std::uint8_t {
  kNone,    // handshake, then close by the policy
  kRaw,     // client sends request_bytes, server answers response_bytes
  kHttp,    // client sends an HTTP/1.1 GET, server answers 200 with a body of response_bytes
  kManual,  // nothing automatic: the caller uses send/close/abort (tests, embedding)
};

// Who closes once the exchange is over (the same names on both sides of a run).
enum class ClosePolicy : std::uint8_t {
  kClientFirst,  // the client sends FIN after reading the response; the server waits for it
  kServerFirst,  // the server sends FIN with its response; the client waits for it
  kReset,        // the client (or, in server mode, the server) ends with RST instead of FIN
  kHalfClose,    // the client sends FIN right after its request (shutdown(SHUT_WR)), then reads
};

struct Workload {
  WorkloadKind kind = WorkloadKind::kHttp;
  ClosePolicy close = ClosePolicy::kServerFirst;
  std::uint32_t request_bytes = 64;    // kRaw
  std::uint32_t response_bytes = 128;  // kRaw: bytes; kHttp: body bytes
  std::string http_path = "/";
  std::string http_host = "synwave";
  // Client: the pause between the handshake and the request (with kNone, before closing), so
  // connections stay open and concurrency builds up the way users' real clients hold them.
  std::uint64_t think_time_ns = 0;
  // HTTP server: requests answered on one connection before it closes (0: as many as the client
  // sends; it closes after a request that asks to, RFC 9112 §9.3). 1 answers every request with
  // "Connection: close".
  std::uint32_t max_requests = 0;
  // HTTP client: requests sent one after the other on each connection, each once the previous
  // response is complete (0: until the run ends); all but the last keep the connection.
  std::uint32_t requests_per_connection = 1;
  // HTTP client: the pause between a response and the next request on the connection.
  std::uint64_t request_interval_ns = 0;
  // HTTP client: requests in flight on one connection (1: each waits for the previous response;
  // more pipeline them, RFC 9112 §9.3.2). At most kMaxPipeline.
  std::uint32_t pipeline = 1;
  static constexpr std::uint32_t kMaxPipeline = 255;
  // One request or response: stream offsets are 32-bit and compared by their difference, as
  // sequence numbers are, so one message stays under 2 GiB (a kept connection sends several).
  static constexpr std::uint32_t kMaxMessageBytes = (1u << 31) - 1024;
};

}  // namespace synwave
