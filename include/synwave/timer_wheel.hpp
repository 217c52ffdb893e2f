#pragma once
// Hashed timer wheel with intrusive, index-linked nodes (Varghese & Lauck, "Hashed and
// Hierarchical Timing Wheels", scheme 4). Each record embeds a TimerNode, so arming costs
// no allocation and a connection never owns a timer object of its own.
//
// Guarantees the engine relies on:
// - arm/cancel are O(1); nothing allocates after construction.
// - expire(now) fires every node with expiry <= now exactly once, unless the work budget
//   stops it first; the remainder fires on the following calls, never twice.
// - A node armed from inside on_fire never fires during that same expire() call, even if
//   its expiry is <= now: it fires on the next call. This bounds one call's work and keeps
//   a callback that re-arms "now" from looping forever.
// - expire() is not re-entrant: on_fire must not call expire() (nor rely on next_deadline(),
//   which is exact only between calls).
// Each list also keeps a lower bound on its expiries, so expire() skips lists with nothing
// due (a caller polling on every loop pass calls it many times per slot) and next_deadline()
// is close to exact instead of slot-granular.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "synwave/time.hpp"

namespace synwave {

inline constexpr std::uint32_t kNoTimer = 0xffffffffu;

// Embedded in each record that can be timed (connection, half-open entry...).
struct TimerNode {
  std::uint32_t next = kNoTimer;  // index of the next node in the same list
  std::uint32_t prev = kNoTimer;
  TimeNs expiry = kNever;  // kNever means not armed
};
static_assert(sizeof(TimerNode) == 16);

class TimerWheel {
 public:
  // slot_count and slot_width_ns must be powers of two, so slot selection is a shift and a mask.
  TimerWheel(std::uint32_t slot_count, TimeNs slot_width_ns, TimeNs start)
      : slot_mask_(checked_mask(slot_count, slot_width_ns)),
        width_shift_(static_cast<std::uint32_t>(std::countr_zero(slot_width_ns))),
        // One list per slot plus one "overdue" list, kept last.
        heads_(std::size_t{slot_count} + 1, kNoTimer),
        list_min_(std::size_t{slot_count} + 1, kNever),
        cursor_tick_(start >> width_shift_),
        floor_tick_(cursor_tick_) {}

  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // The node of record `id` lives at (byte*)base + id * stride_bytes.
  void bind(TimerNode* base, std::size_t stride_bytes) {
    base_ = reinterpret_cast<std::byte*>(base);
    stride_ = stride_bytes;
  }

  // Arming an armed node moves it. An expiry already behind the wheel goes to the overdue
  // list, which the next expire() drains first. Arming with kNever is a cancel.
  void arm(std::uint32_t id, TimeNs expiry) {
    cancel(id);
    if (expiry == kNever) return;
    TimerNode& n = node(id);
    n.expiry = expiry;
    const TimeNs tick = expiry >> width_shift_;
    const bool overdue = tick < cursor_tick_ || (in_expire_ && expiry <= expire_now_);
    const std::uint32_t list = overdue ? overdue_list() : slot_of_tick(tick);
    push_front(list, id, n);
    if (expiry < list_min_[list]) list_min_[list] = expiry;
    ++armed_count_;
  }

  void cancel(std::uint32_t id) {
    TimerNode& n = node(id);
    if (n.expiry == kNever) return;
    unlink(id, n);
    n.expiry = kNever;
    --armed_count_;
  }

  [[nodiscard]] bool armed(std::uint32_t id) const { return node(id).expiry != kNever; }
  [[nodiscard]] TimeNs expiry(std::uint32_t id) const { return node(id).expiry; }
  [[nodiscard]] std::uint32_t armed_count() const { return armed_count_; }

  // Fires nodes with expiry <= now, at most `budget` of them, calling on_fire(id) after the
  // node is unlinked and disarmed. Returns the number fired. `now` must not go backwards.
  template <class F>
  std::uint32_t expire(TimeNs now, std::uint32_t budget, F&& on_fire) {
    in_expire_ = true;
    expire_now_ = now;
    std::uint32_t fired = 0;
    // Overdue nodes are the oldest debts: pay them first.
    bool done = walk_list(overdue_list(), now, budget, fired, on_fire);
    const TimeNs now_tick = now >> width_shift_;
    if (done && now_tick >= cursor_tick_) {
      // A jump of more than one revolution visits each slot once; `expiry <= now` decides.
      TimeNs tick = cursor_tick_;
      if (now_tick - tick > slot_mask_) tick = now_tick - slot_mask_;
      for (;; ++tick) {
        cursor_tick_ = tick;
        done = walk_list(slot_of_tick(tick), now, budget, fired, on_fire);
        if (!done || tick == now_tick) break;
      }
      // Only a complete walk proves no slot holds a node due before the cursor. After a
      // budget stop such nodes stay in slots the next walk is certain to visit.
      if (done) floor_tick_ = cursor_tick_;
    }
    in_expire_ = false;
    return fired;
  }

