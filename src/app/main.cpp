// synwave [EAL options] -- <mode> [options], or synwave merge REPORT.json...
// The program: parses options, starts DPDK, builds the ports, engines and workers of the mode,
// runs them, and reports.
#include <fcntl.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "control.hpp"
#include "eal.hpp"
#include "merge.hpp"
#include "metrics.hpp"
#include "options.hpp"
#include "mbuf_pool.hpp"
#include "port.hpp"
#include "report.hpp"
#include "telemetry.hpp"
#include "worker.hpp"

namespace synwave::app {
namespace {

constexpr unsigned kLinkWaitMs = 5000;

struct Resources {
  std::vector<rte_mempool*> pools;
  std::vector<std::uint16_t> ports;
  std::vector<rte_ring*> rings;
  rte_pcapng_t* pcapng = nullptr;
  int capture_fd = -1;
  ~Resources() {
    if (pcapng != nullptr) rte_pcapng_close(pcapng);  // closes capture_fd too
    for (std::uint16_t p : ports) dpdk::close_port(p);
    for (rte_ring* r : rings) rte_ring_free(r);
    for (rte_mempool* mp : pools) rte_mempool_free(mp);
  }
};

std::vector<unsigned> all_lcores() {
  std::vector<unsigned> l{rte_get_main_lcore()};
  unsigned id;
  RTE_LCORE_FOREACH_WORKER(id) { l.push_back(id); }
  return l;
}

std::string open_capture(const AppOptions& o, Resources& res, dpdk::Capture& cap) {
  res.capture_fd = ::open(o.capture.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0644);
  if (res.capture_fd < 0) return "--capture " + o.capture + ": cannot create the file (check the directory and rights)";
  res.pcapng = rte_pcapng_fdopen(res.capture_fd, nullptr, nullptr, "synwave", nullptr);
  if (res.pcapng == nullptr) return "--capture " + o.capture + ": DPDK pcapng could not start (" + rte_strerror(rte_errno) + ")";
  std::string err;
  rte_mempool* pool = rte_pktmbuf_pool_create("synwave_capture", 4095, 64, 0,
                                              static_cast<std::uint16_t>(rte_pcapng_mbuf_size(RTE_MBUF_DEFAULT_BUF_SIZE)),
                                              static_cast<int>(rte_socket_id()));
  if (pool == nullptr) return "--capture: out of memory for the capture pool: raise the EAL's -m";
  res.pools.push_back(pool);
  cap.writer = res.pcapng;
  cap.pool = pool;
  cap.per_lcore_limit = o.capture_packets;
  return {};
}

extern "C" void on_signal(int) { g_stop_requested.store(true); }

// Milliseconds since boot, read when the run's TscClock starts: EngineConfig::timestamp_base_ms.
std::uint32_t boot_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(ts.tv_sec) * 1000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1'000'000);
}

// Writes the report (if asked for) and the summary line at the end of a run.
MetricsServer* g_metrics = nullptr;  // --metrics, started before DPDK (metrics.hpp)

// Where the control plane's readers (DPDK telemetry, Prometheus) find the run: nullptr before the
// state goes away.
void publish_state(const RunState* state) {
  register_telemetry(state);
  if (g_metrics != nullptr) g_metrics->attach(state);
}

int finish_run(const RunState& state, const AppOptions& o) {
  const nlohmann::json report = build_report(state);
  std::printf("%s\n", summary_line(state).c_str());
  std::fflush(stdout);
  for (const std::string& hint : run_hints(state)) spdlog::warn("hint: {}", hint);
  if (report.contains("phases")) {
    for (const auto& p : report["phases"]) {
      spdlog::info("phase {} ({:.1f}-{:.1f} s): {} opened, {} completed = {:.0f}/s, {} failed, {} established at its end{}",
                   p["name"].get<std::string>(), p["start_s"].get<double>(), p["end_s"].get<double>(),
                   p["opened"].get<std::uint64_t>(), p["completed"].get<std::uint64_t>(), p["completed_per_s"].get<double>(),
                   p["failed"].get<std::uint64_t>(), p["client_established_at_end"].get<std::uint32_t>(),
                   p.contains("cut_short") ? " (cut short)" : "");
    }
  }
  if (!o.report.empty()) {
    std::ofstream out(o.report);
    out << report.dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "synwave: cannot write the report to %s\n", o.report.c_str());
      return 1;
    }
  }
  return 0;
}

