#pragma once
// TIME-WAIT entries (RFC 9293 §3.6) kept apart from full connections, and expired from a FIFO ring.
//
// Why a ring and not the timer wheel: every entry waits the same 2MSL from the moment it is
// inserted, so insertion order is expiry order. Expiry is then a walk from the head that stops at
// the first entry not yet due: no per-entry timer node, no sorting, and entries are touched in
// memory order (two per cache line). The same shape as mTCP's TIME_WAIT list and Linux's
// tcp_max_tw_buckets bound: capacity is fixed at start-up and, when it is reached, the caller skips
// TIME-WAIT for that connection and counts it.
//
// The table is storage and expiry only. The caller keeps (key -> slot) in its own FlowTable, tagged
// so a lookup knows it found a TIME-WAIT slot, erases it in on_expire, and updates it after
// restart(). time_wait_decide() below says what a segment arriving for an entry should cause; the
// engine emits the reply (built in the received frame, whose source MAC is the next hop).
//
// Dead slots. remove() and restart() cannot take a slot out of the middle of a ring, so they mark
// it dead (the live bit below) and the head skips it when it gets there. A dead slot keeps taking
// capacity until then, so insert() may report the ring full while size() < capacity(): it first
// skips dead entries at the head, but a live head with dead slots behind it still blocks the tail.
// The waste is bounded: a dead slot is passed within one 2MSL of its insertion, so the ring holds
// at most capacity() entries *entered* (inserted, restarted or reused) per 2MSL, live or not.
// Whenever the last live entry goes, the ring empties at once and every dead slot is reclaimed.
//
// Order assumption: expires_ms is non-decreasing in insertion order (the caller always passes
// now_ms + the constant 2MSL, with a clock that does not go backwards). An entry inserted out of
// order is expired late (with the entry ahead of it), never early.
//
// Times are the engine's millisecond clock as uint32: it wraps every ~49.7 days, so expiry is
// compared on the signed distance (like sequence numbers), correct while every pending expiry is
// within 2^31 ms (~24.8 days) of now — 2MSL is minutes.
//
// Every byte is allocated (and touched) in the constructor; nothing after that allocates, throws or
// locks.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>

#include "synwave/flow_table.hpp"
#include "synwave/seq_num.hpp"
#include "synwave/slab.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave {

namespace time_wait_flags {
inline constexpr std::uint8_t kTimestamps = 0x01;  // RFC 7323 timestamps were on: ACKs carry TS, PAWS applies
// Owned by TimeWaitTable: set by insert()/restart(), cleared by remove()/expire(). A caller writing
// flags through at() must keep it.
inline constexpr std::uint8_t kLive = 0x80;
}  // namespace time_wait_flags

struct TimeWaitEntry {
  FlowKey key;
  std::uint32_t snd_nxt;     // our next sequence number (after our FIN): the ACK's SEG.SEQ
  std::uint32_t rcv_nxt;     // after the peer's FIN: the ACK's SEG.ACK
  std::uint32_t ts_recent;   // the peer's last TSval (RFC 7323 §4.3): the ACK's TSecr, PAWS reference
  std::uint32_t expires_ms;  // engine ms clock, compared wrap-safe
  std::uint8_t flags;        // time_wait_flags
  std::uint8_t rcv_wscale;   // our receive window shift, to scale the window advertised in ACKs

  [[nodiscard]] bool has(std::uint8_t f) const { return (flags & f) != 0; }
};
static_assert(sizeof(TimeWaitEntry) <= 32, "two TIME-WAIT entries per 64-byte cache line");
static_assert(std::is_trivially_copyable_v<TimeWaitEntry>);

class TimeWaitTable {
 public:
  // Slot indices are uint32 and kNoIndex must never be one.
  static constexpr std::uint32_t kMaxCapacity = 1u << 30;

  // Throws std::length_error above kMaxCapacity (start-up only). Capacity 0 is allowed: every
  // insert() then reports the overflow, which is how "TIME-WAIT off" looks to the caller.
  explicit TimeWaitTable(std::uint32_t capacity)
      : entries_(allocate_entries(capacity)), capacity_(capacity) {}

  TimeWaitTable(const TimeWaitTable&) = delete;
  TimeWaitTable& operator=(const TimeWaitTable&) = delete;
  TimeWaitTable(TimeWaitTable&&) noexcept = default;
  TimeWaitTable& operator=(TimeWaitTable&&) noexcept = default;
  ~TimeWaitTable() = default;

