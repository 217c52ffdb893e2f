#include "options.hpp"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <sstream>

#include "synwave/byte_order.hpp"
#include "synwave/wire/ipv4.hpp"

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
  s->add_option("--mbufs", o.mbufs, "mbufs in the pool (default: sized from --max-connections)");
  s->add_option("--max-connections", o.max_connections, "connection records per engine (preallocated)")
      ->check(CLI::Range(1u, 1u << 28));
  s->add_option("--time-wait", o.time_wait, "TIME-WAIT duration in seconds (2MSL)")->check(CLI::Range(0.0, 600.0));
  s->add_option("--fin-wait2-timeout", o.fin_wait2_timeout, "FIN-WAIT-2 timeout in seconds")->check(CLI::Range(0.0, 3600.0));
  s->add_option("--delayed-ack", o.delayed_ack_ms, "delayed-ACK time in milliseconds (0: ACK at once)")
      ->check(CLI::Range(0.0, 500.0));
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
  s->add_option("--kind", o.kind, "segment kind: syn (with MSS, SACK-permitted, timestamps, window scale), ack, rst, fin")
      ->check(CLI::IsMember({"syn", "ack", "rst", "fin"}));
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
    if (opt->get_type_size() == 0) {  // a flag
      if (!node.is_boolean()) return type_error();
      if (s == "true") out.push_back("--" + key);
      continue;
    }
    out.push_back("--" + key);
    out.push_back(s);
  }
  return {};
}

// What keeping HTTP connections asks of a client workload (its own, and each phase's).
std::string keep_alive_error(const Workload& w, ClosePolicy close, std::uint64_t connections) {
  if (w.requests_per_connection == 1 && w.request_interval_ns == 0 && w.pipeline == 1) return {};
  if (w.kind != WorkloadKind::kHttp) {
    return "--requests-per-connection, --request-interval and --pipeline keep HTTP connections: add --http-get PATH";
  }
  if (w.pipeline > 1 && w.request_interval_ns != 0) {
    return "--pipeline sends the next request as soon as a response is in, so --request-interval cannot apply: give "
           "one of them";
  }
  if (w.requests_per_connection == 0 && connections != 0) {
    return "--requests-per-connection 0 keeps every connection until the run ends, so --connections " +
           std::to_string(connections) + " would never be reached: give --duration instead";
  }
  if (w.requests_per_connection == 0 && close == ClosePolicy::kHalfClose) {
    return "--close half sends FIN after the last request, and --requests-per-connection 0 has none: give a count";
  }
  return {};
}

ClosePolicy policy_of(const std::string& s) {
  if (s == "client") return ClosePolicy::kClientFirst;
  if (s == "rst") return ClosePolicy::kReset;
  if (s == "half") return ClosePolicy::kHalfClose;
  return ClosePolicy::kServerFirst;
}

std::uint64_t random64() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}

std::string fill_engine(const AppOptions& o, EngineConfig& e) {
  e.time_wait = static_cast<TimeNs>(o.time_wait * 1e9);
  e.fin_wait2_timeout = static_cast<TimeNs>(o.fin_wait2_timeout * 1e9);
  e.idle_timeout = static_cast<TimeNs>(o.idle_timeout * 1e9);
  e.max_time_wait = o.max_time_wait;
  e.shed_watermark = o.shed_watermark;
  e.challenge_ack_limit = o.challenge_ack_limit;
  e.syn_backlog = o.syn_backlog;
  e.synack_retries = static_cast<std::uint8_t>(o.synack_retries);
  e.synack_timeout = static_cast<TimeNs>(o.synack_timeout * 1e9);
  e.syn_cookies = o.syn_cookies == "off"      ? SynCookieMode::kOff
                  : o.syn_cookies == "always" ? SynCookieMode::kAlways
                                              : SynCookieMode::kOnOverflow;
  e.cookie_rotation = static_cast<TimeNs>(o.cookie_rotation * 1e9);
  e.backlog = o.backlog;
  e.accept_rate = o.accept_rate;
  e.abort_on_overflow = o.abort_on_overflow;
  e.delayed_ack = static_cast<TimeNs>(o.delayed_ack_ms * 1e6);
  e.mtu = o.mtu;
  e.secret0 = random64();
  e.secret1 = random64();
  if (std::string err = parse_gateways(o.gateway, e.gateway, e.gateway6); !err.empty()) return err;
  for (const auto& n : o.neighbors) {
    const auto comma = n.find(',');
    std::string address = n.substr(0, comma);
    MacAddr mac;
    const bool mac_ok = comma != std::string::npos && parse_mac(n.substr(comma + 1), mac);
    if (looks_ipv6(address)) {
      if (address.size() > 2 && address.front() == '[' && address.back() == ']') address = address.substr(1, address.size() - 2);
      StaticNeighbor6 sn;
      if (!mac_ok || !parse_ipv6(address, sn.ip) || is_unspecified(sn.ip) || is_multicast(sn.ip)) {
        return "--neighbor '" + n + "' is not IP,MAC with a unicast IPv6 address (e.g. 2001:db8::1,02:00:00:00:00:01)";
      }
      sn.mac = mac;
      e.neighbors6.push_back(sn);
      continue;
    }
    StaticNeighbor sn;
    if (!mac_ok || !parse_ipv4(address, sn.ip)) {
      return "--neighbor '" + n + "' is not IP,MAC (e.g. 198.18.0.1,02:00:00:00:00:01 or 2001:db8::1,02:00:00:00:00:01)";
    }
    sn.mac = mac;
    e.neighbors.push_back(sn);
  }
  return {};
}

