#pragma once
// Opens client connections on one engine at a target rate (token bucket, optional linear ramp)
// under a concurrency cap, up to a total, walking this lcore's share of the tuple space:
// source addresses x source ports x destinations. Plain core code: the data plane calls poll()
// once per loop pass.
//
// A run is of one family, IPv4 or IPv6 (its destinations say which): the walk is the same, and
// the family is chosen once per poll, outside the loop over tuples, so the IPv4 loop does no
// work for IPv6.
//
// A tuple is never reused while the engine still holds it (open() refuses any tuple in the flow
// table, TIME-WAIT included). The walk is a fixed cycle, so the tuple under the cursor is the
// one used longest ago, which is the first to leave TIME-WAIT: when a whole cycle finds nothing
// free, the space is exhausted, and the generator waits on that one tuple instead of scanning.
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "synwave/byte_order.hpp"
#include "synwave/engine.hpp"
#include "synwave/rss_steering.hpp"
#include "synwave/time.hpp"
#include "synwave/token_bucket.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave {

struct Destination {
  std::uint32_t ip = 0;  // host order
  std::uint16_t port = 0;
};

struct Destination6 {
  Ipv6Addr ip{};
  std::uint16_t port = 0;
};

// Which source ports of the range belong to this lcore.
struct PortShare {
  std::uint16_t count = 1;  // lcores sharing the range: this one takes ports where
  std::uint16_t index = 0;  //   (port - port_first) % count == index
};

// One phase of a run, the way load-test profiles are scripted (ramp up, hold, ramp down): for
// `duration` the rate goes linearly from rate_from to rate_to connections per second (both 0: as
// fast as the cap allows), with at most `concurrency` connections open (a lower cap than the
// previous phase's closes none: it only holds new opens back until enough have ended).
struct GeneratorPhase {
  TimeNs duration = 0;
  std::uint64_t rate_from = 0;
  std::uint64_t rate_to = 0;
  std::uint32_t concurrency = 1000;
  std::uint8_t workload = 0;  // what its connections do (Engine::use_workload)
};

struct GeneratorConfig {
  // At least one destination, of one family: IPv4 ones, or IPv6 ones (then `destinations` is
  // empty and the run is IPv6).
  std::vector<Destination> destinations;
  std::vector<Destination6> destinations6;
  std::uint32_t src_ip_first = 0;         // source addresses: the engine must own them all
  std::uint32_t src_ip_count = 1;         //   (count: of either family)
  Ipv6Addr src_ip6_first{};               // an IPv6 run's first source address, its last 32 bits counted up
  std::uint16_t port_first = 1024;        // source port range, inclusive
  std::uint16_t port_last = 65535;
  PortShare share;
  // On a port with RSS: only tuples whose replies the NIC brings back to this lcore's queue (the
  // share is then the whole range, since RSS splits the tuples among the queues). Not owned.
  // An IPv6 run needs one whose key covers the IPv6 hash (RssSteering::steers_ipv6).
  const RssSteering* steering = nullptr;
  std::uint64_t rate = 0;                 // connections per second; 0 = as fast as possible
  TimeNs ramp = 0;                        // the rate climbs linearly from 0 over this long
  std::uint32_t concurrency = 1000;       // open connections at most
  std::uint64_t total = 0;                // connections to open; 0 = until stopped
  std::uint32_t burst = 32;               // opens per poll at most
  // When set, the run follows these one after the other from start() (rate, ramp and concurrency
  // above are then unused), and opens nothing once the last has ended.
  std::vector<GeneratorPhase> phases;

  [[nodiscard]] bool ipv6() const { return !destinations6.empty(); }
  [[nodiscard]] std::size_t destination_count() const { return ipv6() ? destinations6.size() : destinations.size(); }
};

struct GeneratorStats {
  std::uint64_t opened = 0;
  std::uint64_t tuple_busy = 0;        // a tuple was still in use (any state, TIME_WAIT too): skipped
  std::uint64_t tuple_exhausted = 0;   // times a whole cycle of the tuple space found nothing free
  std::uint64_t neighbor_pending = 0;  // next hop not resolved yet
  std::uint64_t no_memory = 0;
  std::uint64_t no_route = 0;
  bool exhausted_now = false;          // waiting for a tuple to come free

  GeneratorStats& operator+=(const GeneratorStats& o) {
    opened += o.opened;
    tuple_busy += o.tuple_busy;
    tuple_exhausted += o.tuple_exhausted;
    neighbor_pending += o.neighbor_pending;
    no_memory += o.no_memory;
    no_route += o.no_route;
    exhausted_now = exhausted_now || o.exhausted_now;
    return *this;
  }
};

