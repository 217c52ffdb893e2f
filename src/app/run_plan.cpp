// The parsed options turned into the run's plan: every value checked against the others (a
// refusal is one line naming the options at fault), then the engines', the generator's and the
// flood's settings filled in.
#include "options.hpp"

#include <algorithm>
#include <random>
#include <sstream>

#include "synwave/byte_order.hpp"
#include "synwave/wire/ipv4.hpp"

namespace synwave::app {

namespace {

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
  e.timestamps = !o.no_timestamps;
  e.sack_permitted = !o.no_sack;
  e.window_scaling = !o.no_window_scale;
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
  e.reset_shed_syns = o.shed_reset;
  e.delayed_ack = static_cast<TimeNs>(o.delayed_ack_ms * 1e6);
  if (o.rto_min_ms > o.rto_initial_ms) {
    std::ostringstream msg;
    msg << "--rto-min " << o.rto_min_ms << " ms is above --rto-initial " << o.rto_initial_ms
        << " ms: lower --rto-min or raise --rto-initial";
    return msg.str();
  }
  e.rto_initial = static_cast<TimeNs>(o.rto_initial_ms * 1e6);
  e.rto_min = static_cast<TimeNs>(o.rto_min_ms * 1e6);
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

// IPv4 and IPv6 addresses alike, for the checks both families make.
bool in_range(std::uint32_t a, std::uint32_t first, std::uint32_t count) { return a - first < count; }
bool in_range(const Ipv6Addr& a, const Ipv6Addr& first, std::uint32_t count) { return ipv6_in_range(a, first, count); }
std::string format_ip(std::uint32_t a) { return format_ipv4(a); }
std::string format_ip(const Ipv6Addr& a) { return format_ipv6(a); }

// What a client's sources of either family (its --ip address, local, and the count addresses
// from first) may not hold: a destination, or the pair's server side (server; nullptr outside a
// pair or without an address of the family).
template <typename Addr, typename Dest>
std::string own_address_error(const std::vector<Dest>& destinations, const Addr& local, const Addr& first,
                              std::uint32_t count, const Addr* server, const std::string& ip_option,
                              const std::string& src_ip) {
  for (const Dest& d : destinations) {
    if (d.ip == local || in_range(d.ip, first, count)) {
      return "--dst " + format_ip(d.ip) + " is one of the client's own addresses (" + ip_option +
             "/--src-ip): give the server's address";
    }
  }
  if (server != nullptr && in_range(*server, first, count)) {
    return "--server-ip " + format_ip(*server) + " is inside the client's --src-ip " + src_ip +
           ": give the two sides separate addresses";
  }
  return {};
}

// A client's IPv4 sources (--ip's IPv4 address, or --src-ip) for its IPv4 destinations, checked
// against them. ip_option: the flag of the client's addresses, local; server: the pair's server
// side's (else unused).
std::string plan_sources(RunPlan& plan, const std::string& ip_option, const LocalAddresses& local,
                         const LocalAddresses& server) {
  const AppOptions& o = plan.options;
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
  const bool pair_server = o.mode == Mode::kPair && server.has_ipv4();
  return own_address_error(g.destinations, local.ip, g.src_ip_first, g.src_ip_count,
                           pair_server ? &server.ip : nullptr, ip_option, o.src_ip);
}

// The same for IPv6 destinations: --ip's IPv6 address, or an IPv6 --src-ip range (which the
// engine then owns: EngineConfig::source_ip6_first/count).
std::string plan_sources6(RunPlan& plan, const std::string& ip_option, const LocalAddresses& local,
                          const LocalAddresses& server) {
  const AppOptions& o = plan.options;
  GeneratorConfig& g = plan.generator;
  if (!local.has_ipv6()) {
    return "--dst " + o.dst[0] + " is IPv6, but " + ip_option + " gives no IPv6 address: add one (e.g. " + ip_option +
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
  const bool pair_server = o.mode == Mode::kPair && server.has_ipv6();
  return own_address_error(g.destinations6, local.ip6, g.src_ip6_first, g.src_ip_count,
                           pair_server ? &server.ip6 : nullptr, ip_option, o.src_ip);
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

// What both families refuse of the probes' source (src, as text), from what the family's own
// checks found: inside the spoofed range, on --ip's subnet, the target's address.
std::string probe_source_error(const AppOptions& o, const std::string& src, bool spoofed, bool on_subnet, bool target) {
  if (spoofed) {
    return "--probe-src " + src + " is inside the spoofed range --src-ip " + o.src_ip +
           ": the probes must come from outside it, or their replies cannot be told from the flood's";
  }
  if (!on_subnet) return "--probe-src " + src + " is outside --ip " + o.ip[0] + "'s subnet: give an address of that subnet";
  if (target) return "--probe-src " + src + " is the target's address: give one of ours";
  return {};
}

std::string plan_probes(RunPlan& plan, const EngineConfig& addressing, std::uint32_t ip, std::uint8_t prefix,
                        std::uint32_t dst_ip, std::uint16_t dst_port) {
  const AppOptions& o = plan.options;
  const FloodConfig& f = plan.flood;
  std::uint32_t src = ip;
  if (!o.probe_src.empty() && !parse_ipv4(o.probe_src, src)) return "--probe-src '" + o.probe_src + "' is not an address A.B.C.D";
  const bool spoofed = src >= f.src_ip_first && src <= f.src_ip_last;
  const std::uint32_t mask = ipv4_prefix_mask(prefix);
  const bool on_subnet = (src & mask) == (ip & mask);
  if (std::string err = probe_source_error(o, format_ipv4(src), spoofed, on_subnet, src == dst_ip); !err.empty()) return err;
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
  const bool spoofed =
      ipv6_in_range(src, f.src_ip6_first, load_be32(f.src_ip6_last.data() + 12) - load_be32(f.src_ip6_first.data() + 12) + 1);
  const bool on_subnet = ipv6_same_prefix(src, ip, prefix);
  if (std::string err = probe_source_error(o, format_ipv6(src), spoofed, on_subnet, src == dst_ip); !err.empty()) return err;
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
  if (!parse_flood_kind(o.kind, f.kind)) return "--kind '" + o.kind + "' is not one of " + join_values(flood_kind_names());
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

std::string build_run_plan(RunPlan& plan) {
  const AppOptions& o = plan.options;
  if (std::uint32_t address = 0; !o.metrics.empty()) {
    std::uint16_t port = 0;
    if (!parse_endpoint(o.metrics, address, port)) {
      return "--metrics '" + o.metrics + "' is not A.B.C.D:PORT (e.g. 0.0.0.0:9100 for every address of this host)";
    }
  }
  if (o.mode == Mode::kFlood) return plan_flood(plan);
  // The loopback's addresses are its own (main.cpp); the others' come from --ip (pair: per side).
  const bool pair = o.mode == Mode::kPair;
  const std::string ip_option = pair ? "--client-ip" : "--ip";
  LocalAddresses local;
  if (o.mode != Mode::kLoopback) {
    if (std::string err = parse_local_addresses(o.ip, ip_option, local); !err.empty()) return err;
  }
  LocalAddresses server_local = local;
  if (pair) {
    if (std::string err = parse_local_addresses(o.server_ip, "--server-ip", server_local); !err.empty()) return err;
    if (local.has_ipv4() && server_local.ip == local.ip) {
      return "--client-ip and --server-ip are both " + format_ipv4(local.ip) + ": give each side its own address";
    }
    if (local.has_ipv6() && server_local.ip6 == local.ip6) {
      return "--client-ip and --server-ip are both " + format_ipv6(local.ip6) + ": give each side its own address";
    }
    if (o.client_port == o.server_port) {
      return "--client-port and --server-port are both " + std::to_string(o.client_port) +
             ": pair drives two ports, give two (e.g. --client-port 0 --server-port 1)";
    }
  }
  std::uint16_t port_first = 0, port_last = 0;
  if (!parse_port_range(o.src_ports, port_first, port_last)) {
    return "--src-ports '" + o.src_ports + "' is not a range FIRST-LAST within 1-65535";
  }
  if (!o.shard.empty()) {
    std::uint32_t index = 0, count = 1;
    if (!parse_shard(o.shard, index, count)) {
      return "--shard '" + o.shard + "' is not I/N with 0 <= I < N <= 65535 (e.g. 0/3 for the first of three)";
    }
    const std::uint32_t ports = port_last - port_first + 1u;
    if (count > ports) {
      return "--shard " + o.shard + ": " + std::to_string(count) + " shards of the " + std::to_string(ports) +
             " source ports of --src-ports " + o.src_ports + " would leave some empty: give a wider range";
    }
    // The I-th of N contiguous slices: the instances' tuples never meet, whatever their addresses.
    const std::uint32_t first = port_first + ports * index / count;
    port_last = static_cast<std::uint16_t>(port_first + ports * (index + 1) / count - 1);
    port_first = static_cast<std::uint16_t>(first);
  }
  if (!o.start_at.empty()) {
    if (!parse_start_at(o.start_at, plan.start_at_unix)) {
      return "--start-at '" + o.start_at + "' is neither RFC 3339 (2026-12-05T06:00:00Z, with Z or an offset) nor "
             "seconds since the epoch";
    }
    const double now = unix_now_seconds();
    if (plan.start_at_unix < now) {
      return "--start-at " + o.start_at + " is " + std::to_string(static_cast<long long>(now - plan.start_at_unix + 1)) +
             " s in the past: give a later instant";
    }
    if (plan.start_at_unix > now + 7 * 86400) {
      return "--start-at " + o.start_at + " is more than 7 days ahead: check the date";
    }
  }
  for (std::uint16_t p : o.listen) {
    if (p == 0) return "--listen 0 is not a port: give 1-65535";
  }
  if ((o.ring_size & (o.ring_size - 1)) != 0) {
    return "--ring-size " + std::to_string(o.ring_size) + " is not a power of two: give one from 64 to 1048576, e.g. 1024";
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
    if (o.http_get[0] != '/') return "--http-get '" + o.http_get + "' must be a path starting with '/'";
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
      return "--request-bytes/--response-bytes (raw) and --http/--http-get (HTTP) are two workloads: give one";
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
  if (std::string err = keep_alive_error(client_w, close, o.connections); !err.empty()) return err;
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
      return "--phase gives each phase its rate, concurrency and duration: leave out --rate, --ramp, --concurrency, "
             "--duration and --connections";
    }
    for (const std::string& spec : o.phases) {
      std::string name;
      GeneratorPhase phase;
      PhaseWorkload changes;
      const std::string err = parse_phase(spec, concurrency, name, phase, changes);
      if (!err.empty()) return err;
      if (changes.any()) {
        // The phase's own workload: the client's with the phase's changes.
        Workload w = client_w;
        if (changes.http_get && w.kind != WorkloadKind::kHttp) {
          return "--phase '" + spec + "': http-get needs the run's HTTP workload: add --http-get PATH";
        }
        w.http_path = changes.http_get.value_or(w.http_path);
        w.requests_per_connection = changes.requests_per_connection.value_or(w.requests_per_connection);
        if (changes.request_interval) w.request_interval_ns = static_cast<std::uint64_t>(*changes.request_interval * 1e9);
        w.pipeline = changes.pipeline.value_or(w.pipeline);
        if (changes.think_time) w.think_time_ns = static_cast<std::uint64_t>(*changes.think_time * 1e9);
        if (std::string e = keep_alive_error(w, close, 0); !e.empty()) return "--phase '" + spec + "': " + e;
        if (plan.client.phase_workloads.size() == 255) return "--phase: at most 255 phases may set a workload";
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
    return "--shed-watermark " + std::to_string(o.shed_watermark) + " is above the " + std::to_string(max_conns) +
           " records per engine (--max-connections): give at most that, or 0 for the default";
  }
  for (EngineConfig* e : {&plan.server, &plan.client}) {
    const std::string err = fill_engine(o, *e);
    if (!err.empty()) return err;
    e->max_connections = max_conns;
    e->local_ip = local.ip;
    e->prefix_len = local.prefix;
    e->local_ip6 = local.ip6;
    e->prefix_len6 = local.prefix6;
  }
  if (o.mode != Mode::kLoopback) {
    // A gateway of a family we have no address of could never be reached.
    if (plan.client.gateway != 0 && !local.has_ipv4()) {
      return "--gateway " + format_ipv4(plan.client.gateway) + " is IPv4, but " + ip_option +
             " gives no IPv4 address: add one (e.g. " + ip_option + " 198.18.0.3/24), or leave the gateway out";
    }
    if (!is_unspecified(plan.client.gateway6) && !local.has_ipv6()) {
      return "--gateway " + format_ipv6(plan.client.gateway6) + " is IPv6, but " + ip_option +
             " gives no IPv6 address: add one (e.g. " + ip_option + " 2001:db8::3/64), or leave the gateway out";
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
    if (!err.empty()) return err;
    const std::string plan_err = g.ipv6() ? plan_sources6(plan, ip_option, local, server_local)
                                          : plan_sources(plan, ip_option, local, server_local);
    if (!plan_err.empty()) return plan_err;
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
  return {};
}

}  // namespace synwave::app