// A client's IPv4 sources (--ip's IPv4 address, or --src-ip) for its IPv4 destinations, checked
// against them. local: the client's addresses; server: the pair's server side's (else unused).
std::string plan_sources(RunPlan& plan, const LocalAddresses& local, const LocalAddresses& server) {
  const AppOptions& o = plan.options;
  const bool pair = o.mode == Mode::kPair;
  const std::string ip_option = pair ? "--client-ip" : "--ip";
  GeneratorConfig& g = plan.generator;
  if (!local.has_ipv4()) {
    return "--dst " + o.dst[0] + " is IPv4, but " + ip_option + " gives no IPv4 address: add one (e.g. " + ip_option +
           " 198.18.0.3/24)";
  }
  g.src_ip_first = local.ip;
  g.src_ip_count = 1;
  if (!o.src_ip.empty()) {
    if (looks_ipv6(o.src_ip)) {
      return "--src-ip '" + o.src_ip + "' is IPv6 and --dst IPv4: give sources of --dst's family, A.B.C.D[-A.B.C.D]";
    }
    if (!parse_ipv4_range(o.src_ip, g.src_ip_first, g.src_ip_count)) {
      return "--src-ip '" + o.src_ip + "' is not A.B.C.D or a range A.B.C.D-A.B.C.D (first <= last)";
    }
    plan.client.source_ip_first = g.src_ip_first;
    plan.client.source_ip_count = g.src_ip_count;
  }
  for (const Destination& d : g.destinations) {
    if (d.ip == local.ip || d.ip - g.src_ip_first < g.src_ip_count) {
      return "--dst " + format_ipv4(d.ip) + " is one of the client's own addresses (" + ip_option +
             "/--src-ip): give the server's address";
    }
  }
  if (pair && server.has_ipv4() && server.ip - g.src_ip_first < g.src_ip_count) {
    return "--server-ip " + format_ipv4(server.ip) + " is inside the client's --src-ip " + o.src_ip +
           ": give the two sides separate addresses";
  }
  return {};
}

// The same for IPv6 destinations: --ip's IPv6 address, or an IPv6 --src-ip range (which the
// engine then owns: EngineConfig::source_ip6_first/count).
std::string plan_sources6(RunPlan& plan, const LocalAddresses& local, const LocalAddresses& server) {
  const AppOptions& o = plan.options;
  const bool pair = o.mode == Mode::kPair;
  const std::string ip_option = pair ? "--client-ip" : "--ip";
  GeneratorConfig& g = plan.generator;
  const std::string& first_dst = o.dst[0];
  if (!local.has_ipv6()) {
    return "--dst " + first_dst + " is IPv6, but " + ip_option + " gives no IPv6 address: add one (e.g. " + ip_option +
           " 2001:db8::3/64)";
  }
  g.src_ip6_first = local.ip6;
  g.src_ip_count = 1;
  if (!o.src_ip.empty()) {
    if (!looks_ipv6(o.src_ip)) {
      return "--src-ip '" + o.src_ip + "' is IPv4 and --dst IPv6: give sources of --dst's family, "
             "2001:db8::10[-2001:db8::50]";
    }
    switch (parse_ipv6_range(o.src_ip, g.src_ip6_first, g.src_ip_count)) {
      case Ipv6RangeError::kOk: break;
      case Ipv6RangeError::kMalformed:
        return "--src-ip '" + o.src_ip + "' is not an address or a range FIRST-LAST (e.g. 2001:db8::10-2001:db8::50)";
      case Ipv6RangeError::kReversed:
        return "--src-ip '" + o.src_ip + "': the first address is above the last; give the range as LOW-HIGH";
      case Ipv6RangeError::kTooWide:
        return "--src-ip '" + o.src_ip + "': a range may differ only in the last 32 bits of its addresses (e.g. "
               "2001:db8::10-2001:db8::50)";
    }
    if (is_unspecified(g.src_ip6_first) || is_multicast(g.src_ip6_first)) {
      return "--src-ip '" + o.src_ip + "' is not unicast: give addresses an endpoint can own (e.g. 2001:db8::10-2001:db8::50)";
    }
    plan.client.source_ip6_first = g.src_ip6_first;
    plan.client.source_ip6_count = g.src_ip_count;
  }
  for (const Destination6& d : g.destinations6) {
    if (d.ip == local.ip6 || ipv6_in_range(d.ip, g.src_ip6_first, g.src_ip_count)) {
      return "--dst " + format_ipv6(d.ip) + " is one of the client's own addresses (" + ip_option +
             "/--src-ip): give the server's address";
    }
  }
  if (pair && server.has_ipv6() && ipv6_in_range(server.ip6, g.src_ip6_first, g.src_ip_count)) {
    return "--server-ip " + format_ipv6(server.ip6) + " is inside the client's --src-ip " + o.src_ip +
           ": give the two sides separate addresses";
  }
  return {};
}

