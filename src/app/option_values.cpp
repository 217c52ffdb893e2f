#include "option_values.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "synwave/byte_order.hpp"

namespace synwave::app {

namespace {

// A port 1-65535 in decimal, nothing else.
bool parse_port(const std::string& p, std::uint16_t& port) {
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), ::isdigit)) return false;
  const int n = std::stoi(p);
  if (n < 1 || n > 65535) return false;
  port = static_cast<std::uint16_t>(n);
  return true;
}

// A prefix length in decimal from 0 to most.
bool parse_prefix_len(const std::string& len, int least, int most, std::uint8_t& prefix) {
  if (len.empty() || len.size() > 3 || !std::all_of(len.begin(), len.end(), ::isdigit)) return false;
  const int n = std::stoi(len);
  if (n < least || n > most) return false;
  prefix = static_cast<std::uint8_t>(n);
  return true;
}

}  // namespace

bool parse_ipv4(const std::string& s, std::uint32_t& out) {
  unsigned a, b, c, d;
  char tail;
  if (std::sscanf(s.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4) return false;
  if (a > 255 || b > 255 || c > 255 || d > 255) return false;
  out = (a << 24) | (b << 16) | (c << 8) | d;
  return true;
}

bool parse_cidr(const std::string& s, std::uint32_t& ip, std::uint8_t& prefix) {
  const auto slash = s.find('/');
  if (slash == std::string::npos) {
    prefix = 24;
    return parse_ipv4(s, ip);
  }
  if (!parse_ipv4(s.substr(0, slash), ip)) return false;
  return parse_prefix_len(s.substr(slash + 1), 1, 32, prefix);
}

bool parse_endpoint(const std::string& s, std::uint32_t& ip, std::uint16_t& port) {
  const auto colon = s.rfind(':');
  return colon != std::string::npos && parse_ipv4(s.substr(0, colon), ip) && parse_port(s.substr(colon + 1), port);
}

bool parse_mac(const std::string& s, MacAddr& out) {
  unsigned b[6];
  char tail;
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6) return false;
  for (int i = 0; i < 6; ++i) {
    if (b[i] > 255) return false;
    out.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(b[i]);
  }
  return true;
}

bool parse_port_range(const std::string& s, std::uint16_t& first, std::uint16_t& last) {
  unsigned a, b;
  char tail;
  if (std::sscanf(s.c_str(), "%u-%u%c", &a, &b, &tail) == 2) {
    if (a < 1 || b > 65535 || a > b) return false;
    first = static_cast<std::uint16_t>(a);
    last = static_cast<std::uint16_t>(b);
    return true;
  }
  if (std::sscanf(s.c_str(), "%u%c", &a, &tail) == 1 && a >= 1 && a <= 65535) {
    first = last = static_cast<std::uint16_t>(a);
    return true;
  }
  return false;
}

bool parse_ipv4_range(const std::string& s, std::uint32_t& first, std::uint32_t& count) {
  const auto dash = s.find('-');
  std::uint32_t last = 0;
  if (!parse_ipv4(s.substr(0, dash), first)) return false;
  if (dash == std::string::npos) last = first;
  else if (!parse_ipv4(s.substr(dash + 1), last)) return false;
  if (last < first) return false;
  count = last - first + 1;
  return count != 0;
}

bool parse_ipv6(const std::string& s, Ipv6Addr& out) {
  // c_str() would stop inet_pton at an embedded NUL and accept what precedes it.
  if (s.find('\0') != std::string::npos) return false;
  return ::inet_pton(AF_INET6, s.c_str(), out.data()) == 1;
}

bool parse_ipv6_with_prefix(const std::string& s, Ipv6Addr& ip, std::uint8_t& prefix) {
  const auto slash = s.find('/');
  if (slash == std::string::npos) {
    prefix = 64;
    return parse_ipv6(s, ip);
  }
  return parse_ipv6(s.substr(0, slash), ip) && parse_prefix_len(s.substr(slash + 1), 0, 128, prefix);
}

