#include "control.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>

namespace synwave::app {

std::atomic<bool> g_stop_requested{false};

SipKey random_key() {
  std::random_device rd;
  auto word = [&] { return (std::uint64_t{rd()} << 32) ^ rd(); };
  return SipKey{word(), word()};
}

namespace {

constexpr std::size_t kServer = static_cast<std::size_t>(dpdk::Role::kServer);
constexpr std::size_t kClient = static_cast<std::size_t>(dpdk::Role::kClient);

std::string human(double v) {
  char buf[32];
  if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fK", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::uint64_t drops_of(const Counters& c) {
  std::uint64_t d = 0;
  c.for_each([&](std::string_view name, std::uint64_t v) {
    if (name.rfind("drop_", 0) == 0) d += v;
  });
  return d;
}

bool run_is_over(const RunState& s, const Totals& t, TimeNs now) {
  if (now >= s.deadline) return true;
  const RunPlan& p = *s.plan;
  if (p.options.mode == Mode::kServer || p.generator.total == 0) return false;
  const Counters& c = t.role[kClient];
  return t.generator.opened >= p.generator.total && c.conn_completed + c.conn_failed >= c.conn_opened;
}

// Flood mode: what left the queues per second (the target's answers arrive as rx).
FloodStats flood_totals(const RunState& s) {
  FloodStats f;
  for (const dpdk::StatsSlot* slot : s.slots) f += slot->read().flood;
  return f;
}

// " 97% 41%": each lcore's busy share over the interval.
std::string busy_progress(const RunState& s, const Totals& t) {
  std::string out;
  for (std::size_t i = 0; i < t.lcores.size(); ++i) {
    const dpdk::WorkerCounters before = i < s.last.lcores.size() ? s.last.lcores[i].worker : dpdk::WorkerCounters{};
    char pct[16];
    std::snprintf(pct, sizeof pct, " %.0f%%", 100.0 * busy_share(t.lcores[i].worker, before));
    out += pct;
  }
  return out;
}

// The flood's probes over the interval: "| probes ok 98/s failed 2/s | connect p50/90/...".
std::string probe_progress(const RunState& s, const Totals& t, double dt, const std::string& latency) {
  if (s.plan->options.probe_rate == 0) return {};
  const Counters& now = t.role[kClient];
  const Counters& before = s.last.role[kClient];
  return " | probes ok " + human(static_cast<double>(now.conn_completed - before.conn_completed) / dt) + "/s failed " +
         human(static_cast<double>(now.conn_failed - before.conn_failed) / dt) + "/s" + latency;
}

void print_flood_progress(const RunState& s, const Totals& t, TimeNs now, const std::string& latency) {
  const double dt = static_cast<double>(now - s.last_at) / 1e9;
  if (dt <= 0) return;
  const FloodStats f = flood_totals(s);
  std::fprintf(stderr, "[%6.1fs] flood %s: tx %s pps (target %s) | sent %llu, tx queue full %llu, no buffer %llu | rx %s pps | busy%s%s\n",
               static_cast<double>(now - s.started) / 1e9, std::string(to_string(s.plan->flood.kind)).c_str(),
               human(static_cast<double>(t.worker.tx_packets - s.last.worker.tx_packets) / dt).c_str(),
               human(static_cast<double>(s.plan->flood.pps)).c_str(), static_cast<unsigned long long>(f.sent),
               static_cast<unsigned long long>(f.tx_queue_full), static_cast<unsigned long long>(f.no_buffer),
               human(static_cast<double>(t.worker.rx_packets - s.last.worker.rx_packets) / dt).c_str(),
               busy_progress(s, t).c_str(), probe_progress(s, t, dt, latency).c_str());
}

double to_us(std::uint64_t ns) { return static_cast<double>(ns) / 1e3; }

// " connect p50/90/99/99.9/max 12.3/20.1/45.6/60.2/71.0 us": one decimal below 1 ms, whole
// microseconds above.
std::string percentiles(const char* name, const LatencyHistogram& h) {
  if (h.count() == 0) return std::string(" ") + name + " p50/90/99/99.9/max -";
  const double v[5] = {to_us(h.value_at_percentile(50)), to_us(h.value_at_percentile(90)),
                       to_us(h.value_at_percentile(99)), to_us(h.value_at_percentile(99.9)), to_us(h.max())};
  const char* f = v[4] < 1000 ? "%.1f" : "%.0f";
  std::string out = std::string(" ") + name + " p50/90/99/99.9/max ";
  for (int i = 0; i < 5; ++i) {
    char num[32];
    std::snprintf(num, sizeof num, f, v[i]);
    out += num;
    out += i < 4 ? "/" : " us";
  }
  return out;
}

// What the client side recorded since the previous progress line (has_client false: no client).
LatencyTotals interval_latency(RunState& s) {
  LatencyTotals l = collect_latency(s);
  if (!l.has_client) return l;
  const LatencyStats cumulative = l.client;
  l.client.subtract(s.last_latency);
  s.last_latency = cumulative;
  return l;
}

// The latency part of the progress line.
std::string latency_progress(const RunState& s, const LatencyTotals& interval) {
  if (!interval.has_client) return {};
  std::string out = " |" + percentiles("connect", interval.client.connect);
  if (client_has_transaction(s)) out += percentiles("transaction", interval.client.transaction);
  return out;
}

// Payload bytes over seconds, in Gbit/s.
double gbit(std::uint64_t bytes, double seconds) { return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e9 : 0.0; }

// The payload a run moved: the client's bytes both ways when there is a client (on the loopback
// the server's are the same bytes), else the server's.
std::uint64_t payload_bytes(const RunState& s, const Totals& t) {
  const Counters& c = s.plan->options.mode == Mode::kServer ? t.role[kServer] : t.role[kClient];
  return c.rx_bytes + c.tx_bytes;
}

void print_progress(RunState& s, const Totals& t, TimeNs now, const LatencyTotals& interval) {
  if (s.plan->options.mode == Mode::kFlood) return print_flood_progress(s, t, now, latency_progress(s, interval));
  const double dt = static_cast<double>(now - s.last_at) / 1e9;
  if (dt <= 0) return;
  auto rate = [&](std::uint64_t cur, std::uint64_t prev) { return static_cast<double>(cur - prev) / dt; };
  const Counters& a = t.all;
  const Counters& b = s.last.all;
  const EngineGauges g = [&] {
    EngineGauges sum;
    for (std::size_t r = 0; r < dpdk::kRoles; ++r) {
      sum.connections += t.gauges[r].connections;
      for (std::size_t k = 0; k < sum.by_state.size(); ++k) sum.by_state[k] += t.gauges[r].by_state[k];
    }
    return sum;
  }();
  const std::uint32_t established = g.in(TcpState::kEstablished) + g.in(TcpState::kCloseWait) +
                                    g.in(TcpState::kFinWait1) + g.in(TcpState::kFinWait2) +
                                    g.in(TcpState::kClosing) + g.in(TcpState::kLastAck);
  const std::uint64_t moved = payload_bytes(s, t) - payload_bytes(s, s.last);
  char payload[48] = "";
  if (moved > 0) std::snprintf(payload, sizeof payload, " payload %.2f Gbit/s", gbit(moved, dt));
  std::fprintf(stderr,
               "[%6.1fs] opened %s/s accepted %s/s closed %s/s | estab %u half-open %u time-wait %u | retx %s "
               "rst tx/rx %s/%s drops %s | rx %.2f Mpps tx %.2f Mpps%s | busy%s%s\n",
               static_cast<double>(now - s.started) / 1e9, human(rate(a.conn_opened, b.conn_opened)).c_str(),
               human(rate(a.conn_accepted, b.conn_accepted)).c_str(),
               human(rate(a.conn_completed + a.conn_failed, b.conn_completed + b.conn_failed)).c_str(), established,
               g.in(TcpState::kSynReceived) + g.in(TcpState::kSynSent), g.in(TcpState::kTimeWait),
               human(static_cast<double>(a.retransmits - b.retransmits)).c_str(),
               human(static_cast<double>(a.rst_sent - b.rst_sent)).c_str(),
               human(static_cast<double>(a.rst_received - b.rst_received)).c_str(),
               human(static_cast<double>(drops_of(a) - drops_of(b))).c_str(),
               rate(t.worker.rx_packets, s.last.worker.rx_packets) / 1e6,
               rate(t.worker.tx_packets, s.last.worker.tx_packets) / 1e6, payload, busy_progress(s, t).c_str(),
               latency_progress(s, interval).c_str());
}

// A kept connection carries several requests: as the client counts them (complete responses)
// when there is one, else as the server does.
std::uint64_t http_requests(const RunState& s, const Totals& t) {
  return s.plan->options.mode == Mode::kServer ? t.all.http_requests_read : t.role[kClient].http_responses_read;
}

// Called with each progress line, before `last` moves on: the rates over the interval just ended.
void record_timeline_sample(RunState& s, const Totals& t, TimeNs now, const LatencyTotals& interval) {
  const double dt = static_cast<double>(now - s.last_at) / 1e9;
  if (dt <= 0) return;
  TimelineSample& p = s.timeline.emplace_back();
  p.t_s = static_cast<double>(now - s.started) / 1e9;
  p.opened_per_s = static_cast<double>(t.all.conn_opened - s.last.all.conn_opened) / dt;
  p.completed_per_s = static_cast<double>(completed(s, t) - completed(s, s.last)) / dt;
  p.failed_per_s = static_cast<double>(failed(s, t) - failed(s, s.last)) / dt;
  p.http_requests_per_s = static_cast<double>(http_requests(s, t) - http_requests(s, s.last)) / dt;
  if (interval.has_client && interval.client.connect.count() > 0) {
    p.connect_p50_us = static_cast<double>(interval.client.connect.value_at_percentile(50)) / 1e3;
    p.connect_p99_us = static_cast<double>(interval.client.connect.value_at_percentile(99)) / 1e3;
  }
  for (dpdk::Role role : {dpdk::Role::kServer, dpdk::Role::kClient}) {
    const RoleBusy b = role_busy(s, t, &s.last, role);
    if (!b.present) continue;
    p.busy_pct[static_cast<std::size_t>(role)] = 100.0 * b.share;
    p.established[static_cast<std::size_t>(role)] = t.gauges[static_cast<std::size_t>(role)].in(TcpState::kEstablished);
    const std::size_t r = static_cast<std::size_t>(role);
    p.rx_gbit_per_s[r] = gbit(t.role[r].rx_bytes - s.last.role[r].rx_bytes, dt);
  }
}

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

Totals collect(const RunState& state) {
  Totals t;
  for (const dpdk::StatsSlot* slot : state.slots) {
    const dpdk::LcoreSnapshot s = slot->read();
    for (std::size_t r = 0; r < dpdk::kRoles; ++r) {
      t.role[r] += s.counters[r];
      t.all += s.counters[r];
      t.gauges[r].connections += s.gauges[r].connections;
      for (std::size_t k = 0; k < t.gauges[r].by_state.size(); ++k) t.gauges[r].by_state[k] += s.gauges[r].by_state[k];
    }
    t.worker += s.worker;
    t.generator += s.generator;
    LcoreTotals& l = t.lcores.emplace_back();
    l.worker = s.worker;
    for (std::size_t r = 0; r < dpdk::kRoles; ++r) l.has_role[r] = s.has_role[r];
    t.active_since = std::min(t.active_since, s.active_since);
  }
  return t;
}

double busy_share(const dpdk::WorkerCounters& now, const dpdk::WorkerCounters& before) {
  const std::uint64_t loop = now.loop_cycles - before.loop_cycles;
  return loop == 0 ? 0.0 : static_cast<double>(now.busy_cycles() - before.busy_cycles()) / static_cast<double>(loop);
}

RoleBusy role_busy(const RunState& state, const Totals& now, const Totals* before, dpdk::Role role) {
  const auto r = static_cast<std::size_t>(role);
  auto busy_of = [&](const dpdk::WorkerCounters& w) {
    return role == dpdk::Role::kServer ? w.busy_cycles_server : w.busy_cycles_client;
  };
  RoleBusy b;
  std::uint64_t busy = 0;
  std::uint64_t loop = 0;
  for (std::size_t i = 0; i < now.lcores.size(); ++i) {
    if (!now.lcores[i].has_role[r]) continue;
    b.present = true;
    const dpdk::WorkerCounters zero{};
    const dpdk::WorkerCounters& was = before != nullptr && i < before->lcores.size() ? before->lcores[i].worker : zero;
    busy += busy_of(now.lcores[i].worker) - busy_of(was);
    loop += now.lcores[i].worker.loop_cycles - was.loop_cycles;
  }
  if (!b.present) return b;
  b.share = loop == 0 ? 0.0 : static_cast<double>(busy) / static_cast<double>(loop);
  b.busy_s = static_cast<double>(busy) / static_cast<double>(state.clock->hz());
  const std::uint64_t done = now.role[r].conn_completed - (before != nullptr ? before->role[r].conn_completed : 0);
  if (done > 0) b.ns_per_connection = b.busy_s * 1e9 / static_cast<double>(done);
  return b;
}

bool client_has_transaction(const RunState& state) {
  const WorkloadKind k = state.plan->client.workload.kind;
  return k == WorkloadKind::kHttp || k == WorkloadKind::kRaw;
}

LatencyTotals collect_latency(const RunState& state) {
  LatencyTotals t;
  auto l = std::make_unique<dpdk::LcoreLatency>();  // 35 KiB: not on the main lcore's stack twice
  for (const dpdk::StatsSlot* slot : state.slots) {
    slot->read_latency(*l);
    if (!l->has_client) continue;
    t.has_client = true;
    t.client.merge(l->client);
  }
  return t;
}

nlohmann::json histogram_json(const LatencyHistogram& h) {
  return {{"count", h.count()},
          {"min", to_us(h.min())},
          {"mean", h.mean() / 1e3},
          {"p50", to_us(h.value_at_percentile(50))},
          {"p90", to_us(h.value_at_percentile(90))},
          {"p99", to_us(h.value_at_percentile(99))},
          {"p99_9", to_us(h.value_at_percentile(99.9))},
          {"max", to_us(h.max())}};
}

std::uint64_t completed(const RunState& state, const Totals& t) {
  return state.plan->options.mode == Mode::kServer ? t.role[kServer].conn_completed : t.role[kClient].conn_completed;
}

std::uint64_t failed(const RunState& state, const Totals& t) {
  return state.plan->options.mode == Mode::kServer ? t.role[kServer].conn_failed : t.role[kClient].conn_failed;
}

// Said once per run, with the arithmetic a user needs to size the tuple space.
void warn_tuple_exhaustion(RunState& s, const Totals& t) {
  if (s.exhaustion_reported || t.generator.tuple_exhausted == 0) return;
  s.exhaustion_reported = true;
  const RunPlan& p = *s.plan;
  const std::uint64_t addresses = p.generator.src_ip_count;
  const std::uint64_t ports = p.generator.port_last - p.generator.port_first + 1u;
  const std::uint64_t space = p.tuple_space;
  const ClosePolicy close = p.client.workload.close;
  const bool client_holds_time_wait = close == ClosePolicy::kClientFirst || close == ClosePolicy::kHalfClose;
  const double tw = static_cast<double>(p.client.time_wait) / 1e9;
  std::string advice;
  if (client_holds_time_wait && tw > 0) {
    char rate[128];
    std::snprintf(rate, sizeof rate, "; our side closes first, so each tuple then waits %.0f s in TIME-WAIT: "
                  "the sustainable rate is %llu / %.0f s = %.0f connections/s", tw,
                  static_cast<unsigned long long>(space), tw, static_cast<double>(space) / tw);
    advice = std::string(rate) + ". Widen --src-ip or --src-ports, add --dst, shorten --time-wait, or let the server "
             "close first (--close server)";
  } else {
    advice = ": every tuple is held by an open connection. Lower --concurrency, or widen --src-ip, --src-ports or --dst";
  }
  spdlog::warn("client: the tuple space is exhausted: {} address(es) x {} port(s) x {} destination(s) = {} tuples{} "
               "(counted as failures.tuple_exhaustion; opens wait for a tuple to come free)",
               addresses, ports, std::max<std::size_t>(p.generator.destinations.size(), 1), space, advice);
}

namespace {

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

// Records every phase that has ended by `now`.
void close_phases(RunState& s, const Totals& t, TimeNs now) {
  const std::vector<GeneratorPhase>& phases = s.plan->generator.phases;
  while (s.phase < phases.size() && now - s.phase_started >= phases[s.phase].duration) {
    const TimeNs end = s.phase_started + phases[s.phase].duration;
    const LatencyTotals latency = collect_latency(s);
    s.phases.push_back(phase_json(s, t, latency, end));
    s.phase_totals = t;
    if (latency.has_client) s.phase_latency = latency.client;
    s.phase_started = end;
    ++s.phase;
  }
}

}  // namespace

void control_tick(void* ctx, TimeNs now) {
  RunState& s = *static_cast<RunState*>(ctx);
  if (s.stop->load(std::memory_order_relaxed)) return;
  if (now < s.started) {  // --start-at: the run has not begun (the generators resolve next hops)
    if (g_stop_requested.load()) {
      s.finished = s.started;
      s.stop->store(true, std::memory_order_relaxed);
    }
    return;
  }
  // SYN-cookie secrets: a fresh current key every rotation period, published lock-free.
  if (s.secrets != nullptr && now >= s.next_rotation) {
    s.secrets->rotate(random_key());
    s.next_rotation = now + s.rotation;
  }
  const bool print_due = s.interval != 0 && now >= s.next_print;
  const std::vector<GeneratorPhase>& phases = s.plan->generator.phases;
  const bool phase_over = s.phase < phases.size() && now - s.phase_started >= phases[s.phase].duration;
  const bool check_due =
      now >= s.deadline || s.plan->generator.total != 0 || g_stop_requested.load() || print_due || phase_over;
  if (!check_due) return;
  const Totals t = collect(s);
  if (phase_over) close_phases(s, t, now);
  warn_tuple_exhaustion(s, t);
  if (print_due) {
    const LatencyTotals interval = interval_latency(s);
    print_progress(s, t, now, interval);
    record_timeline_sample(s, t, now, interval);
    s.last = t;
    s.last_at = now;
    s.next_print += s.interval;
  }
  if (g_stop_requested.load() || run_is_over(s, t, now)) {
    s.finished = now;
    s.stop->store(true, std::memory_order_relaxed);
  }
}

namespace {

nlohmann::json flood_sent_json(FloodKind kind, std::uint64_t sent) {
  nlohmann::json j = nlohmann::json::object();
  for (FloodKind k : {FloodKind::kSyn, FloodKind::kAck, FloodKind::kRst, FloodKind::kFin}) {
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
  j["src"] = format_ipv4(s.plan->client.local_ip);
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
  j["ip"] = o.ip;
  j["src_ip"] = o.src_ip;
  j["src_ports"] = o.src_ports;
  j["dst"] = o.dst.empty() ? std::string() : o.dst[0];
  j["pps"] = o.pps;
  j["kind"] = o.kind;
  j["probe_rate"] = o.probe_rate;
  if (o.probe_rate > 0) {
    j["probe_src"] = format_ipv4(plan.client.local_ip);
    j["probe_path"] = o.probe_path;
    j["probe_timeout_s"] = o.probe_timeout;
  }
  j["seed"] = plan.flood.seed;
  j["next_hop"] = format_ipv4(plan.flood.next_hop_ip);
  j["port"] = o.port;
  j["gateway"] = o.gateway;
  j["neighbors"] = o.neighbors;
  j["duration_s"] = plan.duration_s;
  j["stats_interval_s"] = o.stats_interval;
  j["report"] = o.report;
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
    j["client_ip"] = o.ip;
    j["server_ip"] = o.server_ip;
    j["client_port"] = o.client_port;
    j["server_port"] = o.server_port;
  } else {
    j["ip"] = o.ip;
    j["port"] = o.port;
  }
  j["mtu"] = o.mtu;
  j["gateway"] = o.gateway;
  j["neighbors"] = o.neighbors;
  j["max_connections"] = plan.server.max_connections;
  j["time_wait_s"] = static_cast<double>(plan.server.time_wait) / 1e9;
  j["fin_wait2_timeout_s"] = static_cast<double>(plan.server.fin_wait2_timeout) / 1e9;
  j["delayed_ack_ms"] = static_cast<double>(plan.server.delayed_ack) / 1e6;
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
  }
  if (o.mode != Mode::kClient) {
    j["listen"] = plan.server.listen_ports;
    const WorkloadKind k = plan.server.workload.kind;
    j["server_workload"] = k == WorkloadKind::kHttp ? "http" : k == WorkloadKind::kRaw ? "raw" : "none";
    j["http_bytes"] = plan.server.workload.response_bytes;
    j["max_requests"] = plan.server.workload.max_requests;
  }
  if (o.mode != Mode::kServer) {
    j["dst"] = o.dst;
    j["src_ip"] = o.src_ip;
    j["destinations"] = plan.generator.destinations.size();
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
  j["capture"] = o.capture;
  j["capture_packets"] = o.capture_packets;
  return j;
}

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
                  "offered rate was above what it completes. Give synwave more lcores, or offer less.",
                  static_cast<unsigned long long>(c.drop_syn_shed_busy));
    out.emplace_back(line);
  }
  if (c.drop_syn_shed_pool + c.conn_failed_overload > 0) {
    std::snprintf(line, sizeof line,
                  "The connection records ran short: %llu SYNs shed and %llu connections reset to free a record. "
                  "Raise --max-connections (records needed = connection rate x how long each lives).",
                  static_cast<unsigned long long>(c.drop_syn_shed_pool),
                  static_cast<unsigned long long>(c.conn_failed_overload));
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
