#pragma once
// The segment being processed, shared by the engine's translation units. Not a public header.
#include "synwave/engine.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave {

struct Engine::RxContext {
  Frame* frame = nullptr;     // the received frame; a reply may be built in it while not taken
  bool frame_taken = false;
  bool frame_reusable = true;  // false while the payload in it is still to be read
  EthernetHeader eth;
  Ipv4Header ip;    // an IPv4 segment's (key not is_ipv6)
  Ipv6Header ip6;   // an IPv6 segment's: ip6.src is the remote address
  TcpSegment seg;
  FlowKey key{};
  std::uint32_t hash = 0;
};

}  // namespace synwave
