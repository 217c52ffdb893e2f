#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace synwave::app {

// Flood mode: what left the queues per second (the target's answers arrive as rx).
FloodStats flood_totals(const RunState& s) {
  FloodStats f;
  for (const dpdk::StatsSlot* slot : s.slots) f += slot->read().flood;
  return f;
}

// Payload bytes over seconds, in Gbit/s.
double gbit(std::uint64_t bytes, double seconds) { return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e9 : 0.0; }

// The payload a run moved: the client's bytes both ways when there is a client (on the loopback
// the server's are the same bytes), else the server's.
std::uint64_t payload_bytes(const RunState& s, const Totals& t) {
  const Counters& c = s.plan->options.mode == Mode::kServer ? t.role[kServer] : t.role[kClient];
  return c.rx_bytes + c.tx_bytes;
}

// A kept connection carries several requests: as the client counts them (complete responses)
// when there is one, else as the server does.
std::uint64_t http_requests(const RunState& s, const Totals& t) {
  return s.plan->options.mode == Mode::kServer ? t.all.http_requests_read : t.role[kClient].http_responses_read;
}

// One phase's figures, from the counters and the client's latency at its start to those at `end`.
nlohmann::json phase_json(const RunState& s, const Totals& t, const LatencyTotals& latency, TimeNs end) {
  const Totals& a = s.phase_totals;
  const double seconds = static_cast<double>(end - s.phase_started) / 1e9;
  auto rate = [&](std::uint64_t n) { return seconds > 0 ? static_cast<double>(n) / seconds : 0.0; };
  const std::uint64_t opened = t.all.conn_opened - a.all.conn_opened;
  const std::uint64_t done = completed(s, t) - completed(s, a);
  nlohmann::json j = {{"name", s.plan->phase_names[s.phase]},
                      {"start_s", static_cast<double>(s.phase_started - s.started) / 1e9},
                      {"end_s", static_cast<double>(end - s.started) / 1e9},
                      {"opened", opened},
                      {"completed", done},
                      {"failed", failed(s, t) - failed(s, a)},
                      {"opened_per_s", rate(opened)},
                      {"completed_per_s", rate(done)},
                      {"http_requests_per_s", rate(http_requests(s, t) - http_requests(s, a))},
                      {"client_established_at_end", t.gauges[kClient].in(TcpState::kEstablished)}};
  if (latency.has_client) {
    LatencyStats l = latency.client;
    l.subtract(s.phase_latency);
    if (l.connect.count() > 0) {
      j["connect_p50_us"] = static_cast<double>(l.connect.value_at_percentile(50)) / 1e3;
      j["connect_p99_us"] = static_cast<double>(l.connect.value_at_percentile(99)) / 1e3;
    }
    if (l.transaction.count() > 0) {
      j["transaction_p50_us"] = static_cast<double>(l.transaction.value_at_percentile(50)) / 1e3;
      j["transaction_p99_us"] = static_cast<double>(l.transaction.value_at_percentile(99)) / 1e3;
    }
  }
  return j;
}

