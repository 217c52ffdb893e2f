#pragma once
// The control plane on the main lcore: once a millisecond it checks whether the run is over
// (duration, connection count, signal); once per stats interval it prints a progress line.
// It reads the workers' numbers only through their stats slots.
#include <nlohmann/json.hpp>

#include <atomic>
#include <string>
#include <vector>

#include "histogram_json.hpp"  // histogram_json, for the report
#include "options.hpp"
#include "stats_slot.hpp"
#include "tsc_clock.hpp"

namespace synwave::app {

// One lcore's data-plane numbers, for its busy share and the roles it runs.
struct LcoreTotals {
  dpdk::WorkerCounters worker;
  bool has_role[dpdk::kRoles] = {};
};

struct Totals {
  Counters role[dpdk::kRoles];
  EngineGauges gauges[dpdk::kRoles];
  Counters all;
  dpdk::WorkerCounters worker;
  GeneratorStats generator;
  std::vector<LcoreTotals> lcores;  // in RunState::lcores order
  TimeNs active_since = kNever;     // the earliest lcore's LcoreSnapshot::active_since
};



// The client role's latency histograms, merged over lcores.
struct LatencyTotals {
  bool has_client = false;
  LatencyStats client;
};

struct PortSummary {
  std::uint16_t id = 0;
  std::string name;
  std::string driver;
  bool rss = false;
  bool tx_checksum_offload = false;
  bool rx_checksum_offload = false;
  bool rx_checksum_trusted = false;
  std::uint16_t queues = 0;
};

// One progress interval's rates, kept for the report's "timeline" (CPS over time).
struct TimelineSample {
  double t_s = 0;  // seconds from the start to the end of the interval
  double opened_per_s = 0;
  double completed_per_s = 0;
  double failed_per_s = 0;
  double http_requests_per_s = 0;
  double busy_pct[dpdk::kRoles] = {-1, -1};  // each role's busy share over the interval; -1: role absent
  // Each role's connections in ESTABLISHED at the end of the interval (what a concurrency test
  // holds); -1: role absent.
  std::int64_t established[dpdk::kRoles] = {-1, -1};
  // Each role's payload received over the interval, in Gbit/s (a download shows on the client's,
  // an upload on the server's); -1: role absent.
  double rx_gbit_per_s[dpdk::kRoles] = {-1, -1};
  // Connect latency of the connections established in the interval (client side); -1: none.
  double connect_p50_us = -1;
  double connect_p99_us = -1;
};

struct RunState {
  const RunPlan* plan = nullptr;
  std::vector<dpdk::StatsSlot*> slots;
  std::vector<unsigned> lcores;
  const dpdk::TscClock* clock = nullptr;
  std::atomic<bool>* stop = nullptr;
  TimeNs started = 0;
  double started_unix = 0;  // the wall-clock instant of `started`, seconds since the epoch
  TimeNs deadline = kNever;
  TimeNs interval = kSecond;
  TimeNs next_print = 0;
  std::uint64_t slots_version_seen = 0;  // the slots' summed versions when a --total was last checked
  TimeNs finished = 0;
  Totals last;
  LatencyStats last_latency;  // cumulative at the last progress line: the line shows the interval
  TimeNs last_at = 0;
  // What the engines' tables take (every record preallocated at start), and how many connection
  // records they hold: the memory a connection costs.
  std::uint64_t engine_bytes = 0;
  std::uint64_t connection_records = 0;
  std::string dispatch;  // "rss", "software", "single-queue" or "ring pair"
  std::vector<PortSummary> ports;
  nlohmann::json config;
  CookieSecrets* secrets = nullptr;  // rotated here; engines read them
  TimeNs rotation = 64 * kSecond;
  TimeNs next_rotation = kNever;
  bool exhaustion_reported = false;
  std::vector<TimelineSample> timeline;  // one sample per --stats-interval
  // A run in phases (--phase): the figures of each phase that ended, and where the one under
  // way began (its counters and the client's latency then).
  std::vector<nlohmann::json> phases;
  std::size_t phase = 0;
  TimeNs phase_started = 0;
  Totals phase_totals;
  LatencyStats phase_latency;
};

// How busy a role's lcores were between two readings (before = {}: since they started), and
// what a connection cost them.
struct RoleBusy {
  bool present = false;
  double share = 0;               // busy cycles / loop cycles of the lcores that run the role
  double busy_s = 0;              // busy CPU seconds of the role, summed over lcores
  double ns_per_connection = 0;   // busy_s over the role's completed connections (0: none)
};
RoleBusy role_busy(const RunState& state, const Totals& now, const Totals* before, dpdk::Role role);
// Busy share (0..1) of one lcore between two readings.
double busy_share(const dpdk::WorkerCounters& now, const dpdk::WorkerCounters& before);

// Index of each role in the per-role arrays (Totals::role, TimelineSample's).
inline constexpr std::size_t kServer = static_cast<std::size_t>(dpdk::Role::kServer);
inline constexpr std::size_t kClient = static_cast<std::size_t>(dpdk::Role::kClient);

SipKey random_key();

// Set from the signal handler; the control plane turns it into a stop.
extern std::atomic<bool> g_stop_requested;

void control_tick(void* ctx, TimeNs now);
Totals collect(const RunState& state);
// Reads the slots' latency side (stats_slot.hpp): 35 KiB per lcore, so only when a figure is shown.
LatencyTotals collect_latency(const RunState& state);
// The client's workload has a request and a response to time (kHttp, kRaw).
bool client_has_transaction(const RunState& state);
// Completed / failed connections as the run counts them: the client's view when there is a client.
std::uint64_t completed(const RunState& state, const Totals& t);
std::uint64_t failed(const RunState& state, const Totals& t);

}  // namespace synwave::app