  // Appends e (with the live bit set) at the tail and returns its slot, or kNoIndex when the ring
  // is full after skipping the dead entries at its head (see "Dead slots" above). The skip is
  // amortised O(1): each dead slot is skipped once.
  [[nodiscard]] std::uint32_t insert(const TimeWaitEntry& e) {
    if (used_ == capacity_) {
      skip_dead_head();
      if (used_ == capacity_) return kNoIndex;
    }
    return push_tail(e);
  }

  // The slot must be live: a dead slot's contents belong to nobody.
  TimeWaitEntry& at(std::uint32_t slot) {
    assert(live(slot));
    return entries_[slot];
  }
  const TimeWaitEntry& at(std::uint32_t slot) const {
    assert(live(slot));
    return entries_[slot];
  }

  [[nodiscard]] bool live(std::uint32_t slot) const {
    return slot < capacity_ && entries_[slot].has(time_wait_flags::kLive);
  }

  // Ends an entry before its expiry (RFC 6191 reuse). The slot is marked dead and the head passes
  // it later; the head slot itself is popped now. Removing a dead slot does nothing.
  void remove(std::uint32_t slot) {
    if (!live(slot)) return;
    kill(slot);
    if (slot == head_) pop_head();
  }

  // Restarts 2MSL (a retransmitted FIN, RFC 9293 §3.10.7.4): moves the entry to the tail with the
  // new expiry (copy, then mark the old slot dead), keeping the ring in expiry order. Returns the
  // new slot, which the caller must store in its FlowTable; it can be the old one (the head of a
  // full ring moves into its own slot). Returns kNoIndex when the ring is full in insert()'s sense
  // and the entry is not its head: the entry then keeps its slot and old expiry, so this connection
  // leaves TIME-WAIT a little early rather than a new one being refused TIME-WAIT.
  [[nodiscard]] std::uint32_t restart(std::uint32_t slot, std::uint32_t new_expires_ms) {
    assert(live(slot));
    if (!live(slot)) return kNoIndex;
    if (used_ == capacity_) {
      skip_dead_head();
      if (used_ == capacity_ && slot != head_) return kNoIndex;
    }
    // Copied before the old slot is released: in a full ring the tail reuses the head's slot.
    TimeWaitEntry moved = entries_[slot];
    moved.expires_ms = new_expires_ms;
    kill(slot);
    if (slot == head_) pop_head();
    return push_tail(moved);
  }

  // Pops entries from the head while they are due (expires_ms <= now_ms, wrap-safe), calling
  // on_expire(const TimeWaitEntry&, std::uint32_t slot) for each live one after it has left the
  // table; the entry is passed as a copy, so on_expire may insert, remove or restart (but must not
  // call expire()). Dead entries at the head are popped whatever their expiry.
  //
  // `budget` bounds the slots popped, dead or live, so one call's work is bounded even after a
  // burst of reuses left a long run of dead slots; the rest is popped by the following calls.
  // Returns the number of live entries expired (on_expire calls), at most `budget`.
  template <class F>
  std::uint32_t expire(std::uint32_t now_ms, std::uint32_t budget, F&& on_expire) {
    std::uint32_t expired = 0;
    for (std::uint32_t work = 0; work < budget && used_ > 0; ++work) {
      TimeWaitEntry& head = entries_[head_];
      if (!head.has(time_wait_flags::kLive)) {
        pop_head();
        continue;
      }
      if (!due(head.expires_ms, now_ms)) break;
      const std::uint32_t slot = head_;
      const TimeWaitEntry gone = head;
      kill(slot);
      pop_head();
      ++expired;
      on_expire(static_cast<const TimeWaitEntry&>(gone), slot);
    }
    return expired;
  }

  [[nodiscard]] std::uint32_t size() const { return live_; }
  [[nodiscard]] std::uint32_t capacity() const { return capacity_; }
  // Slots between head and tail, live or dead: what insert() measures against capacity().
  [[nodiscard]] std::uint32_t occupied() const { return used_; }

  // When the next live entry is due; any = false (and 0) when there is none. Exact when the head
  // is live. When dead slots sit at the head (expire() stopped by its budget, or a remove()
  // behind the head), it is the head slot's expiry: never later than the first live entry's, so
  // a caller that sleeps until then wakes early, never late, and its expire() pops the dead slots.
  [[nodiscard]] std::uint32_t next_expiry_ms(bool& any) const {
    any = live_ > 0;
    return any ? entries_[head_].expires_ms : 0;
  }

  [[nodiscard]] std::size_t memory_bytes() const {
    return static_cast<std::size_t>(capacity_) * sizeof(TimeWaitEntry);
  }