constexpr std::uint64_t kMaxFloodPps = 1'000'000'000;

// The flood's probes: a client engine (plan.client) and its generator (plan.generator) on the
// first flood lcore, from an address of ours outside the spoofed range, to the flood's target.
// What both families share; the caller sets the addresses.
std::string plan_probe_workload(RunPlan& plan, const EngineConfig& addressing) {
  const AppOptions& o = plan.options;
  if (o.probe_path.empty() || o.probe_path[0] != '/') return "--probe-path '" + o.probe_path + "' must start with '/'";
  EngineConfig& e = plan.client;
  e = addressing;  // --gateway, --neighbor
  e.workload.kind = WorkloadKind::kHttp;
  e.workload.http_path = o.probe_path;
  e.connect_timeout = static_cast<TimeNs>(o.probe_timeout * 1e9);
  e.response_timeout = e.connect_timeout;
  e.max_connections = 1u << 16;
  GeneratorConfig& g = plan.generator;
  g.rate = o.probe_rate;
  g.concurrency = 1u << 15;  // the rate decides; this only bounds probes stuck in a flood
  g.src_ip_count = 1;
  return {};
}

std::string plan_probes(RunPlan& plan, const EngineConfig& addressing, std::uint32_t ip, std::uint8_t prefix,
                        std::uint32_t dst_ip, std::uint16_t dst_port) {
  const AppOptions& o = plan.options;
  const FloodConfig& f = plan.flood;
  std::uint32_t src = ip;
  if (!o.probe_src.empty() && !parse_ipv4(o.probe_src, src)) return "--probe-src '" + o.probe_src + "' is not an address A.B.C.D";
  if (src >= f.src_ip_first && src <= f.src_ip_last) {
    return "--probe-src " + format_ipv4(src) + " is inside the spoofed range --src-ip " + o.src_ip +
           ": the probes must come from outside it, or their replies cannot be told from the flood's";
  }
  const std::uint32_t mask = ipv4_prefix_mask(prefix);
  if ((src & mask) != (ip & mask)) {
    return "--probe-src " + format_ipv4(src) + " is outside --ip " + o.ip[0] + "'s subnet: give an address of that subnet";
  }
  if (src == dst_ip) return "--probe-src " + format_ipv4(src) + " is the target's address: give one of ours";
  if (std::string err = plan_probe_workload(plan, addressing); !err.empty()) return err;
  plan.client.local_ip = src;
  plan.client.prefix_len = prefix;
  plan.generator.destinations = {{dst_ip, dst_port}};
  plan.generator.src_ip_first = src;
  return {};
}

// The same over IPv6: an IPv6-only engine.
std::string plan_probes6(RunPlan& plan, const EngineConfig& addressing, const Ipv6Addr& ip, std::uint8_t prefix,
                         const Ipv6Addr& dst_ip, std::uint16_t dst_port) {
  const AppOptions& o = plan.options;
  const FloodConfig& f = plan.flood;
  Ipv6Addr src = ip;
  if (!o.probe_src.empty() && (!parse_ipv6(o.probe_src, src) || is_unspecified(src) || is_multicast(src))) {
    return "--probe-src '" + o.probe_src + "' is not a unicast IPv6 address (e.g. 2001:db8::4)";
  }
  if (ipv6_in_range(src, f.src_ip6_first, load_be32(f.src_ip6_last.data() + 12) - load_be32(f.src_ip6_first.data() + 12) + 1)) {
    return "--probe-src " + format_ipv6(src) + " is inside the spoofed range --src-ip " + o.src_ip +
           ": the probes must come from outside it, or their replies cannot be told from the flood's";
  }
  if (!ipv6_same_prefix(src, ip, prefix)) {
    return "--probe-src " + format_ipv6(src) + " is outside --ip " + o.ip[0] + "'s subnet: give an address of that subnet";
  }
  if (src == dst_ip) return "--probe-src " + format_ipv6(src) + " is the target's address: give one of ours";
  if (std::string err = plan_probe_workload(plan, addressing); !err.empty()) return err;
  plan.client.local_ip6 = src;
  plan.client.prefix_len6 = prefix;
  plan.generator.destinations6 = {{dst_ip, dst_port}};
  plan.generator.src_ip6_first = src;
  return {};
}

