#pragma once
// The address family a test run exercises. The state-machine tests and the simulator run once
// per family (not copied): their binaries run again with SYNWAVE_TEST_FAMILY=6 in the
// environment (tests/meson.build), where the engines are dual-stack and the tuples IPv6.
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace synwave::test {

enum class Family : std::uint8_t { kIpv4, kIpv6 };

inline Family family_from_environment() {
  const char* v = std::getenv("SYNWAVE_TEST_FAMILY");
  return v != nullptr && std::string_view(v) == "6" ? Family::kIpv6 : Family::kIpv4;
}

}  // namespace synwave::test
