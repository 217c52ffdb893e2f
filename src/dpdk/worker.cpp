#include "worker.hpp"

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>

#include "synwave/byte_order.hpp"
#include "synwave/flow_table.hpp"
#include "synwave/wire/icmpv6.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave::dpdk {

namespace {

constexpr TimeNs kSnapshotInterval = 10 * kMillisecond;
constexpr TimeNs kLatencySnapshotInterval = 100 * kMillisecond;  // stats_slot.hpp says why less often
constexpr TimeNs kControlInterval = 1 * kMillisecond;
constexpr int kTxRetries = 8;
constexpr int kFloodIdlePauses = 16;  // under a microsecond

// Spins until the TSC passes `until`. The TSC read keeps the loop: GCC deletes a loop of PAUSE
// alone as a loop without effect (32 or 128 in a loop did not survive; flood_main's 16 did only
// because GCC unrolled them, so its loop has a compiler barrier).
inline void pause_until(std::uint64_t until) {
  do {
    rte_pause();
  } while (rte_rdtsc() < until);
}

inline Frame to_frame(rte_mbuf* m) {
  Frame f;
  f.handle = m;
  f.data = rte_pktmbuf_mtod(m, std::uint8_t*);
  f.len = m->data_len;
  f.capacity = static_cast<std::uint16_t>(m->buf_len - m->data_off);
  const std::uint64_t ol = m->ol_flags;
  if ((ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD) f.flags |= frame_flags::kRxIpChecksumGood;
  if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD) f.flags |= frame_flags::kRxL4ChecksumGood;
  return f;
}

inline rte_mbuf* to_mbuf(const Frame& f) {
  auto* m = static_cast<rte_mbuf*>(f.handle);
  // Every frame is one segment in an mbuf that already was: received with nb_segs == 1 (others
  // are dropped) or fresh from the pool, and DPDK keeps next == NULL in both. Not writing next
  // leaves the header's second cache line alone: for a received mbuf another core wrote it last.
  m->data_len = f.len;
  m->pkt_len = f.len;
  if ((f.flags & frame_flags::kTxTcpChecksum) != 0) {
    m->l2_len = sizeof(rte_ether_hdr);
    if ((f.flags & frame_flags::kTxIpv6) != 0) [[unlikely]] {
      m->ol_flags = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM;
      m->l3_len = sizeof(rte_ipv6_hdr);
    } else {
      m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
      m->l3_len = sizeof(rte_ipv4_hdr);
    }
  } else {
    m->ol_flags = 0;
  }
  return m;
}

// Copies of pkts[0..n) for the capture, as many as it still wants, into copies; returns how many.
std::uint16_t capture_copies(Worker& w, std::uint16_t port, std::uint16_t queue, rte_mbuf* const* pkts,
                             std::uint16_t n, rte_pcapng_direction dir, rte_mbuf** copies) {
  if (w.capture_left == 0 || w.capture == nullptr) return 0;
  std::uint16_t c = 0;
  const std::uint64_t ts = rte_get_tsc_cycles();
  for (std::uint16_t i = 0; i < n && w.capture_left > 0; ++i) {
    rte_mbuf* copy = rte_pcapng_copy(port, queue, pkts[i], w.capture->pool, UINT32_MAX, ts, dir);
    if (copy == nullptr) break;
    copies[c++] = copy;
    --w.capture_left;
  }
  return c;
}

// Writes the first `keep` of c copies; the others are freed and the capture wants them again.
void capture_write(Worker& w, rte_mbuf** copies, std::uint16_t c, std::uint16_t keep) {
  if (keep > c) keep = c;
  if (keep > 0) {
    rte_pcapng_write_packets(w.capture->writer, copies, keep);
    w.counters.captured += keep;
  }
  if (keep < c) {
    rte_pktmbuf_free_bulk(copies + keep, c - keep);
    w.capture_left += c - keep;
  }
}

void capture_burst(Worker& w, std::uint16_t port, std::uint16_t queue, rte_mbuf* const* pkts, std::uint16_t n,
                   rte_pcapng_direction dir) {
  rte_mbuf* copies[kBurst];
  const std::uint16_t c = capture_copies(w, port, queue, pkts, n, dir, copies);
  capture_write(w, copies, c, c);
}

std::uint32_t refill_frames(void* ctx, Frame* out, std::uint32_t max) {
  auto* b = static_cast<EngineBinding*>(ctx);
  rte_mbuf* mbufs[kBurst];
  if (max > kBurst) max = kBurst;
  // All-or-nothing: try the full batch, then a small one before reporting exhaustion.
  std::uint32_t n = max;
  if (rte_pktmbuf_alloc_bulk(b->pool, mbufs, n) != 0) {
    n = max < 4 ? max : 4;
    if (rte_pktmbuf_alloc_bulk(b->pool, mbufs, n) != 0) {
      ++b->worker->counters.mbuf_alloc_failures;
      return 0;
    }
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    rte_mbuf* m = mbufs[i];
    Frame f;
    f.handle = m;
    f.data = rte_pktmbuf_mtod(m, std::uint8_t*);
    f.capacity = static_cast<std::uint16_t>(m->buf_len - m->data_off);
    out[i] = f;
  }
  return n;
}

// Returns how many the queue took; the rest are counted and freed.
std::uint16_t send_on_queue(Worker& w, std::uint16_t port, std::uint16_t queue, rte_mbuf** mbufs, std::uint16_t count) {
  std::uint16_t sent = 0;
  for (int attempt = 0; attempt < kTxRetries && sent < count; ++attempt) {
    sent = static_cast<std::uint16_t>(sent + rte_eth_tx_burst(port, queue, mbufs + sent, static_cast<std::uint16_t>(count - sent)));
  }
  w.counters.tx_packets += sent;
  if (sent < count) {
    w.counters.tx_ring_full_drops += count - sent;
    rte_pktmbuf_free_bulk(mbufs + sent, count - sent);
  }
  return sent;
}

// The mbufs of frames[0..n) (at most a burst), ready to send; returns how many.
std::uint16_t to_mbufs(const Frame* frames, std::uint32_t n, rte_mbuf** mbufs) {
  std::uint16_t count = 0;
  for (std::uint32_t i = 0; i < n; ++i) mbufs[count++] = to_mbuf(frames[i]);
  return count;
}

// Hands mbufs[0..count) to the dispatcher's ring for the lcore that owns the queue; returns how
// many it took.
std::uint16_t forward_to_tx_lcore(Worker& w, const EngineBinding& b, rte_mbuf** mbufs, std::uint16_t count) {
  const auto q = static_cast<std::uint16_t>(
      rte_ring_sp_enqueue_burst(b.tx_forward, reinterpret_cast<void* const*>(mbufs), count, nullptr));
  w.counters.steered_out += q;
  return q;
}

std::uint32_t transmit_frames(void* ctx, Frame* frames, std::uint32_t n) {
  auto* b = static_cast<EngineBinding*>(ctx);
  Worker& w = *b->worker;
  rte_mbuf* mbufs[kBurst];
  const std::uint16_t count = to_mbufs(frames, n, mbufs);
  capture_burst(w, b->port, b->queue, mbufs, count, RTE_PCAPNG_DIRECTION_OUT);
  if (b->tx_forward != nullptr) {
    const std::uint16_t q = forward_to_tx_lcore(w, *b, mbufs, count);
    if (q < count) {
      w.counters.tx_ring_full_drops += count - q;
      rte_pktmbuf_free_bulk(mbufs + q, count - q);
    }
    return q;
  }
  return send_on_queue(w, b->port, b->queue, mbufs, count);
}

// FrameIo::offer: one attempt, and the frames not taken stay the caller's (the capture keeps only
// what left).
std::uint32_t offer_frames(void* ctx, Frame* frames, std::uint32_t n) {
  auto* b = static_cast<EngineBinding*>(ctx);
  Worker& w = *b->worker;
  rte_mbuf* mbufs[kBurst];
  const std::uint16_t count = to_mbufs(frames, n, mbufs);
  rte_mbuf* copies[kBurst];
  const std::uint16_t c = capture_copies(w, b->port, b->queue, mbufs, count, RTE_PCAPNG_DIRECTION_OUT, copies);
  std::uint16_t sent = 0;
  if (b->tx_forward != nullptr) {
    sent = forward_to_tx_lcore(w, *b, mbufs, count);
  } else {
    sent = rte_eth_tx_burst(b->port, b->queue, mbufs, count);
    w.counters.tx_packets += sent;
  }
  if (c > 0) capture_write(w, copies, c, sent);
  return sent;
}

void release_frames(void*, Frame* frames, std::uint32_t n) {
  for (std::uint32_t i = 0; i < n; ++i) rte_pktmbuf_free(static_cast<rte_mbuf*>(frames[i].handle));
}

// Runs a burst of received mbufs through the engine; frees what it did not keep.
void process_burst(Worker& w, EngineBinding& b, rte_mbuf** pkts, std::uint16_t n, TimeNs now) {
  rte_mbuf* to_free[kBurst];
  rte_mbuf* taken[kBurst];
  Frame frames[kBurst];
  std::uint16_t nf = 0;
  std::uint16_t nt = 0;
  // The headers of a whole burst requested at once: written last by another core (net_ring's
  // peer lcore) or by a NIC, each is a cache miss, and one at a time they add up (in the
  // loopback, 91 % of this function's time was its first read of each header).
  for (std::uint16_t i = 0; i < n; ++i) rte_prefetch0(pkts[i]);
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (m->nb_segs != 1) {
      ++w.counters.rx_multi_segment_drops;
      to_free[nf++] = m;
      continue;
    }
    // Both lines of the headers: a TCP segment with options runs past the first 64 bytes (a
    // timestamp option ends at byte 66).
    const auto* data = rte_pktmbuf_mtod(m, const std::uint8_t*);
    rte_prefetch0(data);
    if (m->data_len > 64) rte_prefetch0(data + 64);
    frames[nt] = to_frame(m);
    frames[nt].flags |= b.rx_frame_flags;
    taken[nt++] = m;
  }
  const std::uint32_t kept = b.engine->input_burst(frames, nt, now);
  for (std::uint16_t i = 0; i < nt; ++i) {
    if ((kept & (1u << i)) == 0) to_free[nf++] = taken[i];
  }
  if (nf > 0) rte_pktmbuf_free_bulk(to_free, nf);
}

