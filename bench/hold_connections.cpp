// Holds N established connections (default 10 million) in one server engine, core only, and
// prints the process's resident memory before and after: the issue's "memory does not grow after
// start-up" and "bytes per established connection", measured.
//   build/bench/hold_connections [N]
// Each connection is a real handshake: a SYN from a distinct source (198.18.0.0/15 addresses x
// ports), the engine's SYN-ACK read back, the final ACK built from it.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "synwave/engine.hpp"
#include "synwave/wire/ipv4.hpp"

using namespace synwave;

namespace {

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

// One reusable buffer for every frame: the engine replies in place or from the stock.
struct Io {
  std::vector<std::uint8_t> rx = std::vector<std::uint8_t>(2048);
  std::vector<std::uint8_t> tx = std::vector<std::uint8_t>(2048);
  std::uint32_t last_seq = 0;
  std::uint32_t sent = 0;
};

std::uint32_t refill(void* ctx, Frame* out, std::uint32_t) {
  auto* io = static_cast<Io*>(ctx);
  out[0] = Frame{io, io->tx.data(), 0, 2048, 0, 0};
  return 1;
}

std::uint32_t transmit(void* ctx, Frame* frames, std::uint32_t n) {
  auto* io = static_cast<Io*>(ctx);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint8_t* tcp = frames[i].data + 34;
    io->last_seq = load_be32(tcp + 4);
    ++io->sent;
  }
  return n;
}

std::uint16_t build(std::uint8_t* p, std::uint32_t src, std::uint16_t sport, std::uint32_t seq, std::uint32_t ack,
                    std::uint8_t flags, const MacAddr& dst_mac) {
  const MacAddr peer{{0x02, 0, 0, 0, 0, 0x09}};
  write_ethernet(p, dst_mac, peer, kEtherTypeIpv4);
  write_ipv4(p + 14, src, (198u << 24) | (18u << 16) | 1, kIpProtoTcp, 40, 0, 64, false);
  write_tcp_header(p + 34, sport, 80, SeqNum(seq), SeqNum(ack), 20, flags, 65535);
  store_be16(p + 34 + 16, checksum_finish(checksum_add(p + 34, 20, pseudo_header_sum(src, (198u << 24) | (18u << 16) | 1, kIpProtoTcp, 20))));
  return 54;
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint32_t n = argc > 1 ? static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 10'000'000;
  const long rss_start = rss_kib();
  EngineConfig cfg;
  cfg.local_ip = (198u << 24) | (18u << 16) | 1;
  cfg.prefix_len = 15;
  cfg.local_mac = MacAddr{{0x02, 0, 0, 0, 0, 0x01}};
  cfg.listen_ports = {80};
  cfg.max_connections = n;
  cfg.syn_backlog = 1024;
  cfg.max_time_wait = 1024;
  cfg.workload.kind = WorkloadKind::kManual;
  cfg.timestamps = false;
  cfg.idle_timeout = 3600 * kSecond;
  Io io;
  FrameIo fio{refill, transmit, nullptr, &io};
  Engine engine(cfg, fio, kSecond);
  const long rss_built = rss_kib();
  TimeNs now = kSecond;
  std::uint32_t made = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    // 131,072 addresses of 198.18.0.0/15 (skipping ours) x ports from 1024.
    const std::uint32_t src = ((198u << 24) | (18u << 16)) + 2 + (i % 131000);
    const auto sport = static_cast<std::uint16_t>(1024 + i / 131000);
    Frame f{&io, io.rx.data(), build(io.rx.data(), src, sport, 1000, 0, tcp_flags::kSyn, cfg.local_mac), 2048, 0, 0};
    (void)engine.input(f, now);
    engine.flush();
    const std::uint32_t iss = io.last_seq;
    f = Frame{&io, io.rx.data(), build(io.rx.data(), src, sport, 1001, iss + 1, tcp_flags::kAck, cfg.local_mac), 2048, 0, 0};
    (void)engine.input(f, now);
    engine.flush();
    if ((i & 0xffff) == 0) now += kMillisecond;
  }
  made = engine.gauges().in(TcpState::kEstablished);
  const long rss_end = rss_kib();
  std::printf("hold_connections: %u established (of %u handshakes), engine reserved %.1f MiB\n", made, n,
              static_cast<double>(engine.memory_bytes()) / (1 << 20));
  std::printf("resident memory: start %.1f MiB, after construction %.1f MiB, holding %u connections %.1f MiB\n",
              rss_start / 1024.0, rss_built / 1024.0, made, rss_end / 1024.0);
  std::printf("bytes per established connection (resident, record + tables): %.1f\n",
              made ? static_cast<double>(rss_end - rss_start) * 1024.0 / made : 0.0);
  std::printf("memory grew after construction by %.1f MiB while connections were made (pages touched, not allocated)\n",
              (rss_end - rss_built) / 1024.0);
  return made == n ? 0 : 1;
}