namespace {

nlohmann::json timeline_json(const RunState& s) {
  nlohmann::json j = nlohmann::json::array();
  for (const TimelineSample& p : s.timeline) {
    nlohmann::json sample = {{"t_s", p.t_s},
                             {"opened_per_s", p.opened_per_s},
                             {"completed_per_s", p.completed_per_s},
                             {"failed_per_s", p.failed_per_s},
                             {"http_requests_per_s", p.http_requests_per_s}};
    if (p.established[kServer] >= 0) sample["server_established"] = p.established[kServer];
    if (p.established[kClient] >= 0) sample["client_established"] = p.established[kClient];
    if (p.rx_gbit_per_s[kServer] >= 0) sample["server_rx_gbit_per_s"] = p.rx_gbit_per_s[kServer];
    if (p.rx_gbit_per_s[kClient] >= 0) sample["client_rx_gbit_per_s"] = p.rx_gbit_per_s[kClient];
    if (p.busy_pct[kServer] >= 0) sample["server_busy_pct"] = p.busy_pct[kServer];
    if (p.busy_pct[kClient] >= 0) sample["client_busy_pct"] = p.busy_pct[kClient];
    if (p.connect_p50_us >= 0) {
      sample["connect_p50_us"] = p.connect_p50_us;
      sample["connect_p99_us"] = p.connect_p99_us;
    }
    j.push_back(sample);
  }
  return j;
}

nlohmann::json counters_json(const Counters& c) {
  nlohmann::json j = nlohmann::json::object();
  c.for_each([&](std::string_view name, std::uint64_t v) { j[std::string(name)] = v; });
  return j;
}

// Failed connections by reason: each conn_failed_* counter without its prefix (every reason, or
// only those that happened).
nlohmann::json failures_json(const Counters& c, bool only_nonzero) {
  nlohmann::json j = nlohmann::json::object();
  c.for_each([&](std::string_view name, std::uint64_t v) {
    if (name.rfind("conn_failed_", 0) == 0 && (v != 0 || !only_nonzero)) j[std::string(name.substr(12))] = v;
  });
  return j;
}

nlohmann::json worker_json(const dpdk::WorkerCounters& w) {
  nlohmann::json j = nlohmann::json::object();
  w.for_each([&](const char* name, std::uint64_t v) { j[name] = v; });
  return j;
}

nlohmann::json gauges_json(const EngineGauges& g) {
  nlohmann::json j = nlohmann::json::object();
  j["connections"] = g.connections;
  for (std::size_t k = 0; k < g.by_state.size(); ++k) {
    j[std::string(to_string(static_cast<TcpState>(k)))] = g.by_state[k];
  }
  return j;
}

// The run's active period (issue: cps is measured from the first SYN, client, or the first
// accepted connection, server, to the stop); the wait before it (ARP, a peer that starts later)
// is reported apart.
struct ActivePeriod {
  double duration_s = 0;  // start of the run to the stop
  double startup_s = 0;   // start of the run to the first connection
  double active_s = 0;    // first connection to the stop
  [[nodiscard]] double cps(std::uint64_t completed) const {
    return active_s > 0 ? static_cast<double>(completed) / active_s : 0.0;
  }
};

ActivePeriod active_period(const RunState& s, const Totals& t) {
  ActivePeriod p;
  p.duration_s = static_cast<double>(s.finished - s.started) / 1e9;
  const TimeNs first = t.active_since == kNever ? s.finished : std::clamp(t.active_since, s.started, s.finished);
  p.startup_s = static_cast<double>(first - s.started) / 1e9;
  p.active_s = static_cast<double>(s.finished - first) / 1e9;
  return p;
}

}  // namespace