  // A lower bound on the earliest armed expiry, kNever if nothing is armed. Early only by
  // cancels a walk has not yet noticed, or after a budget stop (then it reports "due now").
  // O(1) when empty; otherwise scans slots from the cursor and stops once a slot's start
  // passes the best bound found.
  [[nodiscard]] TimeNs next_deadline() const {
    if (armed_count_ == 0) return kNever;
    TimeNs best = list_min_[overdue_list()];
    // A budget stop may have left nodes due before the cursor in slots: they are due now.
    if (floor_tick_ < cursor_tick_) return min(best, floor_tick_ << width_shift_);
    // Every slotted node has tick >= cursor, so a slot met at `tick` holds nothing earlier.
    for (TimeNs tick = cursor_tick_; tick <= cursor_tick_ + slot_mask_; ++tick) {
      if ((tick << width_shift_) >= best) break;
      best = min(best, list_min_[slot_of_tick(tick)]);
    }
    return best;
  }

 private:
  static TimeNs min(TimeNs a, TimeNs b) { return a < b ? a : b; }

  // Validates before heads_ is sized from the result.
  static std::uint32_t checked_mask(std::uint32_t slot_count, TimeNs slot_width_ns) {
    if (!std::has_single_bit(slot_count) || !std::has_single_bit(slot_width_ns)) {
      throw std::invalid_argument("TimerWheel: slot count and width must be powers of two");
    }
    return slot_count - 1;
  }

  [[nodiscard]] TimerNode& node(std::uint32_t id) const {
    return *reinterpret_cast<TimerNode*>(base_ + std::size_t{id} * stride_);
  }
  [[nodiscard]] std::uint32_t slot_of_tick(TimeNs tick) const {
    return static_cast<std::uint32_t>(tick) & slot_mask_;
  }
  [[nodiscard]] std::uint32_t overdue_list() const { return slot_mask_ + 1; }

  // New nodes go to the front so that a walk in progress (which moves toward the back)
  // never meets a node armed behind it.
  void push_front(std::uint32_t list, std::uint32_t id, TimerNode& n) {
    n.prev = kNoTimer;
    n.next = heads_[list];
    if (n.next != kNoTimer) node(n.next).prev = id;
    heads_[list] = id;
  }

  void unlink(std::uint32_t id, TimerNode& n) {
    // Keeps a walk valid when on_fire cancels or moves the node the walk visits next.
    if (id == walk_next_) walk_next_ = n.next;
    if (n.prev != kNoTimer) {
      node(n.prev).next = n.next;
    } else {
      // A list head: its own slot's head, otherwise it can only head the overdue list.
      const std::uint32_t slot = slot_of_tick(n.expiry >> width_shift_);
      const std::uint32_t list = heads_[slot] == id ? slot : overdue_list();
      heads_[list] = n.next;
      if (n.next == kNoTimer) list_min_[list] = kNever;
    }
    if (n.next != kNoTimer) node(n.next).prev = n.prev;
    n.next = n.prev = kNoTimer;
  }

  // Returns false when the budget ran out with a due node still in the list. A walk
  // recomputes the list's minimum from the nodes that stay (arms during it lower it too).
  template <class F>
  bool walk_list(std::uint32_t list, TimeNs now, std::uint32_t budget, std::uint32_t& fired,
                 F& on_fire) {
    const TimeNs old_min = list_min_[list];
    if (old_min > now) return true;
    list_min_[list] = kNever;
    std::uint32_t id = heads_[list];
    while (id != kNoTimer) {
      TimerNode& n = node(id);
      walk_next_ = n.next;
      if (n.expiry > now) {
        if (n.expiry < list_min_[list]) list_min_[list] = n.expiry;
      } else if (fired == budget) {
        walk_next_ = kNoTimer;
        list_min_[list] = min(list_min_[list], old_min);  // bounds the nodes not reached
        return false;
      } else {
        unlink(id, n);
        n.expiry = kNever;
        --armed_count_;
        ++fired;
        on_fire(id);
      }
      id = walk_next_;
    }
    return true;
  }

  std::byte* base_ = nullptr;
  std::size_t stride_ = sizeof(TimerNode);
  std::uint32_t slot_mask_;
  std::uint32_t width_shift_;
  std::vector<std::uint32_t> heads_;
  std::vector<TimeNs> list_min_;  // per list, a lower bound on its expiries (kNever if empty)
  TimeNs cursor_tick_;  // the tick the next expire() resumes from
  TimeNs floor_tick_;   // every slotted node has tick >= floor_tick_
  std::uint32_t armed_count_ = 0;
  std::uint32_t walk_next_ = kNoTimer;
  bool in_expire_ = false;
  TimeNs expire_now_ = 0;
};

}  // namespace synwave
