#pragma once
// The Toeplitz hash NICs use for RSS (Microsoft's "Receive-Side Scaling" specification,
// "RSS Hashing Function"), over an IPv4/TCP 4-tuple, computed exactly as DPDK's rte_softrss()
// with the RTE_THASH_V4_L4 input: source address, destination address, source port, destination
// port of the RECEIVED packet, each big-endian on the wire, 12 bytes in all; ToeplitzHasherIpv6
// (at the end) does the same over the 36 bytes of an IPv6/TCP 4-tuple.
//
// Toeplitz is XOR-linear in its input: hash(a ^ b) = hash(a) ^ hash(b). So the hash of the
// 12-byte input is the XOR of the hashes of its 12 bytes each in place, and those take one table
// of 256 words per byte position (12 x 256 x 4 bytes = 12 KiB), built once from the key. A hash is
// then 12 loads and 11 XORs instead of 96 conditional 32-bit window shifts. Linearity also splits
// the hash into an address part and a port part, so a generator can try thousands of source ports
// for one (local address, remote address:port) at two loads each.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>

namespace synwave {

// Drivers report keys of 40 bytes (most) or 52 bytes (i40e, ice); rte_eth_dev_info::hash_key_size
// says which. The 4-tuple needs only the first 16: 96 input bits, each selecting a 32-bit window.
inline constexpr std::size_t kToeplitzMaxKeyBytes = 52;
inline constexpr std::size_t kToeplitzIpv4TcpInputBytes = 12;
inline constexpr std::size_t kToeplitzIpv4TcpKeyBytes = kToeplitzIpv4TcpInputBytes + 4;
inline constexpr std::size_t kToeplitzIpv6TcpInputBytes = 36;
inline constexpr std::size_t kToeplitzIpv6TcpKeyBytes = kToeplitzIpv6TcpInputBytes + 4;

// The textbook algorithm, one input bit at a time: for every set bit b (counting from the most
// significant bit of input[0]), XOR in the 32 key bits starting at key bit b. The reference the
// tables are checked against, and the slow side of the benchmark. The key must hold
// input.size() + 4 bytes.
[[nodiscard]] constexpr std::uint32_t toeplitz_hash_bitwise(std::span<const std::uint8_t> key,
                                                            std::span<const std::uint8_t> input) {
  std::uint32_t window = (std::uint32_t{key[0]} << 24) | (std::uint32_t{key[1]} << 16) |
                         (std::uint32_t{key[2]} << 8) | std::uint32_t{key[3]};
  std::uint32_t hash = 0;
  for (std::size_t byte = 0; byte < input.size(); ++byte) {
    const std::uint8_t next_key_byte = key[byte + 4];
    for (int bit = 7; bit >= 0; --bit) {
      if (((input[byte] >> bit) & 1u) != 0) hash ^= window;
      window = (window << 1) | ((next_key_byte >> bit) & 1u);
    }
  }
  return hash;
}

namespace toeplitz_detail {

// One table of 256 words per input byte position: table[p][v] is the hash of an input that is
// zero but for byte p, which holds v. The key must hold N + 4 bytes.
template <std::size_t N>
void build_tables(std::span<const std::uint8_t> key, std::array<std::array<std::uint32_t, 256>, N>& tables) {
  for (std::size_t position = 0; position < N; ++position) {
    std::array<std::uint32_t, 8> bit_window{};
    std::uint64_t forty_bits = 0;
    for (std::size_t i = 0; i < 5; ++i) forty_bits = (forty_bits << 8) | key[position + i];
    // Input bit k of the byte (k = 0: least significant) is input bit 8 * position + 7 - k of
    // the stream, so it selects the 32 key bits that start 7 - k bits into these 40.
    for (unsigned k = 0; k < 8; ++k) bit_window[k] = static_cast<std::uint32_t>(forty_bits >> (k + 1));
    auto& table = tables[position];
    table[0] = 0;
    for (unsigned value = 1; value < 256; ++value) {
      const unsigned lowest = static_cast<unsigned>(__builtin_ctz(value));
      table[value] = table[value & (value - 1)] ^ bit_window[lowest];
    }
  }
}

}  // namespace toeplitz_detail

class ToeplitzHasher {
 public:
  // key: as the NIC holds it (rte_eth_rss_conf::rss_key), first byte = most significant bits.
  // Throws std::invalid_argument if it is shorter than the 4-tuple needs or longer than any NIC's.
  explicit ToeplitzHasher(std::span<const std::uint8_t> key) {
    if (key.size() < kToeplitzIpv4TcpKeyBytes || key.size() > kToeplitzMaxKeyBytes) {
      throw std::invalid_argument("Toeplitz key must be 16 to 52 bytes");
    }
    toeplitz_detail::build_tables(key, tables_);
  }

