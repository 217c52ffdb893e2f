#include "mbuf_pool.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>

namespace synwave::dpdk {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

struct OwnMemory {
  void* base;
  std::size_t bytes;
};

void unmap_own_memory(rte_mempool_memhdr*, void* opaque) {
  auto* m = static_cast<OwnMemory*>(opaque);
  ::munmap(m->base, m->bytes);
  delete m;
}

std::string does_not_fit(std::uint32_t n, std::uint16_t data_room, const std::string& why, const char* fix) {
  return std::string("out of memory at start-up: a pool of ") + std::to_string(n) + " mbufs (" +
         std::to_string(static_cast<unsigned long long>(n) * (data_room + sizeof(rte_mbuf)) >> 20) +
         " MiB) does not fit (" + why + "): " + fix;
}

// MemAvailable of /proc/meminfo in bytes, or 0 when it cannot be read. The pool's pages are
// touched at start-up; a pool larger than this would get the process killed there instead of
// refused with a message.
std::size_t memory_available() {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (f == nullptr) return 0;
  char line[128];
  unsigned long long kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "MemAvailable: %llu kB", &kib) == 1) break;
  }
  std::fclose(f);
  return static_cast<std::size_t>(kib) * 1024;
}

// rte_pktmbuf_pool_create's steps, with the objects placed in memory mapped here.
rte_mempool* create_on_own_memory(const char* name, std::uint32_t n, unsigned cache, std::uint16_t data_room,
                                  std::string& err) {
  const unsigned elt_size = sizeof(rte_mbuf) + data_room;
  rte_pktmbuf_pool_private priv{};
  priv.mbuf_data_room_size = data_room;
  priv.mbuf_priv_size = 0;
  rte_mempool* mp = rte_mempool_create_empty(name, n, elt_size, cache, sizeof(priv), static_cast<int>(rte_socket_id()),
                                             RTE_MEMPOOL_F_NO_IOVA_CONTIG);
  if (mp == nullptr) {
    err = does_not_fit(n, data_room, rte_strerror(rte_errno), "raise the EAL's -m");
    return nullptr;
  }
  if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), nullptr) != 0) {
    err = does_not_fit(n, data_room, rte_strerror(rte_errno), "raise the EAL's -m");
    rte_mempool_free(mp);
    return nullptr;
  }
  rte_pktmbuf_pool_init(mp, &priv);
  // One object's full size (header, trailer, alignment padding) times n, plus slack for the
  // alignment of the first, rounded up to whole huge pages.
  rte_mempool_objsz sz{};
  const std::uint32_t total = rte_mempool_calc_obj_size(elt_size, 0, &sz);
  const std::size_t bytes = ((static_cast<std::size_t>(total) * n + RTE_CACHE_LINE_SIZE * 2) + kHugePage - 1) / kHugePage * kHugePage;
  const std::size_t available = memory_available();
  void* base = available != 0 && bytes > available
                   ? MAP_FAILED
                   : ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    const std::string why = available != 0 && bytes > available
                                ? std::to_string(available >> 20) + " MiB of memory available"
                                : std::string(std::strerror(errno));
    err = does_not_fit(n, data_room, why, "lower --mbufs, or free memory");
    rte_mempool_free(mp);
    return nullptr;
  }
  (void)::madvise(base, bytes, MADV_HUGEPAGE);  // advice: the pool works without it
  // IOVA as VA (what EAL picks without physical devices) makes the address its own IOVA; virtual
  // devices never read it either way.
  const rte_iova_t iova = rte_eal_iova_mode() == RTE_IOVA_VA ? static_cast<rte_iova_t>(reinterpret_cast<std::uintptr_t>(base)) : RTE_BAD_IOVA;
  auto* own = new OwnMemory{base, bytes};
  const int placed = rte_mempool_populate_iova(mp, static_cast<char*>(base), iova, bytes, unmap_own_memory, own);
  if (placed < 0 || static_cast<std::uint32_t>(placed) < n) {
    if (placed <= 0) unmap_own_memory(nullptr, own);  // else the pool owns it and frees it
    err = does_not_fit(n, data_room, placed < 0 ? rte_strerror(-placed) : "placed " + std::to_string(placed),
                       "lower --mbufs, or free memory");
    rte_mempool_free(mp);
    return nullptr;
  }
  rte_mempool_obj_iter(mp, rte_pktmbuf_init, nullptr);
  return mp;
}

// A PCI device reads and writes mbufs by DMA, through the IOMMU mappings EAL made of its own
// memory; a mapping of ours has none. So the pool is ours only when EAL probed no PCI device.
bool pci_device_probed() {
  bool found = false;
  rte_dev_iterator it{};
  rte_device* dev = nullptr;
  RTE_DEV_FOREACH(dev, "bus=pci", &it) { found = true; }  // walked to its end: the iterator frees itself
  return found;
}

}  // namespace

rte_mempool* create_mbuf_pool(const char* name, std::uint32_t n, unsigned cache, std::uint16_t data_room, std::string& err) {
  // DPDK refuses a pool smaller than one lcore cache's flush threshold (1.5 caches).
  const std::uint32_t least = cache + cache / 2;
  if (n < least) {
    err = "--mbufs " + std::to_string(n) + " is too few: an lcore's cache alone holds up to " + std::to_string(least) +
          " mbufs; give at least that many";
    return nullptr;
  }
  if (rte_eal_has_hugepages() == 0 && !pci_device_probed()) return create_on_own_memory(name, n, cache, data_room, err);
  rte_mempool* mp = rte_pktmbuf_pool_create(name, n, cache, 0, data_room, static_cast<int>(rte_socket_id()));
  if (mp == nullptr) err = does_not_fit(n, data_room, rte_strerror(rte_errno), "raise the EAL's -m, or lower --mbufs");
  return mp;
}

}  // namespace synwave::dpdk
