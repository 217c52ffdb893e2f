#pragma once
// The program's command line and configuration file: one set of options per mode, each also
// settable in a TOML file given by --config (the command line wins); and the run's plan they
// become (run_plan.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "synwave/engine_config.hpp"
#include "synwave/connection_generator.hpp"
#include "synwave/flood_generator.hpp"
#include "option_values.hpp"

namespace synwave::app {

enum class Mode { kServer, kClient, kLoopback, kFlood, kPair };

// Loopback and pair run a client engine and a server engine in one process.
[[nodiscard]] inline bool has_both_roles(Mode m) { return m == Mode::kLoopback || m == Mode::kPair; }

struct AppOptions {
  Mode mode = Mode::kLoopback;
  std::string mode_name = "loopback";
  std::string config_file;

  // Addressing and device.
  // A.B.C.D/LEN or 2001:db8::2/64, at most one of each family (flood: one address, of either
  // family). Pair: the client side's.
  std::vector<std::string> ip;
  std::vector<std::string> gateway;    // at most one of each family
  std::vector<std::string> neighbors;  // IP,MAC (IPv4 or IPv6)
  std::uint16_t port = 0;          // ethdev port id
  std::uint16_t mtu = 1500;
  bool verify_checksums = false;
  // Microseconds an lcore waits after a loop pass that found nothing to do (0: it polls again at
  // once): fewer, fuller bursts below saturation, at that much latency (worker.hpp says why).
  double idle_pause_us = 0;
  std::uint32_t mbufs = 0;         // 0: sized from the connection count
  std::uint32_t ring_size = 8192;  // loopback: slots of each direction's ring (a power of two)
  bool loopback_ipv6 = false;      // loopback: over IPv6 (2001:db8::1 and ::2) instead of IPv4
  // Pair: the client's port (its address is `ip`) and the server's, with the server's address.
  std::uint16_t client_port = 0;
  std::uint16_t server_port = 1;
  std::vector<std::string> server_ip;  // as `ip`

  // Server.
  std::vector<std::uint16_t> listen;
  std::optional<std::uint32_t> http_bytes;
  std::uint32_t max_requests = 0;  // HTTP server: per connection, 0 without limit
  // Client.
  // A.B.C.D[-A.B.C.D]:PORT[-PORT] or [2001:db8::2[-2001:db8::9]]:PORT[-PORT], repeatable, of
  // one family.
  std::vector<std::string> dst;
  // A.B.C.D[-A.B.C.D] or 2001:db8::10[-2001:db8::50], the family of --dst: source addresses
  // (empty: --ip's of that family).
  std::string src_ip;
  std::uint64_t rate = 0;
  double ramp = 0;                 // seconds for the rate to climb from 0
  double connect_timeout = 0;      // 0: the SYN retries decide
  double response_timeout = 0;     // 0: only the idle timeout
  double think_time = 0;           // seconds between the handshake and the request
  std::uint32_t requests_per_connection = 1;  // HTTP client: 0 until the run ends
  double request_interval = 0;     // HTTP client: seconds between a response and the next request
  std::uint32_t pipeline = 1;      // HTTP client: requests in flight per connection
  std::uint32_t concurrency = 0;   // 0: mode default
  std::uint64_t connections = 0;
  std::optional<double> duration;
  std::string http_get;
  std::string src_ports = "1024-65535";
  std::string shard;     // I/N: this instance's slice of the source ports
  std::string start_at;  // RFC 3339 or seconds since the epoch
  // NAME:SECONDS:RATE[-RATE][:CONCURRENCY], one per phase, in order (a TOML file gives them as
  // [[phase]] tables).
  std::vector<std::string> phases;
  // Both.
  std::optional<std::uint32_t> request_bytes;   // raw workload (no HTTP)
  std::optional<std::uint32_t> response_bytes;
  std::string close;               // empty: mode default
  std::uint32_t max_connections = 0;  // 0: mode default
  double time_wait = 60.0;
  double fin_wait2_timeout = 60.0;
  double delayed_ack_ms = 40.0;
  // RFC 6298's retransmission timer: its value before any RTT sample, and its floor.
  double rto_initial_ms = 1000.0;
  double rto_min_ms = 200.0;
  double idle_timeout = 60.0;
  std::uint32_t max_time_wait = 262144;
  std::uint32_t shed_watermark = 0;  // 0: 15/16 of max_connections
  std::uint32_t challenge_ack_limit = 100000;
  // TCP options offered and accepted (RFC 7323 timestamps and window scale, RFC 2018 SACK).
  bool no_timestamps = false;
  bool no_sack = false;
  bool no_window_scale = false;

  // Listener (server and loopback).
  std::uint32_t syn_backlog = 4096;
  std::uint32_t synack_retries = 5;
  double synack_timeout = 1.0;
  std::string syn_cookies = "on-overflow";
  double cookie_rotation = 64.0;
  std::uint32_t backlog = 4096;
  double accept_rate = 0;
  bool abort_on_overflow = false;
  bool shed_reset = false;

  // Flood (also --ip, --dst (one), --src-ip (the spoofed range), --src-ports, --duration).
  std::uint64_t pps = 0;           // total over the lcores
  std::string kind = "syn";
  std::optional<std::uint64_t> seed;
  std::uint64_t probe_rate = 0;    // legitimate connections per second during the flood (0: none)
  std::string probe_src;           // their source address (default: --ip)
  std::string probe_path = "/";
  double probe_timeout = 3.0;      // seconds a probe waits for its handshake, then for its response

  // Observability.
  std::string report;
  std::string metrics;  // ADDR:PORT to serve Prometheus' /metrics on (empty: none)
  std::string run_id;   // the `run` label of every metric, and the report's config.run_id
  double stats_interval = 1.0;
  std::string log_level = "info";
  std::string capture;
  std::uint32_t capture_packets = 1000;
};

// The parsed options turned into what the engines and generators need.
struct RunPlan {
  AppOptions options;
  EngineConfig server;           // server and loopback
  EngineConfig client;           // client and loopback; flood: the probes' engine (--probe-rate)
  GeneratorConfig generator;     // client and loopback; flood: the probes (with `client`)
  FloodConfig flood;             // flood: pps is the total, split per lcore by the program
  double duration_s = 0;         // 0: until stopped (or the connection count is reached)
  std::uint64_t tuple_space = 0; // client: source addresses x source ports x destinations
  std::vector<std::string> warnings;  // settings that make a collapse likely: said once at start
  std::vector<std::string> phase_names;  // with generator.phases: each phase's name, in order
  double start_at_unix = 0;      // --start-at in seconds since the epoch; 0: start at once
};

// Checks plan.options (as parsed) against each other and fills in the rest of the plan from them
// (run_plan.cpp). An error message or "".
std::string build_run_plan(RunPlan& plan);

struct ParseResult {
  int exit_code = 0;             // non-zero: stop with this code (0 with done=true: --help)
  bool done = false;
  std::string message;           // what to print (error line or help)
  RunPlan plan;
};

// args: the program's own arguments (after '--').
ParseResult parse_command_line(const std::vector<std::string>& args);

// What --kind takes: every FloodKind's name (kFloodKinds' order).
std::vector<std::string> flood_kind_names();

}  // namespace synwave::app