namespace {

nlohmann::json flood_sent_json(FloodKind kind, std::uint64_t sent) {
  nlohmann::json j = nlohmann::json::object();
  for (FloodKind k : kFloodKinds) {
    j[std::string(to_string(k))] = k == kind ? sent : 0;
  }
  return j;
}

// Flood mode's report: segments sent by kind, in total and per lcore, what could not be sent.
nlohmann::json ports_json(const RunState& s) {
  nlohmann::json ports = nlohmann::json::array();
  for (const PortSummary& p : s.ports) {
    ports.push_back({{"id", p.id},
                     {"name", p.name},
                     {"driver", p.driver},
                     {"queues", p.queues},
                     {"rss", p.rss},
                     {"tx_checksum_offload", p.tx_checksum_offload},
                     {"rx_checksum_offload", p.rx_checksum_offload},
                     {"rx_checksum_trusted", p.rx_checksum_trusted}});
  }
  return ports;
}

double flood_duration_s(const RunState& s) { return static_cast<double>(s.finished - s.started) / 1e9; }

double per_second(std::uint64_t n, double duration_s) { return duration_s > 0 ? static_cast<double>(n) / duration_s : 0.0; }

// Empty when the device took at least 95 % of the target rate; otherwise where the rest went:
// refused by a full transmit queue, no buffer to build in, or never built (the lcores could not
// build frames that fast).
std::string flood_shortfall(const RunState& s, const FloodStats& f) {
  const double duration = flood_duration_s(s);
  const double target = static_cast<double>(s.plan->flood.pps);
  const double pps = per_second(f.sent, duration);  // what the device took
  if (duration <= 0 || pps >= 0.95 * target) return {};
  const double never_built = std::max(0.0, target * duration - static_cast<double>(f.attempted()));
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%.0f %% of the target: %llu frames refused by a full tx queue (the link or its receiver did not "
                "keep up), %llu without a buffer, %.0f never built (the lcores could not build them faster)",
                100.0 * pps / target, static_cast<unsigned long long>(f.tx_queue_full),
                static_cast<unsigned long long>(f.no_buffer), never_built);
  return buf;
}

// Of the probes that ended, the share that succeeded (0 when none ended).
double probe_success_pct(const Counters& c) {
  const std::uint64_t ended = c.conn_completed + c.conn_failed;
  return ended > 0 ? 100.0 * static_cast<double>(c.conn_completed) / static_cast<double>(ended) : 0.0;
}

// The flood's probes: how many legitimate connections got through, how fast, and per second.
nlohmann::json probes_json(const RunState& s, const Totals& t) {
  const Counters& c = t.role[kClient];
  nlohmann::json j;
  j["rate"] = s.plan->options.probe_rate;
  j["src"] = s.plan->flood.ipv6 ? format_ipv6(s.plan->client.local_ip6) : format_ipv4(s.plan->client.local_ip);
  j["path"] = s.plan->options.probe_path;
  j["opened"] = c.conn_opened;
  j["completed"] = c.conn_completed;
  j["failed"] = c.conn_failed;
  j["success_pct"] = probe_success_pct(c);
  j["failures"] = failures_json(c, true);
  const LatencyTotals latency = collect_latency(s);
  j["latency"] = {{"connect", histogram_json(latency.client.connect)},
                  {"transaction", histogram_json(latency.client.transaction)}};
  j["timeline"] = timeline_json(s);  // completed_per_s, failed_per_s, connect_p50_us/p99_us per interval
  j["counters"] = counters_json(c);
  return j;
}

nlohmann::json build_flood_report(const RunState& s) {
  const Totals t = collect(s);
  const FloodStats f = flood_totals(s);
  const FloodKind kind = s.plan->flood.kind;
  const double duration = flood_duration_s(s);
  nlohmann::json r;
  r["mode"] = "flood";
  r["duration_s"] = duration;
  r["kind"] = to_string(kind);
  r["target_pps"] = s.plan->flood.pps;
  // sent: frames the device accepted; pps: their rate. attempted = sent + tx_queue_full + no_buffer.
  r["sent"] = flood_sent_json(kind, f.sent);
  r["sent_total"] = f.sent;
  r["pps"] = per_second(f.sent, duration);
  r["attempted"] = f.attempted();
  r["attempted_pps"] = per_second(f.attempted(), duration);
  r["tx_queue_full"] = f.tx_queue_full;
  r["no_buffer"] = f.no_buffer;
  r["shortfall"] = flood_shortfall(s, f);
  r["tx_ring_full_drops"] = t.worker.tx_ring_full_drops;
  r["arp"] = {{"requests_sent", f.arp_requests_sent}, {"replies_sent", f.arp_replies_sent}};
  r["nd"] = {{"solicitations_sent", f.nd_solicitations_sent}, {"advertisements_sent", f.nd_advertisements_sent}};
  r["data_plane"] = worker_json(t.worker);
  r["lcores"] = nlohmann::json::array();
  for (std::size_t i = 0; i < s.slots.size(); ++i) {
    const dpdk::LcoreSnapshot snap = s.slots[i]->read();
    r["lcores"].push_back({{"lcore", s.lcores[i]},
                           {"sent", flood_sent_json(kind, snap.flood.sent)},
                           {"tx_queue_full", snap.flood.tx_queue_full},
                           {"no_buffer", snap.flood.no_buffer},
                           {"data_plane", worker_json(snap.worker)}});
  }
  if (s.plan->options.probe_rate > 0) r["probes"] = probes_json(s, t);
  r["dispatch"] = s.dispatch;
  r["ports"] = ports_json(s);
  r["config"] = s.config;
  return r;
}

nlohmann::json flood_config_json(const RunPlan& plan) {
  const AppOptions& o = plan.options;
  nlohmann::json j;
  j["mode"] = o.mode_name;
  if (!o.config_file.empty()) j["config_file"] = o.config_file;
  j["ip"] = join_values(o.ip);
  j["src_ip"] = o.src_ip;
  j["src_ports"] = o.src_ports;
  j["dst"] = o.dst.empty() ? std::string() : o.dst[0];
  j["pps"] = o.pps;
  j["kind"] = o.kind;
  j["probe_rate"] = o.probe_rate;
  if (o.probe_rate > 0) {
    j["probe_src"] = plan.flood.ipv6 ? format_ipv6(plan.client.local_ip6) : format_ipv4(plan.client.local_ip);
    j["probe_path"] = o.probe_path;
    j["probe_timeout_s"] = o.probe_timeout;
  }
  j["seed"] = plan.flood.seed;
  j["next_hop"] = plan.flood.ipv6 ? format_ipv6(plan.flood.next_hop_ip6) : format_ipv4(plan.flood.next_hop_ip);
  j["port"] = o.port;
  j["gateway"] = join_values(o.gateway);
  j["neighbors"] = o.neighbors;
  j["duration_s"] = plan.duration_s;
  j["stats_interval_s"] = o.stats_interval;
  j["report"] = o.report;
  j["metrics"] = o.metrics;
  j["run_id"] = o.run_id;
  return j;
}

std::string flood_summary_line(const RunState& s) {
  const FloodStats f = flood_totals(s);
  const double duration = flood_duration_s(s);
  char buf[256];
  std::snprintf(buf, sizeof buf, "synwave flood: %llu %s segments sent in %.2f s = %.0f pps (target %llu)",
                static_cast<unsigned long long>(f.sent), std::string(to_string(s.plan->flood.kind)).c_str(), duration,
                per_second(f.sent, duration), static_cast<unsigned long long>(s.plan->flood.pps));
  std::string line = buf;
  const std::string shortfall = flood_shortfall(s, f);
  if (!shortfall.empty()) line += "; " + shortfall;
  if (s.plan->options.probe_rate > 0) {
    const Counters c = collect(s).role[kClient];
    const LatencyTotals latency = collect_latency(s);
    std::snprintf(buf, sizeof buf, "; probes: %llu of %llu succeeded (%.1f %%), connect p99 %.0f us",
                  static_cast<unsigned long long>(c.conn_completed),
                  static_cast<unsigned long long>(c.conn_completed + c.conn_failed), probe_success_pct(c),
                  static_cast<double>(latency.client.connect.value_at_percentile(99)) / 1e3);
    line += buf;
  }
  return line;
}

}  // namespace

