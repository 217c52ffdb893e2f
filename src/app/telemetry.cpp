#include "telemetry.hpp"

#include <rte_telemetry.h>

#include <atomic>
#include <string>

namespace synwave::app {

namespace {

std::atomic<const RunState*> g_state{nullptr};

// The report's latency figures (histogram_json.cpp), cumulative, as flat keys like the
// rest of /synwave/stats (latency_connect_p99_ns), in integer nanoseconds: telemetry values are
// integers here, and microseconds would round away the sub-microsecond part.
void add_histogram(rte_tel_data* d, const std::string& prefix, const LatencyHistogram& h) {
  auto add = [&](const char* name, std::uint64_t v) { rte_tel_data_add_dict_u64(d, (prefix + name).c_str(), v); };
  add("_count", h.count());
  add("_min_ns", h.min());
  add("_mean_ns", static_cast<std::uint64_t>(h.mean()));
  add("_p50_ns", h.value_at_percentile(50));
  add("_p90_ns", h.value_at_percentile(90));
  add("_p99_ns", h.value_at_percentile(99));
  add("_p99_9_ns", h.value_at_percentile(99.9));
  add("_max_ns", h.max());
}

int stats_command(const char*, const char*, rte_tel_data* d) {
  const RunState* s = g_state.load();
  if (s == nullptr) return -1;
  const Totals t = collect(*s);
  rte_tel_data_start_dict(d);
  t.all.for_each([&](std::string_view name, std::uint64_t v) { rte_tel_data_add_dict_u64(d, std::string(name).c_str(), v); });
  t.worker.for_each([&](const char* name, std::uint64_t v) { rte_tel_data_add_dict_u64(d, name, v); });
  EngineGauges g;
  for (const auto& role : t.gauges) {
    g.connections += role.connections;
    for (std::size_t k = 0; k < g.by_state.size(); ++k) g.by_state[k] += role.by_state[k];
  }
  rte_tel_data_add_dict_u64(d, "connections", g.connections);
  rte_tel_data_add_dict_u64(d, "half_open", g.in(TcpState::kSynReceived));
  rte_tel_data_add_dict_u64(d, "time_wait", g.in(TcpState::kTimeWait));
  rte_tel_data_add_dict_u64(d, "established", g.in(TcpState::kEstablished));
  // Busy shares since the start, in whole percent, and each role's cost per connection.
  for (std::size_t i = 0; i < t.lcores.size() && i < s->lcores.size(); ++i) {
    const std::string key = "lcore" + std::to_string(s->lcores[i]) + "_busy_pct";
    rte_tel_data_add_dict_u64(d, key.c_str(), static_cast<std::uint64_t>(100.0 * busy_share(t.lcores[i].worker, {}) + 0.5));
  }
  for (dpdk::Role role : {dpdk::Role::kServer, dpdk::Role::kClient}) {
    const RoleBusy b = role_busy(*s, t, nullptr, role);
    if (!b.present) continue;
    const std::string name = role == dpdk::Role::kServer ? "server" : "client";
    rte_tel_data_add_dict_u64(d, ("busy_pct_" + name).c_str(), static_cast<std::uint64_t>(100.0 * b.share + 0.5));
    rte_tel_data_add_dict_u64(d, ("ns_per_connection_" + name).c_str(), static_cast<std::uint64_t>(b.ns_per_connection + 0.5));
  }
  rte_tel_data_add_dict_u64(d, "connections_completed", completed(*s, t));
  rte_tel_data_add_dict_u64(d, "connections_failed", failed(*s, t));
  const LatencyTotals l = collect_latency(*s);
  if (l.has_client) {
    add_histogram(d, "latency_connect", l.client.connect);
    if (client_has_transaction(*s)) add_histogram(d, "latency_transaction", l.client.transaction);
  }
  return 0;
}

int config_command(const char*, const char*, rte_tel_data* d) {
  const RunState* s = g_state.load();
  if (s == nullptr) return -1;
  rte_tel_data_start_dict(d);
  for (const auto& [key, value] : s->config.items()) {
    const std::string v = value.is_string() ? value.get<std::string>() : value.dump();
    rte_tel_data_add_dict_string(d, key.c_str(), v.c_str());
  }
  return 0;
}

}  // namespace

void register_telemetry(const RunState* state) {
  g_state.store(state);
  rte_telemetry_register_cmd("/synwave/stats", stats_command, "synwave counters and gauges, summed over lcores. No parameters");
  rte_telemetry_register_cmd("/synwave/config", config_command, "synwave's effective configuration. No parameters");
}

}  // namespace synwave::app
