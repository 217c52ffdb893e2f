#pragma once
// A rate in events per second, paced by a token bucket on the caller's clock. Integers only
// (credit in event-nanoseconds, events x 1e9), so long runs do not drift.
//
// The depth bounds how far behind a late caller may catch up: a polling lcore preempted for a
// while makes up that much lost time in one go and no more, so a long stall never becomes a huge
// burst. On a shared machine a busy-polling lcore loses the CPU for tens of milliseconds at a time
// (at 10 ms, two flood lcores on two loaded cores sent 30 % below their rate; the scheduler's time
// slices are longer than that): 100 ms keeps the average rate.
#include <cstdint>

#include "synwave/time.hpp"

namespace synwave {

class TokenBucket {
 public:
  static constexpr TimeNs kDefaultDepth = 100 * kMillisecond;

  TokenBucket(std::uint64_t rate_per_s, TimeNs now, TimeNs depth = kDefaultDepth)
      : depth_(depth), last_refill_(now) {
    set_rate(rate_per_s);
  }

  // A new rate from now on (a ramp calls this as it climbs); credit already earned is kept.
  void set_rate(std::uint64_t rate_per_s) {
    rate_ = rate_per_s;
    const std::uint64_t depth = rate_ > ~std::uint64_t{0} / (depth_ + 1) ? ~std::uint64_t{0} / 4 : rate_ * depth_;
    cap_ = depth < kUnit ? kUnit : depth;  // at least one event, however slow the rate
    if (credit_ > cap_) credit_ = cap_;
  }

  // Earns credit up to now, then takes up to `max` whole events from it.
  [[nodiscard]] std::uint64_t take(TimeNs now, std::uint64_t max) {
    refill(now);
    std::uint64_t n = credit_ / kUnit;
    if (n > max) n = max;
    credit_ -= n * kUnit;
    return n;
  }
  // Returns events taken but not used.
  void give_back(std::uint64_t n) {
    credit_ += n * kUnit;
    if (credit_ > cap_) credit_ = cap_;
  }
  // Forgets credit earned so far: the rate starts from `now`, not with a burst for the time
  // spent before (start-up, a pause).
  void restart(TimeNs now) {
    credit_ = 0;
    last_refill_ = now;
  }

 private:
  static constexpr std::uint64_t kUnit = 1'000'000'000;  // one event in event-nanoseconds

  void refill(TimeNs now) {
    if (now <= last_refill_) return;
    // Bounded before multiplying: the credit never passes the cap, and the product never wraps.
    std::uint64_t dt = now - last_refill_;
    const std::uint64_t max_dt = rate_ == 0 ? 0 : cap_ / rate_ + 1;
    if (dt > max_dt) dt = max_dt;
    credit_ += dt * rate_;
    if (credit_ > cap_) credit_ = cap_;
    last_refill_ = now;
  }

  std::uint64_t rate_ = 0;
  TimeNs depth_;
  std::uint64_t cap_ = kUnit;
  std::uint64_t credit_ = 0;
  TimeNs last_refill_;
};

}  // namespace synwave