nlohmann::json effective_config(const RunPlan& plan) {
  if (plan.options.mode == Mode::kFlood) return flood_config_json(plan);
  const AppOptions& o = plan.options;
  nlohmann::json j;
  j["mode"] = o.mode_name;
  if (!o.config_file.empty()) j["config_file"] = o.config_file;
  if (o.mode == Mode::kPair) {
    j["client_ip"] = join_values(o.ip);
    j["server_ip"] = join_values(o.server_ip);
    j["client_port"] = o.client_port;
    j["server_port"] = o.server_port;
  } else {
    j["ip"] = join_values(o.ip);
    j["port"] = o.port;
  }
  j["mtu"] = o.mtu;
  j["gateway"] = join_values(o.gateway);
  j["neighbors"] = o.neighbors;
  j["max_connections"] = plan.server.max_connections;
  j["time_wait_s"] = static_cast<double>(plan.server.time_wait) / 1e9;
  j["fin_wait2_timeout_s"] = static_cast<double>(plan.server.fin_wait2_timeout) / 1e9;
  j["delayed_ack_ms"] = static_cast<double>(plan.server.delayed_ack) / 1e6;
  j["rto_initial_ms"] = o.rto_initial_ms;
  j["rto_min_ms"] = o.rto_min_ms;
  j["idle_timeout_s"] = o.idle_timeout;
  j["max_time_wait"] = o.max_time_wait;
  j["shed_watermark"] = plan.server.shed_watermark_or_default();
  j["challenge_ack_limit"] = o.challenge_ack_limit;
  if (o.mode != Mode::kClient) {
    j["syn_backlog"] = o.syn_backlog;
    j["synack_retries"] = o.synack_retries;
    j["synack_timeout_s"] = o.synack_timeout;
    j["syn_cookies"] = o.syn_cookies;
    j["cookie_rotation_s"] = o.cookie_rotation;
    j["backlog"] = o.backlog;
    j["accept_rate"] = o.accept_rate;
    j["abort_on_overflow"] = o.abort_on_overflow;
    j["shed_reset"] = o.shed_reset;
    j["listen"] = plan.server.listen_ports;
    const WorkloadKind k = plan.server.workload.kind;
    j["server_workload"] = k == WorkloadKind::kHttp ? "http" : k == WorkloadKind::kRaw ? "raw" : "none";
    j["http_bytes"] = plan.server.workload.response_bytes;
    j["max_requests"] = plan.server.workload.max_requests;
  }
  if (o.mode != Mode::kServer) {
    j["dst"] = o.dst;
    j["src_ip"] = o.src_ip;
    j["destinations"] = plan.generator.destination_count();
    j["tuple_space"] = plan.tuple_space;
    j["rate"] = plan.generator.rate;
    j["ramp_s"] = o.ramp;
    j["connect_timeout_s"] = o.connect_timeout;
    j["response_timeout_s"] = o.response_timeout;
    j["think_time_s"] = o.think_time;
    j["requests_per_connection"] = o.requests_per_connection;
    j["request_interval_s"] = o.request_interval;
    j["pipeline"] = o.pipeline;
    j["concurrency"] = plan.generator.concurrency;
    if (!plan.generator.phases.empty()) {
      j["phases"] = nlohmann::json::array();
      for (std::size_t i = 0; i < plan.generator.phases.size(); ++i) {
        const GeneratorPhase& ph = plan.generator.phases[i];
        const Workload& w = ph.workload == 0 ? plan.client.workload : plan.client.phase_workloads[ph.workload - 1];
        j["phases"].push_back({{"name", plan.phase_names[i]},
                               {"duration_s", static_cast<double>(ph.duration) / 1e9},
                               {"rate_from", ph.rate_from},
                               {"rate_to", ph.rate_to},
                               {"concurrency", ph.concurrency},
                               {"http_get", w.kind == WorkloadKind::kHttp ? w.http_path : ""},
                               {"requests_per_connection", w.requests_per_connection},
                               {"request_interval_s", static_cast<double>(w.request_interval_ns) / 1e9},
                               {"pipeline", w.pipeline},
                               {"think_time_s", static_cast<double>(w.think_time_ns) / 1e9}});
      }
    }
    j["connections"] = plan.generator.total;
    j["src_ports"] = o.src_ports;
    j["shard"] = o.shard;
    j["src_ports_used"] = std::to_string(plan.generator.port_first) + "-" + std::to_string(plan.generator.port_last);
    j["start_at"] = o.start_at;
    j["http_get"] = o.http_get;
  }
  if (o.request_bytes.has_value() || o.response_bytes.has_value()) {
    j["request_bytes"] = plan.client.workload.request_bytes;
    j["response_bytes"] = plan.client.workload.response_bytes;
  }
  j["duration_s"] = plan.duration_s;
  j["close"] = o.close.empty() ? "server" : o.close;
  j["stats_interval_s"] = o.stats_interval;
  j["report"] = o.report;
  j["metrics"] = o.metrics;
  j["run_id"] = o.run_id;
  j["capture"] = o.capture;
  j["capture_packets"] = o.capture_packets;
  return j;
}

