#include "port.hpp"

#include <rte_ethdev.h>
#include <rte_errno.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace synwave::dpdk {

namespace {
std::string port_error(std::uint16_t port, const char* what, int rc) {
  return "port " + std::to_string(port) + ": " + what + " failed (" + rte_strerror(-rc) + ")";
}

// RETA size to assume when the device does not report one: what ixgbe and most 10G NICs have.
constexpr std::uint16_t kAssumedRetaSize = RTE_ETH_RSS_RETA_SIZE_128;

// Reads back the key, hash types and redirection table of a started port with RSS. Read after
// start because some drivers program RSS only then. Nothing here is fatal: a port whose
// configuration cannot be read still spreads flows, and make_rss_steering() says it cannot steer.
void read_rss_config(std::uint16_t port, const rte_eth_dev_info& dev, PortInfo& info) {
  // A driver that does not report its key size (net_null) still writes its key: offer the largest
  // buffer rss_key_len can describe, zeroed, and keep what the IPv6/TCP hash uses (the IPv4 one
  // uses less).
  const bool size_known = dev.hash_key_size != 0;
  std::vector<std::uint8_t> key(size_known ? dev.hash_key_size : 255, 0);
  rte_eth_rss_conf conf{};
  conf.rss_key = key.data();
  conf.rss_key_len = static_cast<std::uint8_t>(key.size());
  const int rc = rte_eth_dev_rss_hash_conf_get(port, &conf);
  if (rc != 0) {
    spdlog::warn("port {} ({}): RSS is on but its key cannot be read ({}): cannot choose source ports by queue", port,
                 info.driver, rte_strerror(-rc));
  } else {
    info.rss_hash_types = conf.rss_hf;
    if (!size_known) key.resize(kToeplitzIpv6TcpKeyBytes);
    // An all-zero key hashes every flow to 0: no driver runs with one, so it means "not written".
    if (std::all_of(key.begin(), key.end(), [](std::uint8_t b) { return b == 0; })) {
      spdlog::warn("port {} ({}): RSS is on but the device returned no key: cannot choose source ports by queue",
                   port, info.driver);
    } else {
      if (!size_known) {
        spdlog::info("port {} ({}): the device reports no RSS key size; kept the first {} bytes of its key, all "
                     "that the IPv6/TCP hash uses", port, info.driver, kToeplitzIpv6TcpKeyBytes);
      }
      info.rss_key = std::move(key);
    }
  }

  const std::uint16_t reta_size = dev.reta_size;
  if (reta_size != 0) {
    std::vector<rte_eth_rss_reta_entry64> groups((reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) / RTE_ETH_RETA_GROUP_SIZE);
    for (auto& g : groups) g.mask = ~std::uint64_t{0};
    if (reta_size % RTE_ETH_RETA_GROUP_SIZE != 0) {
      groups.back().mask = (std::uint64_t{1} << (reta_size % RTE_ETH_RETA_GROUP_SIZE)) - 1;
    }
    const int reta_rc = rte_eth_dev_rss_reta_query(port, groups.data(), reta_size);
    if (reta_rc == 0) {
      info.rss_reta.resize(reta_size);
      for (std::uint16_t i = 0; i < reta_size; ++i) {
        info.rss_reta[i] = groups[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
      }
      return;
    }
    spdlog::warn("port {} ({}): RSS redirection table query failed ({}): assuming DPDK drivers' default, {} "
                 "entries round-robin over {} queues", port, info.driver, rte_strerror(-reta_rc), reta_size,
                 info.queues);
  } else {
    spdlog::warn("port {} ({}): RSS is on but the device reports no redirection table size: assuming DPDK "
                 "drivers' default, {} entries round-robin over {} queues", port, info.driver, kAssumedRetaSize,
                 info.queues);
  }
  info.rss_reta = default_reta(reta_size != 0 ? reta_size : kAssumedRetaSize, info.queues);
  info.rss_reta_assumed = true;
}
}  // namespace

std::vector<std::uint16_t> default_reta(std::size_t entries, std::uint16_t queues) {
  std::vector<std::uint16_t> reta(entries);
  for (std::size_t i = 0; i < entries; ++i) reta[i] = static_cast<std::uint16_t>(i % queues);
  return reta;
}

std::optional<RssSteering> make_rss_steering(const PortInfo& info, std::uint16_t queue, bool ipv6) {
  if (!info.rss || info.rss_reta.empty()) return std::nullopt;
  if (info.rss_key.size() < (ipv6 ? kToeplitzIpv6TcpKeyBytes : kToeplitzIpv4TcpKeyBytes)) return std::nullopt;
  // A device hashing only addresses (or anything else) sends every port of one peer to one queue;
  // one hashing only some of the fields (L3_SRC_ONLY...) hashes another input than rte_softrss's.
  if ((info.rss_hash_types & (ipv6 ? RTE_ETH_RSS_NONFRAG_IPV6_TCP : RTE_ETH_RSS_NONFRAG_IPV4_TCP)) == 0) {
    return std::nullopt;
  }
  constexpr std::uint64_t kPartialInput =
      RTE_ETH_RSS_L3_SRC_ONLY | RTE_ETH_RSS_L3_DST_ONLY | RTE_ETH_RSS_L4_SRC_ONLY | RTE_ETH_RSS_L4_DST_ONLY;
  if ((info.rss_hash_types & kPartialInput) != 0) return std::nullopt;
  // The 4-tuple hashes read the key's first 16 (IPv4) or 40 (IPv6) bytes only, so a longer key
  // loses nothing.
  const std::size_t key_bytes = std::min(info.rss_key.size(), kToeplitzMaxKeyBytes);
  return RssSteering(std::span(info.rss_key).first(key_bytes), info.rss_reta, queue);
}

std::uint16_t max_queues(std::uint16_t port_id) {
  rte_eth_dev_info dev{};
  if (rte_eth_dev_info_get(port_id, &dev) != 0) return 0;
  return std::min(dev.max_rx_queues, dev.max_tx_queues);
}

std::string setup_port(const PortRequest& req, PortInfo& info) {
  const std::uint16_t port = req.port_id;
  if (!rte_eth_dev_is_valid_port(port)) {
    return "port " + std::to_string(port) + " does not exist: give a device with '--vdev' (e.g. net_tap0) or bind a NIC "
           "to a DPDK driver (dpdk-devbind.py), and check --port";
  }
  rte_eth_dev_info dev{};
  int rc = rte_eth_dev_info_get(port, &dev);
  if (rc != 0) return port_error(port, "reading device info", rc);
  if (req.queues > dev.max_rx_queues || req.queues > dev.max_tx_queues) {
    return "port " + std::to_string(port) + " (" + dev.driver_name + ") has " +
           std::to_string(std::min(dev.max_rx_queues, dev.max_tx_queues)) + " queue pair(s) but " +
           std::to_string(req.queues) + " worker lcores need one each: run fewer lcores (-l) or use another device";
  }
  info.port_id = port;
  info.driver = dev.driver_name;
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port, name);
  info.name = name;
  info.queues = req.queues;