// Splits a received burst: frames this lcore owns stay in `mine`; the rest go to their owners.
std::uint16_t dispatch(Worker& w, rte_mbuf** pkts, std::uint16_t n, rte_mbuf** mine) {
  Dispatcher& d = *w.dispatcher;
  std::uint16_t kept = 0;
  rte_mbuf* out[kMaxWorkers][kBurst];
  std::uint16_t out_n[kMaxWorkers] = {};
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const std::uint16_t owner = d.owner_of(m);
    if (owner == Dispatcher::kAllWorkers) {
      for (std::uint16_t o = 0; o < d.workers; ++o) {
        if (o == w.index) continue;
        rte_mbuf* copy = rte_pktmbuf_copy(m, d.clone_pool, 0, UINT32_MAX);
        if (copy != nullptr) out[o][out_n[o]++] = copy;
      }
      mine[kept++] = m;
    } else if (owner == w.index) {
      mine[kept++] = m;
    } else {
      out[owner][out_n[owner]++] = m;
    }
  }
  for (std::uint16_t o = 0; o < d.workers; ++o) {
    if (out_n[o] == 0) continue;
    const unsigned q = rte_ring_sp_enqueue_burst(d.rings[w.index][o], reinterpret_cast<void* const*>(out[o]), out_n[o], nullptr);
    w.counters.steered_out += q;
    if (q < out_n[o]) {
      w.counters.steer_ring_full_drops += out_n[o] - q;
      rte_pktmbuf_free_bulk(out[o] + q, out_n[o] - q);
    }
  }
  return kept;
}

