#pragma once
// DPDK telemetry commands on the standard socket (dpdk-telemetry.py, or any client of
// /var/run/dpdk/<prefix>/dpdk_telemetry.v2): /synwave/stats and /synwave/config.
#include "control.hpp"

namespace synwave::app {

// Registers the commands; they read `state` until unregister (the process end).
void register_telemetry(const RunState* state);

}  // namespace synwave::app
