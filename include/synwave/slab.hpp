#pragma once
// A fixed-capacity pool of fixed-size records addressed by 32-bit index.
//
// Why indices and not pointers: a uint32_t is half the size of a pointer inside the records
// that link to each other (timer nodes, accept queues), and an index stays valid for tools
// that only see the base pointer (TimerWheel::bind).
//
// All memory is taken in the constructor and touched there, so the hot path never allocates
// and never page-faults on first use of a record.
#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "synwave/huge_page_block.hpp"

namespace synwave {

inline constexpr std::uint32_t kNoIndex = 0xffffffffu;

template <class T>
class Slab {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "Slab records are plain fixed-size data: never constructed or destroyed beyond T{}");
  static_assert(std::is_default_constructible_v<T>, "alloc() hands out a value-initialised T{}");

 public:
  // Indices are uint32_t and kNoIndex must never be a valid index.
  explicit Slab(std::uint32_t capacity)
      : records_(allocate_huge_page_block<T>(capacity)), free_stack_(capacity), free_count_(capacity),
        capacity_(capacity) {
    // Lowest index on top, so a fresh pool hands out 0, 1, 2, ... (dense and easy to read in traces).
    for (std::uint32_t i = 0; i < capacity; ++i) {
      free_stack_[i] = capacity - 1 - i;
    }
#ifndef NDEBUG
    in_use_bits_.assign((static_cast<std::size_t>(capacity) + 63) / 64, 0);
#endif
  }

  Slab(const Slab&) = delete;
  Slab& operator=(const Slab&) = delete;
  Slab(Slab&&) noexcept = default;
  Slab& operator=(Slab&&) noexcept = default;
  ~Slab() = default;

  // Returns kNoIndex when every record is in use. The most recently freed record comes back
  // first: it is the one most likely still in cache.
  [[nodiscard]] std::uint32_t alloc() {
    if (free_count_ == 0) {
      return kNoIndex;
    }
    const std::uint32_t idx = free_stack_[--free_count_];
#ifndef NDEBUG
    in_use_bits_[idx / 64] |= bit_of(idx);
#endif
    records_[idx] = T{};
    return idx;
  }

  // Precondition: idx came from alloc() and has not been freed since. Checked in debug builds
  // only; in release a double free corrupts the free list.
  void free(std::uint32_t idx) {
    assert(idx < capacity_ && "Slab::free: index out of range");
#ifndef NDEBUG
    assert((in_use_bits_[idx / 64] & bit_of(idx)) != 0 && "Slab::free: record not in use (double free?)");
    in_use_bits_[idx / 64] &= ~bit_of(idx);
#endif
    free_stack_[free_count_++] = idx;
  }

  T& operator[](std::uint32_t idx) {
    assert(idx < capacity_);
    return records_[idx];
  }
  const T& operator[](std::uint32_t idx) const {
    assert(idx < capacity_);
    return records_[idx];
  }

  // Record i lives at data() + i; the base is aligned to a cache line.
  T* data() { return records_.get(); }
  const T* data() const { return records_.get(); }

  [[nodiscard]] std::uint32_t capacity() const { return capacity_; }
  [[nodiscard]] std::uint32_t in_use() const { return capacity_ - free_count_; }

  // Everything the pool reserved: records, free list and, in debug builds, the in-use bitmap.
  [[nodiscard]] std::size_t memory_bytes() const {
    std::size_t bytes = sizeof(T) * static_cast<std::size_t>(capacity_) +
                        sizeof(std::uint32_t) * free_stack_.size();
#ifndef NDEBUG
    bytes += sizeof(std::uint64_t) * in_use_bits_.size();
#endif
    return bytes;
  }

 private:
#ifndef NDEBUG
  static constexpr std::uint64_t bit_of(std::uint32_t idx) { return std::uint64_t{1} << (idx % 64); }
  // Debug only, so the layout of Slab differs between NDEBUG and debug translation units:
  // link a program from one kind only.
  std::vector<std::uint64_t> in_use_bits_;
#endif
  HugePageBlock<T> records_;  // every page touched here, not on a record's first alloc()
  std::vector<std::uint32_t> free_stack_;  // free indices; top is free_stack_[free_count_ - 1]
  std::uint32_t free_count_;
  std::uint32_t capacity_;
};

}  // namespace synwave
