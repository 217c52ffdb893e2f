#include "control.hpp"

#include "report.hpp"

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
               addresses, ports, std::max<std::size_t>(p.generator.destination_count(), 1), space, advice);
}

namespace {

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
  // A --total is checked when a worker has published since the last look (every 10 ms), not on
  // every tick: reading each lcore's slot in between would find the same figures.
  bool total_due = false;
  if (s.plan->generator.total != 0) {
    std::uint64_t version = 0;
    for (const dpdk::StatsSlot* slot : s.slots) version += slot->snapshot_version();
    total_due = version != s.slots_version_seen;
    s.slots_version_seen = version;
  }
  const bool check_due = now >= s.deadline || total_due || g_stop_requested.load() || print_due || phase_over;
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

}  // namespace synwave::app
