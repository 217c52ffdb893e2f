#pragma once
// Time inside the core is a plain value in nanoseconds, always passed in by the caller
// (a test clock, or the TSC converted by the data plane). The core never reads a clock.
#include <cstdint>

namespace synwave {

using TimeNs = std::uint64_t;

inline constexpr TimeNs kNanosecond = 1;
inline constexpr TimeNs kMicrosecond = 1000;
inline constexpr TimeNs kMillisecond = 1000 * kMicrosecond;
inline constexpr TimeNs kSecond = 1000 * kMillisecond;
inline constexpr TimeNs kNever = ~TimeNs{0};

}  // namespace synwave
