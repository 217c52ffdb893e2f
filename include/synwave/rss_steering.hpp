#pragma once
// Which of our source ports make the peer's replies land on this lcore's rx queue.
//
// A NIC with RSS computes the Toeplitz hash of every received IPv4/TCP packet's 4-tuple, takes
// the hash's low-order bits as an index into its redirection table (RETA), and queues the packet
// on the queue that entry names (Microsoft's RSS specification: "the hash result is masked ... and
// used as an index into the indirection table"; DPDK's rte_thash helpers likewise take the
// "reta_sz_log" least significant bits). A connection we open is answered from
// remote_ip:remote_port to local_ip:local_port, so the reply's queue is fixed by our choice of
// local port: choosing only ports whose reply maps to our queue means no reply ever has to cross
// to another core.
//
// RETA sizes are powers of two on every NIC DPDK drives (64, 128, 512, 2048...): the index is then
// hash & (size - 1). For any other size this takes hash % size, which agrees with the mask
// whenever the size is a power of two.
//
// An IPv6/TCP packet goes through the same table with the hash of its own 36-byte 4-tuple, so the
// same test holds over IPv6 (the *_ipv6 members) when the key is long enough for that hash
// (40 bytes, which every NIC's is).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "synwave/toeplitz.hpp"

namespace synwave {

class RssSteering {
 public:
  using Ipv6Address = ToeplitzHasherIpv6::Address;  // network order

  // key: the port's RSS key; reta: the queue of each redirection-table entry; queue: ours.
  // Throws std::invalid_argument on a bad key or an empty table.
  RssSteering(std::span<const std::uint8_t> key, std::vector<std::uint16_t> reta, std::uint16_t queue)
      : hasher_(key), reta_(std::move(reta)), queue_(queue) {
    if (reta_.empty()) throw std::invalid_argument("RSS redirection table is empty");
    // On the heap: its tables are 36 KiB, three times the IPv4 ones, and a steering is moved
    // around at start-up.
    if (key.size() >= kToeplitzIpv6TcpKeyBytes) hasher6_ = std::make_unique<const ToeplitzHasherIpv6>(key);
    const std::size_t size = reta_.size();
    power_of_two_ = (size & (size - 1)) == 0;
    reta_mask_ = static_cast<std::uint32_t>(size - 1);
    ours_.resize(size);
    for (std::size_t i = 0; i < size; ++i) {
      ours_[i] = reta_[i] == queue_ ? 1 : 0;
      entries_ours_ += ours_[i];
    }
  }

  // The queue a received packet with this 4-tuple lands on. Host-order inputs.
  [[nodiscard]] std::uint16_t queue_of(std::uint32_t src_ip, std::uint32_t dst_ip, std::uint16_t src_port,
                                       std::uint16_t dst_port) const {
    return reta_[reta_index(hasher_.hash(src_ip, dst_ip, src_port, dst_port))];
  }

  // For a connection WE open: does the peer's reply (src = remote, dst = local) come to our queue?
  [[nodiscard]] bool reply_lands_here(std::uint32_t local_ip, std::uint16_t local_port, std::uint32_t remote_ip,
                                      std::uint16_t remote_port) const {
    return local_port_lands_here(reply_hash_without_local_port(local_ip, remote_ip, remote_port), local_port);
  }

  // The same test split in two, for trying many local ports against one peer: compute the part of
  // the reply's hash that does not depend on the local port once, then two table loads per port.
  [[nodiscard]] std::uint32_t reply_hash_without_local_port(std::uint32_t local_ip, std::uint32_t remote_ip,
                                                            std::uint16_t remote_port) const {
    return hasher_.hash_addresses(remote_ip, local_ip) ^ hasher_.hash_src_port(remote_port);
  }
  [[nodiscard]] bool local_port_lands_here(std::uint32_t reply_hash_without_local_port,
                                           std::uint16_t local_port) const {
    return ours_[reta_index(reply_hash_without_local_port ^ hasher_.hash_dst_port(local_port))] != 0;
  }

