// Flood generation: ns per segment built and handed to FrameIo, 32 per poll() as the data plane
// calls it, from an in-memory buffer pool (no NIC, no mbufs: the generator's own cost). The
// counter time_per_packet is the figure; the rate is unlimited so every poll builds a full burst.
#include "synwave/flood_generator.hpp"

#include <benchmark/benchmark.h>

#include "bench_link.hpp"

namespace synwave {
namespace {

struct PoolIo {
  bench::FramePool pool{256};
  std::uint64_t bytes = 0;

  FrameIo io() {
    FrameIo io;
    io.ctx = this;
    io.refill = [](void* ctx, Frame* out, std::uint32_t max) { return static_cast<PoolIo*>(ctx)->pool.take(out, max); };
    io.transmit = [](void* ctx, Frame* frames, std::uint32_t n) -> std::uint32_t {
      auto* self = static_cast<PoolIo*>(ctx);
      for (std::uint32_t i = 0; i < n; ++i) {
        self->bytes += frames[i].len;  // what a NIC would read: keeps the frames observable
        self->pool.give(frames[i]);
      }
      return n;
    };
    io.release = [](void* ctx, Frame* frames, std::uint32_t n) {
      for (std::uint32_t i = 0; i < n; ++i) static_cast<PoolIo*>(ctx)->pool.give(frames[i]);
    };
    return io;
  }
};

// Args: kind (FloodKind), checksum offload (0/1). The same flood over IPv4 (BM_FloodGenerate)
// and over IPv6 (BM_FloodGenerateIpv6: 20 bytes more to copy, a 40-byte header, no IP checksum).
void flood_generate(benchmark::State& state, bool ipv6) {
  PoolIo io;
  FloodConfig c;
  c.local_mac = MacAddr{{0x02, 0, 0, 0, 0, 0x03}};
  c.next_hop_mac = MacAddr{{0x02, 0, 0, 0, 0, 0x02}};
  if (ipv6) {
    c.ipv6 = true;
    c.local_ip6 = Ipv6Addr{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03};
    c.dst_ip6 = Ipv6Addr{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
    c.next_hop_ip6 = c.dst_ip6;
    c.src_ip6_first = Ipv6Addr{0x20, 0x01, 0x0d, 0xb8, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};  // 2001:db8:1::1
    c.src_ip6_last = Ipv6Addr{0x20, 0x01, 0x0d, 0xb8, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};  //   -2001:db8:1::ffff
  } else {
    c.local_ip = 0xc6120003;
    c.next_hop_ip = 0xc6120002;
    c.src_ip_first = 0xc6130000;  // 198.19.0.0/16
    c.src_ip_last = 0xc613ffff;
    c.dst_ip = 0xc6120002;
  }
  c.dst_port = 80;
  c.kind = static_cast<FloodKind>(state.range(0));
  c.checksum_offload = state.range(1) != 0;
  c.pps = kFloodUnlimitedPps;
  FloodGenerator g(c, io.io(), 0);
  std::uint64_t sent = 0;
  for (auto _ : state) sent += g.poll(0);
  benchmark::DoNotOptimize(io.bytes);
  state.SetItemsProcessed(static_cast<std::int64_t>(sent));
  state.SetLabel(std::string(ipv6 ? "IPv6 " : "") + std::string(to_string(c.kind)) +
                 (c.checksum_offload ? " offload" : " checksums"));
  state.counters["time_per_packet"] =
      benchmark::Counter(static_cast<double>(sent), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_FloodGenerate(benchmark::State& state) { flood_generate(state, false); }
void BM_FloodGenerateIpv6(benchmark::State& state) { flood_generate(state, true); }

void flood_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"kind", "offload"})
      ->Args({static_cast<int>(FloodKind::kSyn), 0})
      ->Args({static_cast<int>(FloodKind::kSyn), 1})
      ->Args({static_cast<int>(FloodKind::kAck), 0})
      ->Args({static_cast<int>(FloodKind::kRst), 0});
}
BENCHMARK(BM_FloodGenerate)->Apply(flood_args);
BENCHMARK(BM_FloodGenerateIpv6)->Apply(flood_args);

}  // namespace
}  // namespace synwave
