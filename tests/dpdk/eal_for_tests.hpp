#pragma once
// One EAL per process, shared by every test of the DPDK test binary that needs one: started on
// first use, without hugepages or PCI, with a vdev that reports RSS (net_null0), and a pool of
// mbufs to build frames in.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstdlib>
#include <string>

#include "eal.hpp"

namespace synwave::test {

// Null (and a test failure) when the EAL cannot start.
inline rte_mempool* eal_test_pool() {
  static rte_mempool* const pool = []() -> rte_mempool* {
    // start_eal names the runtime files after the PID ("synwave<PID>"); they go at exit.
    const std::string err = dpdk::start_eal(
        "synwave_dpdk_tests", {"--no-huge", "-m", "256", "--no-pci", "-l", "0", "--vdev", "net_null0"});
    if (!err.empty()) {
      ADD_FAILURE() << err;
      return nullptr;
    }
    std::atexit([] { dpdk::remove_own_runtime_dir(); });
    rte_mempool* p = rte_pktmbuf_pool_create("dpdk_test_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    if (p == nullptr) ADD_FAILURE() << "cannot create the test's mbuf pool";
    return p;
  }();
  return pool;
}

}  // namespace synwave::test
