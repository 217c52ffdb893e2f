#pragma once
// SYN cookies (RFC 4987 §3.6): under a SYN flood a listener answers a SYN without keeping any
// state, and the SYN-ACK's sequence number (plus, when the SYN carried timestamps, our TSval)
// holds everything needed to rebuild the connection when the final ACK comes back. The client
// returns our ISN + 1 in that ACK, so a MAC inside the ISN proves the ACK answers a SYN-ACK we
// sent, to this 4-tuple, recently.
//
// Three parts, all header-only so the hash inlines into the listener path:
//   CookieSecrets   the two SipHash keys (current, previous), rotated by the main lcore and
//                   read lock-free by every worker lcore;
//   SynCookieCodec  our ISN for the SYN-ACK, and the check of the final ACK;
//   cookie_tsval()  window scale and SACK-permitted carried in the low bits of our TSval.
//
// What a cookie connection loses, as with Linux: no SYN-ACK retransmission (there is no
// state to retransmit from), an MSS rounded down to one of 8 values, and, when the SYN had no
// timestamps, window scaling and SACK (there are no bits left to remember them in).
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>

#include "synwave/flow_table.hpp"
#include "synwave/siphash.hpp"
#include "synwave/time.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave {

// ---------------------------------------------------------------------------------------------
// MSS table
// ---------------------------------------------------------------------------------------------

// The 8 MSS values a cookie can carry (3 bits). A peer's MSS is rounded DOWN to an entry, so
// the entries sit where peers actually are, each an IPv4 path MTU minus 40 bytes of headers:
//    536  RFC 9293 §3.7.1's default, what a peer that sends no MSS option gets; values below
//         it are under 0.2% of SYNs (Alcock & Nelson 2011, the data behind Linux's msstab).
//   1024  a floor for the rare 537..1239 band, so a peer there loses at most ~17% of its
//         segment size instead of up to 57% by falling to 536.
//   1240  MTU 1280, IPv6's minimum link MTU, which tunnels carried over IPv6 often assume.
//   1300  Linux's entry: MSS clamping by VPN concentrators and mobile carriers; 1300..1349 is
//         15-20% of observed SYNs.
//   1360  MTU 1400, a common IPsec/VPN clamp (WireGuard's 1380 rounds here, -1.4%).
//   1420  MTU 1460: IPv4-in-IPv6 (DS-Lite), 1500 minus the 40-byte outer header.
//   1440  MTU 1480: IPIP/GRE-style tunnels over 1500; also PPPoE's 1452 rounds here (-0.8%).
//   1460  MTU 1500, plain Ethernet, the single most common MSS (30-46% of SYNs).
// Anything above 1460 (jumbo frames) is rare on the paths cookies protect and becomes 1460.
inline constexpr std::array<std::uint16_t, 8> kCookieMssTable = {536,  1024, 1240, 1300,
                                                                 1360, 1420, 1440, 1460};

namespace syn_cookie_detail {
[[nodiscard]] constexpr bool ascending(const std::array<std::uint16_t, 8>& table) {
  for (std::size_t i = 1; i < table.size(); ++i) {
    if (table[i - 1] >= table[i]) return false;
  }
  return true;
}
}  // namespace syn_cookie_detail
static_assert(syn_cookie_detail::ascending(kCookieMssTable), "cookie_mss_index() needs a sorted table");
static_assert(kCookieMssTable[0] == kDefaultMss, "a SYN without an MSS option must round-trip exactly");

// The same for IPv6 SYNs, whose header is 20 bytes longer and whose links are at least 1280:
//   1220  MTU 1280, IPv6's minimum (RFC 8200 §5), and the MSS of a SYN without the option.
//   1340  MTU 1400, the IPsec/VPN clamp.
//   1360  MTU 1420, WireGuard's default.
//   1380  MTU 1440: 1500 less an outer IPv6 header and a little.
//   1420  MTU 1480: 6in4 tunnels (IPv6 over IPv4, RFC 4213).
//   1432  MTU 1492: PPPoE, common on IPv6 access lines.
//   1440  MTU 1500, plain Ethernet.
//   8940  MTU 9000, jumbo frames (data centres, where IPv6 testing often runs).
inline constexpr std::array<std::uint16_t, 8> kCookieMssTable6 = {1220, 1340, 1360, 1380,
                                                                  1420, 1432, 1440, 8940};