bool parse_ipv6_endpoint(const std::string& s, Ipv6Addr& ip, std::uint16_t& port) {
  const auto close = s.find(']');
  if (s.empty() || s[0] != '[' || close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
  return parse_ipv6(s.substr(1, close - 1), ip) && parse_port(s.substr(close + 2), port);
}

Ipv6RangeError parse_ipv6_range(const std::string& s, Ipv6Addr& first, std::uint32_t& count) {
  const auto dash = s.find('-');
  Ipv6Addr last{};
  if (!parse_ipv6(s.substr(0, dash), first)) return Ipv6RangeError::kMalformed;
  if (dash == std::string::npos) last = first;
  else if (!parse_ipv6(s.substr(dash + 1), last)) return Ipv6RangeError::kMalformed;
  if (std::memcmp(first.data(), last.data(), 12) != 0) return Ipv6RangeError::kTooWide;
  const std::uint32_t low = load_be32(first.data() + 12);
  const std::uint32_t high = load_be32(last.data() + 12);
  if (high < low) return Ipv6RangeError::kReversed;
  count = high - low + 1;
  return count != 0 ? Ipv6RangeError::kOk : Ipv6RangeError::kTooWide;  // 0: all 2^32, which a count cannot hold
}

bool ipv6_in_range(const Ipv6Addr& a, const Ipv6Addr& first, std::uint32_t count) {
  return std::memcmp(a.data(), first.data(), 12) == 0 &&
         load_be32(a.data() + 12) - load_be32(first.data() + 12) < count;
}

bool ipv6_same_prefix(const Ipv6Addr& a, const Ipv6Addr& b, std::uint8_t prefix) {
  prefix = std::min<std::uint8_t>(prefix, 128);
  const std::size_t whole = prefix / 8;
  if (std::memcmp(a.data(), b.data(), whole) != 0) return false;
  if (prefix % 8 == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - prefix % 8));
  return ((a[whole] ^ b[whole]) & mask) == 0;
}

std::string parse_local_addresses(const std::vector<std::string>& values, const std::string& option,
                                  LocalAddresses& out) {
  out = LocalAddresses{};
  const std::string usage = "' is not an address with a prefix (expected A.B.C.D/LEN or 2001:db8::2/64)";
  std::string given4;
  std::string given6;
  for (const std::string& v : values) {
    // A well-formed address whose prefix is a number out of range gets its own message.
    const auto slash = v.find('/');
    const std::string address = v.substr(0, slash);
    const std::string len = slash == std::string::npos ? "" : v.substr(slash + 1);
    const bool numeric_len = !len.empty() && len.size() <= 9 && std::all_of(len.begin(), len.end(), ::isdigit);
    if (looks_ipv6(v)) {
      Ipv6Addr ip{};
      std::uint8_t prefix = 64;
      if (!parse_ipv6_with_prefix(v, ip, prefix)) {
        if (numeric_len && parse_ipv6(address, ip)) {
          return option + " '" + v + "': an IPv6 prefix length is 0 to 128 (e.g. 2001:db8::2/64)";
        }
        return option + " '" + v + usage;
      }
      if (is_unspecified(ip) || is_multicast(ip)) {
        return option + " '" + v + "' is " + (is_unspecified(ip) ? "the unspecified address" : "a multicast address") +
               ", which no endpoint owns: give a unicast one (e.g. 2001:db8::2/64)";
      }
      if (!given6.empty()) {
        return option + " given two IPv6 addresses (" + given6 + " and " + v + "): give at most one of each family";
      }
      given6 = v;
      out.ip6 = ip;
      out.prefix6 = prefix;
    } else {
      std::uint32_t ip = 0;
      std::uint8_t prefix = 24;
      if (!parse_cidr(v, ip, prefix)) {
        if (numeric_len && parse_ipv4(address, ip)) {
          return option + " '" + v + "': an IPv4 prefix length is 1 to 32 (e.g. 198.18.0.2/24)";
        }
        return option + " '" + v + usage;
      }
      // 0 stands for "no IPv4 address" in EngineConfig::local_ip.
      if (ip == 0) return option + " '" + v + "' is 0.0.0.0, which no endpoint owns: give its address (e.g. 198.18.0.2/24)";
      if (!given4.empty()) {
        return option + " given two IPv4 addresses (" + given4 + " and " + v + "): give at most one of each family";
      }
      given4 = v;
      out.ip = ip;
      out.prefix = prefix;
    }
  }
  if (given4.empty() && given6.empty()) return option + " gives no address: give A.B.C.D/LEN, 2001:db8::2/64, or one of each";
  return {};
}

