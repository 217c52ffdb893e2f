#pragma once
// Initial sequence numbers per RFC 6528 §3:
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
// M is a timer ticking every 4 microseconds, so successive incarnations of one connection
// get increasing ISNs (old duplicates stay out of the new window, RFC 9293 §3.4.1), while F,
// a keyed PRF of the 4-tuple, keeps an off-path attacker from predicting the ISN of a
// connection it cannot observe. Over an IPv4 tuple (16 bytes with a domain tag: one block) F is
// AES-128 where the CPU has AES instructions, under a key derived from the secret (so the two
// primitives never share a key): about 20 instructions against SipHash-2-4's 160, on a path
// every connection takes twice. Elsewhere, and over the 40 bytes of an IPv6 tuple, F is
// SipHash-2-4 under the secret, as in Linux's secure_tcp_seq(). Either is a PRF only the
// secret's holder can compute; one secret thus gives different ISNs on CPUs with and without AES
// (harmless to TCP, worth knowing when comparing runs across machines).
#include <array>
#include <cstdint>
#include <cstring>

#include "synwave/aes128_prf.hpp"
#include "synwave/siphash.hpp"
#include "synwave/time.hpp"

namespace synwave {

class IsnGenerator {
 public:
  // RFC 6528 §3: "M is the 4 microsecond timer".
  static constexpr TimeNs kTickNs = 4 * kMicrosecond;

  // secret must come from a strong random source (RFC 6528 §3): anyone who knows it can
  // predict every ISN this generator hands out.
  // allow_aes false: SipHash-2-4 even where the CPU has AES (tests of that path).
  explicit IsnGenerator(const SipKey& secret, bool allow_aes = true) noexcept
      : secret_(secret),
        aes_(siphash24_words(secret, kAesKeyLabel, 0), siphash24_words(secret, kAesKeyLabel, 1)),
        use_aes_(allow_aes && aes_.ready()) {}

  // Addresses and ports in whatever byte order the caller uses consistently (the result only
  // needs to be stable per tuple, not comparable across byte orders).
  [[nodiscard]] std::uint32_t isn(std::uint32_t local_ip, std::uint16_t local_port,
                                  std::uint32_t remote_ip, std::uint16_t remote_port,
                                  TimeNs now) const noexcept {
    // Truncation to 32 bits is the intended mod 2^32: M wraps about every 4.77 hours.
    const auto timer = static_cast<std::uint32_t>(now / kTickNs);
    return timer + tuple_offset(local_ip, local_port, remote_ip, remote_port);
  }

  // The same over an IPv6 tuple (RFC 6528 §3 is family-neutral): addresses in network order.
  [[nodiscard]] std::uint32_t isn(const std::array<std::uint8_t, 16>& local_ip, std::uint16_t local_port,
                                  const std::array<std::uint8_t, 16>& remote_ip, std::uint16_t remote_port,
                                  TimeNs now) const noexcept {
    const auto timer = static_cast<std::uint32_t>(now / kTickNs);
    return timer + tuple_offset(local_ip, local_port, remote_ip, remote_port);
  }

 private:
  // Keeps F distinct from any other 16-byte SipHash input that might share this secret
  // (for instance a SYN-cookie hash over the same tuple).
  static constexpr std::uint64_t kDomainTag = 0x49534e00;  // "ISN\0"
  // The AES key is SipHash-2-4 of this label (and 0, then 1) under the secret.
  static constexpr std::uint64_t kAesKeyLabel = 0x4145532d49534e00;  // "AES-ISN\0"

  [[nodiscard]] std::uint32_t tuple_offset(std::uint32_t local_ip, std::uint16_t local_port,
                                           std::uint32_t remote_ip,
                                           std::uint16_t remote_port) const noexcept {
    const std::uint64_t addresses = (std::uint64_t{local_ip} << 32) | remote_ip;
    const std::uint64_t ports =
        (kDomainTag << 32) | (std::uint64_t{local_port} << 16) | remote_port;
    return static_cast<std::uint32_t>(use_aes_ ? aes_.encrypt_low64(addresses, ports)
                                               : siphash24_words(secret_, addresses, ports));
  }

  // F over 40 bytes: the tag, both addresses, both ports. Its own tag, so no IPv6 tuple can hash
  // as an IPv4 one does.
  static constexpr std::uint32_t kDomainTagIpv6 = 0x49534e36;  // "ISN6"

  [[nodiscard]] std::uint32_t tuple_offset(const std::array<std::uint8_t, 16>& local_ip, std::uint16_t local_port,
                                           const std::array<std::uint8_t, 16>& remote_ip,
                                           std::uint16_t remote_port) const noexcept {
    std::uint8_t input[40];
    const std::uint32_t tag = kDomainTagIpv6;
    std::memcpy(input, &tag, 4);
    std::memcpy(input + 4, local_ip.data(), 16);
    std::memcpy(input + 20, remote_ip.data(), 16);
    std::memcpy(input + 36, &local_port, 2);
    std::memcpy(input + 38, &remote_port, 2);
    return static_cast<std::uint32_t>(siphash24(secret_, input, sizeof input));
  }

  SipKey secret_;
  Aes128Prf aes_;  // 176 bytes of round keys: the generator is 208 bytes, read once per ISN
  bool use_aes_;
};

}  // namespace synwave
