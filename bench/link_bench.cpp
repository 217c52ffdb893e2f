// link_bench: the cost of a DPDK link alone, with no TCP: how many packets per second one lcore
// forwards through a port, and how many nanoseconds of that lcore each packet costs. It is the
// floor under synwave's connection rate on the same link (scripts/bench.sh runs it over the memif
// pair beside synwave: a connection there is 3 segments received and 3 sent per side).
//
//   link_bench [EAL options] -- --role client|server [--duration S] [--window N] [--size BYTES]
//
// Both roles reflect every frame they receive back out of the port, in bursts of 32 (the same
// mbuf, its Ethernet addresses swapped: no copy, no allocation). The client primes the loop with
// --window frames (default 4096) and stops after --duration seconds (default 5); the server runs
// until SIGINT/SIGTERM. At the end each prints one JSON line: frames forwarded per second, the
// lcore's busy share (TSC of loop passes that did work, as synwave and dperf count it) and busy
// nanoseconds per forwarded frame.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "eal.hpp"
#include "mbuf_pool.hpp"
#include "port.hpp"

namespace {

constexpr std::uint16_t kBurst = 32;
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true); }

struct Options {
  bool client = false;
  double duration_s = 5;
  std::uint32_t window = 4096;
  std::uint16_t size = 64;
};

bool parse(const std::vector<std::string>& args, Options& o, std::string& err) {
  bool role_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (i + 1 >= args.size()) {
      err = a + " needs a value";
      return false;
    }
    const std::string& v = args[++i];
    if (a == "--role" && (v == "client" || v == "server")) {
      o.client = v == "client";
      role_given = true;
    } else if (a == "--duration") {
      o.duration_s = std::atof(v.c_str());
    } else if (a == "--window") {
      o.window = static_cast<std::uint32_t>(std::strtoul(v.c_str(), nullptr, 10));
    } else if (a == "--size") {
      o.size = static_cast<std::uint16_t>(std::strtoul(v.c_str(), nullptr, 10));
    } else {
      err = "unknown option " + a + " " + v + " (--role client|server, --duration S, --window N, --size BYTES)";
      return false;
    }
  }
  if (!role_given) err = "--role client|server is required";
  else if (o.duration_s <= 0 || o.window == 0 || o.size < 60 || o.size > 1514) err = "--duration > 0, --window > 0, --size 60..1514";
  return err.empty();
}