// The owner of a TCP segment from the remote address at `remote` (`words` 32-bit words of it,
// network order), `ports` pointing at its TCP header.
//
// A listening port's flows go by a keyed hash of the remote end: multiply-add-shift (Dietzfelbinger
// et al., 1997) over the 32-bit words of the address and the ports, each under its own random
// multiplier, whose sum's upper half is strongly universal. A flood that knows an unkeyed hash
// (the CRC32c of the flow table, as this was) could solve for sources that all land on one lcore;
// under an unknown key its SYNs spread as random ones do. The lcore is picked by multiply-high
// range reduction, which needs no division.
inline std::uint16_t owner_of_segment(const Dispatcher& d, const std::uint8_t* remote, std::size_t words,
                                      const std::uint8_t* ports) {
  const std::uint16_t local_port = load_be16(ports + 2);
  for (std::uint16_t i = 0; i < d.listen_count; ++i) {
    if (d.listen_ports[i] == local_port) {
      std::uint64_t h = d.steer_key[0] + std::uint64_t{load_be32(ports)} * d.steer_key[1];
      for (std::size_t w = 0; w < words; ++w) h += std::uint64_t{load_be32(remote + 4 * w)} * d.steer_key[2 + w];
      return static_cast<std::uint16_t>(((h >> 32) * d.workers) >> 32);
    }
  }
  if (local_port < d.client_port_first) return 0;
  return static_cast<std::uint16_t>((local_port - d.client_port_first) % d.workers);
}

