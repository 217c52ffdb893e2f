#pragma once
// The values options take, parsed and checked: addresses, ranges, endpoints, phases, instants,
// shards. Each returns false (or an error message) on a malformed value and leaves the caller to
// name the option; run_plan.cpp turns them into the run's plan.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "synwave/connection_generator.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave::app {

bool parse_ipv4(const std::string& s, std::uint32_t& out);
bool parse_cidr(const std::string& s, std::uint32_t& ip, std::uint8_t& prefix);
bool parse_endpoint(const std::string& s, std::uint32_t& ip, std::uint16_t& port);
bool parse_mac(const std::string& s, MacAddr& out);
bool parse_port_range(const std::string& s, std::uint16_t& first, std::uint16_t& last);
bool parse_ipv4_range(const std::string& s, std::uint32_t& first, std::uint32_t& count);

// IPv6 text forms (RFC 4291 §2.2) as inet_pton reads them: no brackets, no zone index.
bool parse_ipv6(const std::string& s, Ipv6Addr& out);
// 2001:db8::2/64, LEN from 0 to 128; with no /LEN the prefix is 64 (as A.B.C.D alone is a /24).
bool parse_ipv6_with_prefix(const std::string& s, Ipv6Addr& ip, std::uint8_t& prefix);
// [2001:db8::1]:80: the brackets of RFC 3986 §3.2.2, without which the port could not be told
// from the address's last group.
bool parse_ipv6_endpoint(const std::string& s, Ipv6Addr& ip, std::uint16_t& port);
// FIRST[-LAST]: the two alike but for their last 32 bits, which an engine's source range counts
// up (EngineConfig::source_ip6_first/count); count = last - first + 1.
enum class Ipv6RangeError : std::uint8_t {
  kOk,
  kMalformed,  // not an address, or not two joined by '-'
  kReversed,   // the first above the last
  kTooWide,    // the two differ before their last 32 bits, or span all 2^32 of them
};
Ipv6RangeError parse_ipv6_range(const std::string& s, Ipv6Addr& first, std::uint32_t& count);
// Is a within the count addresses from first (counted as parse_ipv6_range counts)?
[[nodiscard]] bool ipv6_in_range(const Ipv6Addr& a, const Ipv6Addr& first, std::uint32_t count);
// Do a and b share their first `prefix` bits (the same /prefix subnet)?
[[nodiscard]] bool ipv6_same_prefix(const Ipv6Addr& a, const Ipv6Addr& b, std::uint8_t prefix);
// An IPv6 literal rather than an IPv4 one: the values of a flag that takes both are told apart
// by this before they are parsed, so that an error names the family the user meant.
[[nodiscard]] inline bool looks_ipv6(const std::string& s) { return s.find(':') != std::string::npos; }

// What --ip (or --client-ip, --server-ip) says, repeated: at most one address of each family.
struct LocalAddresses {
  std::uint32_t ip = 0;  // 0: no IPv4 address
  std::uint8_t prefix = 24;
  Ipv6Addr ip6{};  // unspecified: no IPv6 address
  std::uint8_t prefix6 = 64;
  [[nodiscard]] bool has_ipv4() const { return ip != 0; }
  [[nodiscard]] bool has_ipv6() const { return !is_unspecified(ip6); }
};
// option: the flag's name for the messages. An error message or "".
std::string parse_local_addresses(const std::vector<std::string>& values, const std::string& option,
                                  LocalAddresses& out);
// --gateway, repeated: at most one of each family (gateway6 stays unspecified without one). An
// error message or "".
std::string parse_gateways(const std::vector<std::string>& values, std::uint32_t& gateway, Ipv6Addr& gateway6);

// Expands --dst values (ranges of addresses and ports) into destinations: IPv4 ones into out,
// IPv6 ones ([FIRST[-LAST]]:PORT[-PORT]) into out6. A client run is of one family, so values of
// both are an error. An error message or "".
std::string parse_destinations(const std::vector<std::string>& values, std::vector<Destination>& out,
                               std::vector<Destination6>& out6);
std::string format_ipv4(std::uint32_t ip);
std::string format_ipv6(const Ipv6Addr& ip);
// Values of a repeatable flag as one line, for the report's config.
std::string join_values(const std::vector<std::string>& values);
// What a --phase may change of the client's workload (its last field, KEY=VALUE,...): the rest
// (kind, message sizes, close) is what the server expects, the same in every phase.
struct PhaseWorkload {
  std::optional<std::string> http_get;
  std::optional<std::uint32_t> requests_per_connection;
  std::optional<double> request_interval;
  std::optional<std::uint32_t> pipeline;
  std::optional<double> think_time;
  [[nodiscard]] bool any() const {
    return http_get || requests_per_connection || request_interval || pipeline || think_time;
  }
};
// One --phase value (NAME:SECONDS:RATE[-RATE][:CONCURRENCY][:KEY=VALUE,...]); an error message or "".
std::string parse_phase(const std::string& spec, std::uint32_t default_concurrency, std::string& name,
                        GeneratorPhase& phase, PhaseWorkload& workload);
// --start-at: RFC 3339 (2026-12-05T06:00:00Z, 2026-12-05T07:00:00.5+01:00) or seconds since the
// epoch (1796450400, 1796450400.25).
bool parse_start_at(const std::string& s, double& unix_seconds);
// The wall clock now, in the seconds since the epoch parse_start_at gives.
[[nodiscard]] double unix_now_seconds();
// --shard I/N, 0 <= I < N <= 65535.
bool parse_shard(const std::string& s, std::uint32_t& index, std::uint32_t& count);

}  // namespace synwave::app
