// profile_connections: runs a fixed number of connections through a client engine and a server
// engine (bench_link.hpp) and exits, so that a profiler sees the same work on every run:
//   valgrind --tool=callgrind bench/profile_connections --workload http --connections 51200
// The instruction counts callgrind reports then repeat exactly, which timings on a shared machine
// do not; divide by the connection count for instructions per connection (both sides together).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "bench_link.hpp"
#include "synwave/engine.hpp"
#include "synwave/workload.hpp"

namespace synwave::bench {
namespace {

struct Options {
  WorkloadKind workload = WorkloadKind::kNone;
  ClosePolicy close = ClosePolicy::kServerFirst;
  std::uint32_t connections = 51200;
  std::uint32_t batch = 256;
  bool verify_checksums = false;
  bool ipv6 = false;
  bool timestamps = true;
};

void print_usage(std::FILE* to) {
  std::fprintf(to,
               "usage: profile_connections [--workload none|http|raw] [--close client|server] [--connections N]\n"
               "                           [--batch N] [--verify-checksums] [--ipv6] [--no-timestamps]\n"
               "  Runs N connections (default 51200) in batches of --batch (default 256, at most 4096)\n"
               "  through a simulated client and server, then exits: a fixed amount of work to profile.\n"
               "  Their link is trusted as the data plane trusts memory links (no checksum summed on receipt);\n"
               "  --verify-checksums sums them, as behind a device without rx offload.\n"
               "  --ipv6: every connection over IPv6 (both engines dual-stack).\n"
               "  --no-timestamps: no TCP timestamps offered (dperf's wire format).\n");
}

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      print_usage(stdout);
      std::exit(0);
    }
    if (arg == "--verify-checksums") {
      o.verify_checksums = true;
      continue;
    }
    if (arg == "--ipv6") {
      o.ipv6 = true;
      continue;
    }
    if (arg == "--no-timestamps") {
      o.timestamps = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "profile_connections: %s needs a value\n", argv[i]);
      return false;
    }
    const std::string_view value = argv[++i];
    if (arg == "--workload") {
      if (value == "none") o.workload = WorkloadKind::kNone;
      else if (value == "http") o.workload = WorkloadKind::kHttp;
      else if (value == "raw") o.workload = WorkloadKind::kRaw;
      else {
        std::fprintf(stderr, "profile_connections: --workload is none, http or raw, not '%s'\n", argv[i]);
        return false;
      }
    } else if (arg == "--close") {
      if (value == "client") o.close = ClosePolicy::kClientFirst;
      else if (value == "server") o.close = ClosePolicy::kServerFirst;
      else {
        std::fprintf(stderr, "profile_connections: --close is client or server, not '%s'\n", argv[i]);
        return false;
      }
    } else if (arg == "--connections" || arg == "--batch") {
      char* end = nullptr;
      const unsigned long n = std::strtoul(argv[i], &end, 10);
      const unsigned long most = arg == "--batch" ? 4096 : 1000000000;
      if (end == argv[i] || *end != '\0' || n == 0 || n > most) {
        std::fprintf(stderr, "profile_connections: %s wants a count from 1 to %lu, not '%s'\n", argv[i - 1], most,
                     argv[i]);
        return false;
      }
      (arg == "--batch" ? o.batch : o.connections) = static_cast<std::uint32_t>(n);
    } else {
      std::fprintf(stderr, "profile_connections: unknown option '%s' (see --help)\n", argv[i - 1]);
      return false;
    }
  }
  return true;
}

int run(const Options& o) {
  Workload w;
  w.kind = o.workload;
  w.close = o.close;
  w.request_bytes = 64;
  w.response_bytes = 128;
  PairOptions po;
  po.client_workload = w;
  po.server_workload = w;
  po.max_batch = o.batch;
  po.verify_checksums = o.verify_checksums;
  po.ipv6 = o.ipv6;
  po.timestamps = o.timestamps;
  EnginePair pair(po);
  std::uint64_t frames = 0;
  for (std::uint32_t left = o.connections; left > 0;) {
    const std::uint32_t n = left < o.batch ? left : o.batch;
    const BatchResult r = pair.run_batch(n);
    frames += r.frames;
    if (r.open_failed != 0 || r.stuck) {
      std::fprintf(stderr, "profile_connections: %s\n", r.stuck ? "records left with no timer armed" : "open() refused");
      return 1;
    }
    left -= n;
  }
  const Counters& c = pair.client().counters();
  const Counters& s = pair.server().counters();
  std::printf("profile_connections: %u connections, %llu frames, completed client %llu server %llu, failed %llu\n",
              o.connections, static_cast<unsigned long long>(frames), static_cast<unsigned long long>(c.conn_completed),
              static_cast<unsigned long long>(s.conn_completed),
              static_cast<unsigned long long>(c.conn_failed + s.conn_failed));
  return c.conn_completed == o.connections && s.conn_completed == o.connections ? 0 : 1;
}

}  // namespace
}  // namespace synwave::bench

int main(int argc, char** argv) {
  synwave::bench::Options o;
  if (!synwave::bench::parse_args(argc, argv, o)) {
    synwave::bench::print_usage(stderr);
    return 2;
  }
  return synwave::bench::run(o);
}
