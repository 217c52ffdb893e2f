// The Linux kernel's side of scripts/bench.sh: synwave's loopback workloads run through the
// kernel's TCP on the loopback interface, by an epoll server thread and an epoll client thread
// pinned to one CPU each (the two CPUs synwave's two lcores get), so the two figures compare.
//
//   linux_baseline --mode none|http|keepalive|stream --duration S --server-cpu 0 --client-cpu 1 --sources 64
//                  --concurrency N --response-bytes B --json FILE --timeline
//
// Workloads, with synwave's loopback default close policy (--close server: the server closes
// first, the client waits for its FIN and then closes):
//   none: the client connects; the server accepts and closes at once; the client reads the FIN
//         (read() == 0) and closes.
//   http: the client connects and sends "GET / HTTP/1.1"; the server reads the request header,
//         writes "HTTP/1.1 200 OK" with a Content-Length body and closes; the client reads the
//         whole body, then the FIN, and closes.
//   keepalive: requests per second over kept connections (synwave's --requests-per-connection 0):
//         the client opens --concurrency connections and keeps them for the run, sending the next
//         GET as soon as the whole response is in; the server answers each and keeps the
//         connection ("Connection: keep-alive"). Counted in requests, not connections.
//   stream: throughput, iperf3-like: one connection; the server writes --bytes of payload and
//         closes, the client reads to the end. Timed from connect() to the end of the stream, in
//         Gbit/s of payload. --mss 1460 sets TCP_MAXSEG on both sockets, so the kernel moves the
//         segments synwave's 1500-byte MTU gives (loopback's own MTU is 65536, and segmentation
//         offload moves up to 64 KiB per packet).
// A connection is completed when the client saw all of that; it failed when the client saw an
// error (refused, reset, a short or malformed response) or could not open it at all. The server
// closing first leaves TIME-WAIT on the server's side, as in synwave's loopback; the client's
// ports are free at once.
//
// Sources: the client binds each socket to one of --sources addresses 127.1.x.y in turn with
// IP_BIND_ADDRESS_NO_PORT (the port is chosen at connect() for the full 4-tuple), so the
// ephemeral port range is not shared by one address pair and TIME-WAIT does not cap the rate.
// The server listens on 127.0.0.1. Run it in a network namespace of its own with lo up
// (scripts/bench.sh does), so that nothing else on the machine shares its tables.
//
// Output: a summary line on stdout, per-second samples on stderr with --timeline, and with --json
// {cps, completed, failed, duration_s, timeline: [{t_s, opened_per_s, completed_per_s,
// failed_per_s}], ...}. cps counts what completed within --duration; connections still open at the
// deadline count neither way (reported as in_flight_at_stop).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

enum class Workload { kNone, kHttp, kKeepAlive, kStream };

const char* name_of(Workload w) {
  switch (w) {
    case Workload::kNone: return "none";
    case Workload::kHttp: return "http";
    case Workload::kKeepAlive: return "keepalive";
    case Workload::kStream: return "stream";
  }
  return "?";
}

struct Options {
  Workload mode = Workload::kNone;
  double duration_s = 10.0;
  int server_cpu = 0;
  int client_cpu = 1;
  std::uint32_t sources = 64;
  std::uint32_t concurrency = 512;
  std::uint32_t response_bytes = 128;  // synwave's default HTTP body
  std::uint16_t port = 8080;
  std::uint64_t stream_bytes = 1'000'000'000;  // stream: payload of the one connection
  int mss = 0;                                  // stream: TCP_MAXSEG on both sockets (0: the kernel's)
  std::string json_path;
  bool timeline = false;
};

constexpr const char* kUsage =
    "usage: linux_baseline [--mode none|http|keepalive|stream] [--duration S] [--server-cpu N] [--client-cpu N]\n"
    "                      [--sources N] [--concurrency N] [--response-bytes B] [--port P]\n"
    "                      [--bytes N] [--mss M] (stream)\n"
    "                      [--json FILE] [--timeline]\n"
    "Connections per second through the Linux kernel's TCP on loopback: an epoll server thread and\n"
    "an epoll client thread, each pinned to one CPU. Run it inside a network namespace with lo up.\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "linux_baseline: %s\n", message.c_str());
  std::exit(2);
}

