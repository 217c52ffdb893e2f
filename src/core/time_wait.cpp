// Segments for a tuple in TIME-WAIT, held as a compact entry (time_wait_table.hpp decides, the
// engine acts). Replies are built in the received frame: its source MAC is the next hop.
#include "rx_context.hpp"
#include "synwave/engine.hpp"

namespace synwave {

void Engine::time_wait_input(std::uint32_t slot, RxContext& rx) {
  TimeWaitEntry& e = time_wait_.at(slot);
  rx.frame_reusable = true;  // nothing in a segment to TIME-WAIT is read after the decision
  switch (time_wait_decide(e, rx.seg)) {
    case TimeWaitDecision::kIgnore:
      ++counters_.rst_ignored;  // RFC 1337
      return;
    case TimeWaitDecision::kDrop:
      ++counters_.drop_no_connection;
      return;
    case TimeWaitDecision::kAck:
      // A peer that reuses tuples within 2MSL and sends no timestamps meets this on most SYNs
      // (its ISNs are not ordered with ours): counted, and named in the report's hints.
      if ((rx.seg.flags & (tcp_flags::kSyn | tcp_flags::kAck | tcp_flags::kFin)) == tcp_flags::kSyn) {
        ++counters_.syn_refused_time_wait;
      }
      send_time_wait_ack(e, rx);
      return;
    case TimeWaitDecision::kAckAndRestart: {
      // A retransmitted FIN: our ACK was lost. ACK again and restart 2MSL (RFC 9293 §3.10.7.4).
      if (rx.seg.options.has_timestamps && e.has(time_wait_flags::kTimestamps)) e.ts_recent = rx.seg.options.ts_val;
      send_time_wait_ack(e, rx);
      const FlowKey key = e.key;
      const std::uint32_t moved = time_wait_.restart(
          slot, time_wait_expiry_ms());
      if (moved != kNoIndex && moved != slot) flows_.update(key, rx.hash, tag(FlowKind::kTimeWait, moved));
      return;
    }
    case TimeWaitDecision::kReuse: {
      // RFC 6191: a newer SYN ends TIME-WAIT early, and is then a SYN like any other.
      const int li = listener_of(e.key.local_port);
      if (li < 0) {
        ++counters_.syn_refused_time_wait;  // nobody listens on this side: nothing to reopen
        send_time_wait_ack(e, rx);
        return;
      }
      ++counters_.time_wait_reused;
      time_wait_.remove(slot);
      flows_.erase(rx.key, rx.hash);
      listen_input(rx, static_cast<std::uint32_t>(li));
      return;
    }
  }
}

void Engine::send_time_wait_ack(const TimeWaitEntry& e, RxContext& rx) {
  SegmentOut s{};
  s.dst_mac = &rx.eth.src;
  s.key = e.key;
  s.remote6 = &rx.ip6.src;  // an IPv6 entry keeps no address: the segment's source is the peer
  s.seq = SeqNum(e.snd_nxt);
  s.ack = SeqNum(e.rcv_nxt);
  s.flags = tcp_flags::kAck;
  s.window = advertised_window(false, e.rcv_wscale);
  s.options.timestamps = e.has(time_wait_flags::kTimestamps);
  s.options.ts_val = ts_clock();
  s.options.ts_ecr = e.ts_recent;
  emit_segment(s);
}

}  // namespace synwave
