#pragma once
// A latency histogram as the report gives it, and back: the figures a reader wants (count, min,
// mean, percentiles, max, in microseconds) and the non-empty buckets, which let `synwave merge`
// rebuild each instance's histogram exactly and merge them (merge.cpp). No DPDK here.
#include <nlohmann/json.hpp>

#include <string>

#include "synwave/latency_histogram.hpp"

namespace synwave::app {

// {"count", "min", "mean", "p50", "p90", "p99", "p99_9", "max"} in microseconds, "sum_ns",
// "clamped", and "buckets": [[lowest_ns, highest_ns, count], ...], the non-empty buckets in
// ascending order (README, "Latency histograms": scripts read this layout).
nlohmann::json histogram_json(const LatencyHistogram& h);

// Rebuilds into `out` (empty before) the histogram histogram_json wrote. Returns "" or what is
// wrong with `j`, in words (no buckets: a report from before they were written).
std::string histogram_from_json(const nlohmann::json& j, LatencyHistogram& out);

}  // namespace synwave::app
