#pragma once
// Opens client connections on one engine at a target rate (token bucket) under a concurrency cap,
// up to a total, cycling through this lcore's share of the source ports. Plain core code: the
// data plane calls poll() once per loop pass.
#include <cstdint>

#include "synwave/engine.hpp"
#include "synwave/time.hpp"

namespace synwave {

struct GeneratorConfig {
  std::uint32_t dst_ip = 0;
  std::uint16_t dst_port = 80;
  std::uint64_t rate = 0;              // connections per second; 0 = as fast as possible
  std::uint32_t concurrency = 1000;    // open connections at most
  std::uint64_t total = 0;             // connections to open; 0 = until stopped
  std::uint16_t port_first = 1024;     // source port range, inclusive
  std::uint16_t port_last = 65535;
  std::uint16_t share_count = 1;       // lcores sharing the range: this one takes ports where
  std::uint16_t share_index = 0;       //   (port - port_first) % share_count == share_index
  std::uint32_t burst = 32;            // opens per poll at most
};

struct GeneratorStats {
  std::uint64_t opened = 0;
  std::uint64_t tuple_busy = 0;        // a source port was still in use (any state, TIME_WAIT too)
  std::uint64_t neighbor_pending = 0;  // next hop not resolved yet
  std::uint64_t no_memory = 0;
  std::uint64_t no_route = 0;
};

class ConnectionGenerator {
 public:
  ConnectionGenerator(const GeneratorConfig& config, TimeNs now) : config_(config), last_refill_(now) {
    port_count_ = static_cast<std::uint32_t>(config_.port_last - config_.port_first + 1u);
    next_slot_ = config_.share_index;
  }

  // Opens what the bucket, the cap and the total allow. Returns the number opened.
  std::uint32_t poll(Engine& engine, TimeNs now) {
    if (finished()) return 0;
    refill(now);
    const Counters& c = engine.counters();
    const std::uint64_t active = c.conn_opened - c.conn_completed - c.conn_failed;
    std::uint32_t opened = 0;
    std::uint32_t attempts = 0;
    while (opened < config_.burst && attempts < config_.burst * 4 && active + opened < config_.concurrency &&
           !finished() && (config_.rate == 0 || tokens_ >= 1.0)) {
      ++attempts;
      const std::uint16_t port = static_cast<std::uint16_t>(config_.port_first + next_slot_);
      const OpenResult r = engine.open(config_.dst_ip, config_.dst_port, port, now);
      switch (r.error) {
        case OpenError::kOk:
          ++opened;
          ++stats_.opened;
          if (config_.rate != 0) tokens_ -= 1.0;
          advance_port();
          break;
        case OpenError::kTupleInUse:
          ++stats_.tuple_busy;
          advance_port();
          break;
        case OpenError::kNeighborPending: ++stats_.neighbor_pending; return opened;
        case OpenError::kNoMemory: ++stats_.no_memory; return opened;
        case OpenError::kNoRoute: ++stats_.no_route; return opened;
      }
    }
    return opened;
  }

  [[nodiscard]] bool finished() const { return config_.total != 0 && stats_.opened >= config_.total; }
  [[nodiscard]] const GeneratorStats& stats() const { return stats_; }

 private:
  void refill(TimeNs now) {
    if (config_.rate == 0 || now <= last_refill_) return;
    tokens_ += static_cast<double>(now - last_refill_) * static_cast<double>(config_.rate) / 1e9;
    const double cap = static_cast<double>(config_.burst);
    if (tokens_ > cap) tokens_ = cap;
    last_refill_ = now;
  }
  void advance_port() {
    next_slot_ += config_.share_count;
    if (next_slot_ >= port_count_) next_slot_ = config_.share_index;
  }

  GeneratorConfig config_;
  GeneratorStats stats_;
  TimeNs last_refill_;
  double tokens_ = 0;
  std::uint32_t port_count_ = 0;
  std::uint32_t next_slot_ = 0;
};

}  // namespace synwave