static_assert(syn_cookie_detail::ascending(kCookieMssTable6), "cookie_mss_index() needs a sorted table");
static_assert(kCookieMssTable6[0] == kDefaultMss6, "a SYN without an MSS option must round-trip exactly");

[[nodiscard]] constexpr const std::array<std::uint16_t, 8>& cookie_mss_table(bool ipv6) noexcept {
  return ipv6 ? kCookieMssTable6 : kCookieMssTable;
}

// Index of the largest entry <= peer_mss; 0 when peer_mss is below every entry (rounding UP
// would send segments larger than the peer accepts). Branch-free: counts the entries above
// the first that peer_mss reaches.
[[nodiscard]] constexpr std::uint8_t cookie_mss_index(std::uint16_t peer_mss, bool ipv6 = false) noexcept {
  const auto& table = cookie_mss_table(ipv6);
  std::uint8_t index = 0;
  for (std::size_t i = 1; i < table.size(); ++i) {
    index = static_cast<std::uint8_t>(index + (peer_mss >= table[i] ? 1 : 0));
  }
  return index;
}

[[nodiscard]] constexpr std::uint16_t cookie_mss(std::uint8_t mss_index, bool ipv6 = false) noexcept {
  return cookie_mss_table(ipv6)[mss_index & 7u];
}

// ---------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------

// One consistent view of the secrets: both keys belong to the same generation.
struct CookieKeys {
  std::uint64_t generation;
  SipKey current;   // cookies are made with this one
  SipKey previous;  // and still accepted under this one for one more rotation
};

// The SYN-cookie secrets, the only mutable state the lcores share (DESIGN "The path of a
// packet"): the main lcore calls rotate() every cookie_rotation seconds, workers call keys()
// on their listener path. No locks, no read-modify-write on the reader side.
//
// Three slots in a ring indexed by generation g: current = slot[g % 3], previous =
// slot[(g - 1) % 3]. rotate() writes slot[(g + 1) % 3], the one that is neither, then
// publishes g + 1 with a release store. A reader that loaded g reads slots g % 3 and
// (g + 2) % 3; the first rotation to write either of them is the one to g + 2.
//
// Why a reader never returns a torn or never-published key:
//  1. Each rotation starts with a release fence, after (in program order) the store that
//     published the generation before it.
//  2. The reader loads g (acquire), loads the four key words (relaxed atomics: no data race,
//     and plain moves on x86), issues an acquire fence, and loads the generation again.
//  3. If any word came from rotation g + 2 or later, the reader's acquire fence synchronizes
//     with that rotation's release fence ([atomics.fences]), so the store of g + 1 happens
//     before the second load, which then sees at least g + 1: the reader retries.
//  4. If the second load sees g, every word came from a rotation <= g + 1. Rotation g + 1
//     writes the third slot, which the reader did not touch, and the acquire load of g made
//     the writes published by g visible: the words are exactly the keys published for g.
// Two slots would not do: the rotation to g + 1 would overwrite `previous` while a reader of g
// holds it, and step 3 could not catch it without a second "writing" counter (a seqlock).
// A reader retries only when a rotation completes inside its few-nanosecond read, i.e. at
// most about once per rotation period: in practice wait-free.
//
// The generation is 64 bits so g % 3 never jumps at a wrap (2^32 is not a multiple of 3).
class alignas(64) CookieSecrets {
 public:
  // initial serves as both current and previous until the first rotation, so no cookie is
  // ever checked against a key that was not drawn at random.
  explicit CookieSecrets(const SipKey& initial) noexcept {
    store(slots_[0], initial);
    store(slots_[1], initial);
    store(slots_[2], initial);
    generation_.store(0, std::memory_order_release);
  }