class ConnectionGenerator {
 public:
  ConnectionGenerator(const GeneratorConfig& config, TimeNs now)
      : config_(config), started_(now), bucket_(config.ramp != 0 ? 0 : config.rate, now), ramping_(config.ramp != 0) {
    if (config_.destinations.empty() && config_.destinations6.empty()) config_.destinations.push_back({});
    ipv6_ = config_.ipv6();
    if (ipv6_ && config_.steering != nullptr && !config_.steering->steers_ipv6()) {
      throw std::invalid_argument("RSS steering of an IPv6 run needs a 40-byte key");
    }
    destination_count_ = static_cast<std::uint32_t>(config_.destination_count());
    if (config_.src_ip_count == 0) config_.src_ip_count = 1;
    if (config_.share.count == 0) config_.share.count = 1;
    const std::uint32_t ports = static_cast<std::uint32_t>(config_.port_last - config_.port_first + 1u);
    port_slots_ = ports;
    cursor_.port_slot = config_.share.index;
    const std::uint32_t mine = ports / config_.share.count + (config_.share.index < ports % config_.share.count ? 1 : 0);
    tuples_ = static_cast<std::uint64_t>(mine) * config_.src_ip_count * destination_count_;
    if (config_.steering != nullptr) tuples_ = steered_tuples();
    phase_started_ = now;
    if (!config_.phases.empty()) enter_phase();
  }

  // The run's clock starts (the phases and the ramp count from here); `now` may be a later
  // instant than the present, which poll() waits for.
  void start(TimeNs now) {
    started_ = now;
    phase_ = 0;
    phase_started_ = now;
    bucket_.restart(now);
    if (!config_.phases.empty()) enter_phase();
  }

  // Opens what the bucket, the cap and the total allow. Returns the number opened. Before the
  // start (start() given a later instant: --start-at) it opens nothing and resolves the next hops
  // of its destinations, so the run begins with ARP done.
  std::uint32_t poll(Engine& engine, TimeNs now) {
    if (now < started_) [[unlikely]] {
      while (resolved_ < destination_count_ && (ipv6_ ? engine.resolve_next_hop(config_.destinations6[resolved_].ip, now)
                                                      : engine.resolve_next_hop(config_.destinations[resolved_].ip, now))) {
        ++resolved_;
      }
      return 0;
    }
    if (!config_.phases.empty() && !follow_phases(engine, now)) return 0;
    if (finished() || tuples_ == 0) return 0;
    const Counters& c = engine.counters();
    const std::uint64_t active = c.conn_opened - c.conn_completed - c.conn_failed;
    if (active >= config_.concurrency) return 0;
    const std::uint32_t allowed = config_.rate == 0 ? config_.burst : take_tokens(now);
    const std::uint64_t pending_before = stats_.neighbor_pending;
    const std::uint32_t opened =
        ipv6_ ? open_up_to<true>(engine, allowed, active, now) : open_up_to<false>(engine, allowed, active, now);
    if (config_.rate == 0) return opened;
    // Credit earned while the next hop was unknown (ARP at start-up) is not kept: banked, it would
    // leave as one burst of up to the bucket's depth the moment ARP answers, and a server sized
    // for the rate sheds the excess (seen in overload.sh: 266 SYNs shed at half its capacity).
    if (stats_.neighbor_pending != pending_before) bucket_.restart(now);
    else bucket_.give_back(allowed - opened);
    return opened;
  }

  [[nodiscard]] bool finished() const {
    return (config_.total != 0 && stats_.opened >= config_.total) || (!config_.phases.empty() && phase_ >= config_.phases.size());
  }
  // The phase under way (phases().size() once they are over).
  [[nodiscard]] std::size_t phase() const { return phase_; }
  [[nodiscard]] const GeneratorStats& stats() const { return stats_; }
  // Tuples in this lcore's share of the space.
  [[nodiscard]] std::uint64_t tuples() const { return tuples_; }

