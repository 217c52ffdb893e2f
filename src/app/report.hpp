#pragma once
// The run's figures as the progress lines and the JSON report give them, and the report itself
// (its fields: README, "The JSON report"); control.cpp runs the control plane that gathers them.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "control.hpp"

namespace synwave::app {

// Flood mode: what left the queues per second (the target's answers arrive as rx).
FloodStats flood_totals(const RunState& s);
// Payload bytes over seconds, in Gbit/s.
double gbit(std::uint64_t bytes, double seconds);
// The payload a run moved: the client's bytes both ways when there is a client, else the server's.
std::uint64_t payload_bytes(const RunState& s, const Totals& t);
// HTTP requests as the client counts them (complete responses) when there is one, else the server.
std::uint64_t http_requests(const RunState& s, const Totals& t);
// One phase's figures, from the counters and the client's latency at its start to those at `end`.
nlohmann::json phase_json(const RunState& s, const Totals& t, const LatencyTotals& latency, TimeNs end);

nlohmann::json build_report(const RunState& state);
// One line each for what the counters say the user could change (TIME-WAIT refusals, shedding).
std::vector<std::string> run_hints(const RunState& state);
nlohmann::json effective_config(const RunPlan& plan);
std::string summary_line(const RunState& state);

}  // namespace synwave::app