// The IPv4 flood's addresses: ours, the spoofed range, the target, the next hop.
std::string plan_flood4(RunPlan& plan, const EngineConfig& addressing) {
  const AppOptions& o = plan.options;
  std::uint32_t ip = 0;
  std::uint8_t prefix = 24;
  if (!parse_cidr(o.ip[0], ip, prefix)) {
    return "--ip '" + o.ip[0] + "' is not an address with a prefix (expected A.B.C.D/LEN, e.g. 198.18.0.3/24)";
  }
  std::uint32_t src_first = 0, src_count = 0;
  if (!parse_ipv4_range(o.src_ip, src_first, src_count)) {
    std::uint32_t low = 0, high = 0;
    const auto dash = o.src_ip.find('-');
    if (dash != std::string::npos && parse_ipv4(o.src_ip.substr(0, dash), high) && parse_ipv4(o.src_ip.substr(dash + 1), low) &&
        low < high) {
      return "--src-ip '" + o.src_ip + "': the first address is above the last; give the range as LOW-HIGH";
    }
    return "--src-ip '" + o.src_ip + "' is not an address range (expected A.B.C.D-A.B.C.D, e.g. 198.19.0.1-198.19.255.254)";
  }
  const std::uint32_t src_last = src_first + (src_count - 1);
  std::uint32_t dst_ip = 0;
  std::uint16_t dst_port = 0;
  const std::string& dst = o.dst[0];
  if (!parse_endpoint(dst, dst_ip, dst_port)) return "--dst '" + dst + "' is not A.B.C.D:PORT with a port in 1-65535";
  if (dst_ip == ip) return "--dst " + dst + " is our own --ip: give the target's address";
  if (dst_ip >= src_first && dst_ip <= src_last) {
    return "--src-ip '" + o.src_ip + "' holds the target's own address " + format_ipv4(dst_ip) +
           ": give a source range without it";
  }
  const std::uint32_t mask = ipv4_prefix_mask(prefix);
  const bool on_link = (dst_ip & mask) == (ip & mask);
  if (!on_link && addressing.gateway == 0) {
    return "--dst " + dst + " is outside --ip " + o.ip[0] + "'s subnet and no --gateway is given: add --gateway A.B.C.D";
  }
  FloodConfig& f = plan.flood;
  f.local_ip = ip;
  f.next_hop_ip = on_link ? dst_ip : addressing.gateway;
  for (const StaticNeighbor& n : addressing.neighbors) {
    if (n.ip == f.next_hop_ip) f.next_hop_mac = n.mac;
  }
  f.src_ip_first = src_first;
  f.src_ip_last = src_last;
  f.dst_ip = dst_ip;
  f.dst_port = dst_port;
  if (o.probe_rate > 0) return plan_probes(plan, addressing, ip, prefix, dst_ip, dst_port);
  return {};
}

