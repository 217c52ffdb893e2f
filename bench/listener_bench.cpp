// The listener's hot path through the whole engine: a SYN frame in, its SYN-ACK built in the same
// buffer and handed to the driver. ns per SYN, with the SYN-ACK a cookie (kAlways, the flood
// case: no state kept) or a half-open entry (kOff, evicting the oldest once the backlog is full).
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "crc_collisions.hpp"
#include "synwave/engine.hpp"
#include "synwave/wire/ipv4.hpp"

namespace synwave {
namespace {

constexpr std::uint32_t kServerIp = (198u << 24) | (18u << 16) | 1;

struct Sink {
  std::vector<std::uint8_t> spare = std::vector<std::uint8_t>(2048);
  std::uint64_t frames = 0;
};

std::uint32_t refill(void* ctx, Frame* out, std::uint32_t) {
  auto* s = static_cast<Sink*>(ctx);
  out[0] = Frame{s, s->spare.data(), 0, 2048, 0, 0};
  return 1;
}
std::uint32_t transmit(void* ctx, Frame*, std::uint32_t n) {
  static_cast<Sink*>(ctx)->frames += n;
  return n;
}

// A SYN as Linux sends it (MSS, SACK-permitted, timestamps, window scale), from a spoofed source.
std::vector<std::uint8_t> linux_syn(std::uint32_t src, std::uint16_t sport, const MacAddr& dst_mac) {
  TcpOptionsOut o;
  o.mss = true;
  o.mss_value = 1460;
  o.sack_permitted = true;
  o.timestamps = true;
  o.ts_val = 12345;
  o.window_scale = true;
  o.window_scale_shift = 7;
  const std::size_t tcp_len = 20 + tcp_options_size(o);
  std::vector<std::uint8_t> b(14 + 20 + tcp_len);
  write_ethernet(b.data(), dst_mac, MacAddr{{0x02, 0, 0, 0, 0, 0x09}}, kEtherTypeIpv4);
  write_ipv4(b.data() + 14, src, kServerIp, kIpProtoTcp, static_cast<std::uint16_t>(20 + tcp_len), 0, 64, false);
  std::uint8_t* tcp = b.data() + 34;
  write_tcp_header(tcp, sport, 80, SeqNum(0x10000000u + sport), SeqNum(0), static_cast<std::uint8_t>(tcp_len), tcp_flags::kSyn, 64240);
  write_tcp_options(tcp + 20, o);
  store_be16(tcp + 16, checksum_finish(checksum_add(tcp, tcp_len, pseudo_header_sum(src, kServerIp, kIpProtoTcp,
                                                                                  static_cast<std::uint16_t>(tcp_len)))));
  return b;
}

// Where the SYNs come from: 4096 sources cycled (their flow-table lines stay in cache), or a new
// source address and port for every SYN, as a spoofed flood's (scripts/flood-memif.sh draws them
// from a /17): each SYN's home line in the flow table is then one nobody touched lately.
// kColliding: 4096 sources crafted so that the flow table's unkeyed CRC32c hash gives them all
// one home slot (bench/crc_collisions.hpp), as an attacker who knows the hash would pick them.
enum class Sources { kCycled, kSpoofed, kColliding };

void BM_SynToSynAck(benchmark::State& state, SynCookieMode mode, Sources sources) {
  EngineConfig cfg;
  cfg.local_ip = kServerIp;
  cfg.prefix_len = 15;
  cfg.local_mac = MacAddr{{0x02, 0, 0, 0, 0, 0x01}};
  cfg.listen_ports = {80};
  cfg.syn_cookies = mode;
  cfg.syn_backlog = 1024;  // smaller than the 4096 sources: kOff evicts on every SYN
  cfg.max_connections = 1 << 16;  // far above the backlog: the pool never reaches its shed watermark
  Sink sink;
  Engine engine(cfg, FrameIo{refill, transmit, nullptr, &sink}, kSecond);
  // 4096 different spoofed sources, cycled.
  std::vector<std::vector<std::uint8_t>> syns;
  if (sources == Sources::kColliding) {
    for (const bench::SpoofedSource& s : bench::crc_colliding_sources(kServerIp, 80, 20, 4096)) {
      syns.push_back(linux_syn(s.ip, s.port, cfg.local_mac));
    }
    if (syns.size() < 4096) state.SkipWithError("fewer than 4096 colliding sources");
  } else {
    for (std::uint32_t i = 0; i < 4096; ++i) syns.push_back(linux_syn(kServerIp + 1 + i, static_cast<std::uint16_t>(1024 + i), cfg.local_mac));
  }
  // A burst of 32 receive buffers, through Engine::input_burst as the data plane delivers them
  // (its flow-table prefetch ahead of the lookups included); one iteration is one burst.
  constexpr std::uint32_t kBurst = 32;
  std::vector<std::uint8_t> buffers(kBurst * 2048);
  Frame burst[kBurst];
  std::uint32_t i = 0;
  TimeNs now = kSecond;
  for (auto _ : state) {
    for (std::uint32_t b = 0; b < kBurst; ++b) {
      const auto& syn = syns[i & 4095];
      std::uint8_t* buf = buffers.data() + b * 2048;
      std::memcpy(buf, syn.data(), syn.size());  // the NIC's DMA, in effect
      burst[b] = Frame{nullptr, buf, static_cast<std::uint16_t>(syn.size()), 2048, 0, 0};
      if (sources == Sources::kSpoofed) {
        // 198.18.128.0/17 and a port from a multiplicative hash of the count: a new tuple each
        // time. The checksums no longer match, so the frame says they were checked, as the data
        // plane's memory links do (net_memif, where scripts/flood-memif.sh runs).
        const std::uint32_t h = i * 2654435761u;
        store_be32(buf + 26, (198u << 24) | (18u << 16) | 0x8000u | (h >> 17));
        store_be16(buf + 34, static_cast<std::uint16_t>(1024 + (h & 0x7fff)));
        burst[b].flags = frame_flags::kRxIpChecksumGood | frame_flags::kRxL4ChecksumGood;
      }
      ++i;
    }
    benchmark::DoNotOptimize(engine.input_burst(burst, kBurst, now));
    engine.flush();
    now += kMicrosecond;
  }
  engine.flush();
  const auto syns_in = static_cast<std::uint64_t>(state.iterations()) * kBurst;
  state.SetItemsProcessed(static_cast<std::int64_t>(syns_in));
  state.counters["time_per_syn"] =
      benchmark::Counter(static_cast<double>(syns_in), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  const Counters& c = engine.counters();
  // Crafted SYNs past the flow table's probe limit get no entry: with cookies off, no SYN-ACK.
  if (sources != Sources::kColliding && c.synack_sent + c.synack_retransmitted < syns_in) {
    state.SkipWithError("a SYN got no SYN-ACK");
  }
  state.counters["probe_limit"] = static_cast<double>(c.flow_probe_limit);
  state.counters["cookies"] = static_cast<double>(c.cookies_sent);
  state.counters["evicted"] = static_cast<double>(c.half_open_evicted);
}

BENCHMARK_CAPTURE(BM_SynToSynAck, cookie_always, SynCookieMode::kAlways, Sources::kCycled);
BENCHMARK_CAPTURE(BM_SynToSynAck, cookie_always_spoofed, SynCookieMode::kAlways, Sources::kSpoofed);
BENCHMARK_CAPTURE(BM_SynToSynAck, half_open_evicting, SynCookieMode::kOff, Sources::kCycled);
BENCHMARK_CAPTURE(BM_SynToSynAck, on_overflow, SynCookieMode::kOnOverflow, Sources::kCycled);
BENCHMARK_CAPTURE(BM_SynToSynAck, on_overflow_colliding, SynCookieMode::kOnOverflow, Sources::kColliding);
BENCHMARK_CAPTURE(BM_SynToSynAck, half_open_evicting_colliding, SynCookieMode::kOff, Sources::kColliding);

}  // namespace
}  // namespace synwave