// A loop pass this long (WorkerCounters::longest_pass_us) is worth a hint.
constexpr std::uint64_t kStallHintUs = 20'000;

std::vector<std::string> run_hints(const RunState& s) {
  std::vector<std::string> out;
  if (s.plan->options.mode == Mode::kFlood) return out;
  const Totals t = collect(s);
  const Counters& c = t.all;
  char line[512];
  if (c.syn_refused_time_wait > 0) {
    std::snprintf(line, sizeof line,
                  "%llu SYNs met a tuple still in TIME-WAIT and could not reuse it: the peer opens the same "
                  "4-tuple again within --time-wait (%g s) without timestamps, or with an ISN not above the old "
                  "connection's. Shorten --time-wait, or let the peer close first (--close client on the server) "
                  "so that TIME-WAIT stays on its side.",
                  static_cast<unsigned long long>(c.syn_refused_time_wait),
                  static_cast<double>(s.plan->server.time_wait) / 1e9);
    out.emplace_back(line);
  }
  // A burst of opens at start-up (the loopback opens its whole --concurrency at once) may shed a
  // few SYNs while the lcore catches up: said only when it is more than 1 % of the SYNs.
  if (c.drop_syn_shed_busy * 100 > c.syn_received + c.drop_syn_shed_busy) {
    std::snprintf(line, sizeof line,
                  "%llu SYNs were shed because an lcore was saturated (its rx queue kept coming back full): the "
                  "offered rate was above what it completes. Give synwave more lcores, or offer less%s.",
                  static_cast<unsigned long long>(c.drop_syn_shed_busy),
                  s.plan->options.shed_reset ? ""
                               : "; against an open-loop client (dperf, TRex) --shed-reset refuses them with RST "
                                 "so they are not retried into the overload");
    out.emplace_back(line);
  }
  if (c.drop_syn_shed_pool + c.conn_failed_overload + c.reclaimed_exchange_over > 0) {
    std::snprintf(line, sizeof line,
                  "The connection records ran short: %llu SYNs shed and %llu connections reset to free a record "
                  "(%llu more had finished their exchange and waited only for the ACK of our FIN). "
                  "Raise --max-connections (records needed = connection rate x how long each lives).",
                  static_cast<unsigned long long>(c.drop_syn_shed_pool),
                  static_cast<unsigned long long>(c.conn_failed_overload),
                  static_cast<unsigned long long>(c.reclaimed_exchange_over));
    out.emplace_back(line);
  }
  // On a machine shared with other work, the scheduler takes a polling lcore's core away for
  // milliseconds at a time (10-20 ms is routine on a 2-core VM); meanwhile its queues fill and the
  // peer's timers run, so the run sees bursts and retransmissions it did not cause.
  for (std::size_t i = 0; i < t.lcores.size(); ++i) {
    const std::uint64_t stall_us = t.lcores[i].worker.longest_pass_us;
    if (stall_us < kStallHintUs) continue;
    std::snprintf(line, sizeof line,
                  "lcore %u stopped polling for %.1f ms in one go (it lost its CPU to another thread or the "
                  "hypervisor): give each lcore a core nothing else runs on (isolcpus=, no other busy process) "
                  "for steady figures.",
                  s.lcores[i], static_cast<double>(stall_us) / 1e3);
    out.emplace_back(line);
  }
  return out;
}