  // The hash the NIC computes for a received IPv4/TCP packet. Host-order inputs.
  [[nodiscard]] std::uint32_t hash(std::uint32_t src_ip, std::uint32_t dst_ip, std::uint16_t src_port,
                                   std::uint16_t dst_port) const {
    return hash_addresses(src_ip, dst_ip) ^ hash_ports(src_port, dst_port);
  }

  // The split form: hash(...) == hash_addresses(src_ip, dst_ip) ^ hash_ports(src_port, dst_port),
  // and hash_ports(s, d) == hash_src_port(s) ^ hash_dst_port(d).
  [[nodiscard]] std::uint32_t hash_addresses(std::uint32_t src_ip, std::uint32_t dst_ip) const {
    return word(0, src_ip) ^ word(4, dst_ip);
  }
  [[nodiscard]] std::uint32_t hash_ports(std::uint16_t src_port, std::uint16_t dst_port) const {
    return hash_src_port(src_port) ^ hash_dst_port(dst_port);
  }
  [[nodiscard]] std::uint32_t hash_src_port(std::uint16_t port) const { return half(8, port); }
  [[nodiscard]] std::uint32_t hash_dst_port(std::uint16_t port) const { return half(10, port); }

 private:
  [[nodiscard]] std::uint32_t word(std::size_t position, std::uint32_t value) const {
    return tables_[position][value >> 24] ^ tables_[position + 1][(value >> 16) & 0xFFu] ^
           tables_[position + 2][(value >> 8) & 0xFFu] ^ tables_[position + 3][value & 0xFFu];
  }
  [[nodiscard]] std::uint32_t half(std::size_t position, std::uint16_t value) const {
    return tables_[position][value >> 8] ^ tables_[position + 1][value & 0xFFu];
  }

  alignas(64) std::array<std::array<std::uint32_t, 256>, kToeplitzIpv4TcpInputBytes> tables_{};
};

// The same over an IPv6/TCP 4-tuple, as rte_softrss() with RTE_THASH_V6_L4: source address,
// destination address, source port, destination port, 36 bytes (36 KiB of tables); it needs 40
// bytes of key, which every NIC's has. Addresses in network order, ports in host order.
class ToeplitzHasherIpv6 {
 public:
  using Address = std::array<std::uint8_t, 16>;

  // Throws std::invalid_argument if the key is shorter than 40 bytes or longer than any NIC's.
  explicit ToeplitzHasherIpv6(std::span<const std::uint8_t> key) {
    if (key.size() < kToeplitzIpv6TcpKeyBytes || key.size() > kToeplitzMaxKeyBytes) {
      throw std::invalid_argument("an IPv6 Toeplitz key must be 40 to 52 bytes");
    }
    toeplitz_detail::build_tables(key, tables_);
  }

  [[nodiscard]] std::uint32_t hash(const Address& src, const Address& dst, std::uint16_t src_port,
                                   std::uint16_t dst_port) const {
    return hash_addresses(src, dst) ^ hash_ports(src_port, dst_port);
  }
  [[nodiscard]] std::uint32_t hash_addresses(const Address& src, const Address& dst) const {
    std::uint32_t h = 0;
    for (std::size_t i = 0; i < 16; ++i) h ^= tables_[i][src[i]] ^ tables_[16 + i][dst[i]];
    return h;
  }
  [[nodiscard]] std::uint32_t hash_ports(std::uint16_t src_port, std::uint16_t dst_port) const {
    return hash_src_port(src_port) ^ hash_dst_port(dst_port);
  }
  [[nodiscard]] std::uint32_t hash_src_port(std::uint16_t port) const {
    return tables_[32][port >> 8] ^ tables_[33][port & 0xFFu];
  }
  [[nodiscard]] std::uint32_t hash_dst_port(std::uint16_t port) const {
    return tables_[34][port >> 8] ^ tables_[35][port & 0xFFu];
  }

 private:
  alignas(64) std::array<std::array<std::uint32_t, 256>, kToeplitzIpv6TcpInputBytes> tables_{};
};

}  // namespace synwave