 private:
  // Every slot starts dead; huge pages where the system allows (huge_page_block.hpp).
  static HugePageBlock<TimeWaitEntry> allocate_entries(std::uint32_t capacity) {
    if (capacity > kMaxCapacity) {
      throw std::length_error("TimeWaitTable: capacity above kMaxCapacity");
    }
    return allocate_huge_page_block<TimeWaitEntry>(capacity);
  }

  // Wrap-safe "expires <= now" on the 2^32 ms circle.
  static bool due(std::uint32_t expires_ms, std::uint32_t now_ms) {
    return static_cast<std::int32_t>(now_ms - expires_ms) >= 0;
  }

  [[nodiscard]] std::uint32_t tail() const {
    const std::uint32_t t = head_ + used_;  // both < 2^30: no overflow
    return t >= capacity_ ? t - capacity_ : t;
  }

  std::uint32_t push_tail(const TimeWaitEntry& e) {
    const std::uint32_t slot = tail();
    // Field by field, not `= e`: a caller's entry has usually just been built field by field, and a
    // whole-struct copy reads it back with 16-byte loads that cannot be forwarded from those narrow
    // stores (the stall cost ~10 ns per insert; see also flow_table.hpp's detail::key_ips).
    TimeWaitEntry& dst = entries_[slot];
    dst.key.local_ip = e.key.local_ip;
    dst.key.remote_ip = e.key.remote_ip;
    dst.key.local_port = e.key.local_port;
    dst.key.remote_port = e.key.remote_port;
    dst.snd_nxt = e.snd_nxt;
    dst.rcv_nxt = e.rcv_nxt;
    dst.ts_recent = e.ts_recent;
    dst.expires_ms = e.expires_ms;
    dst.flags = static_cast<std::uint8_t>(e.flags | time_wait_flags::kLive);
    dst.rcv_wscale = e.rcv_wscale;
    ++used_;
    ++live_;
    return slot;
  }

  void kill(std::uint32_t slot) {
    entries_[slot].flags = static_cast<std::uint8_t>(entries_[slot].flags & ~time_wait_flags::kLive);
    --live_;
    // No live entry left: every remaining slot is dead, so the whole ring is free now.
    if (live_ == 0) used_ = 0;
  }

  // Advances the head by one slot; does nothing when the ring is empty (kill() may have emptied it).
  void pop_head() {
    if (used_ == 0) return;
    --used_;
    if (++head_ == capacity_) head_ = 0;
  }

  // Stops at the first live entry; one exists whenever used_ > 0 (see kill()).
  void skip_dead_head() {
    while (used_ > 0 && !entries_[head_].has(time_wait_flags::kLive)) pop_head();
  }

  HugePageBlock<TimeWaitEntry> entries_;
  std::uint32_t capacity_;
  std::uint32_t head_ = 0;  // oldest slot, live or dead; meaningless when used_ == 0
  std::uint32_t used_ = 0;  // slots from head to tail, live or dead
  std::uint32_t live_ = 0;  // live_ == 0 implies used_ == 0
};

// What a segment arriving for a TIME-WAIT entry should cause. The engine acts on it:
//  kAck           send <SEQ=snd_nxt><ACK=rcv_nxt><CTL=ACK> (TSecr = ts_recent with timestamps), drop.
//  kAckAndRestart the same ACK, then restart() the entry with now + 2MSL (and take the FIN's TSval
//                 as ts_recent, RFC 7323 §4.3: it is >= TS.Recent and covers RCV.NXT - 1).
//  kIgnore        drop silently: an RST (RFC 1337); count it.
//  kReuse         remove() the entry and hand the SYN to the listener (RFC 6191).
//  kDrop          drop silently: an acceptable segment that needs no answer.
enum class TimeWaitDecision : std::uint8_t { kAck, kAckAndRestart, kIgnore, kReuse, kDrop };

// RFC 6191 §2: is a SYN certainly not from the incarnation whose receive side ended at RCV.NXT?
// With timestamps on both, a larger TSval proves it, an equal one needs a larger ISN too, a
// smaller one is an old duplicate (PAWS). Otherwise the ISN must be above RCV.NXT (RFC 1122
// §4.2.2.13). Where RFC 6191 takes any SYN with timestamps after an incarnation without them,
// we (like Linux) still ask for the larger ISN.
[[nodiscard]] inline bool syn_from_newer_incarnation(const TcpSegment& seg, SeqNum rcv_nxt, bool had_timestamps,
                                                     std::uint32_t ts_recent) {
  const bool isn_newer = seg.seq > rcv_nxt;
  if (!had_timestamps || !seg.options.has_timestamps) return isn_newer;
  // Signed distance from TS.Recent: timestamps compare on the 2^32 circle (RFC 7323 §5.2).
  const std::int32_t ts_delta = static_cast<std::int32_t>(seg.options.ts_val - ts_recent);
  return ts_delta > 0 || (ts_delta == 0 && isn_newer);
}

