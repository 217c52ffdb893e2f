#pragma once
// Configuring one ethdev for synwave: one rx and one tx queue per worker, RSS on IPv4/TCP and
// checksum offloads when the device reports them, MTU, and a bounded wait for the link.
#include <rte_mempool.h>

#include <cstdint>
#include <string>

#include "synwave/wire/ethernet.hpp"

namespace synwave::dpdk {

struct PortRequest {
  std::uint16_t port_id = 0;
  std::uint16_t queues = 1;
  std::uint16_t mtu = 1500;
  std::uint16_t rx_descriptors = 1024;
  std::uint16_t tx_descriptors = 1024;
  rte_mempool* pool = nullptr;
};

struct PortInfo {
  std::uint16_t port_id = 0;
  std::string name;
  std::string driver;
  MacAddr mac;
  std::uint16_t queues = 0;
  bool rss = false;               // the NIC spreads IPv4/TCP flows over the queues itself
  bool tx_checksum_offload = false;
  bool rx_checksum_offload = false;
  bool link_up = false;
  std::uint32_t link_speed_mbps = 0;
};

// Configures and starts the port. Returns an error message (empty on success).
[[nodiscard]] std::string setup_port(const PortRequest& request, PortInfo& info);
// Waits up to timeout_ms for link up; returns whether it came up.
bool wait_for_link(std::uint16_t port_id, unsigned timeout_ms, PortInfo& info);
void close_port(std::uint16_t port_id);

// The largest number of queues the device accepts (rx and tx both).
[[nodiscard]] std::uint16_t max_queues(std::uint16_t port_id);

}  // namespace synwave::dpdk