  rte_eth_conf conf{};
  // Both families' TCP: a server's IPv6 flows spread like its IPv4 ones, and a client's IPv6
  // replies can be steered by their source port (make_rss_steering).
  const std::uint64_t want_rss = RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV6_TCP;
  // Advertised hash types are not enough: net_tap lists them but spreads flows only through an
  // eBPF program installed by rte_flow, and without it (no multiq qdisc) the kernel picks the
  // queue by its own hash. A driver that cannot even report its RSS configuration cannot be
  // steering by it: leave those ports to the software dispatcher.
  rte_eth_rss_conf probe{};
  const bool rss_reportable = rte_eth_dev_rss_hash_conf_get(port, &probe) != -ENOTSUP;
  if (req.queues > 1 && (dev.flow_type_rss_offloads & want_rss) != 0 && rss_reportable) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = nullptr;  // the driver's default key
    conf.rx_adv_conf.rss_conf.rss_hf = dev.flow_type_rss_offloads & want_rss;
    info.rss = true;
  }
  const std::uint64_t tx_ck = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  if ((dev.tx_offload_capa & tx_ck) == tx_ck) {
    conf.txmode.offloads |= tx_ck;
    info.tx_checksum_offload = true;
  }
  const std::uint64_t rx_ck = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
  if ((dev.rx_offload_capa & rx_ck) == rx_ck) {
    conf.rxmode.offloads |= rx_ck;
    info.rx_checksum_offload = true;
  }
  // net_ring and net_memif carry frames through memory this host's lcores or processes share:
  // nothing between the two ends can corrupt a frame, so the received checksums go unverified,
  // as Linux does on loopback (CHECKSUM_UNNECESSARY) and dperf on any device without rx offload.
  // A peer that sends wrong checksums on purpose needs --verify-checksums.
  const std::string_view driver = dev.driver_name;
  info.rx_checksum_trusted = !req.verify_checksums && (driver == "net_ring" || driver == "net_memif");
  if ((dev.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) != 0) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  }
  rc = rte_eth_dev_configure(port, req.queues, req.queues, &conf);
  if (rc != 0) return port_error(port, "configure", rc);
  // Some virtual devices refuse an MTU change; their default already fits 1500.
  if (rte_eth_dev_set_mtu(port, req.mtu) != 0) {
    std::uint16_t mtu = 0;
    if (rte_eth_dev_get_mtu(port, &mtu) == 0 && mtu != 0 && mtu < req.mtu) {
      return "port " + std::to_string(port) + " cannot take MTU " + std::to_string(req.mtu) + " (it has " +
             std::to_string(mtu) + "): lower --mtu";
    }
  }
  std::uint16_t rx_desc = req.rx_descriptors;
  std::uint16_t tx_desc = req.tx_descriptors;
  rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);
  const int socket = rte_eth_dev_socket_id(port);
  const unsigned sock = socket < 0 ? 0u : static_cast<unsigned>(socket);
  for (std::uint16_t q = 0; q < req.queues; ++q) {
    rte_eth_rxconf rxc = dev.default_rxconf;
    rxc.offloads = conf.rxmode.offloads;
    rc = rte_eth_rx_queue_setup(port, q, rx_desc, sock, &rxc, req.pool);
    if (rc != 0) return port_error(port, "rx queue setup", rc);
    rte_eth_txconf txc = dev.default_txconf;
    txc.offloads = conf.txmode.offloads;
    rc = rte_eth_tx_queue_setup(port, q, tx_desc, sock, &txc);
    if (rc != 0) return port_error(port, "tx queue setup", rc);
  }
  rte_ether_addr mac{};
  rte_eth_macaddr_get(port, &mac);
  std::memcpy(info.mac.bytes.data(), mac.addr_bytes, 6);
  rc = rte_eth_dev_start(port);
  if (rc != 0) return port_error(port, "start", rc);
  if (info.rss) read_rss_config(port, dev, info);
  return {};
}

