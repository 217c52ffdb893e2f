#pragma once
// A fixed-size latency histogram in nanoseconds (HdrHistogram's log-linear layout): O(1) record
// with one count-leading-zeros, percentiles within 0.79 % of the exact value, no allocation ever,
// trivially copyable (a worker publishes it through a seqlock by plain copy).
//
// Bucket layout, with S = 64 linear sub-buckets per power of two:
//
//   values 0 .. 127            one bucket per value (exact)                   indices    0 ..  127
//   octave [2^e, 2^(e+1)), e>=7 64 buckets of width 2^(e-6)                    indices 64(e-5) .. +63
//   highest trackable 2^40 - 1 (~18.3 min); larger values count in the top bucket (clamped()).
//
//   index(v) = shift * 64 + (v >> shift), shift = max(0, floor(log2 v) - 6)
//   buckets  = 128 + 33 octaves (e = 7 .. 39) * 64 = 2240, counts uint64 => 17.5 KiB
//
// Error bound: a bucket of width w = 2^(e-6) holds values >= 2^e, and a percentile reports its
// midpoint, so |reported - true| <= w/2 <= 2^e / 128, a relative error <= 1/128 = 0.78 %.
// That is the smallest power-of-two layout meeting 1 %: 32 sub-buckets would give 1.56 %, and
// reporting a bucket edge instead of the midpoint would need 128 sub-buckets (twice the size).
// Counts are 64-bit: a 32-bit bucket overflows after 4.3e9 records, 72 minutes at 1M records/s
// into one bucket, which a soak run reaches; the size is paid only where the histogram is
// copied, which the data plane does ten times a second (stats_slot.hpp).
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace synwave {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBucketBits = 6;
  static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << kSubBucketBits;
  static constexpr unsigned kHighestBit = 40;
  static constexpr std::uint64_t kHighestTrackable = (std::uint64_t{1} << kHighestBit) - 1;
  static constexpr std::size_t kBuckets = (kHighestBit - kSubBucketBits + 1) * kSubBuckets;  // 2240

  void record(std::uint64_t ns) {
    if (ns < min_) min_ = ns;
    if (ns > max_) max_ = ns;
    sum_ += ns;
    ++count_;
    if (ns > kHighestTrackable) {
      ++clamped_;
      ns = kHighestTrackable;
    }
    ++counts_[bucket_of(ns)];
  }

  // this += other: the same as having recorded both streams into one histogram.
  void merge(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    clamped_ += other.clamped_;
    if (other.min_ < min_) min_ = other.min_;
    if (other.max_ > max_) max_ = other.max_;
  }

  // this -= earlier, where earlier is a previous copy of this same (only growing) histogram: what
  // was recorded in between. min and max of the difference are not known exactly; they become
  // the edges of its lowest and highest non-empty buckets (within the same 0.78 %).
  void subtract(const LatencyHistogram& earlier) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] -= earlier.counts_[i];
    count_ -= earlier.count_;
    sum_ -= earlier.sum_;
    clamped_ -= earlier.clamped_;
    const std::uint64_t cumulative_max = max_;
    min_ = kEmptyMin;
    max_ = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      if (counts_[i] == 0) continue;
      if (min_ == kEmptyMin) min_ = bucket_lowest(i);
      max_ = bucket_highest(i);
    }
    // The cumulative max bounds the difference's from above, and is the only bound clamped
    // values have.
    if (max_ > cumulative_max || clamped_ > 0) max_ = cumulative_max;
  }

  void reset() { *this = LatencyHistogram{}; }

  // Rebuilding a histogram from what a report keeps of it (its non-empty buckets and totals), so
  // that reports merge exactly: the counts go back bucket by bucket (index: bucket_of), then the
  // totals the buckets cannot give (min, max and sum are exact; clamped values sit in the top bucket).
  void add_to_bucket(std::size_t index, std::uint64_t n) {
    counts_[index] += n;
    count_ += n;
  }
  void restore_totals(std::uint64_t min, std::uint64_t max, std::uint64_t sum, std::uint64_t clamped) {
    if (count_ > 0) {  // an empty histogram keeps its "no minimum yet"
      min_ = min;
      max_ = max;
    }
    sum_ = sum;
    clamped_ = clamped;
  }
  [[nodiscard]] std::uint64_t sum() const { return sum_; }

  [[nodiscard]] std::uint64_t count() const { return count_; }
  // Values above kHighestTrackable (counted in the top bucket; min, max and mean keep them whole).
  [[nodiscard]] std::uint64_t clamped() const { return clamped_; }
  [[nodiscard]] std::uint64_t min() const { return count_ == 0 ? 0 : min_; }
  [[nodiscard]] std::uint64_t max() const { return max_; }
  [[nodiscard]] double mean() const {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
  }

  // The value at or below which p percent of the records lie (nearest rank, as a sorted array's
  // element ceil(p/100 * count) - 1), within 0.78 %; 0 when empty. p = 100 is max() exactly.
  [[nodiscard]] std::uint64_t value_at_percentile(double p) const {
    if (count_ == 0) return 0;
    if (p >= 100.0) return max_;
    if (p < 0.0) p = 0.0;
    // Ceiling of p/100 * count, computed so that a product that should be an integer (p = 50,
    // count = 1000) is not pushed to the next rank by rounding.
    const double exact = p / 100.0 * static_cast<double>(count_);
    auto rank = static_cast<std::uint64_t>(exact);
    if (static_cast<double>(rank) < exact - 1e-9 * exact) ++rank;
    if (rank == 0) rank = 1;
    if (rank > count_) rank = count_;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        const std::uint64_t lo = bucket_lowest(i);
        const std::uint64_t mid = lo + (bucket_highest(i) - lo + 1) / 2;
        // The true value also lies within [min, max]: clamping only brings the answer closer.
        if (mid < min_) return min_;
        if (mid > max_) return max_;
        return mid;
      }
    }
    return max_;
  }

  // The layout, exposed for tests and for anyone walking the buckets.
  [[nodiscard]] static constexpr std::size_t bucket_of(std::uint64_t ns) {
    // ns | 127 puts values below 128 in the shift-0 range, so log2 is never taken of 0.
    const unsigned log2 = 63u - static_cast<unsigned>(std::countl_zero(ns | (2 * kSubBuckets - 1)));
    const unsigned shift = log2 - kSubBucketBits;
    return static_cast<std::size_t>(shift) * kSubBuckets + static_cast<std::size_t>(ns >> shift);
  }
  [[nodiscard]] static constexpr std::uint64_t bucket_lowest(std::size_t index) {
    const std::size_t block = index >> kSubBucketBits;
    const unsigned shift = block == 0 ? 0u : static_cast<unsigned>(block - 1);
    return static_cast<std::uint64_t>(index - shift * kSubBuckets) << shift;
  }
  [[nodiscard]] static constexpr std::uint64_t bucket_highest(std::size_t index) {
    const std::size_t block = index >> kSubBucketBits;
    const unsigned shift = block == 0 ? 0u : static_cast<unsigned>(block - 1);
    return bucket_lowest(index) + (std::uint64_t{1} << shift) - 1;
  }
  [[nodiscard]] std::uint64_t count_in_bucket(std::size_t index) const { return counts_[index]; }

 private:
  static constexpr std::uint64_t kEmptyMin = ~std::uint64_t{0};

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t clamped_ = 0;
  std::uint64_t min_ = kEmptyMin;
  std::uint64_t max_ = 0;
};

static_assert(std::is_trivially_copyable_v<LatencyHistogram>);
static_assert(LatencyHistogram::bucket_of(LatencyHistogram::kHighestTrackable) == LatencyHistogram::kBuckets - 1);
static_assert(LatencyHistogram::bucket_lowest(LatencyHistogram::bucket_of(1000)) <= 1000);

// The latencies one engine measures, client side (engine.hpp says where each starts and stops).
struct LatencyStats {
  LatencyHistogram connect;      // first SYN sent -> ESTABLISHED, retransmissions included
  LatencyHistogram transaction;  // ESTABLISHED (request starts) -> response complete

  void merge(const LatencyStats& o) {
    connect.merge(o.connect);
    transaction.merge(o.transaction);
  }
  void subtract(const LatencyStats& earlier) {
    connect.subtract(earlier.connect);
    transaction.subtract(earlier.transaction);
  }
};

}  // namespace synwave