std::string parse_gateways(const std::vector<std::string>& values, std::uint32_t& gateway, Ipv6Addr& gateway6) {
  std::string given4;
  std::string given6;
  for (const std::string& v : values) {
    if (looks_ipv6(v)) {
      if (!parse_ipv6(v, gateway6) || is_unspecified(gateway6) || is_multicast(gateway6)) {
        return "--gateway '" + v + "' is not a unicast IPv6 address (expected e.g. 2001:db8::1, no brackets, no prefix)";
      }
      if (!given6.empty()) return "--gateway given twice for IPv6 (" + given6 + " and " + v + "): give one of each family";
      given6 = v;
    } else {
      if (!parse_ipv4(v, gateway) || gateway == 0) return "--gateway '" + v + "' is not an address (expected A.B.C.D or 2001:db8::1)";
      if (!given4.empty()) return "--gateway given twice for IPv4 (" + given4 + " and " + v + "): give one of each family";
      given4 = v;
    }
  }
  return {};
}

std::string parse_destinations(const std::vector<std::string>& values, std::vector<Destination>& out,
                               std::vector<Destination6>& out6) {
  constexpr std::size_t kMaxDestinations = 65536;
  std::string first4;  // the first value of each family, for the message when both come
  std::string first6;
  for (const std::string& v : values) {
    std::uint16_t port_first = 0, port_last = 0;
    std::uint32_t ip_count = 0;
    std::uint32_t ip_first = 0;
    Ipv6Addr ip6_first{};
    const bool ipv6 = !v.empty() && v[0] == '[';
    if (ipv6) {
      const auto close = v.find(']');
      const char* usage = "' is not [FIRST[-LAST]]:PORT[-PORT] (e.g. [2001:db8::2]:80 or [2001:db8::2-2001:db8::9]:80-81)";
      if (close == std::string::npos || close + 1 >= v.size() || v[close + 1] != ':' ||
          !parse_port_range(v.substr(close + 2), port_first, port_last)) {
        return "--dst '" + v + usage;
      }
      switch (parse_ipv6_range(v.substr(1, close - 1), ip6_first, ip_count)) {
        case Ipv6RangeError::kOk: break;
        case Ipv6RangeError::kMalformed: return "--dst '" + v + usage;
        case Ipv6RangeError::kReversed:
          return "--dst '" + v + "': the first address is above the last; give the range as LOW-HIGH";
        case Ipv6RangeError::kTooWide:
          return "--dst '" + v + "': a range may differ only in the last 32 bits of its addresses (e.g. "
                 "[2001:db8::10-2001:db8::50]:80)";
      }
      if (is_unspecified(ip6_first) || is_multicast(ip6_first)) {
        return "--dst '" + v + "' is not a unicast address: give the server's (e.g. [2001:db8::2]:80)";
      }
      if (first6.empty()) first6 = v;
    } else {
      // An IPv6 address's last group would read as the port: say so rather than "not A.B.C.D".
      if (std::count(v.begin(), v.end(), ':') > 1) {
        return "--dst '" + v + "' looks like an IPv6 address without brackets: write it as [2001:db8::2]:80, the port "
               "after the closing bracket";
      }
      const auto colon = v.rfind(':');
      if (colon == std::string::npos || !parse_ipv4_range(v.substr(0, colon), ip_first, ip_count) ||
          !parse_port_range(v.substr(colon + 1), port_first, port_last)) {
        return "--dst '" + v + "' is not A.B.C.D[-A.B.C.D]:PORT[-PORT] (e.g. 198.18.0.2:80 or 198.18.0.2-198.18.0.9:80-81)";
      }
      if (first4.empty()) first4 = v;
    }
    if (!first4.empty() && !first6.empty()) {
      return "--dst '" + first4 + "' is IPv4 and '" + first6 + "' IPv6: a client run opens connections of one "
             "family; give destinations of one (and run a second client for the other)";
    }
    const std::uint64_t n = std::uint64_t{ip_count} * (port_last - port_first + 1u);
    const std::size_t have = out.size() + out6.size();
    if (have + n > kMaxDestinations) {
      return "--dst: " + std::to_string(have + n) + " destinations in all, more than the " +
             std::to_string(kMaxDestinations) + " supported: give narrower ranges";
    }
    for (std::uint32_t i = 0; i < ip_count; ++i) {
      for (std::uint32_t p = port_first; p <= port_last; ++p) {
        if (ipv6) {
          Ipv6Addr a = ip6_first;
          store_be32(a.data() + 12, load_be32(ip6_first.data() + 12) + i);
          out6.push_back({a, static_cast<std::uint16_t>(p)});
        } else {
          out.push_back({ip_first + i, static_cast<std::uint16_t>(p)});
        }
      }
    }
  }
  return {};
}

