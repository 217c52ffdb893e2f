#pragma once
// Memory for the per-lcore tables (flow table, connection and half-open records, TIME-WAIT
// entries). Lookups land on random entries of tables tens of MiB large, so with 4 KiB pages
// nearly every one misses the TLB as well as the cache. EAL runs here without hugepages, and its
// heap would not hold tables this size anyway; on Linux a block of 2 MiB or more is therefore
// mapped on its own and asks for transparent huge pages (honoured when the system's setting is
// "madvise" or "always"). Measured with bench/profile_connections on the flow table alone (1M
// slots per engine): 10-15 % less CPU per connection.
//
// The block is cache-line aligned and filled here, so every page is touched before the hot path
// runs (no first-touch page fault on a record's first use).
#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace synwave {

struct HugePageBlockDeleter {
  std::size_t mapped_bytes = 0;  // 0: from operator new
  std::size_t alignment = 64;
  void operator()(void* block) const {
#ifdef __linux__
    if (mapped_bytes != 0) {
      ::munmap(block, mapped_bytes);
      return;
    }
#endif
    ::operator delete(block, std::align_val_t{alignment});
  }
};

template <class T>
using HugePageBlock = std::unique_ptr<T[], HugePageBlockDeleter>;

// count copies of fill, or of T{} without one (at least one element is allocated, so the
// pointer is never null).
template <class T>
[[nodiscard]] HugePageBlock<T> allocate_huge_page_block(std::size_t count, const T* fill = nullptr) {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "table entries are plain data: freed without running destructors");
  constexpr std::size_t kAlignment = std::max<std::size_t>(64, alignof(T));
  count = std::max<std::size_t>(count, 1);
  const std::size_t bytes = count * sizeof(T);
  void* raw = nullptr;
  std::size_t mapped_bytes = 0;
#ifdef __linux__
  constexpr std::size_t kHugePage = std::size_t{2} << 20;
  if (bytes >= kHugePage) {
    // mmap returns page-aligned memory, which satisfies kAlignment.
    void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) {
      (void)::madvise(m, bytes, MADV_HUGEPAGE);  // advice: without it the table still works
      raw = m;
      mapped_bytes = bytes;
    }
  }
#endif
  if (raw == nullptr) raw = ::operator new(bytes, std::align_val_t{kAlignment});
  T* block = static_cast<T*>(raw);
  if (fill != nullptr) std::uninitialized_fill_n(block, count, *fill);
  else std::uninitialized_value_construct_n(block, count);  // zeroes plain records in bulk
  return HugePageBlock<T>(block, HugePageBlockDeleter{mapped_bytes, kAlignment});
}

}  // namespace synwave
