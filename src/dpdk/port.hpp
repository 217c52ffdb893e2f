#pragma once
// Configuring one ethdev for synwave: one rx and one tx queue per worker, RSS on IPv4/TCP and
// IPv6/TCP and checksum offloads when the device reports them, MTU, and a bounded wait for the link.
#include <rte_mempool.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "synwave/rss_steering.hpp"
#include "synwave/wire/ethernet.hpp"

namespace synwave::dpdk {

struct PortRequest {
  std::uint16_t port_id = 0;
  std::uint16_t queues = 1;
  std::uint16_t mtu = 1500;
  bool verify_checksums = false;  // on a memory link too (see PortInfo::rx_checksum_trusted)
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
  bool rss = false;               // the NIC spreads TCP flows over the queues itself (rss_hash_types: which)
  // With rss, read back from the started device: what it hashes with and where each hash goes.
  std::vector<std::uint8_t> rss_key;    // empty if the device does not report its key
  std::uint64_t rss_hash_types = 0;     // RTE_ETH_RSS_* the device hashes (rte_eth_rss_conf::rss_hf)
  std::vector<std::uint16_t> rss_reta;  // rss_reta[i]: the queue of redirection-table entry i
  bool rss_reta_assumed = false;        // the RETA query failed: rss_reta is DPDK drivers' default
  bool tx_checksum_offload = false;
  bool rx_checksum_offload = false;
  // A memory link (net_ring, net_memif): received checksums go unverified (setup_port says why).
  bool rx_checksum_trusted = false;
  bool link_up = false;
  std::uint32_t link_speed_mbps = 0;
};

// Configures and starts the port. Returns an error message (empty on success).
[[nodiscard]] std::string setup_port(const PortRequest& request, PortInfo& info);
// Waits up to timeout_ms for link up; returns whether it came up.
bool wait_for_link(std::uint16_t port_id, unsigned timeout_ms, PortInfo& info);
void close_port(std::uint16_t port_id);

// Where replies to the connections queue `queue` opens must come from for the NIC to bring them
// back to that queue: built from what setup_port read, for a run of IPv4 or (ipv6) IPv6
// connections. Empty when the port has no RSS, or did not report a key long enough for that
// family's hash, or hashes something other than that family's whole TCP 4-tuple (then the
// software dispatcher has to bring each reply to its owner). Assumes the Toeplitz function: DPDK
// 22.11's rte_eth_rss_conf cannot say otherwise (a symmetric or XOR hash is chosen through rte_flow).
[[nodiscard]] std::optional<RssSteering> make_rss_steering(const PortInfo& info, std::uint16_t queue, bool ipv6);

// The redirection table DPDK drivers program when the application gives none (ixgbe, i40e, ice,
// mlx5 all do this): entry i -> queue i % queues.
[[nodiscard]] std::vector<std::uint16_t> default_reta(std::size_t entries, std::uint16_t queues);

// The largest number of queues the device accepts (rx and tx both).
[[nodiscard]] std::uint16_t max_queues(std::uint16_t port_id);

}  // namespace synwave::dpdk
