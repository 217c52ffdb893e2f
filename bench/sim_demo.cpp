// synwave_sim: a client engine and a server engine joined by an in-memory link (bench_link.hpp),
// opening and closing connections as fast as one core allows for a while, so a newcomer sees the
// protocol core run with no NIC, no DPDK and no privileges (scripts/demo.sh runs it).
// The engines run on a virtual clock that jumps to their next timer; the rates printed are
// against the wall clock.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "bench_link.hpp"
#include "synwave/engine.hpp"
#include "synwave/tcp_state.hpp"
#include "synwave/workload.hpp"

namespace synwave::bench {
namespace {

constexpr std::uint32_t kBatch = 256;  // connections opened at once: enough to keep many in flight

struct Options {
  double duration_s = 5.0;
  WorkloadKind workload = WorkloadKind::kHttp;
  ClosePolicy close = ClosePolicy::kServerFirst;
  std::string_view workload_name = "http";
  std::string_view close_name = "server";
};

void print_usage(std::FILE* to) {
  std::fprintf(to,
               "usage: synwave_sim [--duration SECONDS] [--workload none|http|raw] [--close client|server|rst|half]\n"
               "  Runs a simulated client and server through the synwave TCP core in memory and\n"
               "  prints connections per second once a second.\n"
               "  --duration  wall-clock seconds to run (default 5)\n"
               "  --workload  none: handshake and close; http: GET and a 128-byte body;\n"
               "              raw: a 64-byte request and a 128-byte response (default http)\n"
               "  --close     who ends the connection: client, server (FIN first), rst (client resets),\n"
               "              half (client half-closes after its request) (default server)\n");
}

std::optional<WorkloadKind> parse_workload(std::string_view s) {
  if (s == "none") return WorkloadKind::kNone;
  if (s == "http") return WorkloadKind::kHttp;
  if (s == "raw") return WorkloadKind::kRaw;
  return std::nullopt;
}

std::optional<ClosePolicy> parse_close(std::string_view s) {
  if (s == "client") return ClosePolicy::kClientFirst;
  if (s == "server") return ClosePolicy::kServerFirst;
  if (s == "rst") return ClosePolicy::kReset;
  if (s == "half") return ClosePolicy::kHalfClose;
  return std::nullopt;
}

// Accepts "--name value" and "--name=value". Returns nullopt (after printing why) on bad input.
std::optional<Options> parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      print_usage(stdout);
      std::exit(0);
    }
    std::string_view value;
    const auto eq = arg.find('=');
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (arg != "--duration" && arg != "--workload" && arg != "--close") {
      std::fprintf(stderr, "synwave_sim: unknown option '%.*s'\n", static_cast<int>(arg.size()), arg.data());
      return std::nullopt;
    }
    if (eq == std::string_view::npos) {
      if (i + 1 == argc) {
        std::fprintf(stderr, "synwave_sim: %.*s needs a value\n", static_cast<int>(arg.size()), arg.data());
        return std::nullopt;
      }
      value = argv[++i];
    }
    if (arg == "--duration") {
      char* end = nullptr;
      const std::string copy(value);
      o.duration_s = std::strtod(copy.c_str(), &end);
      if (copy.empty() || *end != '\0' || !(o.duration_s >= 0) || o.duration_s > 1e6) {
        std::fprintf(stderr, "synwave_sim: --duration wants seconds >= 0, got '%s'\n", copy.c_str());
        return std::nullopt;
      }
    } else if (arg == "--workload") {
      const auto w = parse_workload(value);
      if (!w) {
        std::fprintf(stderr, "synwave_sim: --workload is none, http or raw, not '%.*s'\n", static_cast<int>(value.size()),
                     value.data());
        return std::nullopt;
      }
      o.workload = *w;
      o.workload_name = value;
    } else {  // --close
      const auto c = parse_close(value);
      if (!c) {
        std::fprintf(stderr, "synwave_sim: --close is client, server, rst or half, not '%.*s'\n",
                     static_cast<int>(value.size()), value.data());
        return std::nullopt;
      }
      o.close = *c;
      o.close_name = value;
    }
  }
  return o;
}

