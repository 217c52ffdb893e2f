#pragma once
// The values options take, parsed and checked: addresses, ranges, endpoints, phases, instants,
// shards. Each returns false (or an error message) on a malformed value and leaves the caller to
// name the option; options.cpp turns them into the run's plan.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "synwave/connection_generator.hpp"
#include "synwave/wire/ethernet.hpp"

namespace synwave::app {

bool parse_ipv4(const std::string& s, std::uint32_t& out);
bool parse_cidr(const std::string& s, std::uint32_t& ip, std::uint8_t& prefix);
bool parse_endpoint(const std::string& s, std::uint32_t& ip, std::uint16_t& port);
bool parse_mac(const std::string& s, MacAddr& out);
bool parse_port_range(const std::string& s, std::uint16_t& first, std::uint16_t& last);
bool parse_ipv4_range(const std::string& s, std::uint32_t& first, std::uint32_t& count);
// Expands --dst values (ranges of addresses and ports) into destinations; an error message or "".
std::string parse_destinations(const std::vector<std::string>& values, std::vector<Destination>& out);
std::string format_ipv4(std::uint32_t ip);
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