  CookieSecrets(const CookieSecrets&) = delete;
  CookieSecrets& operator=(const CookieSecrets&) = delete;

  // Main lcore only (one writer). fresh must come from a strong random source: whoever knows
  // a secret can forge cookies for as long as it is current or previous.
  void rotate(const SipKey& fresh) noexcept {
    const std::uint64_t next = generation_.load(std::memory_order_relaxed) + 1;
    std::atomic_thread_fence(std::memory_order_release);  // step 1 of the argument above
    store(slots_[next % 3], fresh);
    generation_.store(next, std::memory_order_release);
  }

  [[nodiscard]] std::uint64_t generation() const noexcept {
    return generation_.load(std::memory_order_acquire);
  }

  [[nodiscard]] CookieKeys keys() const noexcept {
    for (;;) {
      const std::uint64_t g = generation_.load(std::memory_order_acquire);
      const CookieKeys keys{g, load(slots_[g % 3]), load(slots_[(g + 2) % 3])};
      std::atomic_thread_fence(std::memory_order_acquire);
      if (generation_.load(std::memory_order_relaxed) == g) return keys;
    }
  }

  [[nodiscard]] SipKey current() const noexcept { return keys().current; }
  [[nodiscard]] SipKey previous() const noexcept { return keys().previous; }

 private:
  struct Slot {
    std::atomic<std::uint64_t> k0{0};
    std::atomic<std::uint64_t> k1{0};
  };

  static void store(Slot& slot, const SipKey& key) noexcept {
    slot.k0.store(key.k0, std::memory_order_relaxed);
    slot.k1.store(key.k1, std::memory_order_relaxed);
  }
  [[nodiscard]] static SipKey load(const Slot& slot) noexcept {
    return SipKey{slot.k0.load(std::memory_order_relaxed), slot.k1.load(std::memory_order_relaxed)};
  }

  std::array<Slot, 3> slots_;
  std::atomic<std::uint64_t> generation_{0};
};

// ---------------------------------------------------------------------------------------------
// The cookie: our ISN
// ---------------------------------------------------------------------------------------------

struct CookieInput {  // host order
  FlowKey tuple;            // local/remote address and port
  std::uint32_t client_isn; // the SYN's sequence number
};

// What the SYN offered that the connection must remember.
struct CookieOptions {
  std::uint16_t mss = kDefaultMss;  // the peer's MSS rounded down to kCookieMssTable
  bool window_scale = false;
  std::uint8_t wscale = 0;          // the peer's shift (0..14) when window_scale
  bool sack_permitted = false;
  friend bool operator==(const CookieOptions&, const CookieOptions&) = default;
};

// What the engine remembers from a SYN when it answers with a cookie: exactly what it offered,
// before our configuration is applied (the engine applies it on the ACK, as for any SYN).
[[nodiscard]] constexpr CookieOptions cookie_options_from_syn(const TcpOptions& syn, bool ipv6 = false) noexcept {
  CookieOptions options;
  options.mss = cookie_mss(cookie_mss_index(syn.has_mss ? syn.mss : (ipv6 ? kDefaultMss6 : kDefaultMss), ipv6), ipv6);
  options.window_scale = syn.has_window_scale;
  options.wscale = syn.has_window_scale ? syn.window_scale : 0;  // parse_tcp clamps to 14
  options.sack_permitted = syn.sack_permitted;
  return options;
}

enum class CookieVerdict : std::uint8_t {
  kAccepted,
  kBadMac,  // not a cookie we made for this tuple and client ISN under either secret (forged,
            // mangled, 4 or more counter periods old, or made under a secret rotated out twice)
  kStale,   // provably ours, but 2 or 3 counter periods old
};

