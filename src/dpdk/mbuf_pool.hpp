#pragma once
// The packet buffer pool. Every frame's mbuf header and data are touched by the lcore that
// receives it and by the one that sends it, at random places in a pool tens of MiB large: with
// 4 KiB pages each touch also misses the TLB, and in a virtual machine a TLB miss walks two page
// tables. Where EAL has hugepages the pool lives there, as DPDK makes it. Without them (`--no-huge`)
// EAL's memory is a memfd whose mapping is not 2 MiB aligned, so the kernel cannot back it with
// huge pages; the pool's objects then go into an anonymous mapping of our own that asks for
// transparent huge pages (as the engine's tables do: huge_page_block.hpp), unless a PCI device
// was probed: virtual devices copy frames by virtual address, a NIC by DMA through mappings EAL
// makes of its own memory only.
#include <cstdint>
#include <string>

#include <rte_mempool.h>

namespace synwave::dpdk {

// A pktmbuf pool of n mbufs of data_room bytes each (headroom included), a per-lcore cache of
// `cache` mbufs. nullptr with `err` set (the problem and its fix) when it does not fit.
[[nodiscard]] rte_mempool* create_mbuf_pool(const char* name, std::uint32_t n, unsigned cache, std::uint16_t data_room,
                                            std::string& err);

}  // namespace synwave::dpdk
