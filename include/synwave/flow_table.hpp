#pragma once
// Per-lcore flow table: TCP 4-tuple -> uint32 value (a connection index, usually).
//
// Open addressing with linear probing over 16-byte slots, four to a cache line, so a lookup
// almost always costs one cache miss. Deletion shifts the following entries back instead of
// leaving tombstones: the table sees millions of insert/erase per second, and tombstones would
// lengthen every probe until a rebuild, which a run-to-completion lcore cannot afford.
//
// Hash contract: the table's hash function (flow_hash() below; tests give others) decides every
// key's home slot. The caller passes that hash of the key to each call, so a packet's key is
// hashed once for its prefetch, lookup and insert; passing any other hash loses the key. Erase
// rehashes the entries it shifts from their keys (two CRC32 instructions) rather than keeping a
// hash per slot: that array cost every insert and erase a cache miss of its own (measured: -12 %
// CPU per connection on each side, BM_ConnectionSide).
//
// A bit per cache line of slots says whether any of its four slots is taken (may_hold). A SYN
// from a new source has its home line empty nearly always, and the bitmap (a bit per 64 bytes:
// 32 KiB for a million slots, small enough to stay in the core's cache) says so without touching
// the line: a SYN answered with a cookie, which inserts nothing, then costs no miss to memory
// (under a spoofed flood, every SYN's). find() itself does not consult it: a lookup that finds
// nothing is usually followed by an insert into that same line.
//
// No entry sits more than max_displacement() slots past its home (63 unless a test asks for
// another bound): insert refuses a key whose home has no free slot that near, so find, update and
// erase stop after 64 slots whatever the keys. At the table's highest load (1/2), 4.5 million
// random keys inserted with churn met the limit 0 times (a limit of 31: 6 times in 100,000). A
// flood of tuples crafted to share one home (the hash is an unkeyed CRC: README, "Crafted
// collisions in the flow table") fills those 64 slots and is refused beyond them, instead of
// growing one cluster, as long as the SYN backlog, that every later probe walks.
//
// Every byte is allocated in the constructor; nothing after that allocates, throws or locks.
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "synwave/huge_page_block.hpp"
#include "synwave/prefetch.hpp"

#ifdef __SSE4_2__
#include <nmmintrin.h>
#endif

namespace synwave {

// Host byte order. Its 12 bytes, exactly as laid out in memory, are what flow_hash() hashes.
struct FlowKey {
  std::uint32_t local_ip;
  std::uint32_t remote_ip;
  std::uint16_t local_port;
  std::uint16_t remote_port;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};
static_assert(sizeof(FlowKey) == 12);
static_assert(std::has_unique_object_representations_v<FlowKey>, "no padding: hashed and compared as bytes");

namespace detail {

inline constexpr std::uint32_t kCrc32cPolynomialReflected = 0x82F63B78u;  // Castagnoli, as in SSE4.2

constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ ((crc & 1u) != 0 ? kCrc32cPolynomialReflected : 0u);
    }
    table[byte] = crc;
  }
  return table;
}

inline constexpr std::array<std::uint32_t, 256> kCrc32cTable = make_crc32c_table();

// The key's first 8 bytes and last 4, as the SSE4.2 path feeds them to the CRC instruction.
// Composed from the fields rather than loaded with one wide memcpy: a key the caller has just
// built field by field is still in the store buffer, and a wide load spanning several narrow
// stores cannot be forwarded from it. Measured on in-cache lookups: 19 ns with wide loads,
// 2 ns composed. Equal to the memory bytes on little-endian machines, the only ones with SSE4.2.
inline std::uint64_t key_ips(const FlowKey& k) {
  return std::uint64_t{k.local_ip} | (std::uint64_t{k.remote_ip} << 32);
}
inline std::uint32_t key_ports(const FlowKey& k) {
  return std::uint32_t{k.local_port} | (std::uint32_t{k.remote_port} << 16);
}

}  // namespace detail

// Standard CRC32c (init and final xor 0xFFFFFFFF), one table lookup per byte. The fallback
// for machines without SSE4.2, and the reference the hardware path is tested against.
[[nodiscard]] inline std::uint32_t crc32c_software(const void* data, std::size_t length) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::uint32_t crc = 0xffffffffu;
  for (std::size_t i = 0; i < length; ++i) {
    crc = detail::kCrc32cTable[(crc ^ bytes[i]) & 0xffu] ^ (crc >> 8);
  }
  return ~crc;
}

[[nodiscard]] inline std::uint32_t flow_hash_software(const FlowKey& k) {
  return crc32c_software(&k, sizeof k);
}

// CRC32c of the key's 12 bytes: two instructions with SSE4.2.
[[nodiscard]] inline std::uint32_t flow_hash(const FlowKey& k) {
#ifdef __SSE4_2__
  std::uint32_t crc = 0xffffffffu;
  crc = static_cast<std::uint32_t>(_mm_crc32_u64(crc, detail::key_ips(k)));
  crc = _mm_crc32_u32(crc, detail::key_ports(k));
  return ~crc;
#else
  return flow_hash_software(k);
#endif
}