// The same over IPv6: the spoofed sources differ only in their last 32 bits, as every --src-ip
// range does.
std::string plan_flood6(RunPlan& plan, const EngineConfig& addressing) {
  const AppOptions& o = plan.options;
  LocalAddresses local;
  if (std::string err = parse_local_addresses(o.ip, "--ip", local); !err.empty()) return err;
  Ipv6Addr src_first{};
  std::uint32_t src_count = 0;
  switch (parse_ipv6_range(o.src_ip, src_first, src_count)) {
    case Ipv6RangeError::kOk: break;
    case Ipv6RangeError::kMalformed:
      return "--src-ip '" + o.src_ip + "' is not an address range (expected FIRST-LAST, e.g. 2001:db8:1::1-2001:db8:1::ffff)";
    case Ipv6RangeError::kReversed:
      return "--src-ip '" + o.src_ip + "': the first address is above the last; give the range as LOW-HIGH";
    case Ipv6RangeError::kTooWide:
      return "--src-ip '" + o.src_ip + "': a range may differ only in the last 32 bits of its addresses (e.g. "
             "2001:db8:1::1-2001:db8:1::ffff)";
  }
  if (is_unspecified(src_first) || is_multicast(src_first)) {
    return "--src-ip '" + o.src_ip + "' is not unicast: give addresses a host could own (e.g. 2001:db8:1::1-2001:db8:1::ffff)";
  }
  Ipv6Addr dst_ip{};
  std::uint16_t dst_port = 0;
  const std::string& dst = o.dst[0];
  if (!parse_ipv6_endpoint(dst, dst_ip, dst_port)) {
    return "--dst '" + dst + "' is not [IPV6]:PORT with a port in 1-65535 (e.g. [2001:db8::2]:80)";
  }
  if (is_unspecified(dst_ip) || is_multicast(dst_ip)) return "--dst " + dst + " is not a unicast address: give the target's";
  if (dst_ip == local.ip6) return "--dst " + dst + " is our own --ip: give the target's address";
  if (ipv6_in_range(dst_ip, src_first, src_count)) {
    return "--src-ip '" + o.src_ip + "' holds the target's own address " + format_ipv6(dst_ip) +
           ": give a source range without it";
  }
  const bool on_link = ipv6_same_prefix(dst_ip, local.ip6, local.prefix6);
  if (!on_link && is_unspecified(addressing.gateway6)) {
    return "--dst " + dst + " is outside --ip " + o.ip[0] + "'s subnet and no --gateway is given: add --gateway "
           "2001:db8::1 (the router's address)";
  }
  FloodConfig& f = plan.flood;
  f.ipv6 = true;
  f.local_ip6 = local.ip6;
  f.next_hop_ip6 = on_link ? dst_ip : addressing.gateway6;
  for (const StaticNeighbor6& n : addressing.neighbors6) {
    if (n.ip == f.next_hop_ip6) f.next_hop_mac = n.mac;
  }
  f.src_ip6_first = src_first;
  f.src_ip6_last = src_first;
  store_be32(f.src_ip6_last.data() + 12, load_be32(src_first.data() + 12) + (src_count - 1));
  f.dst_ip6 = dst_ip;
  f.dst_port = dst_port;
  if (o.probe_rate > 0) return plan_probes6(plan, addressing, local.ip6, local.prefix6, dst_ip, dst_port);
  return {};
}

