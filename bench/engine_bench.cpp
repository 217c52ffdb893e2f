// Whole connections through the core: handshake, request/response, FIN teardown and TIME_WAIT
// expiry, between a client engine and a server engine joined by an in-memory link
// (bench_link.hpp). One iteration opens a batch of connections at once and runs them all to the
// end, so many are in flight together and this measures throughput, not one connection's
// latency. Items are connections completed: items_per_second is connections per second and
// time_per_conn its inverse. TIME_WAIT lasts 1 ms of virtual time (PairOptions), so records do
// not pile up as they would over a real 60 s; arming and expiring them is still in the cost.
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <chrono>
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

// The same connections with their cost split by side: how much of a connection is the client
// engine's work and how much the server engine's.
//
// Method: the pair runs exactly as in BM_Connections, both engines live, but every call into one
// engine (the client's open() batch and its flush, each rx burst of input() calls and its flush,
// each advance()) is bracketed by two steady-clock reads, and the time is added to that engine's
// side (SideTimes in bench_link.hpp). Work inside an engine's call counts for that engine,
// including taking buffers from the shared pool and queueing frames on the link (what a driver's
// tx would cost it); the harness's loop (checking gauges, picking the next deadline, the clock
// reads) counts for neither. The cost of two clock reads, measured on empty calls
// (clock_ns_per_call), is taken off each timed call; timed_calls_per_conn says how many calls a
// connection shares (a call handles a burst of up to 32 frames, so few).
//
// Wall time includes preemption, and a shared machine preempts a lot; a per-thread CPU clock would
// not, but it costs a system call (~1.5 us here) per read. So the thread's CPU time is read once,
// around the whole run, and split between client, server and harness in proportion to their wall
// times (preemption falls on each in proportion to its time). The counters are these CPU times:
// ns_per_conn (this side), other_side_ns_per_conn and harness_ns_per_conn; the three add up to the
// CPU time per connection, which BM_Connections reports as time_per_conn for the same workload and
// batch. cpu_per_wall is the share of the CPU the thread got (1 on an idle machine). The Time column
// (UseManualTime) is this side's wall time per batch of connections.
enum class Side { kClient, kServer };

// The cheapest of 100 blocks of 1000 empty timed calls: a block that was preempted says nothing
// about the clock.
double clock_pair_ns() {
  static const double cost = [] {
    constexpr int kBlocks = 100;
    constexpr int kCalls = 1000;
    double best = 1e18;
    for (int b = 0; b < kBlocks; ++b) {
      SideTimes t;
      for (int i = 0; i < kCalls; ++i) t.client([] { benchmark::ClobberMemory(); });
      best = std::min(best, static_cast<double>(t.client_ns) / kCalls);
    }
    return best;
  }();
  return cost;
}

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

void BM_ConnectionSide(benchmark::State& state, WorkloadKind kind, ClosePolicy close, Side side, bool timestamps = true) {
  const auto batch = static_cast<std::uint32_t>(state.range(0));
  PairOptions options;
  options.timestamps = timestamps;
  options.client_workload = make_workload(kind, close);
  options.server_workload = options.client_workload;
  options.max_batch = batch;
  EnginePair pair(options);
  const double clock_ns = clock_pair_ns();
  const bool client = side == Side::kClient;
  // Wall time of one side's calls less the clock reads they paid for.
  auto net_ns = [&](const SideTimes& t, bool client_side) {
    const std::uint64_t ns = client_side ? t.client_ns : t.server_ns;
    const std::uint64_t calls = client_side ? t.client_sections : t.server_sections;
    return std::max(0.0, static_cast<double>(ns) - clock_ns * static_cast<double>(calls));
  };

  std::uint64_t opened = 0;
  double side_wall = 0;
  double other_wall = 0;
  std::uint64_t calls = 0;
  const double cpu_start = thread_cpu_ns();
  const auto wall_start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    SideTimes times;
    const BatchResult r = pair.run_batch(batch, times);
    opened += r.opened;
    if (r.open_failed != 0 || r.stuck) {
      state.SkipWithError(r.stuck ? "connections left with no timer armed" : "open() refused a connection");
      break;
    }
    const double ns = net_ns(times, client);
    side_wall += ns;
    other_wall += net_ns(times, !client);
    calls += client ? times.client_sections : times.server_sections;
    state.SetIterationTime(ns / 1e9);
  }
  const double wall = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - wall_start).count();
  const double cpu = thread_cpu_ns() - cpu_start;
  if (const std::string problem = first_problem(pair, opened); !problem.empty()) {
    state.SkipWithError(problem.c_str());
    return;
  }
  const double conns = static_cast<double>(opened);
  const double cpu_per_wall = wall > 0 ? cpu / wall : 0.0;
  const double per_conn = conns > 0 ? cpu_per_wall / conns : 0.0;
  // No items_per_second: Google Benchmark would derive it from the wall (manual) time.
  state.counters["ns_per_conn"] = side_wall * per_conn;
  state.counters["other_side_ns_per_conn"] = other_wall * per_conn;
  state.counters["harness_ns_per_conn"] = std::max(0.0, wall - side_wall - other_wall) * per_conn;
  state.counters["cpu_per_wall"] = cpu_per_wall;
  state.counters["timed_calls_per_conn"] = conns > 0 ? static_cast<double>(calls) / conns : 0.0;
  state.counters["clock_ns_per_call"] = clock_ns;
}

#define SYNWAVE_SIDE_BENCH(name, ...) \
  BENCHMARK_CAPTURE(BM_ConnectionSide, name, __VA_ARGS__)->UseManualTime()->Arg(32)->Arg(256)

// synwave's loopback default close policy: the server closes first.
SYNWAVE_SIDE_BENCH(client_side_none_server_first, WorkloadKind::kNone, ClosePolicy::kServerFirst, Side::kClient);
SYNWAVE_SIDE_BENCH(server_side_none_server_first, WorkloadKind::kNone, ClosePolicy::kServerFirst, Side::kServer);
SYNWAVE_SIDE_BENCH(client_side_http_server_first, WorkloadKind::kHttp, ClosePolicy::kServerFirst, Side::kClient);
SYNWAVE_SIDE_BENCH(server_side_http_server_first, WorkloadKind::kHttp, ClosePolicy::kServerFirst, Side::kServer);
// The same in dperf's wire format (no TCP timestamps: --no-timestamps).
SYNWAVE_SIDE_BENCH(client_side_http_server_first_no_timestamps, WorkloadKind::kHttp, ClosePolicy::kServerFirst,
                   Side::kClient, false);
SYNWAVE_SIDE_BENCH(server_side_http_server_first_no_timestamps, WorkloadKind::kHttp, ClosePolicy::kServerFirst,
                   Side::kServer, false);

#undef SYNWAVE_SIDE_BENCH

}  // namespace
}  // namespace synwave::bench