// Worker i on lcore `lcore`, with its own stats slot (kept in `slots`).
std::unique_ptr<dpdk::Worker> make_worker(unsigned lcore, std::size_t i, const dpdk::TscClock& clock,
                                          std::atomic<bool>& stop, std::vector<std::unique_ptr<dpdk::StatsSlot>>& slots) {
  auto w = std::make_unique<dpdk::Worker>();
  w->lcore_id = lcore;
  w->index = static_cast<std::uint16_t>(i);
  w->clock = &clock;
  w->stop = &stop;
  slots.push_back(std::make_unique<dpdk::StatsSlot>());
  w->slot = slots.back().get();
  return w;
}

// The run starts now: its clocks, its deadline, and the control plane on worker 0's lcore.
void start_run(RunState& state, const RunPlan& plan, const dpdk::TscClock& clock,
               std::vector<std::unique_ptr<dpdk::Worker>>& workers) {
  state.started = clock.now();
  const double wall_now = unix_now_seconds();
  state.started_unix = wall_now;
  if (plan.start_at_unix > wall_now) {
    // --start-at: the run's clocks (duration, phases, progress) count from that instant; until
    // then the generators open nothing and resolve their next hops.
    state.started += static_cast<TimeNs>((plan.start_at_unix - wall_now) * 1e9);
    state.started_unix = plan.start_at_unix;
    spdlog::info("starting at {} ({:.3f} s from now); next hops resolved meanwhile", plan.options.start_at,
                 plan.start_at_unix - wall_now);
  } else if (plan.start_at_unix != 0) {
    spdlog::warn("--start-at {} passed {:.3f} s ago while the ports came up: starting now", plan.options.start_at,
                 wall_now - plan.start_at_unix);
  }
  state.phase_started = state.started;
  state.interval = static_cast<TimeNs>(plan.options.stats_interval * 1e9);
  state.next_print = state.started + state.interval;
  state.last_at = state.started;
  if (plan.duration_s > 0) state.deadline = state.started + static_cast<TimeNs>(plan.duration_s * 1e9);
  workers[0]->control = control_tick;
  workers[0]->control_ctx = &state;
  for (auto& w : workers) dpdk::publish_snapshot(*w, state.started);
  publish_state(&state);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

// Flood mode, once the port is up: one generator per queue (each lcore sends on its own queue,
// with its share of the rate and of the source tuples), the next hop resolved by ARP (or Neighbor
// Discovery) first unless --neighbor gave it, then the flood until the duration ends or SIGINT.
PortSummary summary_of(const dpdk::PortInfo& p) {
  return {p.port_id, p.name, p.driver, p.rss, p.tx_checksum_offload, p.rx_checksum_offload, p.rx_checksum_trusted, p.queues};
}

int run_flood(RunPlan& plan, const std::vector<unsigned>& lcores, rte_mempool* pool, const dpdk::PortInfo& port,
              std::uint16_t queues) {
  AppOptions& o = plan.options;
  const std::size_t count = std::min<std::size_t>(lcores.size(), queues);
  if (count < lcores.size()) {
    spdlog::warn("flood: port {} has {} queue(s): flooding from the first {} of {} lcores", port.port_id, queues, count,
                 lcores.size());
  }
  dpdk::TscClock clock;
  plan.client.timestamp_base_ms = boot_ms();  // the probes'
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<dpdk::Worker>> workers;
  std::vector<std::unique_ptr<dpdk::StatsSlot>> slots;
  std::vector<std::unique_ptr<FloodGenerator>> generators;
  std::vector<dpdk::Worker*> raw;
  for (std::size_t i = 0; i < count; ++i) {
    auto w = make_worker(lcores[i], i, clock, stop, slots);
    dpdk::EngineBinding& b = w->bindings[0];  // the queue only: binding_count stays 0, no engine
    b.port = port.port_id;
    b.queue = static_cast<std::uint16_t>(i);
    b.pool = pool;
    b.role = dpdk::Role::kClient;
    b.worker = w.get();
    FloodConfig f = plan.flood;
    f.local_mac = port.mac;
    f.checksum_offload = port.tx_checksum_offload;
    f.pps = plan.flood.pps / count + (i < plan.flood.pps % count ? 1 : 0);
    f.share_count = static_cast<std::uint16_t>(count);
    f.share_index = static_cast<std::uint16_t>(i);
    f.seed = plan.flood.seed + i * 0x9e3779b97f4a7c15ull;
    generators.push_back(std::make_unique<FloodGenerator>(f, dpdk::make_frame_io(b), clock.now()));
    w->flood = generators.back().get();
    raw.push_back(w.get());
    workers.push_back(std::move(w));
  }

  RunState state;
  state.plan = &plan;
  state.ports.push_back(summary_of(port));
  state.dispatch = "flood: one queue per lcore";
  for (std::size_t i = 0; i < count; ++i) {
    state.slots.push_back(slots[i].get());
    state.lcores.push_back(workers[i]->lcore_id);
  }
  state.clock = &clock;
  state.stop = &stop;
  state.config = effective_config(plan);
  std::signal(SIGINT, on_signal);  // a stop during the ARP wait, too
  std::signal(SIGTERM, on_signal);

  const bool ipv6 = plan.flood.ipv6;
  const std::string hop = ipv6 ? format_ipv6(plan.flood.next_hop_ip6) : format_ipv4(plan.flood.next_hop_ip);
  const char* resolution = ipv6 ? "Neighbor Discovery" : "ARP";
  if (!generators[0]->resolved()) {
    constexpr TimeNs kArpTimeout = 10 * kSecond;
    spdlog::info("flood: resolving the next hop {} by {}", hop, resolution);
    if (!dpdk::flood_resolve_next_hop(raw.data(), raw.size(), kArpTimeout, g_stop_requested)) {
      if (g_stop_requested.load()) {
        std::fprintf(stderr, "synwave: flood stopped before the next hop %s answered %s\n", hop.c_str(), resolution);
      } else {
        std::fprintf(stderr,
                     "synwave: no %s from the next hop %s within 10 s: check that it is up on this segment, "
                     "or give its MAC with --neighbor %s,MAC\n",
                     ipv6 ? "Neighbor Advertisement" : "ARP reply", hop.c_str(), hop.c_str());
      }
      return 1;
    }
  }
  const MacAddr& mac = generators[0]->next_hop_mac();
  spdlog::info("flood: next hop {} is at {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", hop, mac.bytes[0], mac.bytes[1],
               mac.bytes[2], mac.bytes[3], mac.bytes[4], mac.bytes[5]);

  // The probes: a client engine beside the first lcore's generator, on its queue, sending to the
  // next hop the flood found.
  std::unique_ptr<Engine> probes;
  std::unique_ptr<ConnectionGenerator> probe_generator;
  if (o.probe_rate > 0) {
    dpdk::EngineBinding& b = workers[0]->bindings[0];
    EngineConfig pc = plan.client;
    pc.local_mac = port.mac;
    pc.tx_checksum_offload = port.tx_checksum_offload;
    // A separate probe address is the probes' engine's to answer for; the flood's own, the generator's.
    pc.answer_arp = ipv6 ? pc.local_ip6 != plan.flood.local_ip6 : pc.local_ip != plan.flood.local_ip;
    if (ipv6) pc.neighbors6.push_back({plan.flood.next_hop_ip6, mac});
    else pc.neighbors.push_back({plan.flood.next_hop_ip, mac});
    probes = std::make_unique<Engine>(pc, dpdk::make_frame_io(b), clock.now());
    probe_generator = std::make_unique<ConnectionGenerator>(plan.generator, clock.now());
    b.engine = probes.get();
    b.generator = probe_generator.get();
    workers[0]->binding_count = 1;
  }

  start_run(state, plan, clock, workers);
  for (auto& g : generators) g->restart_rate(state.started);
  spdlog::info("flood mode on {} lcore(s): {} segments at {} pps to {} from {} port(s) {}", count,
               to_string(plan.flood.kind), plan.flood.pps, o.dst[0], o.src_ip, o.src_ports);
  if (probes != nullptr) {
    spdlog::info("flood: probes at {}/s from {} (GET {}, {} s timeout)", o.probe_rate,
                 ipv6 ? format_ipv6(plan.client.local_ip6) : format_ipv4(plan.client.local_ip), o.probe_path,
                 o.probe_timeout);
  }
  for (std::size_t i = 1; i < count; ++i) rte_eal_remote_launch(dpdk::flood_main, workers[i].get(), workers[i]->lcore_id);
  dpdk::flood_main(workers[0].get());
  rte_eal_mp_wait_lcore();
  if (state.finished == 0) state.finished = clock.now();
  const int rc = finish_run(state, o);
  publish_state(nullptr);
  return rc;
}

int run(RunPlan& plan) {
  AppOptions& o = plan.options;
  Resources res;
  std::string err;
  const std::vector<unsigned> lcores = all_lcores();
  const bool loopback = o.mode == Mode::kLoopback;
  const bool pair = o.mode == Mode::kPair;

  // The lcores each port's side gets: pair splits them (the client takes the odd one; a single
  // lcore runs both sides), the loopback runs one per side, the other modes all on their port.
  std::vector<std::size_t> side_lcores;
  if (loopback) side_lcores = {1, 1};
  else if (pair) side_lcores = {lcores.size() == 1 ? 1 : (lcores.size() + 1) / 2, std::max<std::size_t>(lcores.size() / 2, 1)};
  else side_lcores = {lcores.size()};

  // Ports.
  std::vector<std::uint16_t> port_ids;
  if (loopback) {
    // Two net_ring ports back to back: what one sends, the other receives.
    const int socket = static_cast<int>(rte_socket_id());
    rte_ring* a2b = rte_ring_create("synwave_a2b", o.ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rte_ring* b2a = rte_ring_create("synwave_b2a", o.ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (a2b == nullptr || b2a == nullptr) {
      std::fprintf(stderr, "synwave: out of memory at start-up creating the loopback rings: raise the EAL's -m\n");
      return 2;
    }
    res.rings = {a2b, b2a};
    const int client_port = rte_eth_from_rings("net_ring_client", &b2a, 1, &a2b, 1, static_cast<unsigned>(socket));
    const int server_port = rte_eth_from_rings("net_ring_server", &a2b, 1, &b2a, 1, static_cast<unsigned>(socket));
    if (client_port < 0 || server_port < 0) {
      std::fprintf(stderr, "synwave: cannot create the loopback ring ports (%s)\n", rte_strerror(rte_errno));
      return 2;
    }
    port_ids = {static_cast<std::uint16_t>(client_port), static_cast<std::uint16_t>(server_port)};
  } else {
    if (rte_eth_dev_count_avail() == 0) {
      std::fprintf(stderr,
                   "synwave: no DPDK port: give a device before '--', e.g. --vdev net_tap0,iface=sw0, or bind a NIC with "
                   "dpdk-devbind.py\n");
      return 2;
    }
    port_ids = pair ? std::vector<std::uint16_t>{o.client_port, o.server_port} : std::vector<std::uint16_t>{o.port};
    for (std::size_t i = 0; i < port_ids.size(); ++i) {
      if (rte_eth_dev_is_valid_port(port_ids[i])) continue;
      const char* option = !pair ? "--port" : i == 0 ? "--client-port" : "--server-port";
      std::fprintf(stderr, "synwave: %s %u does not exist: %u port(s) are available (0..%u)%s\n", option, port_ids[i],
                   rte_eth_dev_count_avail(), rte_eth_dev_count_avail() - 1,
                   pair ? "; pair needs two devices before '--', e.g. --vdev net_tap0,iface=swc --vdev net_tap1,iface=sws" : "");
      return 2;
    }
  }

  // One queue pair per lcore when the port has enough; otherwise the lcores beyond its queues
  // work through the software dispatcher (rx from the rings, tx forwarded to a queue's owner).
  std::vector<std::uint16_t> queues(port_ids.size());
  for (std::size_t i = 0; i < port_ids.size(); ++i) {
    const std::uint16_t port_queues = loopback ? 1 : dpdk::max_queues(port_ids[i]);
    if (port_queues == 0) {
      std::fprintf(stderr, "synwave: port %u reports no rx/tx queue: check the device\n", port_ids[i]);
      return 2;
    }
    if (side_lcores[i] > dpdk::kMaxWorkers) {
      std::fprintf(stderr, "synwave: %zu lcores on port %u, but at most %u workers per port are supported: give fewer with -l\n",
                   side_lcores[i], port_ids[i], dpdk::kMaxWorkers);
      return 2;
    }
    queues[i] = static_cast<std::uint16_t>(std::min<std::size_t>(side_lcores[i], port_queues));
  }
  const std::uint32_t pool_size = o.mbufs != 0 ? o.mbufs : 65535;
  rte_mempool* pool = dpdk::create_mbuf_pool("synwave_mbufs", pool_size, 256, RTE_MBUF_DEFAULT_BUF_SIZE, err);
  if (pool == nullptr) {
    std::fprintf(stderr, "synwave: %s\n", err.c_str());
    return 2;
  }
  res.pools.push_back(pool);

  RunState state;
  state.plan = &plan;
  std::vector<dpdk::PortInfo> infos(port_ids.size());
  for (std::size_t i = 0; i < port_ids.size(); ++i) {
    dpdk::PortRequest req;
    req.port_id = port_ids[i];
    req.queues = queues[i];
    req.mtu = o.mtu;
    req.verify_checksums = o.verify_checksums;
    req.pool = pool;
    err = dpdk::setup_port(req, infos[i]);
    if (!err.empty()) {
      std::fprintf(stderr, "synwave: %s\n", err.c_str());
      return 2;
    }
    res.ports.push_back(port_ids[i]);
    if (!dpdk::wait_for_link(port_ids[i], kLinkWaitMs, infos[i])) {
      spdlog::warn("port {} ({}): link still down after {} ms; going on", port_ids[i], infos[i].driver, kLinkWaitMs);
    }
    state.ports.push_back(summary_of(infos[i]));
    spdlog::info("port {} {} ({}): {} queue(s), rss {}, checksum offload tx {} rx {}{}", infos[i].port_id, infos[i].name,
                 infos[i].driver, queues[i], infos[i].rss, infos[i].tx_checksum_offload, infos[i].rx_checksum_offload,
                 infos[i].rx_checksum_trusted ? ", received checksums trusted (memory link)" : "");
  }

  if (o.mode == Mode::kFlood) return run_flood(plan, lcores, pool, infos[0], queues[0]);

  // Engines and workers. The SYN-cookie secrets are shared read-mostly by every engine.
  dpdk::TscClock clock;
  plan.server.timestamp_base_ms = plan.client.timestamp_base_ms = boot_ms();
  CookieSecrets secrets(random_key());
  plan.server.cookie_secrets = &secrets;
  plan.client.cookie_secrets = &secrets;
  std::atomic<bool> stop{false};
  const std::size_t worker_count = loopback ? std::min<std::size_t>(lcores.size(), 2) : lcores.size();
  std::vector<std::unique_ptr<dpdk::Worker>> workers;
  std::vector<std::unique_ptr<dpdk::StatsSlot>> slots;
  std::vector<std::unique_ptr<Engine>> engines;
  std::vector<std::unique_ptr<ConnectionGenerator>> generators;
  dpdk::Capture capture;
  if (!o.capture.empty()) {
    err = open_capture(o, res, capture);
    if (!err.empty()) {
      std::fprintf(stderr, "synwave: %s\n", err.c_str());
      return 2;
    }
  }
  std::vector<std::unique_ptr<dpdk::Dispatcher>> dispatchers;  // per side that needs one
  std::vector<std::unique_ptr<RssSteering>> steerings;         // per client worker, when RSS steers its replies
  for (std::size_t i = 0; i < worker_count; ++i) {
    auto w = make_worker(lcores[i], i, clock, stop, slots);
    w->idle_pause_cycles = static_cast<std::uint64_t>(o.idle_pause_us * static_cast<double>(clock.hz()) / 1e6);
    if (!o.capture.empty()) {
      w->capture = &capture;
      w->capture_left = capture.per_lcore_limit;
    }
    workers.push_back(std::move(w));
  }
  auto bind = [&](dpdk::Worker& w, dpdk::Role role, EngineConfig cfg, std::size_t port_index, std::uint16_t queue,
                  const GeneratorConfig* gen) {
    dpdk::EngineBinding& b = w.bindings[w.binding_count++];
    const dpdk::PortInfo& info = infos[port_index];
    b.port = port_ids[port_index];
    b.queue = queue;
    b.pool = pool;
    b.role = role;
    b.worker = &w;
    cfg.local_mac = info.mac;
    cfg.tx_checksum_offload = info.tx_checksum_offload;
    if (info.rx_checksum_trusted) b.rx_frame_flags = frame_flags::kRxIpChecksumGood | frame_flags::kRxL4ChecksumGood;
    engines.push_back(std::make_unique<Engine>(cfg, dpdk::make_frame_io(b), clock.now()));
    b.engine = engines.back().get();
    state.engine_bytes += b.engine->memory_bytes();
    state.connection_records += cfg.max_connections;
    if (gen != nullptr) {
      generators.push_back(std::make_unique<ConnectionGenerator>(*gen, clock.now()));
      b.generator = generators.back().get();
    }
  };
  // One role on one port, served by workers [first, first + count): a queue each while the port
  // has them (the rest send through a queue owner's ring), the software dispatcher when the port
  // cannot bring each flow to its lcore itself, and a client's rate, cap and tuples shared out.
  // Returns how the frames reach their lcores, or "" after an error it has printed.
  auto bind_side = [&](dpdk::Role role, std::size_t port_index, std::size_t first, std::size_t count,
                       const EngineConfig& side_cfg, const GeneratorConfig* side_gen) -> std::string {
    const bool server = role == dpdk::Role::kServer;
    const dpdk::PortInfo& info = infos[port_index];
    const std::uint16_t side_queues = info.queues;
    // A client's replies come back to the queue that sent the SYN only if every lcore can pick
    // tuples by the port's RSS function (the generator's steering); a server's flows need none.
    const std::size_t first_steering = steerings.size();
    if (!server && info.rss && side_queues >= count && count > 1) {
      for (std::size_t i = 0; i < count; ++i) {
        std::optional<RssSteering> s = dpdk::make_rss_steering(info, static_cast<std::uint16_t>(i), side_gen->ipv6());
        if (!s || s->entries_here() == 0) {
          spdlog::warn("port {}: RSS cannot bring queue {}'s replies back to it (no usable key, no hash of the run's "
                       "whole IPv{}/TCP 4-tuple, or no redirection entry); the software dispatcher steers them "
                       "instead", info.port_id, i, side_gen->ipv6() ? 6 : 4);
          steerings.resize(first_steering);
          break;
        }
        steerings.push_back(std::make_unique<RssSteering>(std::move(*s)));
      }
    }
    const std::size_t side_steerings = steerings.size() - first_steering;
    const bool rss_usable = info.rss && (server || side_steerings == count);
    const bool steer = count > 1 && (!rss_usable || side_queues < count);
    if (server && count > 1 && !steer && !is_unspecified(side_cfg.local_ip6) &&
        (info.rss_hash_types & RTE_ETH_RSS_NONFRAG_IPV6_TCP) == 0) {
      spdlog::warn("port {}: its RSS does not hash IPv6/TCP: every IPv6 connection lands on the first queue's lcore",
                   info.port_id);
    }
    dpdk::Dispatcher* dispatcher = nullptr;
    if (steer) {
      dispatchers.push_back(std::make_unique<dpdk::Dispatcher>());
      dispatcher = dispatchers.back().get();
      dispatcher->workers = static_cast<std::uint16_t>(count);
      if (server) {
        for (std::uint16_t p : side_cfg.listen_ports) {
          if (dispatcher->listen_count < dispatcher->listen_ports.size()) dispatcher->listen_ports[dispatcher->listen_count++] = p;
        }
      }
      dispatcher->client_port_first = plan.generator.port_first;
      for (std::size_t k = 0; k < dispatcher->steer_key.size(); k += 2) {
        const SipKey secret = random_key();
        dispatcher->steer_key[k] = secret.k0;
        dispatcher->steer_key[k + 1] = secret.k1;
      }
      dispatcher->clone_pool = pool;
      for (std::size_t from = 0; from < count; ++from) {
        for (std::size_t to = 0; to < count; ++to) {
          if (from == to) continue;
          const std::string name = "synwave_steer_" + std::to_string(port_index) + "_" + std::to_string(from) + "_" +
                                   std::to_string(to);
          rte_ring* r = rte_ring_create(name.c_str(), 4096, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
          if (r == nullptr) {
            std::fprintf(stderr, "synwave: out of memory at start-up creating dispatcher rings: raise the EAL's -m\n");
            return {};
          }
          res.rings.push_back(r);
          dispatcher->rings[from][to] = r;
        }
      }
    }
    for (std::size_t i = 0; i < count; ++i) {
      dpdk::Worker& w = *workers[first + i];
      w.index = static_cast<std::uint16_t>(i);  // within the side: the dispatcher's numbering
      w.dispatcher = dispatcher;
      EngineConfig cfg = side_cfg;
      cfg.answer_arp = i == 0;  // every lcore sees each ARP request (the dispatcher copies it): one answers
      const auto queue = static_cast<std::uint16_t>(i % side_queues);
      const std::size_t binding = w.binding_count;
      if (server) {
        bind(w, role, cfg, port_index, queue, nullptr);
      } else {
        GeneratorConfig gen = *side_gen;
        if (!steer && i < side_steerings) gen.steering = steerings[first_steering + i].get();  // RSS splits the tuples
        else gen.share = {static_cast<std::uint16_t>(count), static_cast<std::uint16_t>(i)};
        // --rate, --concurrency and --connections are the run's: each lcore takes its share.
        auto share = [&](std::uint64_t v) { return v / count + (i < v % count ? 1 : 0); };
        if (gen.total != 0) gen.total = share(gen.total);
        if (gen.rate != 0) gen.rate = std::max<std::uint64_t>(share(gen.rate), 1);
        gen.concurrency = static_cast<std::uint32_t>(std::max<std::uint64_t>(share(gen.concurrency), 1));
        for (GeneratorPhase& p : gen.phases) {
          if (p.rate_from != 0) p.rate_from = std::max<std::uint64_t>(share(p.rate_from), 1);
          if (p.rate_to != 0) p.rate_to = std::max<std::uint64_t>(share(p.rate_to), 1);
          p.concurrency = static_cast<std::uint32_t>(std::max<std::uint64_t>(share(p.concurrency), 1));
        }
        bind(w, role, cfg, port_index, queue, &gen);
      }
      if (i >= side_queues) {
        const std::string name = "synwave_txfwd_" + std::to_string(port_index) + "_" + std::to_string(i);
        rte_ring* r = rte_ring_create(name.c_str(), 4096, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (r == nullptr) {
          std::fprintf(stderr, "synwave: out of memory at start-up creating dispatcher rings: raise the EAL's -m\n");
          return {};
        }
        res.rings.push_back(r);
        w.bindings[binding].has_queue = false;
        w.bindings[binding].tx_forward = r;
        dpdk::Worker& owner = *workers[first + queue];
        owner.tx_forwarded[owner.tx_forwarded_count++] = r;
      }
    }
    return count == 1 ? "single-queue" : steer ? "software" : "rss";
  };
  if (loopback) {
    EngineConfig client = plan.client;
    EngineConfig server = plan.server;
    constexpr std::uint32_t kClientIp = (198u << 24) | (18u << 16) | 1;
    constexpr std::uint32_t kServerIp = (198u << 24) | (18u << 16) | 2;
    client.local_ip = kClientIp;
    server.local_ip = kServerIp;
    client.prefix_len = server.prefix_len = 24;
    client.neighbors.push_back({kServerIp, infos[1].mac});
    server.neighbors.push_back({kClientIp, infos[0].mac});
    GeneratorConfig gen = plan.generator;
    gen.src_ip_first = kClientIp;
    gen.src_ip_count = 1;
    if (o.loopback_ipv6) {
      // Both sides dual-stack, the generator's tuples IPv6: the IPv6 path end to end.
      constexpr Ipv6Addr kClientIp6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
      constexpr Ipv6Addr kServerIp6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
      client.local_ip6 = kClientIp6;
      server.local_ip6 = kServerIp6;
      client.neighbors6.push_back({kServerIp6, infos[1].mac});
      server.neighbors6.push_back({kClientIp6, infos[0].mac});
      gen.destinations6 = {{kServerIp6, 80}};
      gen.src_ip6_first = kClientIp6;
      o.ip = {"2001:db8::1/64 (client)", "2001:db8::2/64 (server)"};
      o.dst = {"[2001:db8::2]:80"};
    } else {
      gen.destinations = {{kServerIp, 80}};
      o.ip = {"198.18.0.1/24 (client)", "198.18.0.2/24 (server)"};
      o.dst = {"198.18.0.2:80"};
    }
    bind(*workers[0], dpdk::Role::kClient, client, 0, 0, &gen);
    bind(*workers[worker_count > 1 ? 1 : 0], dpdk::Role::kServer, server, 1, 0, nullptr);
    state.dispatch = "ring pair";
  } else if (pair) {
    // Each side on its own port with its own address; whatever sits between them (forwarding,
    // NAT, a balancer) is learnt by ARP like any next hop (side_lcores: how the lcores split).
    const std::size_t client_count = side_lcores[0];
    const std::size_t server_first = worker_count == 1 ? 0 : client_count;
    const std::string client_dispatch = bind_side(dpdk::Role::kClient, 0, 0, client_count, plan.client, &plan.generator);
    if (client_dispatch.empty()) return 2;
    const std::string server_dispatch =
        bind_side(dpdk::Role::kServer, 1, server_first, worker_count - server_first, plan.server, nullptr);
    if (server_dispatch.empty()) return 2;
    state.dispatch = "two ports: client " + client_dispatch + ", server " + server_dispatch;
  } else {
    const bool server = o.mode == Mode::kServer;
    state.dispatch = bind_side(server ? dpdk::Role::kServer : dpdk::Role::kClient, 0, 0, worker_count,
                               server ? plan.server : plan.client, server ? nullptr : &plan.generator);
    if (state.dispatch.empty()) return 2;
  }

  // Control plane.
  for (std::size_t i = 0; i < worker_count; ++i) {
    state.slots.push_back(slots[i].get());
    state.lcores.push_back(workers[i]->lcore_id);
  }
  state.clock = &clock;
  state.stop = &stop;
  state.config = effective_config(plan);
  state.config["dispatch"] = state.dispatch;
  if (loopback) state.config["ring_size"] = o.ring_size;
  state.secrets = &secrets;
  state.rotation = plan.server.cookie_rotation;
  start_run(state, plan, clock, workers);
  for (auto& g : generators) g->start(state.started);  // the phases and the ramp count from here
  state.next_rotation = state.started + state.rotation;
  spdlog::info("{} mode on {} lcore(s), dispatch {}", o.mode_name, worker_count, state.dispatch);

  for (std::size_t i = 1; i < worker_count; ++i) {
    rte_eal_remote_launch(dpdk::worker_main, workers[i].get(), workers[i]->lcore_id);
  }
  dpdk::worker_main(workers[0].get());
  rte_eal_mp_wait_lcore();
  if (state.finished == 0) state.finished = clock.now();

  const int rc = finish_run(state, o);
  publish_state(nullptr);
  engines.clear();  // hands unused mbufs back before the pools go
  return rc;
}

}  // namespace
}  // namespace synwave::app

int main(int argc, char** argv) {
  using namespace synwave::app;
  std::vector<std::string> eal_args;
  std::vector<std::string> app_args;
  int split = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      split = i;
      break;
    }
  }
  if (split >= 0) {
    eal_args.assign(argv + 1, argv + split);
    app_args.assign(argv + split + 1, argv + argc);
  } else if (argc > 1 && (argv[1][0] != '-' || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    // No EAL options (they all start with '-'): the first word is the mode, '--' may be dropped.
    app_args.assign(argv + 1, argv + argc);
  } else {
    eal_args.assign(argv + 1, argv + argc);
  }
  if (!app_args.empty() && app_args[0] == "merge") {
    // Reports in, a report out: no EAL, no hugepages, no lcores (EAL options are ignored).
    return run_merge(std::vector<std::string>(app_args.begin() + 1, app_args.end()), std::cout, std::cerr);
  }
  ParseResult parsed = parse_command_line(app_args);
  if (parsed.done) {
    if (parsed.exit_code == 0) {
      std::printf("%s", parsed.message.c_str());
      return 0;
    }
    std::fprintf(stderr, "synwave: %s\n", parsed.message.c_str());
    return parsed.exit_code;
  }
  const std::string level = parsed.plan.options.log_level;
  spdlog::set_level(spdlog::level::from_str(level == "warn" ? "warning" : level));
  for (const std::string& w : parsed.plan.warnings) spdlog::warn("{}", w);
  std::unique_ptr<MetricsServer> metrics;
  if (const AppOptions& o = parsed.plan.options; !o.metrics.empty()) {
    std::string error;
    metrics = MetricsServer::start(o.metrics, o.run_id, error);
    if (metrics == nullptr) {
      std::fprintf(stderr, "synwave: %s\n", error.c_str());
      return 2;
    }
    g_metrics = metrics.get();
  }
  const std::string err = synwave::dpdk::start_eal(argv[0], eal_args);
  if (!err.empty()) {
    std::fprintf(stderr, "synwave: %s\n", err.c_str());
    return 2;
  }
  const int rc = run(parsed.plan);
  synwave::dpdk::stop_eal();
  g_metrics = nullptr;
  return rc;
}