// Extension headers are walked as the engine walks them (parse_ipv6), so a segment or a Neighbor
// Discovery message behind them goes where it would without them. The whole remote address is
// hashed: a fold of it would let a flood choose addresses that fold alike.
std::uint16_t owner_of_ipv6(const Dispatcher& d, const std::uint8_t* ip, std::size_t len) {
  Ipv6Header h;
  if (parse_ipv6(ip, len, h) != Ipv6Error::kOk) return 0;
  if (h.next_header == kIpProtoIcmpv6) {
    // Solicitations and advertisements feed every engine's neighbour cache, as ARP does (one
    // lcore answers: EngineConfig::answer_arp); echo and the rest are the first lcore's.
    if (h.upper_offset >= Ipv6Header::kSize + h.payload_len) return 0;
    const std::uint8_t type = ip[h.upper_offset];
    return type == kIcmpv6NeighborSolicitation || type == kIcmpv6NeighborAdvertisement ? Dispatcher::kAllWorkers : 0;
  }
  if (h.next_header != IPPROTO_TCP || h.upper_offset + 4u > len) return 0;
  return owner_of_segment(d, h.src.data(), 4, ip + h.upper_offset);
}

}  // namespace

std::uint16_t Dispatcher::owner_of(const rte_mbuf* m) const {
  if (m->data_len < sizeof(rte_ether_hdr)) return 0;
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) return kAllWorkers;
  if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
    if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) return 0;
    return owner_of_ipv6(*this, reinterpret_cast<const std::uint8_t*>(eth + 1), m->data_len - sizeof(rte_ether_hdr));
  }
  if (m->data_len < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)) return 0;
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
  const std::uint32_t ihl = static_cast<std::uint32_t>(ip->version_ihl & 0x0f) * 4u;
  if (ip->next_proto_id != IPPROTO_TCP || m->data_len < sizeof(rte_ether_hdr) + ihl + 4) return 0;
  return owner_of_segment(*this, reinterpret_cast<const std::uint8_t*>(&ip->src_addr), 1,
                          reinterpret_cast<const std::uint8_t*>(ip) + ihl);
}

FrameIo make_frame_io(EngineBinding& binding) {
  FrameIo io;
  io.ctx = &binding;
  io.refill = refill_frames;
  io.transmit = transmit_frames;
  io.release = release_frames;
  io.offer = offer_frames;
  return io;
}