  // Every port in [first, last] whose replies land here, ascending. Allocates: for start-up.
  [[nodiscard]] std::vector<std::uint16_t> local_ports_landing_here(std::uint32_t local_ip, std::uint32_t remote_ip,
                                                                    std::uint16_t remote_port, std::uint16_t first,
                                                                    std::uint16_t last) const {
    std::vector<std::uint16_t> ports;
    const std::uint32_t partial = reply_hash_without_local_port(local_ip, remote_ip, remote_port);
    for (std::uint32_t port = first; port <= last; ++port) {
      if (local_port_lands_here(partial, static_cast<std::uint16_t>(port))) ports.push_back(static_cast<std::uint16_t>(port));
    }
    return ports;
  }

  // Whether the key is long enough for the IPv6 members below (which must not be called otherwise).
  [[nodiscard]] bool steers_ipv6() const { return hasher6_ != nullptr; }

  [[nodiscard]] std::uint16_t queue_of_ipv6(const Ipv6Address& src_ip, const Ipv6Address& dst_ip,
                                            std::uint16_t src_port, std::uint16_t dst_port) const {
    return reta_[reta_index(hasher6_->hash(src_ip, dst_ip, src_port, dst_port))];
  }
  [[nodiscard]] bool reply_lands_here_ipv6(const Ipv6Address& local_ip, std::uint16_t local_port,
                                           const Ipv6Address& remote_ip, std::uint16_t remote_port) const {
    return local_port_lands_here_ipv6(reply_hash_without_local_port_ipv6(local_ip, remote_ip, remote_port), local_port);
  }
  [[nodiscard]] std::uint32_t reply_hash_without_local_port_ipv6(const Ipv6Address& local_ip,
                                                                 const Ipv6Address& remote_ip,
                                                                 std::uint16_t remote_port) const {
    return hasher6_->hash_addresses(remote_ip, local_ip) ^ hasher6_->hash_src_port(remote_port);
  }
  [[nodiscard]] bool local_port_lands_here_ipv6(std::uint32_t reply_hash_without_local_port,
                                                std::uint16_t local_port) const {
    return ours_[reta_index(reply_hash_without_local_port ^ hasher6_->hash_dst_port(local_port))] != 0;
  }
  [[nodiscard]] std::vector<std::uint16_t> local_ports_landing_here_ipv6(const Ipv6Address& local_ip,
                                                                         const Ipv6Address& remote_ip,
                                                                         std::uint16_t remote_port, std::uint16_t first,
                                                                         std::uint16_t last) const {
    std::vector<std::uint16_t> ports;
    const std::uint32_t partial = reply_hash_without_local_port_ipv6(local_ip, remote_ip, remote_port);
    for (std::uint32_t port = first; port <= last; ++port) {
      if (local_port_lands_here_ipv6(partial, static_cast<std::uint16_t>(port))) ports.push_back(static_cast<std::uint16_t>(port));
    }
    return ports;
  }

  [[nodiscard]] std::uint32_t reta_index(std::uint32_t hash) const {
    return power_of_two_ ? hash & reta_mask_ : hash % static_cast<std::uint32_t>(reta_.size());
  }
  [[nodiscard]] std::uint16_t queue() const { return queue_; }
  // Redirection-table entries that name our queue: 0 means no reply can ever land here.
  [[nodiscard]] std::size_t entries_here() const { return entries_ours_; }
  [[nodiscard]] const std::vector<std::uint16_t>& reta() const { return reta_; }
  [[nodiscard]] const ToeplitzHasher& hasher() const { return hasher_; }

 private:
  ToeplitzHasher hasher_;
  std::unique_ptr<const ToeplitzHasherIpv6> hasher6_;  // null when the key is shorter than 40 bytes
  std::vector<std::uint16_t> reta_;
  std::vector<std::uint8_t> ours_;  // per RETA entry: 1 if it names our queue (one load per test)
  std::uint32_t reta_mask_ = 0;
  bool power_of_two_ = true;
  std::size_t entries_ours_ = 0;
  std::uint16_t queue_ = 0;
};

}  // namespace synwave