template <typename T>
T parse_number(std::string_view flag, std::string_view text, T low, T high) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < low || value > high) {
    usage_error(std::string(flag) + " '" + std::string(text) + "' is not a number in " + std::to_string(low) + "-" +
                std::to_string(high));
  }
  return value;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("%s", kUsage);
      std::exit(0);
    }
    if (flag == "--timeline") {
      o.timeline = true;
      continue;
    }
    if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value (see --help)");
    const std::string_view value = argv[++i];
    if (flag == "--mode") {
      if (value == "none") o.mode = Workload::kNone;
      else if (value == "http") o.mode = Workload::kHttp;
      else if (value == "keepalive") o.mode = Workload::kKeepAlive;
      else if (value == "stream") o.mode = Workload::kStream;
      else usage_error("--mode '" + std::string(value) + "' is not a workload: give none, http, keepalive or stream");
    } else if (flag == "--duration") {
      const std::string text(value);
      char* end = nullptr;
      o.duration_s = std::strtod(text.c_str(), &end);
      if (end == text.c_str() || *end != '\0' || !(o.duration_s > 0) || o.duration_s > 86400) {
        usage_error("--duration '" + text + "' is not a number of seconds in (0, 86400]");
      }
    } else if (flag == "--server-cpu") {
      o.server_cpu = parse_number<int>(flag, value, 0, CPU_SETSIZE - 1);
    } else if (flag == "--client-cpu") {
      o.client_cpu = parse_number<int>(flag, value, 0, CPU_SETSIZE - 1);
    } else if (flag == "--sources") {
      o.sources = parse_number<std::uint32_t>(flag, value, 1, 250 * 250);
    } else if (flag == "--concurrency") {
      o.concurrency = parse_number<std::uint32_t>(flag, value, 1, 1u << 20);
    } else if (flag == "--response-bytes") {
      o.response_bytes = parse_number<std::uint32_t>(flag, value, 0, 1u << 20);
    } else if (flag == "--port") {
      o.port = parse_number<std::uint16_t>(flag, value, 1, 65535);
    } else if (flag == "--bytes") {
      o.stream_bytes = parse_number<std::uint64_t>(flag, value, 1, std::uint64_t{1} << 40);
    } else if (flag == "--mss") {
      o.mss = parse_number<int>(flag, value, 0, 65495);
      if (o.mss != 0 && o.mss < 536) usage_error("--mss " + std::string(value) + " is below 536: give 0 (the kernel's) or 536-65495");
    } else if (flag == "--json") {
      o.json_path = value;
    } else {
      usage_error("unknown option '" + std::string(flag) + "' (see --help)");
    }
  }
  return o;
}

// A CPU outside the process's affinity mask is a user error (checked before any thread starts).
void check_cpu(int cpu, const char* flag) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || !CPU_ISSET(cpu, &allowed)) {
    usage_error(std::string(flag) + " " + std::to_string(cpu) + ": this process may not run there (" +
                std::to_string(CPU_COUNT(&allowed)) + " CPU(s) allowed): give another CPU");
  }
}

// Pins the calling thread to a CPU check_cpu() accepted.
void pin_to(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  pthread_setaffinity_np(pthread_self(), sizeof one, &one);
}

// A counter with one writer and readers on other threads: relaxed load + store, no locked add.
struct SingleWriterCount {
  std::atomic<std::uint64_t> value{0};
  void add(std::uint64_t n = 1) { value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t get() const { return value.load(std::memory_order_relaxed); }
};

struct Shared {
  std::atomic<bool> stop{false};
  std::atomic<int> server_ready{0};  // 1 listening, -1 failed
  std::string server_error;
  SingleWriterCount opened;      // client: connect() started
  SingleWriterCount completed;   // client: workload done, FIN seen, closed
  SingleWriterCount requests;    // client, keepalive: whole responses read
  SingleWriterCount failed;      // client: error, reset, short response, or could not open
  SingleWriterCount accepted;    // server
  SingleWriterCount server_failed;
  std::uint64_t in_flight_at_stop = 0;
  // The first failure's reason, for the report (written once by the client thread before it ends).
  std::string first_failure;
};

constexpr std::string_view kHeaderEnd = "\r\n\r\n";

// ---------------------------------------------------------------------------------------------
// Server

// Per accepted socket (indexed by fd): how much of "\r\n\r\n" the request has matched so far.
struct ServerConn {
  std::uint8_t matched = 0;
};

std::string make_response(std::uint32_t body_bytes, bool keep) {
  std::string r = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body_bytes) +
                  "\r\nContent-Type: text/plain\r\nConnection: " + (keep ? "keep-alive" : "close") + "\r\n\r\n";
  r.append(body_bytes, 'x');
  return r;
}