namespace {

// KEY=VALUE,... of a --phase: the client workload options a phase may set for itself.
std::string parse_phase_workload(const std::string& spec, const std::string& text, PhaseWorkload& w) {
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const auto eq = item.find('=');
    const std::string key = item.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    auto bad = [&](const char* what) { return "--phase '" + spec + "': " + key + "='" + value + "' is not " + what; };
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    const bool is_number = !value.empty() && *end == '\0';
    const bool is_count = is_number && std::all_of(value.begin(), value.end(), ::isdigit) && value.size() <= 10;
    if (key == "http-get") {
      if (value.empty() || value[0] != '/') return bad("a path starting with '/'");
      w.http_get = value;
    } else if (key == "requests-per-connection") {
      if (!is_count || number > 1e9) return bad("a count from 0 to 1000000000");
      w.requests_per_connection = static_cast<std::uint32_t>(number);
    } else if (key == "pipeline") {
      if (!is_count || number < 1 || number > Workload::kMaxPipeline) return bad("a depth from 1 to 255");
      w.pipeline = static_cast<std::uint32_t>(number);
    } else if (key == "request-interval" || key == "think-time") {
      if (!is_number || !(number >= 0) || number > 86400) return bad("a number of seconds from 0 to 86400");
      (key == "think-time" ? w.think_time : w.request_interval) = number;
    } else {
      return "--phase '" + spec + "': '" + item + "' is not KEY=VALUE with a key a phase may set (http-get, "
             "requests-per-connection, request-interval, pipeline, think-time)";
    }
  }
  return {};
}

}  // namespace