void report_stranded(const char* side, const EngineGauges& g) {
  for (std::size_t i = 0; i < g.by_state.size(); ++i) {
    if (g.by_state[i] == 0) continue;
    const std::string_view state = to_string(static_cast<TcpState>(i));
    std::fprintf(stderr, "synwave_sim: %u %s records stranded in %.*s\n", g.by_state[i], side,
                 static_cast<int>(state.size()), state.data());
  }
}

int run(const Options& o) {
  Workload w;
  w.kind = o.workload;
  w.close = o.close;
  w.request_bytes = 64;
  w.response_bytes = 128;
  PairOptions po;
  po.client_workload = w;
  po.server_workload = w;  // the same policy names on both sides (workload.hpp)
  po.max_batch = kBatch;
  EnginePair pair(po);

  std::printf("synwave_sim: client %s -> server %s:%u in memory, workload %.*s, close %.*s, %u connections "
              "in flight per batch, for %.1f s\n",
              "198.18.0.1", "198.18.0.2", kServerPort, static_cast<int>(o.workload_name.size()), o.workload_name.data(),
              static_cast<int>(o.close_name.size()), o.close_name.data(), kBatch, o.duration_s);
  std::fflush(stdout);

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  auto next_report = start + std::chrono::seconds(1);
  std::uint64_t completed_at_last_report = 0;
  std::uint64_t harness_failures = 0;  // opens refused, records stranded: not counted by the engines
  int second = 0;

  auto completed = [&] { return pair.client().counters().conn_completed; };
  // Counted where each engine saw it: one connection that fails on both sides counts twice.
  auto failed = [&] {
    return pair.client().counters().conn_failed + pair.server().counters().conn_failed + harness_failures;
  };

  for (;;) {
    const BatchResult r = pair.run_batch(kBatch);
    harness_failures += r.open_failed;
    if (r.stuck) {
      report_stranded("client", pair.client().gauges());
      report_stranded("server", pair.server().gauges());
      // Each connection has a record on either side; count a stranded connection once.
      harness_failures += std::max(pair.client().gauges().connections, pair.server().gauges().connections);
      std::fprintf(stderr, "synwave_sim: stopping: those records have no timer armed and would never end\n");
      break;
    }
    const auto now = Clock::now();
    while (now >= next_report) {
      ++second;
      const std::uint64_t total = completed();
      std::printf("[%3d s] %9llu connections/s  %12llu completed  %llu failed (client %llu, server %llu)\n", second,
                  static_cast<unsigned long long>(total - completed_at_last_report),
                  static_cast<unsigned long long>(total), static_cast<unsigned long long>(failed()),
                  static_cast<unsigned long long>(pair.client().counters().conn_failed),
                  static_cast<unsigned long long>(pair.server().counters().conn_failed));
      std::fflush(stdout);
      completed_at_last_report = total;
      next_report += std::chrono::seconds(1);
    }
    if (now >= end) break;
  }

  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const std::uint64_t total = completed();
  const double cps = elapsed > 0 ? static_cast<double>(total) / elapsed : 0.0;
  const double ns = total > 0 ? elapsed * 1e9 / static_cast<double>(total) : 0.0;
  std::printf("synwave_sim: %llu connections in %.2f s = %.0f connections/s (%.1f ns per connection)\n",
              static_cast<unsigned long long>(total), elapsed, cps, ns);
  if (failed() != 0) {
    std::fprintf(stderr, "synwave_sim: %llu connections failed\n", static_cast<unsigned long long>(failed()));
    return 1;
  }
  if (total == 0) {
    std::fprintf(stderr, "synwave_sim: no connection completed\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace synwave::bench

int main(int argc, char** argv) {
  const auto options = synwave::bench::parse_args(argc, argv);
  if (!options) {
    synwave::bench::print_usage(stderr);
    return 2;
  }
  return synwave::bench::run(*options);
}