// Advances the "\r\n\r\n" matcher over bytes; true when the header end was reached.
bool scan_header_end(std::uint8_t& matched, const char* data, std::size_t len) {
  for (std::size_t i = 0; i < len; ++i) {
    if (data[i] == kHeaderEnd[matched]) {
      if (++matched == kHeaderEnd.size()) return true;
    } else {
      matched = data[i] == '\r' ? 1 : 0;
    }
  }
  return false;
}

void server_main(const Options& o, Shared& shared) {
  pin_to(o.server_cpu);
  auto fail_setup = [&](const char* what) {
    shared.server_error = std::string(what) + ": " + std::strerror(errno);
    shared.server_ready.store(-1);
  };
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener < 0) return fail_setup("socket");
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(o.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail_setup("bind 127.0.0.1");
  if (listen(listener, 65535) != 0) return fail_setup("listen");  // the kernel caps it at somaxconn
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) != 0) return fail_setup("epoll");
  shared.server_ready.store(1);

  const bool keep = o.mode == Workload::kKeepAlive;
  const std::string response = make_response(o.response_bytes, keep);
  std::vector<ServerConn> conns;
  char buf[4096];
  // Reads what the request has sent; answers once its header is complete, then closes (keepalive:
  // waits for the next request). Returns false while more is to come. The client sends its next
  // request only after the response, so a read holds at most one request.
  auto serve = [&](int fd) -> bool {
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) {
        if (scan_header_end(conns[fd].matched, buf, static_cast<std::size_t>(n))) {
          // Small enough for the socket buffer: one write, then the FIN right behind it.
          if (write(fd, response.data(), response.size()) != static_cast<ssize_t>(response.size())) shared.server_failed.add();
          if (keep) {
            conns[fd].matched = 0;
            continue;
          }
          close(fd);
          return true;
        }
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
      // EOF or error before the request ended (a kept connection's client closing between two
      // requests is not a failure).
      if (!(keep && n == 0 && conns[fd].matched == 0)) shared.server_failed.add();
      close(fd);
      return true;
    }
  };

  epoll_event events[64];
  while (!shared.stop.load(std::memory_order_relaxed)) {
    const int n = epoll_wait(ep, events, 64, 50);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd != listener) {
        serve(fd);  // closing the socket removes it from the epoll set
        continue;
      }
      for (;;) {
        const int c = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) break;  // EAGAIN, or a connection reset while queued (the client counts it)
        shared.accepted.add();
        if (o.mode == Workload::kNone) {
          close(c);  // the server closes first
          continue;
        }
        if (static_cast<std::size_t>(c) >= conns.size()) conns.resize(static_cast<std::size_t>(c) * 2 + 64);
        conns[c] = ServerConn{};
        // On loopback the request is often there already: answer without a trip through epoll.
        if (serve(c)) continue;
        epoll_event cev{};
        cev.events = EPOLLIN | EPOLLRDHUP;
        cev.data.fd = c;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) != 0) {
          shared.server_failed.add();
          close(c);
        }
      }
    }
  }
  close(ep);
  close(listener);
}

// ---------------------------------------------------------------------------------------------
// Client

enum class Phase : std::uint8_t { kFree, kConnecting, kReadingHeader, kReadingBody, kAwaitingFin };

