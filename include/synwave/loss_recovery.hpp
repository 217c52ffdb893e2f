#pragma once
// What a connection needs only while it recovers from a loss, kept beside the records instead of
// in them (a connection record is a fixed cache budget, and almost none of a connection-rate
// test's connections ever lose a segment):
// - as a receiver, the ranges that arrived beyond a hole (RFC 9293 §3.10.7.4 lets a receiver keep
//   out-of-order segments; the payload is a virtual stream, so only where they start and end is
//   kept), so that the retransmission that fills the hole acknowledges everything at once;
// - as a sender, the recovery point of NewReno fast recovery (RFC 6582 §3.2: `recover`, the
//   highest sequence sent when the loss was detected) and, with SACK (RFC 2018), what the peer
//   holds beyond SND.UNA, so that each hole is resent once (a simplified RFC 6675 scoreboard).
// A small open-addressed table keyed by connection index, fixed at construction; when it is full a
// connection recovers as it would without it (go-back-N after a timeout), and that is counted.
#include <array>
#include <cstdint>
#include <vector>

#include "synwave/seq_num.hpp"

namespace synwave {

struct SeqRange {
  SeqNum start;  // first sequence number held
  SeqNum end;    // one past the last
};

// Up to four disjoint sequence ranges, sorted: the segments a receiver holds past a hole, or the
// blocks a sender's peer has SACKed.
struct RangeSet {
  static constexpr std::uint8_t kMax = 4;
  std::uint8_t count = 0;
  std::uint8_t recent = 0;  // the range the last hold() went into (RFC 2018 §4: reported first)
  std::array<SeqRange, kMax> ranges{};

  // Adds [start, end), merging the ranges it touches. False when it would need a fifth range.
  bool hold(SeqNum start, SeqNum end) {
    std::uint8_t i = 0;
    while (i < count && ranges[i].end < start) ++i;  // ranges wholly before it
    std::uint8_t j = i;
    while (j < count && ranges[j].start <= end) ++j;  // ranges it touches or overlaps
    if (i == j) {
      if (count == kMax) return false;
      for (std::uint8_t k = count; k > i; --k) ranges[k] = ranges[k - 1];
      ranges[i] = {start, end};
      ++count;
    } else {
      ranges[i] = {seq_min(start, ranges[i].start), seq_max(end, ranges[j - 1].end)};
      const auto removed = static_cast<std::uint8_t>(j - i - 1);
      for (std::uint8_t k = i + 1; k + removed < count; ++k) ranges[k] = ranges[k + removed];
      count = static_cast<std::uint8_t>(count - removed);
    }
    recent = i;
    return true;
  }

  // Receiver: RCV.NXT has reached `next`; the ranges it now reaches are taken off, and the new
  // RCV.NXT (past every range that starts at or before it) is returned.
  SeqNum absorb(SeqNum next) {
    std::uint8_t taken = 0;
    while (taken < count && ranges[taken].start <= next) {
      next = seq_max(next, ranges[taken].end);
      ++taken;
    }
    drop_first(taken);
    return next;
  }

  // Sender: SND.UNA has reached `una`; what lies below it is forgotten.
  void trim_below(SeqNum una) {
    std::uint8_t gone = 0;
    while (gone < count && ranges[gone].end <= una) ++gone;
    drop_first(gone);
    if (count != 0 && ranges[0].start < una) ranges[0].start = una;
  }

 private:
  void drop_first(std::uint8_t n) {
    for (std::uint8_t k = n; k < count; ++k) ranges[k - n] = ranges[k];
    count = static_cast<std::uint8_t>(count - n);
    recent = recent >= n ? static_cast<std::uint8_t>(recent - n) : 0;
  }
};

struct LossRecord {
  static constexpr std::uint32_t kFree = 0xffffffffu;
  std::uint32_t conn = kFree;
  SeqNum recover;             // sender: snd_max when fast recovery began
  SeqNum high_rxt;            // sender: one past the highest sequence resent in this recovery
  bool in_recovery = false;   // sender: between the third duplicate ACK and the ACK of `recover`
  RangeSet received;          // receiver: held past RCV.NXT
  RangeSet sacked;            // sender: what the peer's SACK blocks say it holds past SND.UNA

  [[nodiscard]] bool idle() const { return !in_recovery && received.count == 0 && sacked.count == 0; }
};

class LossRecoveryTable {
 public:
  // capacity: a power of two (0: no table, every lookup misses and every insert fails).
  explicit LossRecoveryTable(std::uint32_t capacity)
      : slots_(capacity), mask_(capacity == 0 ? 0 : capacity - 1) {}

  [[nodiscard]] bool empty() const { return used_ == 0; }
  [[nodiscard]] std::uint32_t size() const { return used_; }
  [[nodiscard]] std::size_t memory_bytes() const { return slots_.size() * sizeof(LossRecord); }

  [[nodiscard]] LossRecord* find(std::uint32_t conn) {
    if (used_ == 0) return nullptr;
    for (std::uint32_t i = home(conn);; i = (i + 1) & mask_) {
      LossRecord& r = slots_[i];
      if (r.conn == conn) return &r;
      if (r.conn == LossRecord::kFree) return nullptr;
    }
  }

  // The connection's record, made fresh if it has none; nullptr when the table is full (kept
  // at most 3/4 full, so probes stay short).
  [[nodiscard]] LossRecord* find_or_insert(std::uint32_t conn) {
    if (slots_.empty()) return nullptr;
    for (std::uint32_t i = home(conn);; i = (i + 1) & mask_) {
      LossRecord& r = slots_[i];
      if (r.conn == conn) return &r;
      if (r.conn == LossRecord::kFree) {
        if (4 * (used_ + 1) > 3 * slots_.size()) return nullptr;
        r = LossRecord{};
        r.conn = conn;
        ++used_;
        return &r;
      }
    }
  }

  // Removes the connection's record, if any (backward-shift deletion: no tombstones).
  void erase(std::uint32_t conn) {
    if (used_ == 0) return;
    std::uint32_t i = home(conn);
    while (slots_[i].conn != conn) {
      if (slots_[i].conn == LossRecord::kFree) return;
      i = (i + 1) & mask_;
    }
    for (std::uint32_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (slots_[j].conn == LossRecord::kFree) break;
      const std::uint32_t h = home(slots_[j].conn);
      // Move j into the hole at i unless its home lies cyclically in (i, j].
      if (((j - h) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = LossRecord{};
    --used_;
  }

 private:
  [[nodiscard]] std::uint32_t home(std::uint32_t conn) const { return (conn * 0x9e3779b1u) & mask_; }

  std::vector<LossRecord> slots_;
  std::uint32_t mask_;
  std::uint32_t used_ = 0;
};

}  // namespace synwave
