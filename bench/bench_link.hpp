#pragma once
// A client engine and a server engine joined by an in-memory link, for the benchmarks and the
// simulator demo. The link passes frame descriptors, never bytes: a transmitted frame moves into
// the peer's receive ring as it is, the peer's input() reads it in place, and the buffer goes back
// to one shared pool unless the engine kept it to build its reply in. Everything is sized at
// construction; running connections allocates nothing (unlike tests/support/test_io.hpp, which
// copies every frame into a deque of vectors so that tests can inspect it).
#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <vector>

#include "synwave/engine.hpp"
#include "synwave/frame.hpp"
#include "synwave/time.hpp"

namespace synwave::bench {

// Fixed-size frame buffers handed out and taken back in LIFO order, so the buffers in use stay
// warm in cache. The handle of a frame is its buffer index.
class FramePool {
 public:
  static constexpr std::uint16_t kBufferSize = 2048;

  explicit FramePool(std::uint32_t buffers)
      : storage_(std::size_t{buffers} * kBufferSize), free_(buffers), free_count_(buffers) {
    // Lowest indices on top of the stack: the first frames taken are adjacent in memory.
    for (std::uint32_t i = 0; i < buffers; ++i) free_[i] = buffers - 1 - i;
  }

  [[nodiscard]] std::uint32_t take(Frame* out, std::uint32_t max) {
    const std::uint32_t n = std::min(max, free_count_);
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint32_t idx = free_[--free_count_];
      Frame& f = out[i];
      f.handle = reinterpret_cast<void*>(static_cast<std::uintptr_t>(idx));
      f.data = storage_.data() + std::size_t{idx} * kBufferSize;
      f.len = 0;
      f.capacity = kBufferSize;
      f.flags = 0;
      f.rss_hash = 0;
    }
    return n;
  }

  void give(const Frame& f) { free_[free_count_++] = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(f.handle)); }

  [[nodiscard]] std::uint32_t free_count() const { return free_count_; }
  [[nodiscard]] std::uint32_t size() const { return static_cast<std::uint32_t>(free_.size()); }

 private:
  std::vector<std::uint8_t> storage_;
  std::vector<std::uint32_t> free_;
  std::uint32_t free_count_;
};

// Single-threaded FIFO of frames in flight in one direction. Its capacity is at least the pool's
// size, and every frame in it holds a distinct pool buffer, so it cannot overflow.
class FrameRing {
 public:
  explicit FrameRing(std::uint32_t min_capacity)
      : slots_(std::bit_ceil(std::max<std::uint32_t>(min_capacity, 2))), mask_(static_cast<std::uint32_t>(slots_.size()) - 1) {}

  void push(const Frame& f) { slots_[tail_++ & mask_] = f; }
  [[nodiscard]] Frame pop() { return slots_[head_++ & mask_]; }
  [[nodiscard]] bool empty() const { return head_ == tail_; }
  [[nodiscard]] std::uint32_t size() const { return tail_ - head_; }

 private:
  std::vector<Frame> slots_;
  std::uint32_t mask_;
  std::uint32_t head_ = 0;
  std::uint32_t tail_ = 0;
};

// Runs each engine's work as it is: what pump() and run_batch() do by default.
struct Unmetered {
  template <typename F>
  void client(F&& work) { work(); }
  template <typename F>
  void server(F&& work) { work(); }
};

// Adds up the wall time each engine spends in its own calls (input bursts with their flush,
// open(), advance()), read from the steady clock around each call or burst, so that a benchmark
// can attribute a connection's cost to the client side and the server side. `sections` counts
// the timed calls: each adds the cost of two clock reads to its side (see engine_bench.cpp).
struct SideTimes {
  std::uint64_t client_ns = 0;
  std::uint64_t server_ns = 0;
  std::uint64_t client_sections = 0;
  std::uint64_t server_sections = 0;

  template <typename F>
  void client(F&& work) { client_ns += timed(work); ++client_sections; }
  template <typename F>
  void server(F&& work) { server_ns += timed(work); ++server_sections; }

 private:
  template <typename F>
  static std::uint64_t timed(F& work) {
    const auto start = std::chrono::steady_clock::now();
    work();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
  }
};

// The wire between two engines: a pool both draw from and one ring per direction.
class MemoryLink {
 public:
  // Frames handed to an engine per input() loop pass before it flushes, like a driver's rx burst.
  static constexpr std::uint32_t kRxBurst = 32;

  // rx_checksums_trusted: as the data plane treats its memory links (net_ring, net_memif), the
  // receiving engine is told each frame's checksums are good and sums none; false: it verifies
  // them in software, as behind a device without rx offload (the program's --verify-checksums).
  explicit MemoryLink(std::uint32_t buffers, bool rx_checksums_trusted = true)
      : pool_(buffers), to_server_(buffers), to_client_(buffers), client_side_{this, &to_server_}, server_side_{this, &to_client_},
        rx_flags_(rx_checksums_trusted ? frame_flags::kRxIpChecksumGood | frame_flags::kRxL4ChecksumGood : 0) {}