// The flood's plan: validated addressing, range and rate. The program fills in our MAC and the
// checksum offload once the port is up, and splits the rate and the tuples over the lcores. A
// flood is of one family, --ip's; every other address must be of it too.
std::string plan_flood(RunPlan& plan) {
  AppOptions& o = plan.options;
  if (o.ip.size() != 1) {
    return "flood takes one --ip (our own A.B.C.D/LEN or 2001:db8::3/64), " + std::to_string(o.ip.size()) + " given";
  }
  if (o.dst.size() != 1) {
    return "flood takes one --dst (the target A.B.C.D:PORT or [2001:db8::2]:PORT), " + std::to_string(o.dst.size()) +
           " given";
  }
  const bool ipv6 = looks_ipv6(o.ip[0]);
  const char* family = ipv6 ? "IPv6" : "IPv4";
  const char* other = ipv6 ? "IPv4" : "IPv6";
  const std::string& dst = o.dst[0];
  const bool dst_ipv6 = (!dst.empty() && dst[0] == '[') || std::count(dst.begin(), dst.end(), ':') > 1;
  if (dst_ipv6 != ipv6) {
    return "--dst '" + dst + "' is " + other + " and --ip '" + o.ip[0] + "' " + family +
           ": a flood is of one family; give an --ip of the target's (e.g. " +
           (ipv6 ? "--ip 198.18.0.3/24" : "--ip 2001:db8::3/64") + ")";
  }
  const std::string example_range = ipv6 ? "2001:db8:1::1-2001:db8:1::ffff" : "198.19.0.1-198.19.255.254";
  if (looks_ipv6(o.src_ip) != ipv6) {
    return "--src-ip '" + o.src_ip + "' is " + other + " and --dst " + family +
           ": give spoofed sources of the target's family (e.g. " + example_range + ")";
  }
  if (!o.probe_src.empty() && looks_ipv6(o.probe_src) != ipv6) {
    return "--probe-src '" + o.probe_src + "' is " + other + " and --dst " + family +
           ": give the probes an address of the target's family, on --ip's subnet";
  }
  std::uint16_t port_first = 0, port_last = 0;
  if (!parse_port_range(o.src_ports, port_first, port_last)) {
    return "--src-ports '" + o.src_ports + "' is not a range FIRST-LAST within 1-65535 (first <= last)";
  }
  if (o.pps == 0) return "--pps 0 sends nothing: give the total rate in segments per second (at least 1)";
  if (o.pps > kMaxFloodPps) return "--pps " + std::to_string(o.pps) + " is above the limit of 1000000000: give a lower rate";
  FloodConfig& f = plan.flood;
  if (!parse_flood_kind(o.kind, f.kind)) return "--kind '" + o.kind + "' is not syn, ack, rst or fin";
  // Gateway and static neighbours are parsed as every mode parses them.
  EngineConfig scratch;
  if (std::string err = fill_engine(o, scratch); !err.empty()) return err;
  if (ipv6 ? scratch.gateway != 0 : !is_unspecified(scratch.gateway6)) {
    const std::string gateway = ipv6 ? format_ipv4(scratch.gateway) : format_ipv6(scratch.gateway6);
    return "--gateway " + gateway + " is " + other + " and --dst " + family + ": give a gateway of the target's family";
  }
  f.src_port_first = port_first;
  f.src_port_last = port_last;
  f.pps = o.pps;
  f.seed = o.seed.has_value() ? *o.seed : random64();
  plan.duration_s = o.duration.value_or(0.0);
  return ipv6 ? plan_flood6(plan, scratch) : plan_flood4(plan, scratch);
}

}  // namespace

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

  auto fail = [&](const std::string& msg) {
    result.exit_code = 2;
    result.done = true;
    result.message = msg;
    return result;
  };
  RunPlan& plan = result.plan;
  if (std::uint32_t address = 0; !o.metrics.empty()) {
    std::uint16_t port = 0;
    if (!parse_endpoint(o.metrics, address, port)) {
      return fail("--metrics '" + o.metrics + "' is not A.B.C.D:PORT (e.g. 0.0.0.0:9100 for every address of this host)");
    }
  }
  if (o.mode == Mode::kFlood) {
    const std::string err = plan_flood(plan);
    return err.empty() ? result : fail(err);
  }
  // The loopback's addresses are its own (main.cpp); the others' come from --ip (pair: per side).
  const bool pair = o.mode == Mode::kPair;
  const std::string ip_option = pair ? "--client-ip" : "--ip";
  LocalAddresses local;
  if (o.mode != Mode::kLoopback) {
    if (std::string err = parse_local_addresses(o.ip, ip_option, local); !err.empty()) return fail(err);
  }
  LocalAddresses server_local = local;
  if (pair) {
    if (std::string err = parse_local_addresses(o.server_ip, "--server-ip", server_local); !err.empty()) return fail(err);
    if (local.has_ipv4() && server_local.ip == local.ip) {
      return fail("--client-ip and --server-ip are both " + format_ipv4(local.ip) + ": give each side its own address");
    }
    if (local.has_ipv6() && server_local.ip6 == local.ip6) {
      return fail("--client-ip and --server-ip are both " + format_ipv6(local.ip6) + ": give each side its own address");
    }
    if (o.client_port == o.server_port) {
      return fail("--client-port and --server-port are both " + std::to_string(o.client_port) +
                  ": pair drives two ports, give two (e.g. --client-port 0 --server-port 1)");
    }
  }
  std::uint16_t port_first = 0, port_last = 0;
  if (!parse_port_range(o.src_ports, port_first, port_last)) {
    return fail("--src-ports '" + o.src_ports + "' is not a range FIRST-LAST within 1-65535");
  }
  if (!o.shard.empty()) {
    std::uint32_t index = 0, count = 1;
    if (!parse_shard(o.shard, index, count)) {
      return fail("--shard '" + o.shard + "' is not I/N with 0 <= I < N <= 65535 (e.g. 0/3 for the first of three)");
    }
    const std::uint32_t ports = port_last - port_first + 1u;
    if (count > ports) {
      return fail("--shard " + o.shard + ": " + std::to_string(count) + " shards of the " + std::to_string(ports) +
                  " source ports of --src-ports " + o.src_ports + " would leave some empty: give a wider range");
    }
    // The I-th of N contiguous slices: the instances' tuples never meet, whatever their addresses.
    const std::uint32_t first = port_first + ports * index / count;
    port_last = static_cast<std::uint16_t>(port_first + ports * (index + 1) / count - 1);
    port_first = static_cast<std::uint16_t>(first);
  }
  if (!o.start_at.empty()) {
    if (!parse_start_at(o.start_at, plan.start_at_unix)) {
      return fail("--start-at '" + o.start_at + "' is neither RFC 3339 (2026-12-05T06:00:00Z, with Z or an offset) nor "
                  "seconds since the epoch");
    }
    const double now = unix_now_seconds();
    if (plan.start_at_unix < now) {
      return fail("--start-at " + o.start_at + " is " + std::to_string(static_cast<long long>(now - plan.start_at_unix + 1)) +
                  " s in the past: give a later instant");
    }
    if (plan.start_at_unix > now + 7 * 86400) {
      return fail("--start-at " + o.start_at + " is more than 7 days ahead: check the date");
    }
  }
  for (std::uint16_t p : o.listen) {
    if (p == 0) return fail("--listen 0 is not a port: give 1-65535");
  }
  if ((o.ring_size & (o.ring_size - 1)) != 0) {
    return fail("--ring-size " + std::to_string(o.ring_size) + " is not a power of two: give one from 64 to 1048576, e.g. 1024");
  }
  plan.duration_s = o.duration.value_or(0.0);

  // Workload.
  const ClosePolicy close = policy_of(o.close.empty() ? "server" : o.close);
  Workload server_w;
  Workload client_w;
  if (o.http_bytes.has_value()) {
    server_w.kind = WorkloadKind::kHttp;
    server_w.response_bytes = *o.http_bytes;
    server_w.max_requests = o.max_requests;
  } else {
    server_w.kind = has_both_roles(o.mode) && !o.http_get.empty() ? WorkloadKind::kHttp : WorkloadKind::kNone;
  }
  if (!o.http_get.empty()) {
    if (o.http_get[0] != '/') return fail("--http-get '" + o.http_get + "' must be a path starting with '/'");
    client_w.kind = WorkloadKind::kHttp;
    client_w.http_path = o.http_get;
  } else {
    client_w.kind = WorkloadKind::kNone;
  }
  if (has_both_roles(o.mode) && o.http_bytes.has_value() && o.http_get.empty()) {
    client_w.kind = WorkloadKind::kHttp;  // --http alone with both roles: the client asks for it
  }
  if (o.request_bytes.has_value() || o.response_bytes.has_value()) {
    if (o.http_bytes.has_value() || !o.http_get.empty()) {
      return fail("--request-bytes/--response-bytes (raw) and --http/--http-get (HTTP) are two workloads: give one");
    }
    for (Workload* w : {&server_w, &client_w}) {
      w->kind = WorkloadKind::kRaw;
      w->request_bytes = o.request_bytes.value_or(w->request_bytes);
      w->response_bytes = o.response_bytes.value_or(w->response_bytes);
    }
  }
  client_w.think_time_ns = static_cast<std::uint64_t>(o.think_time * 1e9);
  client_w.requests_per_connection = o.requests_per_connection;
  client_w.request_interval_ns = static_cast<std::uint64_t>(o.request_interval * 1e9);
  client_w.pipeline = o.pipeline;
  if (std::string err = keep_alive_error(client_w, close, o.connections); !err.empty()) return fail(err);
  server_w.close = close;
  client_w.close = close;
  if (has_both_roles(o.mode)) {
    // One --close for both sides: name who closes first; the other side waits for it.
    if (close == ClosePolicy::kReset) server_w.close = ClosePolicy::kClientFirst;
    if (close == ClosePolicy::kHalfClose) server_w.close = ClosePolicy::kServerFirst;
    if (close == ClosePolicy::kServerFirst) client_w.close = ClosePolicy::kServerFirst;
  }

  // A client holds a record per open connection: --concurrency of them, and a few more for those
  // closing; the default follows it (a server cannot know its offered rate: 2^17 records hold a
  // million connections a second that live up to 130 ms).
  const std::uint32_t concurrency = o.concurrency != 0 ? o.concurrency : (o.mode == Mode::kLoopback ? 4096u : 1000u);
  // A profile's phases (--phase): the records it needs follow its largest concurrency.
  std::vector<GeneratorPhase> phases;
  if (!o.phases.empty()) {
    if (o.rate != 0 || o.ramp != 0 || o.concurrency != 0 || o.duration.has_value() || o.connections != 0) {
      return fail("--phase gives each phase its rate, concurrency and duration: leave out --rate, --ramp, --concurrency, "
                  "--duration and --connections");
    }
    for (const std::string& spec : o.phases) {
      std::string name;
      GeneratorPhase phase;
      PhaseWorkload changes;
      const std::string err = parse_phase(spec, concurrency, name, phase, changes);
      if (!err.empty()) return fail(err);
      if (changes.any()) {
        // The phase's own workload: the client's with the phase's changes.
        Workload w = client_w;
        if (changes.http_get && w.kind != WorkloadKind::kHttp) {
          return fail("--phase '" + spec + "': http-get needs the run's HTTP workload: add --http-get PATH");
        }
        w.http_path = changes.http_get.value_or(w.http_path);
        w.requests_per_connection = changes.requests_per_connection.value_or(w.requests_per_connection);
        if (changes.request_interval) w.request_interval_ns = static_cast<std::uint64_t>(*changes.request_interval * 1e9);
        w.pipeline = changes.pipeline.value_or(w.pipeline);
        if (changes.think_time) w.think_time_ns = static_cast<std::uint64_t>(*changes.think_time * 1e9);
        if (std::string e = keep_alive_error(w, close, 0); !e.empty()) return fail("--phase '" + spec + "': " + e);
        if (plan.client.phase_workloads.size() == 255) return fail("--phase: at most 255 phases may set a workload");
        plan.client.phase_workloads.push_back(w);
        phase.workload = static_cast<std::uint8_t>(plan.client.phase_workloads.size());
      }
      phases.push_back(phase);
      plan.phase_names.push_back(name);
    }
  }
  std::uint32_t most_open = phases.empty() ? concurrency : 0;
  for (const GeneratorPhase& p : phases) most_open = std::max(most_open, p.concurrency);
  const std::uint32_t default_conns = std::max<std::uint32_t>(o.mode == Mode::kLoopback ? 1u << 18 : 1u << 17,
                                                              o.mode == Mode::kServer ? 0u : most_open + most_open / 4);
  const std::uint32_t max_conns = o.max_connections != 0 ? o.max_connections : default_conns;
  if (o.mode != Mode::kServer && most_open > max_conns) {
    plan.warnings.push_back(std::string(phases.empty() ? "--concurrency " : "a --phase concurrency of ") + std::to_string(most_open) + " is above the " + std::to_string(max_conns) +
                            " connection records per engine (--max-connections): opens beyond them are refused "
                            "(no_memory) and records stuck retransmitting get reset. Raise --max-connections.");
  }
  if (o.shed_watermark > max_conns) {
    return fail("--shed-watermark " + std::to_string(o.shed_watermark) + " is above the " + std::to_string(max_conns) +
                " records per engine (--max-connections): give at most that, or 0 for the default");
  }
  for (EngineConfig* e : {&plan.server, &plan.client}) {
    const std::string err = fill_engine(o, *e);
    if (!err.empty()) return fail(err);
    e->max_connections = max_conns;
    e->local_ip = local.ip;
    e->prefix_len = local.prefix;
    e->local_ip6 = local.ip6;
    e->prefix_len6 = local.prefix6;
  }
  if (o.mode != Mode::kLoopback) {
    // A gateway of a family we have no address of could never be reached.
    if (plan.client.gateway != 0 && !local.has_ipv4()) {
      return fail("--gateway " + format_ipv4(plan.client.gateway) + " is IPv4, but " + ip_option +
                  " gives no IPv4 address: add one (e.g. " + ip_option + " 198.18.0.3/24), or leave the gateway out");
    }
    if (!is_unspecified(plan.client.gateway6) && !local.has_ipv6()) {
      return fail("--gateway " + format_ipv6(plan.client.gateway6) + " is IPv6, but " + ip_option +
                  " gives no IPv6 address: add one (e.g. " + ip_option + " 2001:db8::3/64), or leave the gateway out");
    }
  }
  if (pair) {
    // The server side has its own addresses; --gateway is the client's (the server answers each
    // peer through the MAC its segments came from).
    plan.server.local_ip = server_local.ip;
    plan.server.prefix_len = server_local.prefix;
    plan.server.local_ip6 = server_local.ip6;
    plan.server.prefix_len6 = server_local.prefix6;
    plan.server.gateway = 0;
    plan.server.gateway6 = Ipv6Addr{};
  }
  plan.server.workload = server_w;
  plan.server.listen_ports = o.listen;
  plan.client.workload = client_w;
  plan.client.connect_timeout = static_cast<TimeNs>(o.connect_timeout * 1e9);
  plan.client.response_timeout = static_cast<TimeNs>(o.response_timeout * 1e9);

  GeneratorConfig& g = plan.generator;
  g.rate = o.rate;
  g.concurrency = concurrency;
  g.total = o.connections;
  g.port_first = port_first;
  g.port_last = port_last;
  g.ramp = static_cast<TimeNs>(o.ramp * 1e9);
  if (o.mode == Mode::kClient || pair) {
    const std::string err = parse_destinations(o.dst, g.destinations, g.destinations6);
    if (!err.empty()) return fail(err);
    const std::string plan_err = g.ipv6() ? plan_sources6(plan, local, server_local) : plan_sources(plan, local, server_local);
    if (!plan_err.empty()) return fail(plan_err);
  }
  if (!phases.empty()) {
    g.phases = phases;
    plan.duration_s = 0;
    for (const GeneratorPhase& p : phases) plan.duration_s += static_cast<double>(p.duration) / 1e9;
  }
  plan.tuple_space = std::uint64_t{g.src_ip_count} * (port_last - port_first + 1u) *
                     std::max<std::size_t>(g.destination_count(), 1);
  if (o.mode == Mode::kLoopback) {
    if (plan.duration_s == 0 && o.connections == 0) plan.duration_s = 10.0;
    plan.server.listen_ports = {80};
    if (o.max_connections == 0 && plan.server.max_connections < 65536u * 2) plan.server.max_connections = 65536u * 2;
  }
  return result;
}

}  // namespace synwave::app
