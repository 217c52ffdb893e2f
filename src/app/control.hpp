#pragma once
// The control plane on the main lcore: once a millisecond it checks whether the run is over
// (duration, connection count, signal); once per stats interval it prints a progress line.
// It reads the workers' numbers only through their stats slots.
#include <nlohmann/json.hpp>

#include <atomic>
#include <string>
#include <vector>

#include "options.hpp"
#include "stats_slot.hpp"
#include "tsc_clock.hpp"

namespace synwave::app {

struct Totals {
  Counters role[dpdk::kRoles];
  EngineGauges gauges[dpdk::kRoles];
  Counters all;
  dpdk::WorkerCounters worker;
  GeneratorStats generator;
};

struct PortSummary {
  std::uint16_t id = 0;
  std::string name;
  std::string driver;
  bool rss = false;
  bool tx_checksum_offload = false;
  bool rx_checksum_offload = false;
  std::uint16_t queues = 0;
};

// One progress interval's rates, kept for the report's "timeline" (CPS over time).
struct TimelineSample {
  double t_s = 0;  // seconds from the start to the end of the interval
  double opened_per_s = 0;
  double completed_per_s = 0;
};

struct RunState {
  const RunPlan* plan = nullptr;
  std::vector<dpdk::StatsSlot*> slots;
  std::vector<unsigned> lcores;
  const dpdk::TscClock* clock = nullptr;
  std::atomic<bool>* stop = nullptr;
  TimeNs started = 0;
  TimeNs deadline = kNever;
  TimeNs interval = kSecond;
  TimeNs next_print = 0;
  TimeNs finished = 0;
  Totals last;
  TimeNs last_at = 0;
  std::string dispatch;  // "rss", "software", "single-queue" or "ring pair"
  std::vector<PortSummary> ports;
  nlohmann::json config;
  CookieSecrets* secrets = nullptr;  // rotated here; engines read them
  TimeNs rotation = 64 * kSecond;
  TimeNs next_rotation = kNever;
  std::vector<TimelineSample> timeline;  // one sample per --stats-interval
};

SipKey random_key();

// Set from the signal handler; the control plane turns it into a stop.
extern std::atomic<bool> g_stop_requested;

void control_tick(void* ctx, TimeNs now);
Totals collect(const RunState& state);
// Completed / failed connections as the run counts them: the client's view when there is a client.
std::uint64_t completed(const RunState& state, const Totals& t);
std::uint64_t failed(const RunState& state, const Totals& t);
nlohmann::json build_report(const RunState& state);
nlohmann::json effective_config(const RunPlan& plan);
std::string summary_line(const RunState& state);

}  // namespace synwave::app