// Primes the loop: `window` frames of `size` bytes, broadcast, a made-up EtherType.
bool prime(std::uint16_t port, rte_mempool* pool, const Options& o) {
  std::uint32_t left = o.window;
  while (left > 0) {
    rte_mbuf* m[kBurst];
    const std::uint16_t n = static_cast<std::uint16_t>(left < kBurst ? left : kBurst);
    if (rte_pktmbuf_alloc_bulk(pool, m, n) != 0) return false;
    for (std::uint16_t i = 0; i < n; ++i) {
      char* p = rte_pktmbuf_append(m[i], o.size);
      std::memset(p, 0, o.size);
      std::memset(p, 0xff, 6);
      p[12] = static_cast<char>(0x88);
      p[13] = static_cast<char>(0xb5);  // IEEE 802 local experimental EtherType
    }
    std::uint16_t sent = 0;
    while (sent < n && !g_stop.load()) sent = static_cast<std::uint16_t>(sent + rte_eth_tx_burst(port, 0, m + sent, n - sent));
    left -= n;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> eal_args;
  std::vector<std::string> app_args;
  bool after = false;
  for (int i = 1; i < argc; ++i) {
    if (!after && std::string_view(argv[i]) == "--") {
      after = true;
      continue;
    }
    (after ? app_args : eal_args).emplace_back(argv[i]);
  }
  Options o;
  std::string err;
  if (!parse(app_args, o, err)) {
    std::fprintf(stderr, "link_bench: %s\n", err.c_str());
    return 2;
  }
  err = synwave::dpdk::start_eal(argv[0], eal_args);
  if (!err.empty() || rte_eth_dev_count_avail() == 0) {
    std::fprintf(stderr, "link_bench: %s\n", err.empty() ? "no DPDK port: give one with --vdev before '--'" : err.c_str());
    return 2;
  }
  // The program's pool (huge pages without EAL hugepages), so the link costs what it costs synwave.
  rte_mempool* pool = synwave::dpdk::create_mbuf_pool("link_bench", 65535, 256, RTE_MBUF_DEFAULT_BUF_SIZE, err);
  synwave::dpdk::PortRequest req;
  req.port_id = 0;
  req.pool = pool;
  synwave::dpdk::PortInfo info;
  if (pool != nullptr) err = synwave::dpdk::setup_port(req, info);
  if (!err.empty()) {
    std::fprintf(stderr, "link_bench: %s\n", err.c_str());
    return 2;
  }
  synwave::dpdk::wait_for_link(0, 5000, info);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  const std::uint64_t hz = rte_get_tsc_hz();
  if (o.client && !prime(0, pool, o)) {
    std::fprintf(stderr, "link_bench: cannot allocate the %u frames of the window\n", o.window);
    return 2;
  }
  std::uint64_t forwarded = 0;
  std::uint64_t busy = 0;
  std::uint64_t start = 0;  // the first frame received starts the clock
  const std::uint64_t limit = static_cast<std::uint64_t>(o.duration_s * static_cast<double>(hz));
  rte_mbuf* pkts[kBurst];
  // DPDK 22.11.11's memif can lose a window sent just as the link comes up (neither side then
  // receives a frame, and the loop never starts): the client sends another each second until the
  // first frame comes back.
  std::uint64_t primed_at = rte_rdtsc();
  for (std::uint64_t mark = primed_at; !g_stop.load(std::memory_order_relaxed);) {
    if (o.client && start == 0 && mark - primed_at >= hz) {
      if (!prime(0, pool, o)) break;
      primed_at = rte_rdtsc();
    }
    const std::uint16_t n = rte_eth_rx_burst(0, 0, pkts, kBurst);
    if (n > 0) {
      if (start == 0) start = mark;
      for (std::uint16_t i = 0; i < n; ++i) {
        auto* eth = rte_pktmbuf_mtod(pkts[i], rte_ether_hdr*);
        rte_ether_addr tmp = eth->src_addr;
        eth->src_addr = eth->dst_addr;
        eth->dst_addr = tmp;
      }
      std::uint16_t sent = 0;
      for (int tries = 0; tries < 64 && sent < n; ++tries) {
        sent = static_cast<std::uint16_t>(sent + rte_eth_tx_burst(0, 0, pkts + sent, n - sent));
      }
      if (sent < n) rte_pktmbuf_free_bulk(pkts + sent, n - sent);
      forwarded += sent;
    }
    const std::uint64_t now = rte_rdtsc();
    if (n > 0) busy += now - mark;
    mark = now;
    if (o.client && start != 0 && now - start >= limit) break;
  }
  const double seconds = start == 0 ? 0.0 : static_cast<double>(rte_rdtsc() - start) / static_cast<double>(hz);
  const double busy_s = static_cast<double>(busy) / static_cast<double>(hz);
  std::printf("{\"role\": \"%s\", \"seconds\": %.3f, \"forwarded\": %llu, \"pps\": %.0f, \"busy_pct\": %.1f, "
              "\"ns_per_frame\": %.1f}\n",
              o.client ? "client" : "server", seconds, static_cast<unsigned long long>(forwarded),
              seconds > 0 ? static_cast<double>(forwarded) / seconds : 0.0, seconds > 0 ? 100.0 * busy_s / seconds : 0.0,
              forwarded > 0 ? busy_s * 1e9 / static_cast<double>(forwarded) : 0.0);
  std::fflush(stdout);
  synwave::dpdk::close_port(0);
  synwave::dpdk::stop_eal();
  return 0;
}