  MemoryLink(const MemoryLink&) = delete;
  MemoryLink& operator=(const MemoryLink&) = delete;

  [[nodiscard]] FrameIo client_io() { return io_for(client_side_); }
  [[nodiscard]] FrameIo server_io() { return io_for(server_side_); }

  // Delivers frames in flight, a burst per direction in turn, until both directions are quiet.
  // Returns how many frames were delivered. `meter` wraps each engine's burst (its input() calls
  // and flush) in meter.client(...) or meter.server(...): see SideTimes.
  template <typename Meter = Unmetered>
  std::uint64_t pump(Engine& client, Engine& server, TimeNs now, Meter&& meter = Meter{}) {
    std::uint64_t delivered = 0;
    for (;;) {
      std::uint32_t n = 0;
      if (!to_server_.empty()) meter.server([&] { n += deliver_burst(to_server_, server, now); });
      if (!to_client_.empty()) meter.client([&] { n += deliver_burst(to_client_, client, now); });
      if (n == 0) return delivered;
      delivered += n;
    }
  }

  [[nodiscard]] const FramePool& pool() const { return pool_; }
  [[nodiscard]] std::uint32_t in_flight() const { return to_server_.size() + to_client_.size(); }

 private:
  struct Side {
    MemoryLink* link;
    FrameRing* out;  // where this side's transmitted frames go
  };

  static FrameIo io_for(Side& side) {
    FrameIo io;
    io.ctx = &side;
    io.refill = [](void* ctx, Frame* out, std::uint32_t max) -> std::uint32_t {
      return static_cast<Side*>(ctx)->link->pool_.take(out, max);
    };
    io.transmit = [](void* ctx, Frame* frames, std::uint32_t n) -> std::uint32_t {
      const Side& s = *static_cast<Side*>(ctx);
      for (std::uint32_t i = 0; i < n; ++i) {
        Frame f = frames[i];
        f.flags = s.link->rx_flags_;  // what the receiving side's "device" says of the frame
        s.out->push(f);
      }
      return n;  // the ring holds every pool buffer: it never refuses one
    };
    io.release = [](void* ctx, Frame* frames, std::uint32_t n) {
      FramePool& pool = static_cast<Side*>(ctx)->link->pool_;
      for (std::uint32_t i = 0; i < n; ++i) pool.give(frames[i]);
    };
    return io;
  }

  // As the data plane does: the burst through Engine::input_burst, the frames it did not keep
  // back to the pool.
  std::uint32_t deliver_burst(FrameRing& ring, Engine& engine, TimeNs now) {
    Frame burst[kRxBurst];
    std::uint32_t n = 0;
    for (; n < kRxBurst && !ring.empty(); ++n) burst[n] = ring.pop();
    if (n == 0) return 0;
    const std::uint32_t kept = engine.input_burst(burst, n, now);
    for (std::uint32_t i = 0; i < n; ++i) {
      if ((kept & (1u << i)) == 0) pool_.give(burst[i]);
    }
    engine.flush();
    return n;
  }

  FramePool pool_;
  FrameRing to_server_;
  FrameRing to_client_;
  Side client_side_;
  Side server_side_;
  std::uint16_t rx_flags_;
};

inline constexpr MacAddr kClientMac{{0x02, 0, 0, 0, 0, 0x01}};
inline constexpr MacAddr kServerMac{{0x02, 0, 0, 0, 0, 0x02}};
inline constexpr std::uint32_t kClientIp = (198u << 24) | (18u << 16) | 1u;  // 198.18.0.1
inline constexpr std::uint32_t kServerIp = (198u << 24) | (18u << 16) | 2u;  // 198.18.0.2
inline constexpr std::uint16_t kServerPort = 80;
inline constexpr Ipv6Addr kClientIp6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
inline constexpr Ipv6Addr kServerIp6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};

struct PairOptions {
  Workload client_workload;
  Workload server_workload;
  std::uint32_t max_connections = 65536;  // per engine: the flow table and pool are this size
  std::uint32_t max_batch = 256;          // most connections one run_batch() opens
  // Short, so that a batch's TIME_WAIT records expire within about one timer slot of virtual
  // time instead of 60 s; the cost of arming and expiring them is still paid.
  TimeNs time_wait = 1 * kMillisecond;
  // Received checksums summed in software (a device without rx offload) instead of trusted as
  // the data plane trusts its memory links (MemoryLink).
  bool verify_checksums = false;
  // Both engines dual-stack and every connection IPv6 (2001:db8::1 to ::2).
  bool ipv6 = false;
  // false: neither side offers TCP timestamps, so every segment is 12 bytes shorter (dperf's
  // wire format).
  bool timestamps = true;
};