std::string parse_phase(const std::string& spec, std::uint32_t default_concurrency, std::string& name,
                        GeneratorPhase& phase, PhaseWorkload& workload) {
  const std::string usage = "--phase '" + spec + "' is not NAME:SECONDS:RATE[-RATE][:CONCURRENCY][:KEY=VALUE,...] "
                            "(e.g. ramp:10:0-50000:2000 or hold:60:1000:50000:requests-per-connection=10)";
  std::vector<std::string> parts;
  std::stringstream in(spec);
  for (std::string part; std::getline(in, part, ':');) parts.push_back(part);
  if (parts.size() < 3 || parts.size() > 5 || parts[0].empty()) return usage;
  // The workload's part is the last, and the only one with '='.
  if (parts.back().find('=') != std::string::npos) {
    const std::string err = parse_phase_workload(spec, parts.back(), workload);
    if (!err.empty()) return err;
    parts.pop_back();
  }
  if (parts.size() > 4) return usage;
  name = parts[0];
  char* end = nullptr;
  const double seconds = std::strtod(parts[1].c_str(), &end);
  if (end == parts[1].c_str() || *end != '\0' || !(seconds >= 0.001) || seconds > 1e7) {
    return "--phase '" + spec + "': the duration '" + parts[1] + "' is not a number of seconds from 0.001 to 10000000";
  }
  phase.duration = static_cast<TimeNs>(seconds * 1e9);
  auto number = [](const std::string& s, std::uint64_t most, std::uint64_t& out) {
    if (s.empty() || s.size() > 12 || !std::all_of(s.begin(), s.end(), ::isdigit)) return false;
    out = std::stoull(s);
    return out <= most;
  };
  const auto dash = parts[2].find('-');
  constexpr std::uint64_t kMostRate = 1'000'000'000;
  if (!number(parts[2].substr(0, dash), kMostRate, phase.rate_from) ||
      !number(dash == std::string::npos ? parts[2] : parts[2].substr(dash + 1), kMostRate, phase.rate_to)) {
    return "--phase '" + spec + "': the rate '" + parts[2] + "' is not RATE or FROM-TO connections per second (0 to 1000000000)";
  }
  std::uint64_t concurrency = default_concurrency;
  if (parts.size() == 4 && !parts[3].empty() && (!number(parts[3], 1u << 28, concurrency) || concurrency == 0)) {
    return "--phase '" + spec + "': the concurrency '" + parts[3] + "' is not a count from 1 to 268435456";
  }
  phase.concurrency = static_cast<std::uint32_t>(concurrency);
  return {};
}

bool parse_start_at(const std::string& s, double& unix_seconds) {
  char* end = nullptr;
  const double epoch = std::strtod(s.c_str(), &end);
  if (!s.empty() && *end == '\0' && std::isdigit(static_cast<unsigned char>(s[0]))) {
    unix_seconds = epoch;
    return epoch > 0;
  }
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM); 't', 'z' and a space for 'T' as RFC 3339 allows.
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6 || consumed != 19) {
    return false;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return false;
  }
  std::size_t i = 19;
  double fraction = 0;
  if (i < s.size() && s[i] == '.') {
    std::size_t j = i + 1;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    if (j == i + 1) return false;
    fraction = std::strtod(s.substr(i, j - i).c_str(), nullptr);
    i = j;
  }
  long offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) {
    offset = 0;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
             std::isdigit(static_cast<unsigned char>(s[i + 2])) && s[i + 3] == ':' &&
             std::isdigit(static_cast<unsigned char>(s[i + 4])) && std::isdigit(static_cast<unsigned char>(s[i + 5]))) {
    const long hours = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
    const long minutes = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
    if (hours > 23 || minutes > 59) return false;
    offset = (s[i] == '+' ? 1 : -1) * (hours * 3600 + minutes * 60);
  } else {
    return false;  // RFC 3339 requires the offset: no local time
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t t = ::timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return false;
  unix_seconds = static_cast<double>(t - offset) + fraction;
  return true;
}

double unix_now_seconds() {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count()) / 1e6;
}

bool parse_shard(const std::string& s, std::uint32_t& index, std::uint32_t& count) {
  const auto slash = s.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == s.size() || slash > 5 || s.size() - slash - 1 > 5) return false;
  const std::string a = s.substr(0, slash);
  const std::string b = s.substr(slash + 1);
  auto digits = [](const std::string& t) { return std::all_of(t.begin(), t.end(), ::isdigit); };
  if (!digits(a) || !digits(b)) return false;
  index = static_cast<std::uint32_t>(std::stoul(a));
  count = static_cast<std::uint32_t>(std::stoul(b));
  return count >= 1 && count <= 65535 && index < count;
}

std::string format_ipv6(const Ipv6Addr& ip) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, ip.data(), text, sizeof text);
  return text;
}

std::string join_values(const std::vector<std::string>& values) {
  std::string line;
  for (const std::string& v : values) line += (line.empty() ? "" : ", ") + v;
  return line;
}

std::string format_ipv4(std::uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." + std::to_string((ip >> 8) & 255) +
         "." + std::to_string(ip & 255);
}

}  // namespace synwave::app