// Pair: do the two sides agree? Every connection the client completed must have been accepted by
// the server; one that was not went to something else that answered in its name (a proxy, a
// SYN proxy, a misrouted NAT). Connections the client holds established the server may not have
// accepted yet (their final ACK in flight at the stop), so completions are what is compared.
struct PairCheck {
  std::uint64_t client_completed;
  std::uint64_t server_accepted;
  [[nodiscard]] std::uint64_t not_accepted() const {
    return client_completed > server_accepted ? client_completed - server_accepted : 0;
  }
};

PairCheck pair_check(const Totals& t) { return {t.role[kClient].conn_completed, t.role[kServer].conn_accepted}; }

nlohmann::json pair_json(const Totals& t) {
  const PairCheck p = pair_check(t);
  return {{"client_opened", t.role[kClient].conn_opened},
          {"client_established", t.role[kClient].conn_established},
          {"client_completed", p.client_completed},
          {"client_failed", t.role[kClient].conn_failed},
          {"server_syns", t.role[kServer].syn_received},
          {"server_accepted", p.server_accepted},
          {"server_completed", t.role[kServer].conn_completed},
          {"server_failed", t.role[kServer].conn_failed},
          {"client_http_responses", t.role[kClient].http_responses_read},
          {"server_http_requests", t.role[kServer].http_requests_read},
          {"client_completed_not_accepted", p.not_accepted()},
          {"agree", p.not_accepted() == 0}};
}