void publish_snapshot(Worker& w, TimeNs now, bool with_latency) {
  if (with_latency) {
    w.slot->publish_latency([&](LcoreLatency& l) {
      l.taken_at = now;
      l.has_client = false;
      l.client.connect.reset();
      l.client.transaction.reset();
      for (std::uint32_t i = 0; i < w.binding_count; ++i) {
        const EngineBinding& b = w.bindings[i];
        if (b.role != Role::kClient) continue;
        l.has_client = true;
        l.client.merge(b.engine->latency());
      }
    });
  }
  LcoreSnapshot s;
  s.taken_at = now;
  s.active_since = w.active_since;
  w.counters.loop_cycles = rte_rdtsc() - w.loop_started_tsc;
  w.counters.longest_pass_us = w.longest_pass_cycles * 1'000'000 / w.clock->hz();
  s.worker = w.counters;
  if (w.flood != nullptr) s.flood = w.flood->stats();
  for (std::uint32_t i = 0; i < w.binding_count; ++i) {
    const EngineBinding& b = w.bindings[i];
    const auto r = static_cast<std::size_t>(b.role);
    s.has_role[r] = true;
    s.counters[r] += b.engine->counters();
    const EngineGauges g = b.engine->gauges();
    s.gauges[r].connections += g.connections;
    for (std::size_t k = 0; k < g.by_state.size(); ++k) s.gauges[r].by_state[k] += g.by_state[k];
    if (b.generator != nullptr) {
      s.generator += b.generator->stats();
    }
  }
  w.slot->publish(s);
}

int worker_main(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  rte_mbuf* pkts[kBurst];
  rte_mbuf* mine[kBurst * (kMaxWorkers + 1)];
  TimeNs next_snapshot = 0;
  TimeNs next_latency_snapshot = 0;
  TimeNs next_control = 0;
  w.loop_started_tsc = rte_rdtsc();
  w.window_cycles = w.clock->hz() * kSaturationWindow / kSecond;
  w.window_start_tsc = w.loop_started_tsc;
  while (!w.stop->load(std::memory_order_relaxed)) {
    // One TSC read per pass serves the clock; one more per engine that did work closes its busy
    // span (an idle engine's poll is charged to the next busy one: tens of nanoseconds).
    std::uint64_t mark = rte_rdtsc();
    w.begin_pass(mark);
    const TimeNs now = w.clock->at(mark);
    if (mark - w.window_start_tsc >= w.window_cycles) {
      const std::uint64_t busy = w.counters.busy_cycles();
      w.busy_last_window = static_cast<double>(busy - w.window_busy_start) >=
                           kSaturatedShare * static_cast<double>(mark - w.window_start_tsc);
      w.window_start_tsc = mark;
      w.window_busy_start = busy;
    }
    bool worked = false;
    for (std::uint32_t bi = 0; bi < w.binding_count; ++bi) {
      EngineBinding& b = w.bindings[bi];
      const Counters& ec = b.engine->counters();
      const std::uint64_t frames_before = ec.rx_frames + ec.tx_frames + ec.conn_opened;
      const std::uint16_t n = b.has_queue ? rte_eth_rx_burst(b.port, b.queue, pkts, kBurst) : 0;
      if (n > 0) {
        ++w.counters.rx_bursts;
        w.counters.rx_packets += n;
        capture_burst(w, b.port, b.queue, pkts, n, RTE_PCAPNG_DIRECTION_IN);
      }
      if (b.has_queue) {
        b.full_bursts = n == kBurst ? b.full_bursts + 1 : 0;
        b.engine->set_saturated(w.busy_last_window && b.full_bursts >= kSaturatedBursts);
      }
      if (w.dispatcher == nullptr) {
        if (n > 0) process_burst(w, b, pkts, n, now);
      } else {
        // Frames other lcores steered here first, then this burst: a flow can move between
        // queues (net_tap's kernel side picks a flow's queue from its table of recent flows,
        // following the queue that last carried our frames of it, else by hash), and its frames
        // already in the rings were received before the ones in this burst. The other order
        // hands the engine overtaken segments (PAWS drops, duplicate ACKs).
        std::uint16_t kept = 0;
        for (std::uint16_t from = 0; from < w.dispatcher->workers; ++from) {
          if (from == w.index) continue;
          const unsigned got = rte_ring_sc_dequeue_burst(w.dispatcher->rings[from][w.index],
                                                         reinterpret_cast<void**>(mine + kept), kBurst, nullptr);
          w.counters.steered_in += got;
          kept = static_cast<std::uint16_t>(kept + got);
        }
        if (n > 0) kept = static_cast<std::uint16_t>(kept + dispatch(w, pkts, n, mine + kept));
        for (std::uint16_t off = 0; off < kept; off = static_cast<std::uint16_t>(off + kBurst)) {
          const std::uint16_t chunk = static_cast<std::uint16_t>(kept - off < kBurst ? kept - off : kBurst);
          process_burst(w, b, mine + off, chunk, now);
        }
      }
      if (b.generator != nullptr) b.generator->poll(*b.engine, now);
      b.engine->advance(now);  // fires due timers and drains tx
      if (n > 0 || ec.rx_frames + ec.tx_frames + ec.conn_opened != frames_before) {
        const std::uint64_t t = rte_rdtsc();
        (b.role == Role::kServer ? w.counters.busy_cycles_server : w.counters.busy_cycles_client) += t - mark;
        mark = t;
        worked = true;
        if (w.active_since == kNever && (ec.conn_opened | ec.conn_accepted) != 0) w.active_since = now;
      }
    }
    if (!worked && w.idle_pause_cycles != 0) pause_until(rte_rdtsc() + w.idle_pause_cycles);
    for (std::uint32_t r = 0; r < w.tx_forwarded_count; ++r) {
      const unsigned got = rte_ring_sc_dequeue_burst(w.tx_forwarded[r], reinterpret_cast<void**>(pkts), kBurst, nullptr);
      if (got > 0) {
        w.counters.steered_in += got;
        send_on_queue(w, w.bindings[0].port, w.bindings[0].queue, pkts, static_cast<std::uint16_t>(got));
      }
    }
    if (now >= next_snapshot) {
      const bool with_latency = now >= next_latency_snapshot;
      publish_snapshot(w, now, with_latency);
      next_snapshot = now + kSnapshotInterval;
      if (with_latency) next_latency_snapshot = now + kLatencySnapshotInterval;
    }
    if (w.control != nullptr && now >= next_control) {
      w.control(w.control_ctx, now);
      next_control = now + kControlInterval;
    }
  }
  for (std::uint32_t bi = 0; bi < w.binding_count; ++bi) w.bindings[bi].engine->flush();
  publish_snapshot(w, w.clock->now());
  return 0;
}