// RFC 9293 §3.10.7.4 ("SEGMENT ARRIVES", other states) for TIME-WAIT, with RFC 1337, RFC 6191 and
// RFC 7323 §5.3. Pure: decides from the entry and the parsed segment only.
[[nodiscard]] inline TimeWaitDecision time_wait_decide(const TimeWaitEntry& e, const TcpSegment& seg) {
  using namespace tcp_flags;
  const SeqNum rcv_nxt(e.rcv_nxt);
  const bool both_timestamps = e.has(time_wait_flags::kTimestamps) && seg.options.has_timestamps;
  // Signed distance from TS.Recent: timestamps compare on the 2^32 circle (RFC 7323 §5.2).
  const std::int32_t ts_delta = static_cast<std::int32_t>(seg.options.ts_val - e.ts_recent);

  // RFC 1337 §3 fix F1: obeying an RST here lets an old duplicate assassinate TIME-WAIT (hazards
  // H1-H3), so it is ignored, not acted on as RFC 9293's second check would; and an RST is never
  // answered (RFC 9293 §3.10.7.4 first check, "unless the RST bit is set").
  if (seg.has(kRst)) return TimeWaitDecision::kIgnore;

  if (seg.has(kSyn)) {
    // RFC 9293 §3.10.7.4 fourth check: a SYN that cannot open a connection gets a challenge ACK
    // (RFC 5961 §4), which is this entry's ACK: a SYN+ACK, and a SYN+FIN, which the listener drops
    // (as Linux does) and so must not end TIME-WAIT.
    if (seg.has(kAck) || seg.has(kFin)) return TimeWaitDecision::kAck;
    // RFC 6191 §2: a new SYN may end TIME-WAIT when it is certainly not from the old incarnation.
    // A SYN that is not newer is answered with the ACK rather than dropped silently as RFC 6191
    // says: Linux does so, and the ACK lets a peer that really did restart reset its side (RFC
    // 9293 §3.10.7.3, SYN-SENT with a bad ACK).
    const bool newer = syn_from_newer_incarnation(seg, rcv_nxt, e.has(time_wait_flags::kTimestamps), e.ts_recent);
    return newer ? TimeWaitDecision::kReuse : TimeWaitDecision::kAck;
  }

  // RFC 7323 §5.3 R1 (PAWS): a TSval older than TS.Recent marks an old duplicate: not acceptable,
  // so ACK and drop. Checked before the FIN test: a PAWS-old FIN is a duplicate older than the FIN
  // we accepted (whose TSval set TS.Recent), not a retransmission of it, and must not extend 2MSL.
  if (both_timestamps && ts_delta < 0) return TimeWaitDecision::kAck;

  // RFC 9293 §3.10.7.4 fifth and eighth checks for TIME-WAIT: "the only thing that can arrive in
  // this state is a retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL
  // timeout." A retransmitted FIN (maybe with its data) ends exactly at RCV.NXT. It must carry
  // ACK, as every segment after the handshake does (RFC 9293 §3.4); a FIN without it gets the ACK
  // but no restart, as in Linux.
  if (seg.has(kFin) && seg.has(kAck) && seg.seq + (seg.payload_len + 1) == rcv_nxt) {
    return TimeWaitDecision::kAckAndRestart;
  }

  // After the peer's FIN it can send nothing new, so the receive window is in effect zero and the
  // RFC 9293 §3.10.7.4 first check accepts only SEG.LEN = 0 with SEG.SEQ = RCV.NXT. Such a segment
  // (a late duplicate ACK, say) has nothing left to do — no text (seventh check), no FIN — so it
  // is dropped silently, as Linux does (Linux also restarts 2MSL on it; we do not, so bare ACKs
  // cannot keep an entry alive).
  if (seg.seg_len() == 0 && seg.seq == rcv_nxt) return TimeWaitDecision::kDrop;

  // Everything else is unacceptable (old duplicates, data or a FIN after the peer's FIN, segments
  // outside the window): "an acknowledgment should be sent in reply" (RFC 9293 §3.10.7.4 first
  // check), which also tells a peer that lost our last ACK where we stand.
  return TimeWaitDecision::kAck;
}

}  // namespace synwave