nlohmann::json build_report(const RunState& s) {
  if (s.plan->options.mode == Mode::kFlood) return build_flood_report(s);
  const Totals t = collect(s);
  const ActivePeriod period = active_period(s, t);
  nlohmann::json r;
  r["mode"] = s.plan->options.mode_name;
  r["duration_s"] = period.duration_s;
  r["startup_s"] = period.startup_s;
  r["started_at_unix_s"] = s.started_unix;
  r["active_s"] = period.active_s;
  r["connections_completed"] = completed(s, t);
  r["connections_failed"] = failed(s, t);
  r["cps"] = period.cps(completed(s, t));
  r["http_requests_per_s"] = period.cps(http_requests(s, t));
  r["counters"] = counters_json(t.all);
  nlohmann::json failures = failures_json(t.all, false);
  if (s.plan->options.mode != Mode::kServer) failures["tuple_exhaustion"] = t.generator.tuple_exhausted;
  r["failures"] = failures;
  r["roles"] = nlohmann::json::object();
  for (std::size_t role = 0; role < dpdk::kRoles; ++role) {
    bool present = false;
    for (const auto* slot : s.slots) present |= slot->read().has_role[role];
    if (!present) continue;
    const RoleBusy busy = role_busy(s, t, nullptr, static_cast<dpdk::Role>(role));
    r["roles"][role == kServer ? "server" : "client"] = {{"counters", counters_json(t.role[role])},
                                                           {"gauges", gauges_json(t.gauges[role])},
                                                           {"busy_pct", 100.0 * busy.share},
                                                           {"busy_s", busy.busy_s},
                                                           {"ns_per_connection", busy.ns_per_connection}};
  }
  const LatencyTotals latency = collect_latency(s);
  if (latency.has_client) {
    r["latency"] = {{"connect", histogram_json(latency.client.connect)}};
    if (client_has_transaction(s)) r["latency"]["transaction"] = histogram_json(latency.client.transaction);
  }
  if (s.plan->options.mode == Mode::kPair) r["pair"] = pair_json(t);
  r["payload_gbit_per_s"] = gbit(payload_bytes(s, t), period.active_s);
  r["throughput"] = nlohmann::json::object();
  for (const auto& [name, role] : {std::pair{"client", kClient}, std::pair{"server", kServer}}) {
    if (!r["roles"].contains(name)) continue;
    const Counters& c = t.role[role];
    r["throughput"][name] = {{"rx_bytes", c.rx_bytes},
                             {"tx_bytes", c.tx_bytes},
                             {"tx_retransmitted_bytes", c.tx_retransmitted_bytes},
                             {"rx_gbit_per_s", gbit(c.rx_bytes, period.active_s)},
                             {"tx_gbit_per_s", gbit(c.tx_bytes, period.active_s)}};
  }
  r["data_plane"] = worker_json(t.worker);
  r["generator"] = {{"opened", t.generator.opened},
                    {"tuple_space", s.plan->tuple_space},
                    {"tuple_busy", t.generator.tuple_busy},
                    {"tuple_exhausted", t.generator.tuple_exhausted},
                    {"neighbor_pending", t.generator.neighbor_pending},
                    {"no_memory", t.generator.no_memory},
                    {"no_route", t.generator.no_route}};
  r["lcores"] = nlohmann::json::array();
  for (std::size_t i = 0; i < s.slots.size(); ++i) {
    const dpdk::LcoreSnapshot snap = s.slots[i]->read();
    Counters sum;
    for (std::size_t role = 0; role < dpdk::kRoles; ++role) sum += snap.counters[role];
    r["lcores"].push_back({{"lcore", s.lcores[i]},
                           {"busy_pct", 100.0 * busy_share(snap.worker, {})},
                           {"rx_gbit_per_s", gbit(sum.rx_bytes, period.active_s)},
                           {"tx_gbit_per_s", gbit(sum.tx_bytes, period.active_s)},
                           {"counters", counters_json(sum)},
                           {"data_plane", worker_json(snap.worker)}});
  }
  r["dispatch"] = s.dispatch;
  r["memory"] = {{"engine_bytes", s.engine_bytes},
                 {"connection_records", s.connection_records},
                 {"bytes_per_record", s.connection_records == 0 ? 0 : s.engine_bytes / s.connection_records}};
  r["ports"] = ports_json(s);
  r["config"] = s.config;
  r["timeline"] = timeline_json(s);
  if (!s.plan->generator.phases.empty()) {
    // The phases that ended, and the one the run stopped in (cut short).
    r["phases"] = s.phases;
    if (s.phase < s.plan->generator.phases.size() && s.finished > s.phase_started) {
      nlohmann::json cut = phase_json(s, t, collect_latency(s), s.finished);
      cut["cut_short"] = true;
      r["phases"].push_back(cut);
    }
  }
  r["hints"] = run_hints(s);
  return r;
}

