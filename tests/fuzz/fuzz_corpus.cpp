// Writes the seed corpora of the fuzz harnesses: `fuzz_corpus DIR` fills DIR/wire and DIR/engine.
//
// wire:   every frame of tests/data/scapy_frames.hpp and scapy_ipv6_frames.hpp (built by Scapy),
//         and every distinct frame
//         the two engines put on the link while the engine seeds below run (handshakes, data,
//         FINs, RSTs, cookie SYN-ACKs, ARP...).
// engine: scripts in the format of tests/fuzz/engine_script.hpp that play whole connections
//         between the client engine and the server engine the way the simulator (tests/sim/)
//         does, under each listener and workload setting, with losses, a SYN flood and its
//         cookie ACKs, simultaneous open, TIME-WAIT reuse, manual user calls, and the Scapy
//         frames delivered to the server.
// Generated at fuzz time (scripts/fuzz.sh), never committed: the seeds follow the script format.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "data/scapy_frames.hpp"
#include "data/scapy_ipv6_frames.hpp"
#include "fuzz/engine_script.hpp"

namespace {

using synwave::fuzz::Bytes;
namespace fz = synwave::fuzz;

Bytes from_hex(const char* hex) {
  Bytes out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (const char* p = hex; p[0] != '\0' && p[1] != '\0'; p += 2) {
    out.push_back(static_cast<std::uint8_t>(nibble(p[0]) << 4 | nibble(p[1])));
  }
  return out;
}

class Script {
 public:
  Script(std::uint8_t a, std::uint8_t b) : bytes_{a, b} {}

  Script& frame(int side, std::uint8_t modifiers, const Bytes& f) {
    op((side == 1 ? fz::kOpServerFrame : fz::kOpClientFrame) | modifiers);
    u16(static_cast<std::uint16_t>(f.size()));
    bytes_.insert(bytes_.end(), f.begin(), f.end());
    return *this;
  }
  Script& clock_us(std::uint16_t n) { return op(fz::kOpClock | 0 << 3).u16(n); }
  Script& clock_ms(std::uint16_t n) { return op(fz::kOpClock | 2 << 3).u16(n); }
  Script& clock_64ms(std::uint16_t n) { return op(fz::kOpClock | 3 << 3).u16(n); }
  Script& link_all() { return op(fz::kOpLink | 0 << 3); }
  Script& link_to_server() { return op(fz::kOpLink | 1 << 3); }
  Script& link_to_client() { return op(fz::kOpLink | 2 << 3); }
  Script& lose_one_each() { return op(fz::kOpLink | 3 << 3); }
  Script& client_open(std::uint16_t local, std::uint16_t remote) { return op(fz::kOpOpen).u16(local).u16(remote); }
  Script& server_open(std::uint16_t local, std::uint16_t remote) {
    return op(fz::kOpOpen | 0x20).u16(local).u16(remote);
  }
  Script& client_open6(std::uint16_t local, std::uint16_t remote) {
    return op(fz::kOpOpen | 0x40).u16(local).u16(remote);
  }
  Script& spoofed_syn6(std::uint16_t seed) { return op(fz::kOpControl | 2 << 3 | 0x40).u16(seed); }
  Script& user(std::uint8_t call, std::uint8_t conn, std::uint16_t n) {
    op(static_cast<std::uint8_t>(fz::kOpUser | call << 3));
    bytes_.push_back(conn);
    return u16(n);
  }
  Script& mutate(bool to_client, std::uint16_t offset, std::uint8_t mask) {
    op(static_cast<std::uint8_t>(fz::kOpMutate | (to_client ? 0x08 : 0)));
    u16(offset);
    bytes_.push_back(mask);
    return *this;
  }
  Script& toggle_refill(bool client) { return op(static_cast<std::uint8_t>(fz::kOpControl | 0 << 3 | (client ? 0x20 : 0))); }
  Script& rotate_secret() { return op(fz::kOpControl | 1 << 3); }
  Script& spoofed_syn(std::uint16_t seed) { return op(fz::kOpControl | 2 << 3).u16(seed); }
  Script& cookie_ack(std::uint8_t delta) {
    op(fz::kOpControl | 3 << 3);
    bytes_.push_back(delta);
    return *this;
  }
  // The exchange settles: rounds of the link, a few milliseconds apart.
  Script& converse(int rounds) {
    for (int i = 0; i < rounds; ++i) link_all().clock_ms(2);
    return *this;
  }

  [[nodiscard]] const Bytes& bytes() const { return bytes_; }