struct CookieCheck {
  CookieVerdict verdict;
  std::uint8_t mss_index;     // meaningful when accepted
  bool previous_secret;       // accepted (or proven stale) under the previous secret
  [[nodiscard]] bool accepted() const noexcept { return verdict == CookieVerdict::kAccepted; }
  [[nodiscard]] std::uint16_t mss() const noexcept { return cookie_mss(mss_index); }
};

// Our ISN for the SYN-ACK, MSB first:
//
//    31 30 29    27 26                                                  0
//   +-----+--------+-----------------------------------------------------+
//   | cnt |  mss   |          MAC: low 27 bits of SipHash-2-4             |
//   +-----+--------+-----------------------------------------------------+
//   cnt  counter mod 4, counter = now / period: tells the checker which counter to hash
//   mss  index into kCookieMssTable
//   MAC  SipHash-2-4 under the current secret over 24 bytes (3 little-endian words):
//          w0 = local_ip << 32 | remote_ip
//          w1 = local_port << 48 | remote_port << 32 | client_isn
//          w2 = domain tag << 40 | mss index << 32 | full 32-bit counter
//        The MAC covers the MSS index and the full counter, so flipping the visible bits
//        breaks it; the client ISN ties the cookie to one SYN (RFC 4987 §3.6).
//
// On the final ACK: cookie = ack - 1, client ISN = seq - 1. The checker rebuilds the full
// counter from cnt as the latest value <= now's counter with those 2 low bits; age 0 or 1 is
// accepted if the MAC matches under the current or the previous secret. A cookie therefore
// lives between one and two periods (made at the end of a period: just over one; at its start:
// just under two), and, independently, until the second secret rotation after it was made:
// keep cookie_rotation >= period so the secrets never cut the counter window short.
//
// A random forged ACK passes with probability 2/4 (cnt names an acceptable age) x 2 secrets x
// 2^-27 = 2^-27, about one in 134 million.
//
// Cookie ISNs do not grow with time the way RFC 6528 ISNs do, so old duplicates of a previous
// incarnation are not kept out by sequence space; Linux accepts the same trade: it matters
// only for connections opened while cookies are in use.
class SynCookieCodec {
 public:
  static constexpr TimeNs kDefaultPeriod = 64 * kSecond;
  static constexpr unsigned kMacBits = 27;
  static constexpr std::uint32_t kMacMask = (1u << kMacBits) - 1;
  static constexpr unsigned kMssShift = 27;
  static constexpr unsigned kCounterShift = 30;

  // Throws std::invalid_argument on a zero period (construction only, never on the hot path).
  explicit SynCookieCodec(TimeNs period = kDefaultPeriod)
      : period_(period), reciprocal_(period == 0 ? 0 : ~std::uint64_t{0} / period) {
    if (period == 0) throw std::invalid_argument("SynCookieCodec: period must be > 0");
  }

  [[nodiscard]] TimeNs period() const noexcept { return period_; }

  // now / period, truncated to 32 bits (the MAC covers it; 2^32 periods never wrap in use).
  // Division by multiplication: a 64-bit divide costs 35-90 cycles on Intel cores before Ice
  // Lake, more than the rest of encode(). q is at most 2 below the quotient (m = floor((2^64-1)
  // / d) > 2^64/d - 2, so n*m/2^64 > n/d - 2), and the loop corrects it exactly.
  [[nodiscard]] std::uint32_t counter(TimeNs now) const noexcept {
    __extension__ using Wide = unsigned __int128;
    std::uint64_t q = static_cast<std::uint64_t>((static_cast<Wide>(now) * reciprocal_) >> 64);
    std::uint64_t r = now - q * period_;
    while (r >= period_) {
      ++q;
      r -= period_;
    }
    return static_cast<std::uint32_t>(q);
  }

  // Our ISN for the SYN-ACK answering `syn`. secret: CookieSecrets::current().
  [[nodiscard]] std::uint32_t encode(const SipKey& secret, const CookieInput& syn,
                                     std::uint8_t mss_index, TimeNs now) const noexcept {
    const std::uint32_t count = counter(now);
    const TupleWords w = tuple_words(syn.tuple, syn.client_isn);
    return cookie(count, mss_index, siphash24_words(secret, w.addresses, w.ports_isn, mac_context(mss_index, count)));
  }

