#pragma once
// Starting and stopping DPDK's Environment Abstraction Layer with defaults that work on a
// machine with no NIC and no hugepages.
#include <string>
#include <vector>

namespace synwave::dpdk {

// The EAL arguments used when the user gave none.
std::vector<std::string> default_eal_args();

// Starts the EAL. On failure returns a message naming the problem and the fix.
[[nodiscard]] std::string start_eal(const std::string& program, std::vector<std::string> eal_args);
// Stops the EAL and removes its runtime directory when synwave named it (remove_own_runtime_dir).
void stop_eal();

// DPDK leaves its runtime directory (/var/run/dpdk/<prefix>: the config, the memory's fbarrays,
// 3.3 MB of tmpfs with --no-huge, the multi-process socket) when the process ends, and with a
// prefix per PID every run left one behind. This removes the one start_eal named itself
// ("synwave<PID>"); a prefix the user gave may be shared with other processes and stays theirs.
// For a process that never calls stop_eal (a test binary), at exit.
void remove_own_runtime_dir();

}  // namespace synwave::dpdk