namespace {

// A received burst on a flood lcore: the probes' frames go to their engine; ARP requests and
// Neighbor Solicitations for our address are answered in place and sent back on the queue they
// came from; everything else (the target's SYN-ACKs and RSTs to the spoofed sources, the next
// hop's ARP or advertisement) is freed.
void flood_rx(Worker& w, FloodGenerator& gen, EngineBinding& b, rte_mbuf** pkts, std::uint16_t n, TimeNs now) {
  rte_mbuf* replies[kBurst];
  rte_mbuf* to_free[kBurst];
  Frame probe_frames[kBurst];
  std::uint16_t nr = 0;
  std::uint16_t nf = 0;
  std::uint16_t np = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    Frame f = to_frame(m);
    if (m->nb_segs != 1) {
      to_free[nf++] = m;
    } else if (b.engine != nullptr && gen.for_probes(f, b.engine->config().local_ip, b.engine->config().local_ip6)) {
      probe_frames[np++] = f;
    } else if (gen.input(f) == FloodInput::kReplied) {
      replies[nr++] = to_mbuf(f);
    } else {
      to_free[nf++] = m;
    }
  }
  if (np > 0) {
    const std::uint32_t kept = b.engine->input_burst(probe_frames, np, now);
    for (std::uint16_t i = 0; i < np; ++i) {
      if ((kept & (1u << i)) == 0) to_free[nf++] = static_cast<rte_mbuf*>(probe_frames[i].handle);
    }
  }
  if (nf > 0) rte_pktmbuf_free_bulk(to_free, nf);
  if (nr > 0) send_on_queue(w, b.port, b.queue, replies, nr);
}

}  // namespace