  // encode() in steps, so that the MACs of a burst's cookies are computed side by side
  // (siphash24_words_batch): the three words the MAC hashes (the SYN's two, then the context of
  // its MSS index and the clock's counter), then the cookie from their hash.
  struct TupleWords {
    std::uint64_t addresses;
    std::uint64_t ports_isn;
  };
  [[nodiscard]] static TupleWords tuple_words(const FlowKey& tuple, std::uint32_t client_isn) noexcept {
    return TupleWords{(std::uint64_t{tuple.local_ip} << 32) | tuple.remote_ip,
                      (std::uint64_t{tuple.local_port} << 48) | (std::uint64_t{tuple.remote_port} << 32) |
                          client_isn};
  }
  [[nodiscard]] static std::uint64_t mac_context(std::uint8_t mss_index, std::uint32_t count) noexcept {
    return (kDomainTag << 40) | (std::uint64_t{mss_index & 7u} << 32) | count;
  }
  [[nodiscard]] static std::uint32_t cookie(std::uint32_t count, std::uint8_t mss_index,
                                            std::uint64_t mac_hash) noexcept {
    return (count << kCounterShift) | (std::uint32_t{mss_index & 7u} << kMssShift) |
           (static_cast<std::uint32_t>(mac_hash) & kMacMask);
  }

  // The final ACK of a handshake we answered with a cookie: ack_seq and seq are the ACK's
  // acknowledgment and sequence numbers, tuple its 4-tuple seen from us. keys:
  // CookieSecrets::keys(). Costs one SipHash when the current secret made the cookie, two
  // otherwise (after a rotation, and for every forgery).
  [[nodiscard]] CookieCheck validate(const CookieKeys& keys, std::uint32_t ack_seq,
                                     std::uint32_t seq, const FlowKey& tuple,
                                     TimeNs now) const noexcept {
    const std::uint32_t cookie = ack_seq - 1;
    const std::uint32_t client_isn = seq - 1;
    const std::uint32_t now_count = counter(now);
    const std::uint32_t age = (now_count - (cookie >> kCounterShift)) & 3u;
    const std::uint32_t count = now_count - age;
    const auto mss_index = static_cast<std::uint8_t>((cookie >> kMssShift) & 7u);
    const std::uint32_t presented = cookie & kMacMask;

    CookieCheck check{CookieVerdict::kBadMac, mss_index, false};
    if (mac(keys.current, tuple, client_isn, mss_index, count) != presented) {
      if (mac(keys.previous, tuple, client_isn, mss_index, count) != presented) return check;
      check.previous_secret = true;
    }
    // Only a MAC match earns "stale": anything else a flood sends is counted as bad MAC, so
    // the two counters tell an attack from a slow client.
    check.verdict = age <= 1 ? CookieVerdict::kAccepted : CookieVerdict::kStale;
    return check;
  }

 private:
  // Separates cookie MACs from any other 24-byte SipHash input (the ISN generator hashes 16
  // bytes under its own key; this keeps it so if keys are ever shared).
  static constexpr std::uint64_t kDomainTag = 0x534359;  // "SCY"

  [[nodiscard]] static std::uint32_t mac(const SipKey& secret, const FlowKey& tuple,
                                         std::uint32_t client_isn, std::uint8_t mss_index,
                                         std::uint32_t count) noexcept {
    const TupleWords w = tuple_words(tuple, client_isn);
    const std::uint64_t hash = siphash24_words(secret, w.addresses, w.ports_isn, mac_context(mss_index, count));
    return static_cast<std::uint32_t>(hash) & kMacMask;
  }

  TimeNs period_;
  std::uint64_t reciprocal_;
};

// ---------------------------------------------------------------------------------------------
// Options in the timestamp
// ---------------------------------------------------------------------------------------------