std::string summary_line(const RunState& s) {
  if (s.plan->options.mode == Mode::kFlood) return flood_summary_line(s);
  const Totals t = collect(s);
  const ActivePeriod period = active_period(s, t);
  char buf[448];
  int n = std::snprintf(buf, sizeof buf, "synwave %s: %llu connections completed, %llu failed in %.2f s = %.0f connections/s",
                        s.plan->options.mode_name.c_str(), static_cast<unsigned long long>(completed(s, t)),
                        static_cast<unsigned long long>(failed(s, t)), period.active_s, period.cps(completed(s, t)));
  // Requests apart from connections where a connection may carry several: a client that keeps
  // them, an HTTP server (its clients decide).
  const AppOptions& o = s.plan->options;
  const bool kept = o.mode == Mode::kServer ? o.http_bytes.has_value() : o.requests_per_connection != 1;
  const std::uint64_t requests = http_requests(s, t);
  if (kept && n > 0 && static_cast<std::size_t>(n) < sizeof buf) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ", %llu HTTP requests = %.0f requests/s",
                       static_cast<unsigned long long>(requests), period.cps(requests));
  }
  if (const std::uint64_t bytes = payload_bytes(s, t); bytes > 0 && n > 0 && static_cast<std::size_t>(n) < sizeof buf) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ", %.3f Gbit/s of payload", gbit(bytes, period.active_s));
  }
  // A client that keeps its connections for the whole run (a concurrency test): how many it holds.
  if (o.mode != Mode::kServer && o.requests_per_connection == 0 && n > 0 && static_cast<std::size_t>(n) < sizeof buf) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ", %u connections held at the end",
                       t.gauges[kClient].in(TcpState::kEstablished));
  }
  if (o.mode == Mode::kPair && n > 0 && static_cast<std::size_t>(n) < sizeof buf) {
    const PairCheck p = pair_check(t);
    n += p.not_accepted() == 0
             ? std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "; the server accepted %llu (sides agree)",
                             static_cast<unsigned long long>(p.server_accepted))
             : std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n),
                             "; SIDES DISAGREE: the server accepted %llu, %llu completed by the client never reached it",
                             static_cast<unsigned long long>(p.server_accepted),
                             static_cast<unsigned long long>(p.not_accepted()));
  }
  if (period.startup_s >= 0.05 && n > 0 && static_cast<std::size_t>(n) < sizeof buf) {
    std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), " (after %.2f s of start-up: ARP, first peer)",
                  period.startup_s);
  }
  return buf;
}

}  // namespace synwave::app