struct BatchResult {
  std::uint32_t opened = 0;
  std::uint32_t open_failed = 0;  // open() refused (tuple in use, no memory, ...)
  std::uint64_t frames = 0;       // frames that crossed the link
  bool stuck = false;             // records remained with no timer armed to end them
};

// Both engines, the link and the virtual clock. run_batch() opens a batch of connections at once
// and runs every one of them to the end (TIME_WAIT expiry included) before returning.
class EnginePair {
 public:
  static constexpr TimeNs kStart = kSecond;

  explicit EnginePair(const PairOptions& options)
      : max_batch_(options.max_batch),
        ipv6_(options.ipv6),
        link_(options.max_batch * 2 + 4 * MemoryLink::kRxBurst + 64, !options.verify_checksums),
        client_(make_config(options, options.client_workload, kClientIp, kClientMac, kServerIp, kServerMac, false),
                link_.client_io(), kStart),
        server_(make_config(options, options.server_workload, kServerIp, kServerMac, kClientIp, kClientMac, true),
                link_.server_io(), kStart) {}

  // Opens min(count, max_batch) connections: the pool is sized for that many in flight.
  // `meter` wraps every call into one engine (see SideTimes); the default adds nothing.
  template <typename Meter = Unmetered>
  BatchResult run_batch(std::uint32_t count, Meter&& meter = Meter{}) {
    BatchResult r;
    count = std::min(count, max_batch_);
    meter.client([&] {
      // As the connection generator does: the batch's flow-table slots requested first.
      std::uint16_t port = port_;
      for (std::uint32_t i = 0; i < count; ++i) {
        client_.prefetch_flow(ipv6_ ? client_.flow_key(kClientIp6, kServerIp6, port, kServerPort)
                                    : FlowKey{kClientIp, kServerIp, port, kServerPort});
        port = port == 65535 ? kFirstPort : static_cast<std::uint16_t>(port + 1);
      }
      for (std::uint32_t i = 0; i < count; ++i) {
        const OpenResult opened = ipv6_ ? client_.open(kServerIp6, kServerPort, next_port(), now_)
                                        : client_.open(kServerIp, kServerPort, next_port(), now_);
        if (opened.error == OpenError::kOk) ++r.opened;
        else ++r.open_failed;
      }
      client_.flush();
    });
    r.frames += link_.pump(client_, server_, now_, meter);
    // What is left waits on timers (TIME_WAIT at least): jump the clock to the next deadline.
    while (client_.gauges().connections + server_.gauges().connections > 0) {
      const TimeNs next = std::min(client_.next_deadline(), server_.next_deadline());
      if (next == kNever) {
        r.stuck = true;
        return r;
      }
      if (next > now_) now_ = next;
      meter.client([&] { client_.advance(now_); });
      meter.server([&] { server_.advance(now_); });
      r.frames += link_.pump(client_, server_, now_, meter);
    }
    return r;
  }

  [[nodiscard]] Engine& client() { return client_; }
  [[nodiscard]] Engine& server() { return server_; }
  [[nodiscard]] const MemoryLink& link() const { return link_; }
  [[nodiscard]] TimeNs now() const { return now_; }

 private:
  static EngineConfig make_config(const PairOptions& o, const Workload& w, std::uint32_t ip, const MacAddr& mac,
                                  std::uint32_t peer_ip, const MacAddr& peer_mac, bool listen) {
    EngineConfig c;
    c.local_ip = ip;
    c.local_mac = mac;
    c.prefix_len = 24;
    c.neighbors.push_back({peer_ip, peer_mac});
    if (o.ipv6) {
      c.local_ip6 = listen ? kServerIp6 : kClientIp6;
      c.neighbors6.push_back({listen ? kClientIp6 : kServerIp6, peer_mac});
    }
    c.max_connections = o.max_connections;
    c.time_wait = o.time_wait;
    c.timestamps = o.timestamps;
    c.workload = w;
    if (listen) c.listen_ports = {kServerPort};
    return c;
  }

  // Ephemeral ports in turn; every batch ends before the next starts, so a port is free again.
  std::uint16_t next_port() {
    const std::uint16_t p = port_;
    port_ = port_ == 65535 ? kFirstPort : static_cast<std::uint16_t>(port_ + 1);
    return p;
  }

  static constexpr std::uint16_t kFirstPort = 1024;

  std::uint32_t max_batch_;
  bool ipv6_;
  MemoryLink link_;  // declared before the engines: the engines hand their frames back to it when destroyed
  Engine client_;
  Engine server_;
  TimeNs now_ = kStart;
  std::uint16_t port_ = kFirstPort;
};

}  // namespace synwave::bench
