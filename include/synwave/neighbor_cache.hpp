#pragma once
// IPv4 → MAC for the next hop (RFC 826). Fixed size, open addressing over a short probe window;
// when the window is full the home slot is overwritten, so a flood of new sources can churn the
// cache but never grow it. Static entries (from the configuration) are never overwritten.
#include <cstdint>
#include <vector>

#include "synwave/time.hpp"
#include "synwave/wire/ethernet.hpp"

namespace synwave {

class NeighborCache {
 public:
  explicit NeighborCache(std::uint32_t capacity) : entries_(round_up_pow2(capacity < 8 ? 8 : capacity)) {
    mask_ = static_cast<std::uint32_t>(entries_.size() - 1);
  }

  // Returns nullptr when ip is unknown.
  [[nodiscard]] const MacAddr* find(std::uint32_t ip) const {
    for (std::uint32_t i = 0, s = home(ip); i < kProbe; ++i, s = (s + 1) & mask_) {
      const Entry& e = entries_[s];
      if (e.ip == ip && e.state != State::kEmpty) return &e.mac;
      if (e.state == State::kEmpty) return nullptr;
    }
    return nullptr;
  }

  // Learn or refresh an entry. Returns true when something changed.
  bool learn(std::uint32_t ip, const MacAddr& mac, bool is_static = false) {
    if (ip == 0) return false;
    const State state = is_static ? State::kStatic : State::kDynamic;
    std::uint32_t victim = kNone;
    for (std::uint32_t i = 0, s = home(ip); i < kProbe; ++i, s = (s + 1) & mask_) {
      Entry& e = entries_[s];
      if (e.state == State::kEmpty || e.ip == ip) {
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

  // Limits ARP requests for an unresolved address to one per interval.
  [[nodiscard]] bool may_request(std::uint32_t ip, TimeNs now, TimeNs interval) {
    PendingSlot& p = pending_[ip & (kPending - 1)];
    if (p.ip == ip && now < p.last + interval) return false;
    p = PendingSlot{ip, now};
    return true;
  }

 private:
  static constexpr std::uint32_t kProbe = 8;
  static constexpr std::uint32_t kNone = 0xffffffffu;
  static constexpr std::uint32_t kPending = 64;
  enum class State : std::uint8_t { kEmpty, kDynamic, kStatic };
  struct Entry {
    std::uint32_t ip = 0;
    MacAddr mac;
    State state = State::kEmpty;
  };
  struct PendingSlot {
    std::uint32_t ip = 0;
    TimeNs last = 0;
  };

  static std::size_t round_up_pow2(std::uint32_t n) {
    std::size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }
  [[nodiscard]] std::uint32_t home(std::uint32_t ip) const { return (ip * 0x9e3779b1u) >> 7 & mask_; }

  std::vector<Entry> entries_;
  PendingSlot pending_[kPending]{};
  std::uint32_t mask_ = 0;
};

}  // namespace synwave
