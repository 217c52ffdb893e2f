#pragma once
// The data plane's clock: the TSC, converted to the core's nanoseconds with one multiply.
#include <rte_cycles.h>

#include <cstdint>

#include "synwave/time.hpp"

namespace synwave::dpdk {

class TscClock {
 public:
  TscClock() : start_(rte_rdtsc()), hz_(rte_get_tsc_hz()) {
    mult_ = static_cast<std::uint64_t>((static_cast<unsigned __int128>(kSecond) << 32) / hz_);
  }
  [[nodiscard]] TimeNs now() const { return at(rte_rdtsc()); }
  // The core's time at a TSC reading taken with rte_rdtsc() (one read serves the clock and the
  // busy accounting of a loop pass).
  [[nodiscard]] TimeNs at(std::uint64_t tsc) const { return to_ns(tsc - start_); }
  [[nodiscard]] TimeNs to_ns(std::uint64_t cycles) const {
    return static_cast<TimeNs>((static_cast<unsigned __int128>(cycles) * mult_) >> 32);
  }
  [[nodiscard]] std::uint64_t hz() const { return hz_; }
  [[nodiscard]] std::uint64_t start_cycles() const { return start_; }

 private:
  std::uint64_t start_;
  std::uint64_t hz_;
  std::uint64_t mult_ = 0;
};

}  // namespace synwave::dpdk