 private:
  // Requests the flow-table slots of the next `count` tuples of the walk, so the lookups of the
  // opens that follow overlap their cache misses (the slot of a tuple last used a whole cycle
  // ago is never in cache).
  template <bool kIpv6>
  void prefetch_next(const Engine& engine, std::uint32_t count) const {
    Cursor c = cursor_;
    for (std::uint32_t i = 0; i < count; ++i) {
      const auto port = static_cast<std::uint16_t>(config_.port_first + c.port_slot);
      if constexpr (kIpv6) {
        const Destination6& d = config_.destinations6[c.dst];
        engine.prefetch_flow(engine.flow_key(source6(c.src), d.ip, port, d.port));
      } else {
        const Destination& d = config_.destinations[c.dst];
        engine.prefetch_flow(FlowKey{config_.src_ip_first + c.src, d.ip, port, d.port});
      }
      advance(c);
    }
  }

  // The i-th IPv6 source address: the first with i added to its last 32 bits (as the engine
  // counts its source range, EngineConfig::source_ip6_first).
  [[nodiscard]] Ipv6Addr source6(std::uint32_t i) const {
    Ipv6Addr a = config_.src_ip6_first;
    store_be32(a.data() + 12, load_be32(a.data() + 12) + i);
    return a;
  }

  // kIpv6: the run's family, chosen by the caller once per poll.
  template <bool kIpv6>
  std::uint32_t open_up_to(Engine& engine, std::uint32_t allowed, std::uint64_t active, TimeNs now) {
    std::uint32_t opened = 0;
    if (!waiting_on_oldest_) prefetch_next<kIpv6>(engine, std::min<std::uint64_t>(allowed, config_.concurrency - active));
    // Exhausted: only the oldest tuple can come free next, so one try per poll.
    const std::uint32_t max_attempts = waiting_on_oldest_ ? 1 : config_.burst * 4;
    std::uint32_t attempts = 0;
    std::uint32_t scanned = 0;  // tuples looked at, steered elsewhere or not
    while (opened < allowed && attempts < max_attempts && scanned < kMaxScanPerPoll &&
           active + opened < config_.concurrency && !finished()) {
      ++scanned;
      const auto port = static_cast<std::uint16_t>(config_.port_first + cursor_.port_slot);
      OpenResult r;
      if constexpr (kIpv6) {
        const Destination6& d = config_.destinations6[cursor_.dst];
        const Ipv6Addr src = source6(cursor_.src);
        if (config_.steering != nullptr && !config_.steering->reply_lands_here_ipv6(src, port, d.ip, d.port)) {
          advance(cursor_);
          continue;
        }
        ++attempts;
        r = engine.open(d.ip, d.port, src, port, now);
      } else {
        const Destination& d = config_.destinations[cursor_.dst];
        const std::uint32_t src = config_.src_ip_first + cursor_.src;
        if (config_.steering != nullptr && !config_.steering->reply_lands_here(src, port, d.ip, d.port)) {
          advance(cursor_);
          continue;
        }
        ++attempts;
        r = engine.open(d.ip, d.port, src, port, now);
      }
      switch (r.error) {
        case OpenError::kOk:
          ++opened;
          ++stats_.opened;
          busy_streak_ = 0;
          stats_.exhausted_now = false;
          waiting_on_oldest_ = false;
          advance(cursor_);
          break;
        case OpenError::kTupleInUse:
          ++stats_.tuple_busy;
          if (waiting_on_oldest_) {
            // Stay on the oldest tuple, unless something holds it long (a stuck connection):
            // then walk on, and wait again after the next full cycle.
            if (now - exhausted_since_ < kMaxWaitOnOneTuple) return opened;
            waiting_on_oldest_ = false;
          } else if (++busy_streak_ >= tuples_) {
            if (!stats_.exhausted_now) ++stats_.tuple_exhausted;  // once per episode
            stats_.exhausted_now = true;
            waiting_on_oldest_ = true;
            exhausted_since_ = now;
            busy_streak_ = 0;
            return opened;
          }
          advance(cursor_);
          break;
        case OpenError::kNeighborPending: ++stats_.neighbor_pending; return opened;
        case OpenError::kNoMemory: ++stats_.no_memory; return opened;
        case OpenError::kNoRoute:
        case OpenError::kNotLocal: ++stats_.no_route; return opened;
      }
    }
    return opened;
  }

