// libFuzzer harness for the engine: the input is a script (tests/fuzz/engine_script.hpp) that
// configures a server engine and a client engine and then feeds them frames and clock steps;
// invariants are checked after every step and after a final drain.
#include <cstddef>
#include <cstdint>

#include "fuzz/engine_script.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Long scripts add little the fuzzer cannot reach with short ones, and cost time per run.
  if (size > 16384) return -1;
  synwave::fuzz::EngineScript(data, size).run();
  return 0;
}
