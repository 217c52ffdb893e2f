#include "histogram_json.hpp"

#include <cmath>
#include <cstdint>

namespace synwave::app {

namespace {

double to_us(std::uint64_t ns) { return static_cast<double>(ns) / 1e3; }

// min and max are written in microseconds (a double: ns / 1000, printed to the last digit), which
// gives back the exact nanoseconds for any value the histogram tracks (below 2^40 ns).
bool ns_of_us(const nlohmann::json& v, std::uint64_t& ns) {
  if (!v.is_number()) return false;
  const double us = v.get<double>();
  if (!(us >= 0)) return false;
  ns = static_cast<std::uint64_t>(std::llround(us * 1e3));
  return true;
}

bool unsigned_of(const nlohmann::json& v, std::uint64_t& out) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) return false;
  out = v.get<std::uint64_t>();
  return true;
}

}  // namespace

nlohmann::json histogram_json(const LatencyHistogram& h) {
  nlohmann::json buckets = nlohmann::json::array();
  for (std::size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    const std::uint64_t n = h.count_in_bucket(i);
    if (n != 0) buckets.push_back({LatencyHistogram::bucket_lowest(i), LatencyHistogram::bucket_highest(i), n});
  }
  return {{"count", h.count()},
          {"min", to_us(h.min())},
          {"mean", h.mean() / 1e3},
          {"p50", to_us(h.value_at_percentile(50))},
          {"p90", to_us(h.value_at_percentile(90))},
          {"p99", to_us(h.value_at_percentile(99))},
          {"p99_9", to_us(h.value_at_percentile(99.9))},
          {"max", to_us(h.max())},
          {"sum_ns", h.sum()},
          {"clamped", h.clamped()},
          {"buckets", std::move(buckets)}};
}

std::string histogram_from_json(const nlohmann::json& j, LatencyHistogram& out) {
  if (!j.is_object()) return "is not an object";
  if (!j.contains("buckets")) {
    return "has no \"buckets\" (a report from a synwave that wrote percentiles only): run the instances again with "
           "this synwave to merge their latencies";
  }
  const nlohmann::json& buckets = j["buckets"];
  if (!buckets.is_array()) return "has \"buckets\" that is not an array";
  for (const nlohmann::json& b : buckets) {
    std::uint64_t lowest = 0;
    std::uint64_t highest = 0;
    std::uint64_t n = 0;
    if (!b.is_array() || b.size() != 3 || !unsigned_of(b[0], lowest) || !unsigned_of(b[1], highest) ||
        !unsigned_of(b[2], n)) {
      return "has a bucket that is not [lowest_ns, highest_ns, count]: " + b.dump();
    }
    // The buckets must be this synwave's layout (kSubBuckets per power of two): one from another
    // layout would be filed in the wrong place without a word.
    const std::size_t index = LatencyHistogram::bucket_of(lowest);
    if (lowest > LatencyHistogram::kHighestTrackable || LatencyHistogram::bucket_lowest(index) != lowest ||
        LatencyHistogram::bucket_highest(index) != highest) {
      return "has a bucket " + b.dump() + " that is not one of this synwave's histogram layout";
    }
    out.add_to_bucket(index, n);
  }
  std::uint64_t count = 0;
  std::uint64_t sum = 0;
  std::uint64_t clamped = 0;
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  if (!j.contains("count") || !unsigned_of(j["count"], count)) return "has no \"count\"";
  if (count != out.count()) {
    return "says \"count\": " + std::to_string(count) + " but its buckets hold " + std::to_string(out.count());
  }
  if (!j.contains("sum_ns") || !unsigned_of(j["sum_ns"], sum)) return "has no \"sum_ns\"";
  if (!j.contains("clamped") || !unsigned_of(j["clamped"], clamped)) return "has no \"clamped\"";
  if (!j.contains("min") || !ns_of_us(j["min"], min) || !j.contains("max") || !ns_of_us(j["max"], max)) {
    return "has no \"min\" or \"max\"";
  }
  out.restore_totals(min, max, sum, clamped);
  return {};
}

}  // namespace synwave::app