  // Tuples whose replies land here: counted one by one up to a few million (about 2 ns each),
  // estimated beyond from the share of redirection-table entries that name our queue.
  std::uint64_t steered_tuples() const {
    const RssSteering& s = *config_.steering;
    constexpr std::uint64_t kCountUpTo = 1u << 22;
    if (tuples_ > kCountUpTo) return tuples_ * s.entries_here() / s.reta().size();
    std::uint64_t n = 0;
    if (ipv6_) {
      for (const Destination6& d : config_.destinations6) {
        for (std::uint32_t i = 0; i < config_.src_ip_count; ++i) {
          const std::uint32_t partial = s.reply_hash_without_local_port_ipv6(source6(i), d.ip, d.port);
          for (std::uint32_t p = config_.port_first; p <= config_.port_last; ++p) {
            n += s.local_port_lands_here_ipv6(partial, static_cast<std::uint16_t>(p)) ? 1 : 0;
          }
        }
      }
      return n;
    }
    for (const Destination& d : config_.destinations) {
      for (std::uint32_t i = 0; i < config_.src_ip_count; ++i) {
        const std::uint32_t partial = s.reply_hash_without_local_port(config_.src_ip_first + i, d.ip, d.port);
        for (std::uint32_t p = config_.port_first; p <= config_.port_last; ++p) {
          n += s.local_port_lands_here(partial, static_cast<std::uint16_t>(p)) ? 1 : 0;
        }
      }
    }
    return n;
  }
  // Moves to the phase `now` falls in and sets the cap, the rate and the workload it says. False
  // while the rate is 0 within a ramp (nothing to open yet) and once every phase has ended.
  bool follow_phases(Engine& engine, TimeNs now) {
    while (phase_ < config_.phases.size() && now - phase_started_ >= config_.phases[phase_].duration) {
      phase_started_ += config_.phases[phase_].duration;
      ++phase_;
      if (phase_ < config_.phases.size()) enter_phase();
    }
    if (phase_ >= config_.phases.size()) return false;
    const GeneratorPhase& p = config_.phases[phase_];
    engine.use_workload(p.workload);
    if (p.rate_from == p.rate_to) return true;  // a hold: enter_phase set the rate
    const double share = static_cast<double>(now - phase_started_) / static_cast<double>(p.duration);
    const double rate = static_cast<double>(p.rate_from) + (static_cast<double>(p.rate_to) - static_cast<double>(p.rate_from)) * share;
    const auto current = static_cast<std::uint64_t>(rate);
    bucket_.set_rate(current);
    return current != 0;
  }
  void enter_phase() {
    const GeneratorPhase& p = config_.phases[phase_];
    config_.concurrency = p.concurrency;
    config_.rate = std::max(p.rate_from, p.rate_to);  // nonzero: the bucket decides (0: no limit)
    ramping_ = false;
    bucket_.set_rate(p.rate_from);
  }

  std::uint32_t take_tokens(TimeNs now) {
    if (ramping_) {
      const bool climbing = now - started_ < config_.ramp;
      const double share = climbing ? static_cast<double>(now - started_) / static_cast<double>(config_.ramp) : 1.0;
      bucket_.set_rate(static_cast<std::uint64_t>(static_cast<double>(config_.rate) * share));
      ramping_ = climbing;
    }
    return static_cast<std::uint32_t>(bucket_.take(now, config_.burst));
  }
  // Where the walk stands: destination, source address and port slot indices.
  struct Cursor {
    std::uint32_t dst = 0;
    std::uint32_t src = 0;
    std::uint32_t port_slot = 0;
  };
  // Destinations vary fastest (consecutive opens spread over the servers), then source
  // addresses, then this lcore's ports.
  void advance(Cursor& c) const {
    if (++c.dst < destination_count_) return;
    c.dst = 0;
    if (++c.src < config_.src_ip_count) return;
    c.src = 0;
    c.port_slot += config_.share.count;
    if (c.port_slot >= port_slots_) c.port_slot = config_.share.index;
  }

  static constexpr TimeNs kMaxWaitOnOneTuple = 10 * kMillisecond;
  static constexpr std::uint32_t kMaxScanPerPoll = 4096;

  GeneratorConfig config_;
  GeneratorStats stats_;
  TimeNs started_;
  std::size_t resolved_ = 0;  // destinations whose next hop is known (resolved before a later start)
  std::size_t phase_ = 0;
  TimeNs phase_started_ = 0;
  TimeNs exhausted_since_ = 0;
  TokenBucket bucket_;
  bool ramping_ = false;
  std::uint64_t tuples_ = 0;
  bool ipv6_ = false;                   // the run's family (GeneratorConfig::ipv6)
  std::uint32_t destination_count_ = 0;  // of that family
  std::uint64_t busy_streak_ = 0;
  bool waiting_on_oldest_ = false;
  std::uint32_t port_slots_ = 0;
  Cursor cursor_;
};

}  // namespace synwave