bool wait_for_link(std::uint16_t port_id, unsigned timeout_ms, PortInfo& info) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) {
      info.link_up = true;
      info.link_speed_mbps = link.link_speed;
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Before a port closes, its peer must have stopped sending to it. net_memif unmaps the shared
// rings from its control thread the moment this end disconnects, with nothing to hold off a peer
// lcore that is inside its own tx burst on them: a server answering the last SYNs of a flood that
// has just exited crashed that way (SIGSEGV in the PMD's tx, its control thread in munmap). So
// the frames still coming are received and dropped until the link has been quiet for a while
// (every device, at most kQuiesceLimit). The workers have stopped: their queues are free to poll.
namespace {
void quiesce_port(std::uint16_t port_id) {
  using Clock = std::chrono::steady_clock;
  constexpr auto kQuiet = std::chrono::milliseconds(20);
  constexpr auto kQuiesceLimit = std::chrono::milliseconds(500);
  rte_eth_dev_info dev{};
  if (rte_eth_dev_info_get(port_id, &dev) != 0) return;
  const auto start = Clock::now();
  auto last_frame = start;
  rte_mbuf* pkts[32];
  for (auto now = start; now - last_frame < kQuiet && now - start < kQuiesceLimit; now = Clock::now()) {
    for (std::uint16_t q = 0; q < dev.nb_rx_queues; ++q) {
      const std::uint16_t n = rte_eth_rx_burst(port_id, q, pkts, 32);
      if (n == 0) continue;
      rte_pktmbuf_free_bulk(pkts, n);
      last_frame = now;
    }
  }
}

// The peer's side of the same driver: when the peer disconnects, this process's memif control
// thread unmaps the shared regions while a lcore of ours may be inside a burst on them (nothing in
// memif_disconnect waits for the lcores), and the lcore then faults: a server crashed so in its rx
// when the client that had finished its run exited. So a memif port is closed only after the peer
// has disconnected first (its lcores stopped too: it is closing), or kLingerLimit has passed;
// meanwhile nothing here polls the port. Two finished peers both wait: the one that began waiting
// first closes first, while the other is not polling. Scripts stop the side that runs until told
// (a server) once the other side's run is over, before that side exits (tests/system/lib.sh
// sw_wait_summary).
void linger_for_memif_peer(std::uint16_t port_id) {
  using Clock = std::chrono::steady_clock;
  constexpr auto kLingerLimit = std::chrono::seconds(2);
  rte_eth_dev_info dev{};
  if (rte_eth_dev_info_get(port_id, &dev) != 0 || dev.driver_name == nullptr ||
      std::string_view(dev.driver_name) != "net_memif") {
    return;
  }
  const auto start = Clock::now();
  for (;;) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port_id, &link) != 0 || link.link_status == RTE_ETH_LINK_DOWN) return;
    if (Clock::now() - start >= kLingerLimit) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}
}  // namespace

void close_port(std::uint16_t port_id) {
  linger_for_memif_peer(port_id);
  quiesce_port(port_id);
  rte_eth_dev_stop(port_id);
  rte_eth_dev_close(port_id);
}

}  // namespace synwave::dpdk