struct FlowHash {
  [[nodiscard]] std::uint32_t operator()(const FlowKey& k) const { return flow_hash(k); }
};

template <class Hash>
class BasicFlowTable {
 public:
  static constexpr std::uint32_t kNotFound = 0xffffffffu;
  // Keeps the slot count (2 * max_entries rounded up) within 2^31, so slot indices fit uint32_t.
  static constexpr std::uint32_t kMaxEntriesLimit = 1u << 30;
  static constexpr std::uint32_t kMaxBurst = 64;

  // Slots = next power of two >= 2 * max_entries: the load never exceeds 0.5, which keeps
  // linear-probe clusters short and guarantees an empty slot ends every probe.
  // Throws std::length_error above kMaxEntriesLimit (start-up only).
  static constexpr std::uint32_t kDefaultMaxDisplacement = 63;

  explicit BasicFlowTable(std::uint32_t max_entries, std::uint32_t max_displacement = kDefaultMaxDisplacement)
      : slots_(allocate_huge_page_block(slot_count_for(max_entries), &kEmptySlot)),
        taken_lines_(allocate_huge_page_block<std::uint64_t>(line_words_for(slot_count_for(max_entries)))),
        mask_(slot_count_for(max_entries) - 1),
        size_(0),
        max_entries_(max_entries),
        max_displacement_(max_displacement) {}

  BasicFlowTable(const BasicFlowTable&) = delete;
  BasicFlowTable& operator=(const BasicFlowTable&) = delete;
  BasicFlowTable(BasicFlowTable&&) noexcept = default;
  BasicFlowTable& operator=(BasicFlowTable&&) noexcept = default;
  ~BasicFlowTable() = default;

