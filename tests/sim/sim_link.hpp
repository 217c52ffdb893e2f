#pragma once
// The faulty wire between two simulated engines: per direction, a queue of frames in flight,
// each with the virtual time it arrives. Every fault is drawn from one seeded std::mt19937_64,
// and the draws are converted without <random>'s distributions (whose output differs between
// standard libraries), so a seed names one exact run on any platform.
#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "support/test_io.hpp"
#include "synwave/time.hpp"
#include "synwave/wire/ethernet.hpp"

namespace synwave::test {

enum class Direction : std::uint8_t { kClientToServer = 0, kServerToClient = 1 };

struct LinkFaults {
  double loss = 0.0;       // probability a frame vanishes
  double duplicate = 0.0;  // probability a frame arrives twice (each copy draws its own delay and corruption)
  double reorder = 0.0;    // probability a frame is held back by an extra random delay, letting later ones pass
  double corrupt = 0.0;    // probability one byte of the IP packet is flipped
  TimeNs delay = 500 * kMicrosecond;          // fixed one-way delay
  TimeNs jitter = 0;                          // plus uniform [0, jitter]; order is kept (see below)
  TimeNs reorder_delay = 20 * kMillisecond;   // the extra delay of a reordered frame: uniform [1 µs, this]
};

struct LinkStats {
  std::uint64_t sent = 0;        // frames handed to the link
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;  // extra copies made
  std::uint64_t reordered = 0;   // copies held back
  std::uint64_t corrupted = 0;   // copies with a flipped byte
  // Of those, IPv6 copies flipped where no checksum looks (traffic class, flow label, hop
  // limit): rightly taken as they are.
  std::uint64_t corrupted_unchecked = 0;
  std::uint64_t delivered = 0;   // copies handed to the receiving engine
  friend bool operator==(const LinkStats&, const LinkStats&) = default;
};

class SimLink {
 public:
  SimLink(const LinkFaults& faults, std::uint64_t seed) : rng_(seed) { set_faults(faults); }

  // A frame leaves one engine at `now`.
  void send(Direction dir, Bytes frame, TimeNs now) {
    Lane& lane = lanes_[index(dir)];
    ++lane.stats.sent;
    if (chance(lane.faults.loss)) {
      ++lane.stats.lost;
      return;
    }
    if (chance(lane.faults.duplicate)) {
      ++lane.stats.duplicated;
      schedule(lane, Bytes(frame), now);
    }
    schedule(lane, std::move(frame), now);
  }

  // Arrival time of the next frame in either direction, kNever when nothing is in flight.
  [[nodiscard]] TimeNs next_delivery() const {
    return std::min(lanes_[0].next_time(), lanes_[1].next_time());
  }

  // Takes the earliest frame due at or before `now` (either direction; ties go in send order).
  // Returns false when none is due.
  bool pop_due(TimeNs now, Direction& dir, Bytes& frame) {
    const TimeNs t0 = lanes_[0].next_time();
    const TimeNs t1 = lanes_[1].next_time();
    const std::size_t i = t0 <= t1 ? 0 : 1;
    Lane& lane = lanes_[i];
    if (lane.next_time() > now) return false;
    std::pop_heap(lane.heap.begin(), lane.heap.end(), Later{});
    frame = std::move(lane.heap.back().bytes);
    lane.heap.pop_back();
    ++lane.stats.delivered;
    dir = static_cast<Direction>(i);
    return true;
  }

  // New faults apply to frames sent from now on; frames in flight keep their fate.
  void set_faults(const LinkFaults& faults) {
    lanes_[0].faults = faults;
    lanes_[1].faults = faults;
  }
  void set_faults(Direction dir, const LinkFaults& faults) { lanes_[index(dir)].faults = faults; }

  [[nodiscard]] bool empty() const { return lanes_[0].heap.empty() && lanes_[1].heap.empty(); }
  [[nodiscard]] const LinkStats& stats(Direction dir) const { return lanes_[index(dir)].stats; }
  [[nodiscard]] LinkStats total() const {
    LinkStats t;
    for (const Lane& l : lanes_) {
      t.sent += l.stats.sent;
      t.lost += l.stats.lost;
      t.duplicated += l.stats.duplicated;
      t.reordered += l.stats.reordered;
      t.corrupted += l.stats.corrupted;
      t.corrupted_unchecked += l.stats.corrupted_unchecked;
      t.delivered += l.stats.delivered;
    }
    return t;
  }

 private:
  struct InFlight {
    TimeNs at;
    std::uint64_t order;  // breaks ties in send order, so equal times stay deterministic
    Bytes bytes;
  };
  // Min-heap order for std::push_heap/pop_heap.
  struct Later {
    bool operator()(const InFlight& a, const InFlight& b) const {
      return a.at != b.at ? a.at > b.at : a.order > b.order;
    }
  };
  struct Lane {
    LinkFaults faults;
    std::vector<InFlight> heap;
    TimeNs fifo_tail = 0;  // latest arrival of a frame that was not reordered
    LinkStats stats;
    [[nodiscard]] TimeNs next_time() const { return heap.empty() ? kNever : heap.front().at; }
  };

  static std::size_t index(Direction d) { return static_cast<std::size_t>(d); }

  // Uniform in [0, 1) from the top 53 bits.
  double unit() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return p > 0.0 && unit() < p; }
  // Uniform in [0, n]; the modulo bias is below 2^-40 for the spans used here.
  std::uint64_t upto(std::uint64_t n) { return n == 0 ? 0 : rng_() % (n + 1); }

  void schedule(Lane& lane, Bytes frame, TimeNs now) {
    TimeNs at = now + lane.faults.delay + upto(lane.faults.jitter);
    if (chance(lane.faults.reorder)) {
      // Held back past frames sent after it: the only way frames overtake each other.
      ++lane.stats.reordered;
      at += 1 * kMicrosecond + upto(lane.faults.reorder_delay - std::min(lane.faults.reorder_delay, kMicrosecond));
    } else {
      // Jitter alone keeps the order, as on a real path through one queue: without this, any
      // jitter would reorder, and a 0 % loss run could not promise zero retransmissions.
      at = std::max(at, lane.fifo_tail);
      lane.fifo_tail = at;
    }
    if (chance(lane.faults.corrupt) && frame.size() > EthernetHeader::kSize) {
      // Only bytes under the IPv4 and TCP checksums: the Ethernet FCS is checked and stripped by
      // the NIC, so a frame with a damaged L2 header never reaches the engine.
      ++lane.stats.corrupted;
      const std::uint64_t span = frame.size() - EthernetHeader::kSize;
      const std::size_t pos = EthernetHeader::kSize + static_cast<std::size_t>(upto(span - 1));
      const auto flip = static_cast<std::uint8_t>(1 + upto(254));
      frame[pos] = static_cast<std::uint8_t>(frame[pos] ^ flip);
      const std::size_t at = pos - EthernetHeader::kSize;
      if (load_be16(frame.data() + 12) == kEtherTypeIpv6 &&
          ((at == 0 && (flip & 0xf0) == 0) || (at >= 1 && at <= 3) || at == 7)) {
        ++lane.stats.corrupted_unchecked;
      }
    }
    lane.heap.push_back(InFlight{at, next_order_++, std::move(frame)});
    std::push_heap(lane.heap.begin(), lane.heap.end(), Later{});
  }

  std::mt19937_64 rng_;
  Lane lanes_[2];
  std::uint64_t next_order_ = 0;
};

}  // namespace synwave::test