 private:
  Script& op(std::uint8_t v) {
    bytes_.push_back(v);
    return *this;
  }
  Script& u16(std::uint16_t v) {
    bytes_.push_back(static_cast<std::uint8_t>(v >> 8));
    bytes_.push_back(static_cast<std::uint8_t>(v));
    return *this;
  }
  Bytes bytes_;
};

void write_file(const std::filesystem::path& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz_corpus: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

std::vector<std::pair<std::string, Script>> engine_seeds() {
  std::vector<std::pair<std::string, Script>> seeds;
  // Configuration byte a: cookies (bits 0-1), slow accept (2), abort on overflow (3),
  // workload (4-5: http, raw, none), close policy (6-7: server, client, reset, half).
  const std::uint8_t configs[][2] = {
      {0x00, 0x00}, {0x40, 0x00}, {0x80, 0x00}, {0xc0, 0x00}, {0x10, 0x00}, {0x20, 0x00},
      {0x01, 0x00}, {0x02, 0x00}, {0x04, 0x00}, {0x0c, 0x00}, {0x00, 0x02}, {0x00, 0x0c},
      {0x00, 0x10}, {0x00, 0x20}, {0x40, 0x40}, {0x00, 0x80}, {0x50, 0x22}, {0x03, 0x00},
  };
  int n = 0;
  for (const auto& cfg : configs) {
    Script s(cfg[0], cfg[1]);
    s.client_open(1000, fz::kHttpPort).client_open(1001, fz::kAltPort).converse(30).clock_64ms(40).converse(10);
    seeds.emplace_back("lifecycle_" + std::to_string(n), s);

    Script lossy(cfg[0], cfg[1]);
    lossy.client_open(2000, fz::kHttpPort);
    for (int i = 0; i < 25; ++i) {
      if (i % 4 == 1) lossy.lose_one_each();
      lossy.link_to_server().link_to_client().clock_ms(static_cast<std::uint16_t>(5 + 40 * (i % 3)));
    }
    lossy.clock_64ms(30).converse(10);
    seeds.emplace_back("lossy_" + std::to_string(n), lossy);
    ++n;
  }

  // More connections than the server has room for: backlog, pools, TIME-WAIT table.
  for (std::uint8_t a : {0x00, 0x01, 0x02, 0x04, 0x08}) {
    Script s(a, 0x20);
    for (std::uint16_t i = 0; i < 12; ++i) s.client_open(static_cast<std::uint16_t>(3000 + i), fz::kHttpPort);
    s.converse(20).clock_64ms(20).converse(20);
    seeds.emplace_back("exhaustion_" + std::to_string(a), s);
  }

  // A SYN flood from spoofed sources, then cookie ACKs: genuine, forged, after rotations.
  for (std::uint8_t a : {0x00, 0x01, 0x03}) {
    Script s(a, 0x00);
    for (std::uint16_t i = 0; i < 6; ++i) s.spoofed_syn(static_cast<std::uint16_t>(i * 0x101));
    s.cookie_ack(0).spoofed_syn(0x0300).cookie_ack(1).client_open(1000, fz::kHttpPort).converse(10);
    s.spoofed_syn(0x0777).rotate_secret().cookie_ack(0).spoofed_syn(0x0778).rotate_secret().rotate_secret().cookie_ack(0);
    s.clock_64ms(40).converse(5);
    seeds.emplace_back("flood_" + std::to_string(a), s);
  }

  // IPv6 (both engines are dual-stack): lifecycles beside IPv4 ones on the same ports, losses,
  // a flood of spoofed IPv6 sources with cookie ACKs, and the Scapy IPv6 frames to the server
  // (readdressed to it, checksums fixed).
  for (std::uint8_t a : {0x00, 0x01, 0x40, 0x80, 0x02}) {
    Script s(a, 0x00);
    s.client_open6(1000, fz::kHttpPort).client_open(1000, fz::kHttpPort).client_open6(1001, fz::kAltPort);
    for (int i = 0; i < 20; ++i) {
      if (i % 5 == 2) s.lose_one_each();
      s.link_to_server().link_to_client().clock_ms(static_cast<std::uint16_t>(5 + 40 * (i % 3)));
    }
    for (std::uint16_t i = 0; i < 6; ++i) s.spoofed_syn6(static_cast<std::uint16_t>(i * 0x101));
    s.cookie_ack(0).spoofed_syn6(0x0300).cookie_ack(1).clock_64ms(40).converse(10);
    seeds.emplace_back("ipv6_" + std::to_string(a), s);
  }
  {
    Script s(0x00, 0x00);
    for (const auto& f : synwave::test::scapy_ipv6::kFrames) s.frame(1, 0xa0, from_hex(f.bytes)).clock_ms(1);
    s.converse(5);
    seeds.emplace_back("scapy_ipv6_frames", s);
  }

  // Simultaneous open (RFC 9293 §3.5 figure 7): both engines open the same tuple.
  {
    Script s(0x00, 0x00);
    s.client_open(4000, 4001).server_open(4001, 4000).converse(20).clock_64ms(40).converse(5);
    seeds.emplace_back("simultaneous_open", s);
  }

  // TIME-WAIT reuse: the same tuple again after each close policy.
  for (std::uint8_t a : {0x00, 0x40, 0x80}) {
    Script s(a, 0x40);
    s.client_open(5000, fz::kHttpPort).converse(20).client_open(5000, fz::kHttpPort).converse(20).clock_64ms(80);
    seeds.emplace_back("time_wait_reuse_" + std::to_string(a), s);
  }

  // The manual workload: user calls of RFC 9293 §3.10.
  {
    Script s(0x00, 0x01);
    s.client_open(6000, fz::kHttpPort).converse(3).user(0, 0, 500).converse(5).user(1, 0, 0).converse(10);
    s.client_open(6001, fz::kHttpPort).converse(3).user(2, 1, 0).converse(3).clock_64ms(40);
    seeds.emplace_back("manual_calls", s);
  }

  // Frames in flight mangled (checksums fixed), and buffers running out.
  {
    Script s(0x00, 0x00);
    s.client_open(7000, fz::kHttpPort).mutate(false, 47, 0x10).converse(2).mutate(true, 48, 0x01).converse(5);
    s.toggle_refill(false).converse(5).toggle_refill(false).converse(5).clock_64ms(40);
    seeds.emplace_back("mutations", s);
  }

  // The Scapy frames delivered to the server one after another, as they are.
  {
    Script s(0x00, 0x00);
    for (const auto& f : synwave::test::scapy::kFrames) s.frame(1, 0, from_hex(f.hex)).clock_ms(1);
    s.converse(5);
    seeds.emplace_back("scapy_frames", s);
  }
  return seeds;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_corpus DIR  (writes DIR/wire and DIR/engine)\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  // FUZZ_CORPUS_VERBOSE=1: one line per engine seed saying what it reached.
  const bool verbose = std::getenv("FUZZ_CORPUS_VERBOSE") != nullptr;
  auto ull = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::filesystem::create_directories(dir / "wire");
  std::filesystem::create_directories(dir / "engine");

  std::size_t wire = 0;
  for (const auto& f : synwave::test::scapy::kFrames) {
    write_file(dir / "wire" / ("scapy_" + std::string(f.name)), from_hex(f.hex));
    ++wire;
  }
  for (const auto& f : synwave::test::scapy_ipv6::kFrames) {
    write_file(dir / "wire" / ("scapy_ipv6_" + std::string(f.name)), from_hex(f.bytes));
    ++wire;
  }

  std::set<Bytes> link_frames;
  std::size_t engine = 0;
  for (const auto& [name, script] : engine_seeds()) {
    const Bytes& b = script.bytes();
    write_file(dir / "engine" / name, b);
    ++engine;
    // Running the script checks it (a seed that broke an invariant would abort here) and
    // records what went over the link.
    fz::EngineScript run(b.data(), b.size(), [&](int, const Bytes& f) { link_frames.insert(f); });
    run.run();
    if (verbose) {
      const auto& c = run.final_counters(0);
      const auto& s = run.final_counters(1);
      std::printf("%-22s client opened %llu established %llu completed %llu failed %llu | server syn %llu accepted %llu "
                  "completed %llu failed %llu cookies %llu/%llu/%llu tw %llu\n",
                  name.c_str(), ull(c.conn_opened), ull(c.conn_established), ull(c.conn_completed), ull(c.conn_failed),
                  ull(s.syn_received), ull(s.conn_accepted), ull(s.conn_completed), ull(s.conn_failed),
                  ull(s.cookies_sent), ull(s.cookies_valid), ull(s.cookies_invalid), ull(s.time_wait_entered));
    }
  }
  for (const Bytes& f : link_frames) {
    write_file(dir / "wire" / ("link_" + std::to_string(wire)), f);
    ++wire;
  }
  std::printf("fuzz_corpus: %zu wire seeds, %zu engine seeds in %s\n", wire, engine, dir.c_str());
  return 0;
}
