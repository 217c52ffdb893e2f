#pragma once
// The segment being processed, shared by the engine's translation units. Not a public header.
#include "synwave/engine.hpp"
#include "synwave/wire/ipv4.hpp"

namespace synwave {

struct Engine::RxContext {
  Frame* frame = nullptr;     // the received frame; a reply may be built in it while not taken
  bool frame_taken = false;
  bool frame_reusable = true;  // false while the payload in it is still to be read
  EthernetHeader eth;
  Ipv4Header ip;
  TcpSegment seg;
  FlowKey key{};
  std::uint32_t hash = 0;
};

}  // namespace synwave
