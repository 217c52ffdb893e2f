#include "options.hpp"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

namespace synwave::app {

namespace {

struct Modes {
  CLI::App* server;
  CLI::App* client;
  CLI::App* loopback;
  CLI::App* flood;
  CLI::App* pair;
};

// The program's modes, in the order the error messages list them.
constexpr const char* kModes[] = {"server", "client", "loopback", "flood", "pair"};
// The other first word: `synwave merge REPORT.json...`, which main() runs before the EAL starts
// (merge.cpp); named here so that a mistyped one is recognised.
constexpr const char* kMergeCommand = "merge";

// Where a mode's addresses come from: its own --ip (server, client), fixed ones (loopback), or
// one per role on two ports (pair).
enum class Addressing { kOwn, kLoopback, kPair };

void add_common(CLI::App* s, AppOptions& o, Addressing a) {
  s->add_option("--config", o.config_file, "TOML file with any of these options (the command line wins)");
  s->add_option("--gateway", o.gateway,
                a == Addressing::kPair ? "the client's gateway (the device's address on its side) for destinations "
                                         "outside --client-ip's subnet, A.B.C.D or 2001:db8::1 (one of each family)"
                                       : "gateway for destinations outside --ip's subnet, A.B.C.D or 2001:db8::1 (one of "
                                         "each family)");
  s->add_option("--neighbor", o.neighbors, "static neighbour IP,MAC, IPv4 or IPv6 (repeatable)");
  if (a == Addressing::kPair) {
    s->add_option("--client-port", o.client_port, "DPDK ethdev port id of the client side (default 0)")
        ->check(CLI::Range(0, 1023));
    s->add_option("--server-port", o.server_port, "DPDK ethdev port id of the server side (default 1)")
        ->check(CLI::Range(0, 1023));
  } else {
    s->add_option("--port", o.port, "DPDK ethdev port id to use")->check(CLI::Range(0, 1023));
  }
  s->add_option("--mtu", o.mtu, "MTU of the port")->check(CLI::Range(576, 9000));
  s->add_flag("--verify-checksums", o.verify_checksums,
              "verify received checksums on memory links too (net_ring, net_memif trust them by default)");
  s->add_option("--idle-pause", o.idle_pause_us,
                "microseconds an lcore waits after a pass that found nothing to do before it polls again (0: at once); "
                "below saturation it costs that much latency and takes fewer, fuller bursts")
      ->check(CLI::Range(0.0, 1000.0));
  s->add_option("--mbufs", o.mbufs, "mbufs in the pool (default: sized from --max-connections)");
  s->add_option("--max-connections", o.max_connections, "connection records per engine (preallocated)")
      ->check(CLI::Range(1u, 1u << 28));
  s->add_option("--time-wait", o.time_wait, "TIME-WAIT duration in seconds (2MSL)")->check(CLI::Range(0.0, 600.0));
  s->add_option("--fin-wait2-timeout", o.fin_wait2_timeout, "FIN-WAIT-2 timeout in seconds")->check(CLI::Range(0.0, 3600.0));
  s->add_option("--delayed-ack", o.delayed_ack_ms, "delayed-ACK time in milliseconds (0: ACK at once)")
      ->check(CLI::Range(0.0, 500.0));
  s->add_option("--rto-initial", o.rto_initial_ms,
                "retransmission timeout in milliseconds before a connection has an RTT sample (RFC 6298: 1000)")
      ->check(CLI::Range(1.0, 60000.0));
  s->add_option("--rto-min", o.rto_min_ms,
                "floor of the retransmission timeout in milliseconds (Linux: 200); at most --rto-initial")
      ->check(CLI::Range(1.0, 60000.0));
  s->add_option("--idle-timeout", o.idle_timeout, "seconds a workload waits on a silent peer before giving up")
      ->check(CLI::Range(0.001, 86400.0));
  s->add_option("--max-time-wait", o.max_time_wait, "TIME-WAIT entries per engine; beyond, TIME-WAIT is skipped and counted")
      ->check(CLI::Range(0u, 1u << 28));
  s->add_option("--shed-watermark", o.shed_watermark,
                "records in use at which new SYNs are dropped unprocessed and records stuck retransmitting are "
                "reset (0: 15/16 of --max-connections)")
      ->check(CLI::Range(0u, 1u << 28));
  s->add_option("--challenge-ack-limit", o.challenge_ack_limit, "RFC 5961 challenge ACKs per second per lcore")
      ->check(CLI::Range(1u, 1u << 30));
  s->add_flag("--no-timestamps", o.no_timestamps,
              "neither offer nor accept TCP timestamps (RFC 7323): every segment 12 bytes shorter, as from peers "
              "that send none (dperf); no PAWS (RFC 7323 §5)");
  s->add_flag("--no-sack", o.no_sack, "neither offer nor accept SACK (RFC 2018)");
  s->add_flag("--no-window-scale", o.no_window_scale, "neither offer nor accept window scaling (RFC 7323 §2)");
  s->add_option("--report", o.report, "write a JSON report to this file at the end");
  s->add_option("--metrics", o.metrics, "serve Prometheus metrics at http://ADDR:PORT/metrics while the run lasts");
  s->add_option("--run-id", o.run_id, "a name for this run: the `run` label of every metric, and in the report");
  s->add_option("--stats-interval", o.stats_interval, "seconds between progress lines (0: none)")->check(CLI::Range(0.0, 3600.0));
  s->add_option("--log-level", o.log_level, "log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  s->add_option("--capture", o.capture, "write the first packets of every lcore to this pcapng file");
  s->add_option("--capture-packets", o.capture_packets, "packets per lcore to capture")->check(CLI::Range(1u, 100000000u));
  s->add_option("--request-bytes", o.request_bytes, "raw workload (no HTTP): the client sends BYTES, then reads the response")
      ->check(CLI::Range(1u, Workload::kMaxMessageBytes));
  s->add_option("--response-bytes", o.response_bytes, "raw workload (no HTTP): the server answers a request with BYTES")
      ->check(CLI::Range(1u, Workload::kMaxMessageBytes));
}

void add_server(CLI::App* s, AppOptions& o, Addressing a) {
  if (a == Addressing::kOwn) {
    s->add_option("--ip", o.ip,
                  "our address and prefix, A.B.C.D/LEN or 2001:db8::2/64 (repeatable: one of each family listens on both)")
        ->required();
  }
  if (a == Addressing::kPair) {
    s->add_option("--server-ip", o.server_ip,
                  "the server side's address and prefix, A.B.C.D/LEN or 2001:db8::2/64 (repeatable: one of each family)")
        ->required();
  }
  if (a != Addressing::kLoopback) {
    s->add_option("--listen", o.listen, "TCP port to listen on (repeatable)")->required()->check(CLI::Range(1, 65535));
  }
  s->add_option("--http", o.http_bytes, "answer each HTTP request with a 200 whose body is BYTES long")
      ->check(CLI::Range(0u, Workload::kMaxMessageBytes));
  s->add_option("--max-requests", o.max_requests,
                "HTTP: requests answered on one connection before the server closes it (0: as many as the client sends; "
                "1: every response says Connection: close)")
      ->check(CLI::Range(0u, 0xffffffffu));
  s->add_option("--syn-backlog", o.syn_backlog, "half-open connections per listening port per lcore")
      ->check(CLI::Range(0u, 1u << 24));
  s->add_option("--synack-retries", o.synack_retries, "SYN-ACK retransmissions before a half-open entry is dropped")
      ->check(CLI::Range(0u, 20u));
  s->add_option("--synack-timeout", o.synack_timeout, "first SYN-ACK retransmission timeout in seconds (doubles each time)")
      ->check(CLI::Range(0.001, 120.0));
  s->add_option("--syn-cookies", o.syn_cookies, "SYN cookies: off, on-overflow (when the SYN backlog is full), always")
      ->check(CLI::IsMember({"off", "on-overflow", "always"}));
  s->add_option("--cookie-rotation", o.cookie_rotation, "seconds between SYN-cookie secret rotations (and the cookie counter period)")
      ->check(CLI::Range(1.0, 86400.0));
  s->add_option("--backlog", o.backlog, "accept queue per listening port per lcore")->check(CLI::Range(1u, 1u << 24));
  s->add_option("--accept-rate", o.accept_rate, "connections the application accepts per second per lcore (0: at once)")
      ->check(CLI::Range(0.0, 1e9));
  s->add_flag("--abort-on-overflow", o.abort_on_overflow, "answer a final ACK that finds the accept queue full with RST (default: drop it)");
  s->add_flag("--shed-reset", o.shed_reset,
              "refuse the SYNs shed while an lcore is saturated with RST, so an open-loop client fails them at once "
              "instead of retrying into the overload (default: drop them; never against spoofed floods: the RSTs go "
              "to the forged sources)");
}

void add_client(CLI::App* s, AppOptions& o, Addressing a) {
  if (a == Addressing::kPair) {
    s->add_option("--client-ip", o.ip,
                  "the client side's address and prefix, A.B.C.D/LEN or 2001:db8::3/64 (repeatable: one of each family)")
        ->required();
  }
  if (a == Addressing::kOwn) {
    s->add_option("--ip", o.ip, "our address and prefix, A.B.C.D/LEN or 2001:db8::3/64 (repeatable: one of each family)")
        ->required();
  }
  if (a != Addressing::kLoopback) {
    s->add_option("--dst", o.dst,
                  "destinations A.B.C.D[-A.B.C.D]:PORT[-PORT] or [2001:db8::2[-2001:db8::9]]:PORT[-PORT] (repeatable; "
                  "every address x port; one family per run)")
        ->required();
    s->add_option("--src-ip", o.src_ip,
                  "source addresses we own for the tuple space, A.B.C.D[-A.B.C.D] or 2001:db8::10[-2001:db8::50], of "
                  "--dst's family (default: that family's --ip)");
  }
  s->add_option("--connect-timeout", o.connect_timeout, "seconds an active open may take (0: until the SYN retries run out)")
      ->check(CLI::Range(0.0, 3600.0));
  s->add_option("--response-timeout", o.response_timeout,
                "seconds from a request's start to its response's last byte before giving up (0: only --idle-timeout)")
      ->check(CLI::Range(0.0, 86400.0));
  s->add_option("--ramp", o.ramp, "seconds over which --rate climbs linearly from 0")->check(CLI::Range(0.0, 86400.0));
  s->add_option("--think-time", o.think_time, "seconds each connection waits between the handshake and its request")
      ->check(CLI::Range(0.0, 3600.0));
  // A range check also stops CLI11 from wrapping "-5" round to 2^64-5 (as fast as possible).
  s->add_option("--rate", o.rate, "connections opened per second (0: as fast as possible)")
      ->check(CLI::Range(0ull, 1000000000ull));
  s->add_option("--concurrency", o.concurrency, "open connections at most")->check(CLI::Range(1u, 1u << 28));
  auto* conns = s->add_option("--connections", o.connections, "connections to open, then stop")->check(CLI::Range(1ull, 1ull << 40));
  auto* dur = s->add_option("--duration", o.duration, "seconds to run")->check(CLI::Range(0.1, 1e7));
  conns->excludes(dur);
  s->add_option("--http-get", o.http_get, "send GET PATH on each connection and read the whole response");
  s->add_option("--requests-per-connection", o.requests_per_connection,
                "HTTP: requests sent one after another on each connection, all but the last keeping it (0: until the run ends)")
      ->check(CLI::Range(0u, 0xffffffffu));
  s->add_option("--request-interval", o.request_interval,
                "HTTP: seconds between a response and the next request on the same connection")
      ->check(CLI::Range(0.0, 3600.0));
  s->add_option("--pipeline", o.pipeline, "HTTP: requests in flight on one connection (pipelining; 1: none)")
      ->check(CLI::Range(1u, Workload::kMaxPipeline));
  s->add_option("--src-ports", o.src_ports, "source port range FIRST-LAST (with --src-ip and --dst: the tuple space)");
  s->add_option("--shard", o.shard,
                "I/N: this instance is shard I (from 0) of N and takes the I-th of N slices of --src-ports, so N "
                "instances never share a tuple");
  s->add_option("--start-at", o.start_at,
                "start the run at this instant, RFC 3339 (2026-12-05T06:00:00Z) or seconds since the epoch, the next "
                "hops resolved by then (instances on several hosts start together)");
  s->add_option("--phase", o.phases,
                "a phase of the run, NAME:SECONDS:RATE[-RATE][:CONCURRENCY][:KEY=VALUE,...] (repeatable, in order; "
                "a rate range ramps linearly; instead of --rate/--ramp/--concurrency/--duration; KEY: http-get, "
                "requests-per-connection, request-interval, pipeline, think-time, for the phase's connections)");
}

// The flood's own set: addressing, the flood, observability. No TCP settings: it keeps no
// connection.
void add_flood(CLI::App* s, AppOptions& o) {
  s->add_option("--config", o.config_file, "TOML file with any of these options (the command line wins)");
  s->add_option("--ip", o.ip,
                "our own address and prefix, A.B.C.D/LEN or 2001:db8::3/64 (ARP or Neighbor Discovery: asking for the "
                "next hop, answering for us); the flood is of its family")
      ->required();
  s->add_option("--src-ip", o.src_ip,
                "spoofed source addresses FIRST-LAST (or one address), e.g. 198.19.0.1-198.19.255.254 or "
                "2001:db8:1::1-2001:db8:1::ffff (IPv6: only the last 32 bits may differ)")
      ->required();
  s->add_option("--src-ports", o.src_ports, "source port range FIRST-LAST");
  s->add_option("--dst", o.dst, "the target A.B.C.D:PORT or [2001:db8::2]:PORT (one; your own lab target only)")->required();
  s->add_option("--pps", o.pps, "segments per second in total, split over the lcores")->required();
  s->add_option("--duration", o.duration, "seconds to run (default: until SIGINT)")->check(CLI::Range(0.1, 1e7));
  s->add_option("--kind", o.kind,
                "segment kind: syn (with MSS, SACK-permitted, timestamps, window scale), syn-plain (no options, as "
                "hping3 -S sends), ack, rst, fin")
      ->check(CLI::IsMember(flood_kind_names()));
  s->add_option("--seed", o.seed, "seed for sequence numbers and timestamps (default: random)");
  s->add_option("--probe-rate", o.probe_rate,
                "legitimate connections per second to --dst during the flood (handshake, HTTP GET, close), "
                "from the first lcore; their success and latency per second go in the report (default 0: none)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{10'000'000}));
  s->add_option("--probe-src", o.probe_src, "the probes' source address, outside --src-ip (default: --ip)");
  s->add_option("--probe-path", o.probe_path, "the path the probes GET (default /)");
  s->add_option("--probe-timeout", o.probe_timeout, "seconds a probe waits for its handshake, then for its response (default 3)")
      ->check(CLI::Range(0.001, 3600.0));
  s->add_option("--gateway", o.gateway, "gateway when --dst is outside --ip's subnet, of --dst's family");
  s->add_option("--neighbor", o.neighbors,
                "static neighbour IP,MAC (repeatable): the next hop's MAC without ARP or Neighbor Discovery");
  s->add_option("--port", o.port, "DPDK ethdev port id to use")->check(CLI::Range(0, 1023));
  s->add_option("--mbufs", o.mbufs, "mbufs in the pool");
  s->add_option("--report", o.report, "write a JSON report to this file at the end");
  s->add_option("--metrics", o.metrics, "serve Prometheus metrics at http://ADDR:PORT/metrics while the run lasts");
  s->add_option("--run-id", o.run_id, "a name for this run: the `run` label of every metric, and in the report");
  s->add_option("--stats-interval", o.stats_interval, "seconds between progress lines (0: none)")->check(CLI::Range(0.0, 3600.0));
  s->add_option("--log-level", o.log_level, "log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

std::string option_key(const std::string& token) {
  if (token.rfind("--", 0) != 0) return {};
  const auto eq = token.find('=');
  return token.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
}

// Turns the TOML file into command-line tokens for the options the command line did not set.
std::string config_tokens(CLI::App* mode, const std::string& path, const std::vector<std::string>& cli,
                          std::vector<std::string>& out) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "config file " << path << ": " << e.description();
    if (e.source().begin.line != 0) msg << " (line " << e.source().begin.line << ")";
    return msg.str();
  }
  for (const auto& [key_view, node] : table) {
    std::string key(key_view.str());
    std::replace(key.begin(), key.end(), '_', '-');
    if (key == "config" || key == "mode") continue;
    CLI::Option* opt = mode->get_option_no_throw("--" + key);
    if (opt == nullptr) {
      return "config file " + path + ": unknown key '" + std::string(key_view.str()) + "' for mode " + mode->get_name() +
             " (see 'synwave -- " + mode->get_name() + " --help' for the settings)";
    }
    bool given = false;
    for (const auto& t : cli) given |= option_key(t) == key;
    if (given) continue;
    auto scalar = [&](const toml::node& n, std::string& s) -> bool {
      if (auto v = n.value<std::string>(); v && n.is_string()) s = *v;
      else if (n.is_integer()) s = std::to_string(*n.value<std::int64_t>());
      else if (n.is_floating_point()) s = std::to_string(*n.value<double>());
      else if (n.is_boolean()) s = *n.value<bool>() ? "true" : "false";
      else return false;
      return true;
    };
    auto type_error = [&]() {
      return "config file " + path + ": key '" + std::string(key_view.str()) + "' has a value of the wrong type";
    };
    if (key == "phase") {  // [[phase]] tables: name, duration, rate (a number or [from, to]), concurrency,
                           // and the workload keys a phase may set (http_get, requests_per_connection, ...)
      const toml::array* arr = node.as_array();
      if (arr == nullptr) return type_error();
      std::size_t n = 0;
      for (const auto& el : *arr) {
        const toml::table* t = el.as_table();
        if (t == nullptr) return type_error();
        ++n;
        std::string name = "phase" + std::to_string(n);
        std::string duration, rate = "0", concurrency, workload;
        for (const auto& [field_view, value] : *t) {
          std::string field(field_view.str());
          std::replace(field.begin(), field.end(), '_', '-');
          std::string text;
          if (field == "name" && value.is_string()) name = *value.value<std::string>();
          else if ((field == "http-get" || field == "requests-per-connection" || field == "request-interval" ||
                    field == "pipeline" || field == "think-time") && scalar(value, text)) {
            workload += (workload.empty() ? "" : ",") + field + "=" + text;
          }
          else if (field == "duration" && scalar(value, text)) duration = text;
          else if (field == "concurrency" && scalar(value, text)) concurrency = text;
          else if (field == "rate" && scalar(value, text)) rate = text;
          else if (const toml::array* r = value.as_array(); field == "rate" && r != nullptr && r->size() == 2) {
            std::string from, to;
            if (!scalar(*r->get(0), from) || !scalar(*r->get(1), to)) return type_error();
            rate = from + "-" + to;
          } else {
            return "config file " + path + ": [[phase]] " + std::to_string(n) + " has '" + std::string(field_view.str()) +
                   "' of the wrong type or unknown (a phase has name, duration, rate or [from, to], concurrency, and "
                   "may set http_get, requests_per_connection, request_interval, pipeline, think_time)";
          }
        }
        out.push_back("--phase");
        out.push_back(name + ":" + duration + ":" + rate + (concurrency.empty() && workload.empty() ? "" : ":" + concurrency) +
                      (workload.empty() ? "" : ":" + workload));
      }
      continue;
    }
    if (const toml::array* arr = node.as_array()) {
      for (const auto& el : *arr) {
        std::string s;
        if (!scalar(el, s)) return type_error();
        out.push_back("--" + key);
        out.push_back(s);
      }
      continue;
    }
    std::string s;
    if (!scalar(node, s)) return type_error();
    if (opt->get_expected_max() == 0) {  // a flag (CLI11's add_flag: no value expected)
      if (!node.is_boolean()) return type_error();
      if (s == "true") out.push_back("--" + key);
      continue;
    }
    out.push_back("--" + key);
    out.push_back(s);
  }
  return {};
}

}  // namespace

std::vector<std::string> flood_kind_names() {
  std::vector<std::string> names;
  for (FloodKind k : kFloodKinds) names.emplace_back(to_string(k));
  return names;
}

bool is_mode(const std::string& word) {
  return std::find(std::begin(kModes), std::end(kModes), word) != std::end(kModes);
}

// Levenshtein distance, for "did you mean": words of a few letters, computed once.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknown_mode_message(const std::string& word) {
  std::string list;
  for (const char* m : kModes) list += (list.empty() ? "" : ", ") + std::string(m);
  std::string message = "unknown mode '" + word + "' (modes: " + list + "; or '" + kMergeCommand +
                        " REPORT.json...' to merge the reports of several instances)";
  const char* closest = nullptr;
  std::size_t best = 3;  // a near miss: at most two edits, and fewer than half the word
  std::vector<const char*> candidates(std::begin(kModes), std::end(kModes));
  candidates.push_back(kMergeCommand);
  for (const char* m : candidates) {
    const std::size_t d = edit_distance(word, m);
    if (d < best && 2 * d < std::string(m).size()) {
      best = d;
      closest = m;
    }
  }
  if (closest != nullptr) message += "; did you mean '" + std::string(closest) + "'?";
  return message;
}

ParseResult parse_command_line(const std::vector<std::string>& args_in) {
  ParseResult result;
  AppOptions& o = result.plan.options;
  CLI::App app{"synwave: a DPDK userspace TCP endpoint for connection-rate and SYN-flood experiments", "synwave [EAL options] --"};
  app.require_subcommand(0, 1);
  app.fallthrough(false);
  Modes m{};
  m.server = app.add_subcommand("server", "accept connections on --listen ports and answer them");
  m.client = app.add_subcommand("client", "open connections to --dst at a rate or concurrency");
  m.loopback = app.add_subcommand("loopback", "client and server in one process over an in-memory link (default)");
  m.flood = app.add_subcommand("flood", "spoofed SYN/ACK/RST/FIN segments at a rate, against your own lab targets only");
  m.pair = app.add_subcommand("pair", "client on one port, server on another, a device under test between them");
  add_flood(m.flood, o);
  add_common(m.server, o, Addressing::kOwn);
  add_common(m.client, o, Addressing::kOwn);
  add_common(m.loopback, o, Addressing::kLoopback);
  add_common(m.pair, o, Addressing::kPair);
  add_server(m.server, o, Addressing::kOwn);
  add_client(m.client, o, Addressing::kOwn);
  add_server(m.loopback, o, Addressing::kLoopback);
  add_client(m.loopback, o, Addressing::kLoopback);
  add_server(m.pair, o, Addressing::kPair);
  add_client(m.pair, o, Addressing::kPair);
  m.server->add_option("--close", o.close, "who closes: server (after responding), client (wait for its FIN), rst")
      ->check(CLI::IsMember({"server", "client", "rst"}));
  m.client->add_option("--close", o.close, "who closes: server (wait for its FIN), client (after the response), rst, half (FIN after the request)")
      ->check(CLI::IsMember({"server", "client", "rst", "half"}));
  for (CLI::App* both : {m.loopback, m.pair}) {
    both->add_option("--close", o.close, "who closes: server, client, rst (client resets), half")
        ->check(CLI::IsMember({"server", "client", "rst", "half"}));
  }
  m.loopback->add_option("--ring-size", o.ring_size, "slots of each direction's ring of the in-memory link (a power of two)")
      ->check(CLI::Range(64u, 1u << 20));
  m.loopback->add_flag("--ipv6", o.loopback_ipv6, "both sides over IPv6 (2001:db8::1 and ::2) instead of IPv4");

  std::vector<std::string> args = args_in;
  // Which mode, and is there a config file? Both must be known before the file is read. The first
  // word that is not an option names the mode; only no word at all means the loopback.
  std::string mode_name = "loopback";
  const bool named = !args.empty() && is_mode(args[0]);
  if (named) {
    mode_name = args[0];
  } else if (!args.empty() && args[0].rfind("-", 0) != 0) {
    result.exit_code = 2;
    result.done = true;
    result.message = unknown_mode_message(args[0]);
    return result;
  } else {
    args.insert(args.begin(), "loopback");
  }
  CLI::App* mode = mode_name == "server"   ? m.server
                   : mode_name == "client" ? m.client
                   : mode_name == "flood"  ? m.flood
                   : mode_name == "pair"   ? m.pair
                                           : m.loopback;
  std::vector<std::string> cli(args.begin() + 1, args.end());
  for (const std::string& t : cli) {
    const std::string key = option_key(t);
    if (!key.empty() && key != "help" && mode->get_option_no_throw("--" + key) == nullptr) {
      result.exit_code = 2;
      result.done = true;
      result.message = "unknown option --" + key + " for mode " + mode_name + "; see 'synwave -- " + mode_name + " --help'";
      return result;
    }
  }
  std::string config_path;
  for (std::size_t i = 0; i < cli.size(); ++i) {
    if (cli[i] == "--config" && i + 1 < cli.size()) config_path = cli[i + 1];
    else if (cli[i].rfind("--config=", 0) == 0) config_path = cli[i].substr(9);
  }
  std::vector<std::string> from_file;
  if (!config_path.empty()) {
    const std::string err = config_tokens(mode, config_path, cli, from_file);
    if (!err.empty()) {
      result.exit_code = 2;
      result.done = true;
      result.message = err;
      return result;
    }
  }
  std::vector<std::string> all;
  all.push_back(mode_name);
  all.insert(all.end(), from_file.begin(), from_file.end());
  all.insert(all.end(), cli.begin(), cli.end());
  std::vector<std::string> reversed(all.rbegin(), all.rend());  // CLI11 parses a reversed vector
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    result.done = true;
    result.message = mode->help();
    return result;
  } catch (const CLI::CallForAllHelp& e) {
    result.done = true;
    result.message = app.help();
    return result;
  } catch (const CLI::ParseError& e) {
    result.exit_code = 2;
    result.done = true;
    result.message = std::string(e.what()) + (from_file.empty() ? "" : " (options from " + config_path + " included)") +
                     "; see 'synwave -- " + mode_name + " --help'";
    return result;
  }
  o.mode_name = mode_name;
  o.mode = mode == m.server   ? Mode::kServer
           : mode == m.client ? Mode::kClient
           : mode == m.flood  ? Mode::kFlood
           : mode == m.pair   ? Mode::kPair
                              : Mode::kLoopback;

  if (std::string err = build_run_plan(result.plan); !err.empty()) {
    result.exit_code = 2;
    result.done = true;
    result.message = err;
  }
  return result;
}

}  // namespace synwave::app