// Per client socket (indexed by fd).
struct ClientConn {
  Phase phase = Phase::kFree;
  std::uint8_t matched = 0;       // of "\r\n\r\n"
  std::uint16_t header_len = 0;   // bytes kept in header (the status line and Content-Length)
  std::uint32_t body_left = 0;
  char header[256];
};

// Parses the kept start of a response header: a 200 status and its Content-Length.
bool parse_response_header(const ClientConn& c, std::uint32_t& content_length) {
  const std::string_view h(c.header, c.header_len);
  if (h.substr(0, 12) != "HTTP/1.1 200" && h.substr(0, 12) != "HTTP/1.0 200") return false;
  const std::size_t at = h.find("\r\nContent-Length:");
  if (at == std::string_view::npos) return false;
  std::size_t p = at + 17;
  while (p < h.size() && h[p] == ' ') ++p;
  const auto [end, ec] = std::from_chars(h.data() + p, h.data() + h.size(), content_length);
  return ec == std::errc{} && end != h.data() + p;
}

class Client {
 public:
  Client(const Options& o, Shared& shared) : o_(o), shared_(shared) {
    request_ = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: linux_baseline\r\n\r\n";
    for (std::uint32_t i = 0; i < o.sources; ++i) {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | ((i / 250) << 8) | (1 + i % 250));  // 127.1.x.(1-250)
      sources_.push_back(a);
    }
    server_.sin_family = AF_INET;
    server_.sin_port = htons(o.port);
    server_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }

  void run() {
    pin_to(o_.client_cpu);
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) {
      note_failure(std::string("epoll_create1: ") + std::strerror(errno));
      return;
    }
    epoll_event events[256];
    while (!shared_.stop.load(std::memory_order_relaxed)) {
      top_up();
      const int n = epoll_wait(ep_, events, 256, open_ == 0 ? 10 : 50);
      for (int i = 0; i < n; ++i) on_event(events[i].data.fd, events[i].events);
    }
    shared_.in_flight_at_stop = open_;
    for (std::size_t fd = 0; fd < conns_.size(); ++fd) {
      if (conns_[fd].phase != Phase::kFree) close(static_cast<int>(fd));
    }
    close(ep_);
  }

 private:
  // Opens connections until --concurrency are in flight. An open that fails (no port left,
  // no memory) counts as failed and ends this round: the next comes after the next events.
  void top_up() {
    while (open_ < o_.concurrency) {
      if (!open_one()) return;
    }
  }

  bool open_one() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return open_failed("socket");
    const int one = 1;
    // The port is picked at connect() for the whole 4-tuple, not at bind() for the address alone.
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    const sockaddr_in& src = sources_[next_source_];
    next_source_ = next_source_ + 1 == sources_.size() ? 0 : next_source_ + 1;
    if (bind(fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0) {
      close(fd);
      return open_failed("bind");
    }
    if (connect(fd, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) != 0 && errno != EINPROGRESS) {
      close(fd);
      return open_failed("connect");
    }
    if (static_cast<std::size_t>(fd) >= conns_.size()) conns_.resize(static_cast<std::size_t>(fd) * 2 + 64);
    ClientConn& c = conns_[fd];
    c = ClientConn{};
    c.phase = Phase::kConnecting;
    epoll_event ev{};
    // Edge-triggered: one wake-up per change. "none" waits for the FIN only (readable), so a
    // connection costs one event; "http" also needs the connect's completion (writable).
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (o_.mode != Workload::kNone ? std::uint32_t{EPOLLOUT} : 0u);
    ev.data.fd = fd;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      c.phase = Phase::kFree;
      close(fd);
      return open_failed("epoll_ctl");
    }
    ++open_;
    shared_.opened.add();
    return true;
  }

  bool open_failed(const char* what) {
    note_failure(std::string(what) + ": " + std::strerror(errno));
    shared_.failed.add();
    return false;
  }

  void note_failure(std::string why) {
    if (shared_.first_failure.empty()) shared_.first_failure = std::move(why);
  }

  void finish(int fd, bool ok, const char* why) {
    conns_[fd].phase = Phase::kFree;
    close(fd);
    --open_;
    if (ok) {
      shared_.completed.add();
    } else {
      shared_.failed.add();
      note_failure(why);
    }
  }

  void on_event(int fd, std::uint32_t events) {
    ClientConn& c = conns_[fd];
    if (c.phase == Phase::kFree) return;
    if (c.phase == Phase::kConnecting && o_.mode != Workload::kNone) {
      if ((events & EPOLLERR) != 0) return finish(fd, false, "connect refused or reset");
      if ((events & EPOLLOUT) == 0) return;
      if (write(fd, request_.data(), request_.size()) != static_cast<ssize_t>(request_.size())) {
        return finish(fd, false, "request write failed");
      }
      c.phase = Phase::kReadingHeader;
    }
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0) read_all(fd, c);
  }

  // Edge-triggered: reads until EAGAIN or the end.
  void read_all(int fd, ClientConn& c) {
    for (;;) {
      const ssize_t n = read(fd, buf_, sizeof buf_);
      if (n > 0) {
        if (!consume(c, buf_, static_cast<std::size_t>(n))) return finish(fd, false, "malformed or overlong response");
        if (o_.mode == Workload::kKeepAlive && c.phase == Phase::kAwaitingFin) {
          // The whole response is in: the next request on the same connection.
          shared_.requests.add();
          c = ClientConn{};
          c.phase = Phase::kReadingHeader;
          if (write(fd, request_.data(), request_.size()) != static_cast<ssize_t>(request_.size())) {
            return finish(fd, false, "request write failed");
          }
        }
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0) return finish(fd, false, errno == ECONNREFUSED ? "connection refused" : "connection reset");
      // The server's FIN. "none": that is the whole workload; "http": the response must be complete.
      const bool ok = o_.mode == Workload::kNone ? true : c.phase == Phase::kAwaitingFin;
      return finish(fd, ok, "FIN before the whole response");
    }
  }

  // Takes response bytes; false on a malformed response or bytes beyond its end.
  bool consume(ClientConn& c, const char* data, std::size_t len) {
    if (o_.mode == Workload::kNone) return false;  // the server sends nothing in "none"
    std::size_t i = 0;
    if (c.phase == Phase::kReadingHeader) {
      for (; i < len; ++i) {
        if (c.header_len < sizeof c.header) c.header[c.header_len++] = data[i];
        std::uint8_t& m = c.matched;
        if (data[i] == kHeaderEnd[m]) {
          if (++m == kHeaderEnd.size()) {
            ++i;
            std::uint32_t length = 0;
            if (!parse_response_header(c, length)) return false;
            c.body_left = length;
            c.phase = length == 0 ? Phase::kAwaitingFin : Phase::kReadingBody;
            break;
          }
        } else {
          m = data[i] == '\r' ? 1 : 0;
        }
      }
    }
    const std::size_t rest = len - i;
    if (rest == 0) return true;
    if (c.phase != Phase::kReadingBody || rest > c.body_left) return false;
    c.body_left -= static_cast<std::uint32_t>(rest);
    if (c.body_left == 0) c.phase = Phase::kAwaitingFin;
    return true;
  }

  const Options& o_;
  Shared& shared_;
  std::string request_;
  std::vector<sockaddr_in> sources_;
  sockaddr_in server_{};
  std::size_t next_source_ = 0;
  std::vector<ClientConn> conns_;
  std::uint32_t open_ = 0;
  int ep_ = -1;
  char buf_[16384];
};

