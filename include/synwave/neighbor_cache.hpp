#pragma once
// Next hop address → MAC, for IPv4 (ARP, RFC 826) and IPv6 (Neighbor Discovery, RFC 4861 §7.3)
// alike: one design, instantiated per address type. Fixed size, open addressing over a short
// probe window; when the window is full the home slot is overwritten, so a flood of new sources
// can churn the cache but never grow it. Static entries (from the configuration) are never
// overwritten.
#include <cstdint>
#include <cstring>
#include <vector>

#include "synwave/time.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave {

namespace neighbor_detail {
// A 32-bit digest of an address for the home slot (the cache's own; no secret needed: a
// colliding flood only churns the dynamic entries of one window).
[[nodiscard]] inline std::uint32_t digest(std::uint32_t ip) { return ip; }
[[nodiscard]] inline std::uint32_t digest(const Ipv6Addr& ip) {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::memcpy(&high, ip.data(), 8);
  std::memcpy(&low, ip.data() + 8, 8);
  const std::uint64_t mixed = (high * 0x9e3779b97f4a7c15ull) ^ low;
  return static_cast<std::uint32_t>(mixed ^ (mixed >> 32));
}
[[nodiscard]] inline bool same(std::uint32_t a, std::uint32_t b) { return a == b; }
[[nodiscard]] inline bool same(const Ipv6Addr& a, const Ipv6Addr& b) { return same_address(a, b); }
[[nodiscard]] inline bool is_unset(std::uint32_t ip) { return ip == 0; }
[[nodiscard]] inline bool is_unset(const Ipv6Addr& ip) { return is_unspecified(ip); }
}  // namespace neighbor_detail

template <class Address>
class BasicNeighborCache {
 public:
  explicit BasicNeighborCache(std::uint32_t capacity) : entries_(round_up_pow2(capacity < 8 ? 8 : capacity)) {
    mask_ = static_cast<std::uint32_t>(entries_.size() - 1);
  }

  // Returns nullptr when ip is unknown.
  [[nodiscard]] const MacAddr* find(const Address& ip) const {
    for (std::uint32_t i = 0, s = home(ip); i < kProbe; ++i, s = (s + 1) & mask_) {
      const Entry& e = entries_[s];
      if (neighbor_detail::same(e.ip, ip) && e.state != State::kEmpty) return &e.mac;
      if (e.state == State::kEmpty) return nullptr;
    }
    return nullptr;
  }

  // Learn or refresh an entry. Returns true when something changed.
  bool learn(const Address& ip, const MacAddr& mac, bool is_static = false) {
    if (neighbor_detail::is_unset(ip)) return false;
    const State state = is_static ? State::kStatic : State::kDynamic;
    std::uint32_t victim = kNone;
    for (std::uint32_t i = 0, s = home(ip); i < kProbe; ++i, s = (s + 1) & mask_) {
      Entry& e = entries_[s];
      if (e.state == State::kEmpty || neighbor_detail::same(e.ip, ip)) {
        if (e.state == State::kStatic && !is_static) return false;
        const bool changed = e.state != state || e.mac != mac;  // pinning a dynamic entry is a change
        e = Entry{ip, mac, state};
        return changed;
      }
      if (victim == kNone && e.state == State::kDynamic) victim = s;
    }
    if (victim == kNone) return false;  // the window holds only static entries
    entries_[victim] = Entry{ip, mac, state};
    return true;
  }

  // Limits requests (ARP, or Neighbor Solicitations) for an unresolved address to one per interval.
  [[nodiscard]] bool may_request(const Address& ip, TimeNs now, TimeNs interval) {
    PendingSlot& p = pending_[neighbor_detail::digest(ip) & (kPending - 1)];
    if (neighbor_detail::same(p.ip, ip) && now < p.last + interval) return false;
    p = PendingSlot{ip, now};
    return true;
  }

 private:
  static constexpr std::uint32_t kProbe = 8;
  static constexpr std::uint32_t kNone = 0xffffffffu;
  static constexpr std::uint32_t kPending = 64;
  enum class State : std::uint8_t { kEmpty, kDynamic, kStatic };
  struct Entry {
    Address ip{};
    MacAddr mac;
    State state = State::kEmpty;
  };
  struct PendingSlot {
    Address ip{};
    TimeNs last = 0;
  };

  static std::size_t round_up_pow2(std::uint32_t n) {
    std::size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }
  [[nodiscard]] std::uint32_t home(const Address& ip) const {
    return (neighbor_detail::digest(ip) * 0x9e3779b1u) >> 7 & mask_;
  }

  std::vector<Entry> entries_;
  PendingSlot pending_[kPending]{};
  std::uint32_t mask_ = 0;
};

using NeighborCache = BasicNeighborCache<std::uint32_t>;  // IPv4, host order
using NeighborCache6 = BasicNeighborCache<Ipv6Addr>;

}  // namespace synwave