  // The value stored for k, or kNotFound.
  [[nodiscard]] std::uint32_t find(const FlowKey& k, std::uint32_t hash) const {
    std::uint32_t i = hash & mask_;
    for (std::uint32_t d = 0; d <= max_displacement_; ++d, i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.value == kNotFound) {
        return kNotFound;
      }
      if (same_key(slot.key, k)) {
        return slot.value;
      }
    }
    return kNotFound;
  }

  // False when the table holds max_entries() already, when k is present (its value is left
  // alone), when value is kNotFound (it marks empty slots), or when no slot within
  // max_displacement() of k's home is free (full() tells that case from a full table).
  [[nodiscard]] bool insert(const FlowKey& k, std::uint32_t hash, std::uint32_t value) {
    if (full() || value == kNotFound) {
      return false;
    }
    std::uint32_t i = hash & mask_;
    for (std::uint32_t d = 0; slots_[i].value != kNotFound; ++d, i = (i + 1) & mask_) {
      if (d == max_displacement_ || same_key(slots_[i].key, k)) {
        return false;
      }
    }
    slots_[i] = Slot{k, value};
    taken_lines_[i >> 8] |= line_bit(i);
    ++size_;
    return true;
  }

  // False when k is absent.
  bool erase(const FlowKey& k, std::uint32_t hash) {
    std::uint32_t hole = hash & mask_;
    for (std::uint32_t d = 0;; ++d, hole = (hole + 1) & mask_) {
      if (d > max_displacement_ || slots_[hole].value == kNotFound) {
        return false;
      }
      if (same_key(slots_[hole].key, k)) {
        break;
      }
    }
    // Backward-shift deletion (Knuth, TAOCP vol. 3, 6.4, Algorithm R): walk the cluster after
    // the hole; an entry may fill the hole only if its home is not in (hole, j], otherwise a
    // probe from its home would meet the hole first and stop. Past max_displacement() slots from
    // the hole every entry's home lies after the hole, so the walk ends there too.
    for (std::uint32_t j = (hole + 1) & mask_;
         slots_[j].value != kNotFound && ((j - hole) & mask_) <= max_displacement_; j = (j + 1) & mask_) {
      const std::uint32_t home = Hash{}(slots_[j].key) & mask_;
      const std::uint32_t home_to_j = (j - home) & mask_;
      const std::uint32_t hole_to_j = (j - hole) & mask_;
      if (home_to_j >= hole_to_j) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole].value = kNotFound;
    // The hole's line (four slots; fewer in a table that small, read modulo its size) may now be
    // empty: the AND of four values is kNotFound only when all four are.
    const std::uint32_t first = hole & ~3u;
    if ((slots_[first].value & slots_[(first + 1) & mask_].value & slots_[(first + 2) & mask_].value &
         slots_[(first + 3) & mask_].value) == kNotFound) {
      taken_lines_[hole >> 8] &= ~line_bit(hole);
    }
    --size_;
    return true;
  }

  // Replaces the value of an existing key. False when k is absent or value is kNotFound.
  bool update(const FlowKey& k, std::uint32_t hash, std::uint32_t value) {
    if (value == kNotFound) {
      return false;
    }
    std::uint32_t i = hash & mask_;
    for (std::uint32_t d = 0; d <= max_displacement_; ++d, i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.value == kNotFound) {
        return false;
      }
      if (same_key(slot.key, k)) {
        slot.value = value;
        return true;
      }
    }
    return false;
  }

  // Starts loading the home slot's cache line, and the next one when the home slot ends its line
  // (one time in four): a probe past a taken slot, and erase's look at the slot after the one it
  // empties (Algorithm R: in a sparse table that slot is nearly always empty, but it must be
  // read), run on into it. Call a few packets ahead of find().
  void prefetch(std::uint32_t hash) const {
    const std::uint32_t i = hash & mask_;
    prefetch_for_read(&slots_[i]);
    if ((i & 3) == 3) prefetch_for_read(&slots_[(i + 1) & mask_]);
  }

  // values_out[i] = find(keys[i], Hash{}(keys[i])). Hashing and prefetching the whole burst
  // before the first probe overlaps the cache misses instead of paying them one after another.
  // Sized for n <= kMaxBurst; larger n is processed kMaxBurst at a time.
  void find_burst(const FlowKey* keys, std::uint32_t n, std::uint32_t* values_out) const {
    std::array<std::uint32_t, kMaxBurst> hashes;
    while (n > 0) {
      const std::uint32_t chunk = std::min(n, kMaxBurst);
      for (std::uint32_t i = 0; i < chunk; ++i) {
        hashes[i] = Hash{}(keys[i]);
        prefetch(hashes[i]);
      }
      for (std::uint32_t i = 0; i < chunk; ++i) {
        values_out[i] = find(keys[i], hashes[i]);
      }
      keys += chunk;
      values_out += chunk;
      n -= chunk;
    }
  }

  // Same, with the hashes the caller already has.
  void find_burst(const FlowKey* keys, const std::uint32_t* hashes, std::uint32_t n,
                  std::uint32_t* values_out) const {
    for (std::uint32_t i = 0; i < n; ++i) {
      prefetch(hashes[i]);
    }
    for (std::uint32_t i = 0; i < n; ++i) {
      values_out[i] = find(keys[i], hashes[i]);
    }
  }

  // False when no key with this hash is in the table (its home line is empty), known from the
  // bitmap without a load of the slots; true when one may be (find() says).
  [[nodiscard, gnu::always_inline]] bool may_hold(std::uint32_t hash) const { return line_taken(hash & mask_); }

  [[nodiscard]] std::uint32_t size() const { return size_; }
  [[nodiscard]] std::uint32_t max_entries() const { return max_entries_; }
  [[nodiscard]] bool full() const { return size_ == max_entries_; }
  [[nodiscard]] std::uint32_t max_displacement() const { return max_displacement_; }
  [[nodiscard]] std::uint32_t slot_count() const { return mask_ + 1; }

  [[nodiscard]] std::size_t memory_bytes() const {
    return static_cast<std::size_t>(slot_count()) * sizeof(Slot) + line_words_for(slot_count()) * sizeof(std::uint64_t);
  }

 private:
  struct Slot {
    FlowKey key;
    std::uint32_t value;  // kNotFound: empty
  };
  static_assert(sizeof(Slot) == 16, "four slots per 64-byte cache line");
  static constexpr Slot kEmptySlot{FlowKey{}, kNotFound};

  // The slots live in one block of huge pages where the system allows (huge_page_block.hpp).
  static std::uint32_t slot_count_for(std::uint32_t max_entries) {
    if (max_entries > kMaxEntriesLimit) {
      throw std::length_error("FlowTable: max_entries above kMaxEntriesLimit");
    }
    return static_cast<std::uint32_t>(std::bit_ceil(std::max<std::uint64_t>(2ull * max_entries, 1)));
  }

  // The bitmap of taken lines: slot i's line is bit (i / 4) % 64 of word i / 256.
  static std::size_t line_words_for(std::uint32_t slots) { return (std::size_t{slots} + 255) / 256; }
  static std::uint64_t line_bit(std::uint32_t slot) { return std::uint64_t{1} << ((slot >> 2) & 63); }
  [[nodiscard, gnu::always_inline]] bool line_taken(std::uint32_t slot) const {
    return (taken_lines_[slot >> 8] & line_bit(slot)) != 0;
  }

  // Two 64/32-bit compares and no early exit; composed from fields for the store-forwarding
  // reason given at detail::key_ips (a per-field compare with early exits measured slower).
  static bool same_key(const FlowKey& a, const FlowKey& b) {
    return ((detail::key_ips(a) ^ detail::key_ips(b)) | (detail::key_ports(a) ^ detail::key_ports(b))) == 0;
  }

  HugePageBlock<Slot> slots_;  // 64-byte aligned, slot_count() entries
  HugePageBlock<std::uint64_t> taken_lines_;  // line_words_for(slot_count()) words
  std::uint32_t mask_;       // slot_count() - 1
  std::uint32_t size_;
  std::uint32_t max_entries_;
  std::uint32_t max_displacement_;
};

using FlowTable = BasicFlowTable<FlowHash>;

}  // namespace synwave
