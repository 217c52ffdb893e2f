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
void stop_eal();

}  // namespace synwave::dpdk