// ---------------------------------------------------------------------------------------------

std::string read_sysctl(const char* path) {
  std::ifstream in(path);
  std::string v;
  std::getline(in, v);
  return v;
}

void raise_fd_limit(std::uint32_t needed) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < needed) {
    lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, needed);
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur < needed) {
    usage_error("--concurrency needs " + std::to_string(needed) + " file descriptors but the limit is " +
                std::to_string(lim.rlim_cur) + ": raise it (ulimit -n) or give a lower --concurrency");
  }
}

}  // namespace

// Writes the report; the exit code (1 when the file cannot be written).
int write_json(const std::string& path, const nlohmann::json& r) {
  std::ofstream out(path);
  out << r.dump(2) << "\n";
  if (out) return 0;
  std::fprintf(stderr, "linux_baseline: cannot write %s\n", path.c_str());
  return 1;
}

// stream: one connection, --bytes from the server to the client, blocking sockets (as iperf3's
// are), each thread pinned. Returns the exit code.
int run_stream(const Options& o) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (o.mss != 0) setsockopt(listener, IPPROTO_TCP, TCP_MAXSEG, &o.mss, sizeof o.mss);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(o.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || listen(listener, 1) != 0) {
    std::fprintf(stderr, "linux_baseline: the server cannot listen on 127.0.0.1:%u (%s): is lo up and the port free?\n",
                 o.port, std::strerror(errno));
    return 1;
  }
  std::atomic<std::uint64_t> sent{0};
  std::thread server([&] {
    pin_to(o.server_cpu);
    const int c = accept(listener, nullptr, nullptr);
    if (c < 0) return;
    std::vector<char> chunk(1 << 20, 'x');
    std::uint64_t left = o.stream_bytes;
    while (left > 0) {
      const ssize_t n = send(c, chunk.data(), std::min<std::uint64_t>(left, chunk.size()), 0);
      if (n <= 0) break;
      left -= static_cast<std::uint64_t>(n);
    }
    sent.store(o.stream_bytes - left);
    close(c);
  });
  pin_to(o.client_cpu);
  using Clock = std::chrono::steady_clock;
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  if (o.mss != 0) setsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &o.mss, sizeof o.mss);
  const Clock::time_point started = Clock::now();
  std::uint64_t received = 0;
  if (connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    std::vector<char> buf(1 << 20);
    for (;;) {
      const ssize_t n = recv(s, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      received += static_cast<std::uint64_t>(n);
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  int mss_seen = 0;
  socklen_t len = sizeof mss_seen;
  getsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &mss_seen, &len);
  close(s);
  server.join();
  close(listener);
  const double gbit = static_cast<double>(received) * 8 / seconds / 1e9;
  std::printf("linux_baseline stream: %llu bytes in %.3f s = %.3f Gbit/s (mss %d)\n",
              static_cast<unsigned long long>(received), seconds, gbit, mss_seen);
  if (received != o.stream_bytes) {
    std::fprintf(stderr, "linux_baseline: the stream ended after %llu of %llu bytes\n",
                 static_cast<unsigned long long>(received), static_cast<unsigned long long>(o.stream_bytes));
    return 1;
  }
  if (!o.json_path.empty()) {
    utsname u{};
    uname(&u);
    const nlohmann::json r = {{"mode", "stream"},
                              {"bytes", received},
                              {"duration_s", seconds},
                              {"gbit_per_s", gbit},
                              {"mss", mss_seen},
                              {"config", {{"server_cpu", o.server_cpu}, {"client_cpu", o.client_cpu}, {"mss_option", o.mss}}},
                              {"kernel", {{"release", u.release}}}};
    return write_json(o.json_path, r);
  }
  return 0;
}

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  check_cpu(o.server_cpu, "--server-cpu");
  check_cpu(o.client_cpu, "--client-cpu");
  if (o.server_cpu == o.client_cpu) {
    std::fprintf(stderr, "linux_baseline: note: server and client share CPU %d\n", o.server_cpu);
  }
  if (o.mode == Workload::kStream) return run_stream(o);
  raise_fd_limit(o.concurrency * 2 + 256);

  Shared shared;
  std::thread server([&] { server_main(o, shared); });
  while (shared.server_ready.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (shared.server_ready.load() < 0) {
    server.join();
    std::fprintf(stderr, "linux_baseline: the server cannot listen on 127.0.0.1:%u (%s): is lo up and the port free?\n",
                 o.port, shared.server_error.c_str());
    return 1;
  }

  using Clock = std::chrono::steady_clock;
  Client client(o, shared);
  const Clock::time_point started = Clock::now();
  std::thread client_thread([&] { client.run(); });

  // The main thread only samples, once a second, sleeping in between (unpinned: it costs nothing).
  nlohmann::json timeline = nlohmann::json::array();
  const Clock::time_point deadline = started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  Clock::time_point last_at = started;
  std::uint64_t last_opened = 0, last_completed = 0, last_failed = 0, last_requests = 0;
  std::uint64_t completed = 0, failed = 0;
  for (int second = 1;; ++second) {
    const Clock::time_point next = std::min(deadline, started + std::chrono::seconds(second));
    std::this_thread::sleep_until(next);
    const Clock::time_point now = Clock::now();
    const std::uint64_t opened = shared.opened.get();
    completed = shared.completed.get();
    failed = shared.failed.get();
    const double dt = std::chrono::duration<double>(now - last_at).count();
    const double t = std::chrono::duration<double>(now - started).count();
    const std::uint64_t requests_now = shared.requests.get();
    const nlohmann::json sample = {{"t_s", t},
                                   {"opened_per_s", static_cast<double>(opened - last_opened) / dt},
                                   {"completed_per_s", static_cast<double>(completed - last_completed) / dt},
                                   {"failed_per_s", static_cast<double>(failed - last_failed) / dt},
                                   {"http_requests_per_s", static_cast<double>(requests_now - last_requests) / dt}};
    timeline.push_back(sample);
    if (o.timeline) {
      std::fprintf(stderr, "[%6.1fs] completed %.0f/s failed %.0f/s opened %.0f/s\n", t,
                   sample["completed_per_s"].get<double>(), sample["failed_per_s"].get<double>(),
                   sample["opened_per_s"].get<double>());
    }
    last_at = now;
    last_opened = opened;
    last_completed = completed;
    last_failed = failed;
    last_requests = requests_now;
    if (now >= deadline) break;
  }
  const double duration = std::chrono::duration<double>(last_at - started).count();
  shared.stop.store(true);
  client_thread.join();
  server.join();

  const double cps = static_cast<double>(completed) / duration;
  const std::uint64_t requests = shared.requests.get();
  const double rps = static_cast<double>(requests) / duration;
  std::printf("linux_baseline %s: %llu connections completed, %llu failed in %.2f s = %.0f connections/s", name_of(o.mode),
              static_cast<unsigned long long>(completed), static_cast<unsigned long long>(failed), duration, cps);
  if (o.mode == Workload::kKeepAlive) {
    std::printf(", %llu HTTP requests = %.0f requests/s", static_cast<unsigned long long>(requests), rps);
  }
  std::printf("\n");
  if (failed != 0 && !shared.first_failure.empty()) {
    std::fprintf(stderr, "linux_baseline: first failure: %s\n", shared.first_failure.c_str());
  }
  if (!o.json_path.empty()) {
    utsname u{};
    uname(&u);
    nlohmann::json r;
    r["mode"] = name_of(o.mode);
    r["cps"] = cps;
    r["requests"] = requests;
    r["http_requests_per_s"] = rps;
    r["completed"] = completed;
    r["failed"] = failed;
    r["duration_s"] = duration;
    r["in_flight_at_stop"] = shared.in_flight_at_stop;
    r["first_failure"] = shared.first_failure;
    r["server"] = {{"accepted", shared.accepted.get()}, {"failed", shared.server_failed.get()}};
    r["config"] = {{"server_cpu", o.server_cpu},
                   {"client_cpu", o.client_cpu},
                   {"sources", o.sources},
                   {"concurrency", o.concurrency},
                   {"response_bytes", o.response_bytes},
                   {"close", o.mode == Workload::kKeepAlive ? "none: kept for the run" : "server"},
                   {"server", "127.0.0.1:" + std::to_string(o.port)}};
    r["kernel"] = {{"release", u.release},
                   {"tcp_tw_reuse", read_sysctl("/proc/sys/net/ipv4/tcp_tw_reuse")},
                   {"tcp_timestamps", read_sysctl("/proc/sys/net/ipv4/tcp_timestamps")},
                   {"ip_local_port_range", read_sysctl("/proc/sys/net/ipv4/ip_local_port_range")},
                   {"somaxconn", read_sysctl("/proc/sys/net/core/somaxconn")},
                   {"tcp_max_tw_buckets", read_sysctl("/proc/sys/net/ipv4/tcp_max_tw_buckets")}};
    r["timeline"] = timeline;
    return write_json(o.json_path, r);
  }
  return 0;
}
