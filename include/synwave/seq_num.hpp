#pragma once
// TCP sequence numbers live in a 2^32 circle (RFC 9293 §3.4): comparisons must be made on the
// signed distance, never on the raw values, or every connection breaks when its numbers wrap.
#include <cstdint>

namespace synwave {

class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(std::uint32_t raw) : raw_(raw) {}

  [[nodiscard]] constexpr std::uint32_t raw() const { return raw_; }

  constexpr SeqNum operator+(std::uint32_t n) const { return SeqNum(raw_ + n); }
  constexpr SeqNum operator-(std::uint32_t n) const { return SeqNum(raw_ - n); }
  constexpr SeqNum& operator+=(std::uint32_t n) { raw_ += n; return *this; }
  // Signed distance from other to this; meaningful while the two are within 2^31 of each other.
  constexpr std::int32_t operator-(SeqNum other) const {
    return static_cast<std::int32_t>(raw_ - other.raw_);
  }

  friend constexpr bool operator==(SeqNum a, SeqNum b) = default;
  friend constexpr bool operator<(SeqNum a, SeqNum b) { return (a - b) < 0; }
  friend constexpr bool operator<=(SeqNum a, SeqNum b) { return (a - b) <= 0; }
  friend constexpr bool operator>(SeqNum a, SeqNum b) { return (a - b) > 0; }
  friend constexpr bool operator>=(SeqNum a, SeqNum b) { return (a - b) >= 0; }

 private:
  std::uint32_t raw_ = 0;
};

// lo <= s < hi on the circle (an empty range when lo == hi).
[[nodiscard]] constexpr bool seq_in_range(SeqNum s, SeqNum lo, SeqNum hi) {
  return (s - lo) >= 0 && (hi - s) > 0;
}

[[nodiscard]] constexpr SeqNum seq_max(SeqNum a, SeqNum b) { return a > b ? a : b; }
[[nodiscard]] constexpr SeqNum seq_min(SeqNum a, SeqNum b) { return a < b ? a : b; }

}  // namespace synwave