int flood_main(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  FloodGenerator& gen = *w.flood;
  EngineBinding& b = w.bindings[0];  // its engine, when set, is the probes' (binding_count 1)
  rte_mbuf* pkts[kBurst];
  TimeNs next_snapshot = 0;
  TimeNs next_control = 0;
  w.loop_started_tsc = rte_rdtsc();
  w.active_since = w.clock->now();  // the flood starts with the loop
  while (!w.stop->load(std::memory_order_relaxed)) {
    const std::uint64_t mark = rte_rdtsc();
    w.begin_pass(mark);
    const TimeNs now = w.clock->at(mark);
    const std::uint16_t n = rte_eth_rx_burst(b.port, b.queue, pkts, kBurst);
    if (n > 0) {
      ++w.counters.rx_bursts;
      w.counters.rx_packets += n;
      flood_rx(w, gen, b, pkts, n, now);
    }
    bool probes_worked = false;
    if (b.engine != nullptr) {
      const Counters& pc = b.engine->counters();
      const std::uint64_t before = pc.tx_frames + pc.conn_opened;
      b.generator->poll(*b.engine, now);
      b.engine->advance(now);  // timers, and the probes' frames out
      probes_worked = pc.tx_frames + pc.conn_opened != before;
    }
    if (gen.poll(now) + n > 0 || probes_worked) {
      w.counters.busy_cycles_client += rte_rdtsc() - mark;
    } else {
      // Nothing due, nothing received, or a full queue that took nothing: wait a little before
      // polling again. Polling a full memif ring back to back kept its shared cache lines moving
      // between the two cores, and the receiver paid for it (about 5 % more per SYN answered).
      for (int i = 0; i < kFloodIdlePauses; ++i) {
        rte_pause();
        rte_compiler_barrier();  // pause_until says why
      }
    }
    if (now >= next_snapshot) {
      publish_snapshot(w, now);
      next_snapshot = now + kSnapshotInterval;
    }
    if (w.control != nullptr && now >= next_control) {
      w.control(w.control_ctx, now);
      next_control = now + kControlInterval;
    }
  }
  if (b.engine != nullptr) b.engine->flush();
  gen.release_held();
  publish_snapshot(w, w.clock->now());
  return 0;
}

bool flood_resolve_next_hop(Worker* const* workers, std::size_t count, TimeNs timeout, const std::atomic<bool>& give_up) {
  constexpr TimeNs kRequestInterval = 100 * kMillisecond;
  Worker& first = *workers[0];
  FloodGenerator& gen = *first.flood;
  const TscClock& clock = *first.clock;
  const TimeNs deadline = clock.now() + timeout;
  TimeNs next_request = 0;
  rte_mbuf* pkts[kBurst];
  while (!gen.resolved()) {
    const TimeNs now = clock.now();
    if (now >= deadline || give_up.load()) return false;
    if (now >= next_request) {
      EngineBinding& b = first.bindings[0];
      rte_mbuf* m = rte_pktmbuf_alloc(b.pool);
      if (m != nullptr) {
        Frame f;
        f.handle = m;
        f.data = rte_pktmbuf_mtod(m, std::uint8_t*);
        f.capacity = static_cast<std::uint16_t>(m->buf_len - m->data_off);
        if (gen.build_next_hop_request(f)) {
          rte_mbuf* out = to_mbuf(f);
          send_on_queue(first, b.port, b.queue, &out, 1);
        } else {
          rte_pktmbuf_free(m);
        }
      } else {
        ++first.counters.mbuf_alloc_failures;
      }
      next_request = now + kRequestInterval;
    }
    for (std::size_t i = 0; i < count; ++i) {
      Worker& w = *workers[i];
      EngineBinding& b = w.bindings[0];
      const std::uint16_t n = rte_eth_rx_burst(b.port, b.queue, pkts, kBurst);
      if (n == 0) continue;
      w.counters.rx_packets += n;
      ++w.counters.rx_bursts;
      flood_rx(w, gen, b, pkts, n, now);
    }
  }
  for (std::size_t i = 1; i < count; ++i) workers[i]->flood->set_next_hop_mac(gen.next_hop_mac());
  return true;
}

}  // namespace synwave::dpdk