// When the SYN carried timestamps, our SYN-ACK's TSval keeps the options the ISN has no room
// for; the peer echoes it in the final ACK's TSecr (RFC 7323 §3.2, §4.3):
//
//    31                                    6   5   4   3         0
//   +---------------------------------------+---+---+-----------+
//   |  our timestamp clock, low 6 bits cut  | 0 | S |  wscale   |
//   +---------------------------------------+---+---+-----------+
//   wscale  the peer's window-scale shift 0..14; 15 = the SYN had no window scale option
//   S       the SYN carried SACK-permitted
//   bit 5   reserved, 0 (Linux puts ECN there); a TSecr with it set is not one we sent
//
// These bits are not covered by the MAC: only the peer that received our SYN-ACK sees them,
// and they describe that peer's own SYN, so it gains nothing by changing them.
//
// Without timestamps there is nowhere to keep them: a cookie connection then has no window
// scaling and no SACK (RFC 7323 §2.2 lets either side decline scaling), as in Linux.
inline constexpr unsigned kCookieTsBits = 6;
inline constexpr std::uint32_t kCookieTsMask = (1u << kCookieTsBits) - 1;  // 0x3f
inline constexpr std::uint32_t kCookieTsWscaleMask = 0x0f;
inline constexpr std::uint32_t kCookieTsNoWscale = 0x0f;
inline constexpr std::uint32_t kCookieTsSack = 1u << 4;
inline constexpr std::uint32_t kCookieTsReserved = 1u << 5;

[[nodiscard]] constexpr std::uint32_t cookie_ts_option_bits(const CookieOptions& options) noexcept {
  const std::uint32_t wscale = options.window_scale
                                   ? (options.wscale > kMaxWindowScale ? kMaxWindowScale : options.wscale)
                                   : kCookieTsNoWscale;
  return wscale | (options.sack_permitted ? kCookieTsSack : 0u);
}

// Our TSval for a cookie SYN-ACK; ts_clock is the engine's timestamp clock now. The result is
// never ahead of ts_clock (at most 63 ticks behind): the peer stores it as TS.Recent, and a
// later segment stamped from the real clock must not look older to its PAWS check (RFC 7323
// §5.3). Linux's cookie_init_timestamp() does the same.
[[nodiscard]] constexpr std::uint32_t cookie_tsval(std::uint32_t ts_clock,
                                                   const CookieOptions& options) noexcept {
  const std::uint32_t bits = cookie_ts_option_bits(options);
  std::uint32_t tsval = (ts_clock & ~kCookieTsMask) | bits;
  if (static_cast<std::int32_t>(tsval - ts_clock) > 0) tsval -= kCookieTsMask + 1;
  return tsval;
}

// Rebuilds the options from an accepted cookie and the final ACK's options. nullopt: the ACK
// carries timestamps but its TSecr is not a TSval we could have sent (reserved bit set);
// the engine treats it like a bad cookie. When our configuration turns timestamps off, the
// SYN-ACK carried none and the engine must pass has_timestamps = false whatever the ACK says.
[[nodiscard]] constexpr std::optional<CookieOptions> cookie_options_from_ack(
    std::uint8_t mss_index, const TcpOptions& ack, bool ipv6 = false) noexcept {
  CookieOptions options;
  options.mss = cookie_mss(mss_index, ipv6);
  if (!ack.has_timestamps) return options;  // no room for them: no scaling, no SACK
  const std::uint32_t bits = ack.ts_ecr & kCookieTsMask;
  if ((bits & kCookieTsReserved) != 0) return std::nullopt;
  const std::uint32_t wscale = bits & kCookieTsWscaleMask;
  if (wscale != kCookieTsNoWscale) {
    options.window_scale = true;
    options.wscale = static_cast<std::uint8_t>(wscale);
  }
  options.sack_permitted = (bits & kCookieTsSack) != 0;
  return options;
}

}  // namespace synwave
