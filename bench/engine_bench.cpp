// Whole connections through the core: handshake, request/response, FIN teardown and TIME_WAIT
// expiry, between a client engine and a server engine joined by an in-memory link
// (bench_link.hpp). One iteration opens a batch of connections at once and runs them all to the
// end, so many are in flight together and this measures throughput, not one connection's
// latency. Items are connections completed: items_per_second is connections per second and
// time_per_conn its inverse. TIME_WAIT lasts 1 ms of virtual time (PairOptions), so records do
// not pile up as they would over a real 60 s; arming and expiring them is still in the cost.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "bench_link.hpp"
#include "synwave/engine.hpp"
#include "synwave/workload.hpp"

namespace synwave::bench {
namespace {

Workload make_workload(WorkloadKind kind, ClosePolicy close) {
  Workload w;
  w.kind = kind;
  w.close = close;
  w.request_bytes = 64;    // kRaw
  w.response_bytes = 128;  // kRaw: bytes; kHttp: body bytes
  return w;
}

// Empty when both engines agree every connection ran its workload and closed cleanly.
std::string first_problem(EnginePair& pair, std::uint64_t opened) {
  const Counters& c = pair.client().counters();
  const Counters& s = pair.server().counters();
  if (c.conn_failed != 0 || s.conn_failed != 0) {
    return "failed connections: client " + std::to_string(c.conn_failed) + ", server " + std::to_string(s.conn_failed);
  }
  if (c.conn_completed != opened || s.conn_completed != opened) {
    return "completed " + std::to_string(c.conn_completed) + " (client) and " + std::to_string(s.conn_completed) +
           " (server) of " + std::to_string(opened);
  }
  // A perfect link: any retransmission or missing buffer means the harness, not TCP, misbehaved.
  if (c.retransmits + s.retransmits != 0) return "retransmissions on a lossless link";
  if (c.drop_tx_no_buffer + s.drop_tx_no_buffer != 0) return "frame pool ran dry";
  return {};
}

void BM_Connections(benchmark::State& state, WorkloadKind kind, ClosePolicy close) {
  const auto batch = static_cast<std::uint32_t>(state.range(0));
  PairOptions options;
  options.client_workload = make_workload(kind, close);
  options.server_workload = options.client_workload;
  options.max_batch = batch;
  EnginePair pair(options);

  std::uint64_t opened = 0;
  std::uint64_t frames = 0;
  for (auto _ : state) {
    const BatchResult r = pair.run_batch(batch);
    opened += r.opened;
    frames += r.frames;
    if (r.open_failed != 0 || r.stuck) {
      state.SkipWithError(r.stuck ? "connections left with no timer armed" : "open() refused a connection");
      break;
    }
  }
  if (const std::string problem = first_problem(pair, opened); !problem.empty()) {
    state.SkipWithError(problem.c_str());
    return;
  }
  const auto completed = static_cast<double>(opened);
  state.SetItemsProcessed(static_cast<std::int64_t>(opened));
  state.counters["time_per_conn"] = benchmark::Counter(completed, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["packets_per_conn"] = completed > 0 ? static_cast<double>(frames) / completed : 0.0;
}

#define SYNWAVE_CONNECTIONS_BENCH(name, kind, close) \
  BENCHMARK_CAPTURE(BM_Connections, name, kind, close)->Arg(32)->Arg(256)

SYNWAVE_CONNECTIONS_BENCH(none_server_first, WorkloadKind::kNone, ClosePolicy::kServerFirst);
SYNWAVE_CONNECTIONS_BENCH(none_client_first, WorkloadKind::kNone, ClosePolicy::kClientFirst);
SYNWAVE_CONNECTIONS_BENCH(http_server_first, WorkloadKind::kHttp, ClosePolicy::kServerFirst);
SYNWAVE_CONNECTIONS_BENCH(http_client_first, WorkloadKind::kHttp, ClosePolicy::kClientFirst);
SYNWAVE_CONNECTIONS_BENCH(raw64x128_server_first, WorkloadKind::kRaw, ClosePolicy::kServerFirst);
SYNWAVE_CONNECTIONS_BENCH(raw64x128_client_first, WorkloadKind::kRaw, ClosePolicy::kClientFirst);

#undef SYNWAVE_CONNECTIONS_BENCH

}  // namespace
}  // namespace synwave::bench
