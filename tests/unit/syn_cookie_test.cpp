#include "synwave/syn_cookie.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <random>
#include <thread>
#include <vector>

namespace synwave {
namespace {

constexpr SipKey kKeyA{0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL};
constexpr SipKey kKeyB{0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL};
constexpr SipKey kKeyC{0x452821e638d01377ULL, 0xbe5466cf34e90c6cULL};

// 198.18.0.1:80 (us) <- 198.18.0.2:40000 (the benchmarking range the system tests use).
constexpr FlowKey kTuple{0xc6120001, 0xc6120002, 80, 40000};
constexpr std::uint32_t kClientIsn = 0x12345678;
constexpr TimeNs kPeriod = 64 * kSecond;
constexpr TimeNs kPeriodStart = 1000 * kPeriod;  // counter 1000: its low 2 bits are 0

// The final ACK of the handshake: seq = client ISN + 1, ack = cookie + 1 (RFC 9293 §3.5).
CookieCheck final_ack(const SynCookieCodec& codec, const CookieSecrets& secrets, std::uint32_t cookie,
                      TimeNs now, const FlowKey& tuple = kTuple, std::uint32_t client_isn = kClientIsn) {
  return codec.validate(secrets.keys(), cookie + 1, client_isn + 1, tuple, now);
}

std::uint32_t make_cookie(const SynCookieCodec& codec, const CookieSecrets& secrets, std::uint8_t mss_index,
                          TimeNs now) {
  return codec.encode(secrets.current(), CookieInput{kTuple, kClientIsn}, mss_index, now);
}

// ---------------------------------------------------------------------------------------------
// MSS table

TEST(CookieMssIndex, PeerMss_RoundsDownToTheTable) {
  struct Case {
    std::uint16_t peer_mss;
    std::uint8_t index;
  };
  const Case cases[] = {
      {0, 0},    {64, 0},   {535, 0},  {536, 0},  {537, 0},  {1023, 0}, {1024, 1}, {1239, 1},
      {1240, 2}, {1299, 2}, {1300, 3}, {1359, 3}, {1360, 4}, {1380, 4}, {1419, 4}, {1420, 5},
      {1439, 5}, {1440, 6}, {1452, 6}, {1459, 6}, {1460, 7}, {1461, 7}, {8960, 7}, {65535, 7},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(cookie_mss_index(c.peer_mss), c.index) << "peer MSS " << c.peer_mss;
  }
}

TEST(CookieMssIndex, EveryEntry_MapsToItself) {
  for (std::uint8_t i = 0; i < kCookieMssTable.size(); ++i) {
    EXPECT_EQ(cookie_mss_index(kCookieMssTable[i]), i);
    EXPECT_EQ(cookie_mss(i), kCookieMssTable[i]);
  }
}

TEST(CookieMssIndex, NeverRoundsUp) {
  for (std::uint32_t mss = kCookieMssTable[0]; mss <= 0xffff; ++mss) {
    ASSERT_LE(cookie_mss(cookie_mss_index(static_cast<std::uint16_t>(mss))), mss);
  }
}

// ---------------------------------------------------------------------------------------------
// Secrets

TEST(CookieSecrets, BeforeAnyRotation_CurrentAndPreviousAreTheInitialKey) {
  const CookieSecrets secrets(kKeyA);
  const CookieKeys keys = secrets.keys();
  EXPECT_EQ(keys.generation, 0u);
  EXPECT_EQ(keys.current.k0, kKeyA.k0);
  EXPECT_EQ(keys.current.k1, kKeyA.k1);
  EXPECT_EQ(keys.previous.k0, kKeyA.k0);
  EXPECT_EQ(keys.previous.k1, kKeyA.k1);
}

TEST(CookieSecrets, Rotate_CurrentBecomesPrevious) {
  CookieSecrets secrets(kKeyA);
  const SipKey fresh[] = {kKeyB, kKeyC, kKeyA, kKeyB};
  SipKey expected_previous = kKeyA;
  for (std::size_t i = 0; i < std::size(fresh); ++i) {
    secrets.rotate(fresh[i]);
    EXPECT_EQ(secrets.generation(), i + 1);
    EXPECT_EQ(secrets.current().k0, fresh[i].k0);
    EXPECT_EQ(secrets.current().k1, fresh[i].k1);
    EXPECT_EQ(secrets.previous().k0, expected_previous.k0);
    EXPECT_EQ(secrets.previous().k1, expected_previous.k1);
    expected_previous = fresh[i];
  }
}

// Keys with a recognizable pattern: n in the low bits of k0, k1 derived from k0, so a torn
// read (words of two keys) or a key never published is detected.
SipKey patterned_key(std::uint64_t n) {
  const std::uint64_t k0 = 0x5eed000000000000ULL | n;
  return SipKey{k0, ~k0 ^ 0xa5a5a5a5a5a5a5a5ULL};
}
bool is_patterned(const SipKey& key) {
  return (key.k0 >> 48) == 0x5eed && key.k1 == (~key.k0 ^ 0xa5a5a5a5a5a5a5a5ULL);
}
std::uint64_t pattern_number(const SipKey& key) { return key.k0 & 0x0000ffffffffffffULL; }

// One thread rotates as fast as it can; the other reads and checks every snapshot: both keys
// published, consistent with each other and with the generation, generations never going
// back. The reader keeps going until it has seen many rotations land, so the two threads
// really overlap however the scheduler runs them.
TEST(CookieSecrets, ConcurrentRotation_ReaderNeverSeesAnUnpublishedOrMismatchedKey) {
  CookieSecrets secrets(patterned_key(0));
  std::atomic<bool> reader_done{false};
  std::atomic<bool> reader_started{false};

  std::thread writer([&] {
    while (!reader_started.load(std::memory_order_acquire)) std::this_thread::yield();
    for (std::uint64_t n = 1; !reader_done.load(std::memory_order_relaxed); ++n) {
      secrets.rotate(patterned_key(n));
    }
  });

  constexpr std::uint64_t kMinReads = 1'000'000;
  constexpr std::uint64_t kMinGenerationChanges = 2'000;
  std::uint64_t reads = 0;
  std::uint64_t generation_changes = 0;
  std::uint64_t bad = 0;
  std::uint64_t last_generation = 0;
  reader_started.store(true, std::memory_order_release);
  while (reads < kMinReads || generation_changes < kMinGenerationChanges) {
    const CookieKeys keys = secrets.keys();
    ++reads;
    const bool ok = is_patterned(keys.current) && is_patterned(keys.previous) &&
                    pattern_number(keys.current) == keys.generation &&
                    pattern_number(keys.previous) == (keys.generation == 0 ? 0 : keys.generation - 1) &&
                    keys.generation >= last_generation;
    if (!ok) ++bad;
    if (keys.generation != last_generation) ++generation_changes;
    last_generation = keys.generation;
  }
  reader_done.store(true, std::memory_order_relaxed);
  writer.join();

  EXPECT_EQ(bad, 0u) << "in " << reads << " reads across " << generation_changes << " rotations seen";
  EXPECT_GE(secrets.generation(), last_generation);
}

// ---------------------------------------------------------------------------------------------
// The counter

TEST(SynCookieCodec, Counter_EqualsNowDividedByPeriod) {
  const TimeNs periods[] = {1, 3, 7, 1'000'000'007, kSecond, kPeriod, 60 * kSecond, ~TimeNs{0} / 5};
  std::mt19937_64 rng(42);
  for (TimeNs period : periods) {
    const SynCookieCodec codec(period);
    std::vector<TimeNs> nows = {0, 1, period - 1, period, period + 1, 2 * period - 1, 2 * period,
                                ~TimeNs{0}, ~TimeNs{0} - 1, (~TimeNs{0} / period) * period,
                                (~TimeNs{0} / period) * period - 1};
    for (int i = 0; i < 10'000; ++i) nows.push_back(rng());
    for (int i = 0; i < 10'000; ++i) nows.push_back(rng() % (1000 * kPeriod));
    for (TimeNs now : nows) {
      ASSERT_EQ(codec.counter(now), static_cast<std::uint32_t>(now / period))
          << "now " << now << " period " << period;
    }
  }
}

TEST(SynCookieCodec, ZeroPeriod_IsRefused) { EXPECT_THROW(SynCookieCodec(0), std::invalid_argument); }

// ---------------------------------------------------------------------------------------------
// Encoding

TEST(SynCookieCodec, Encode_LaysOutCounterMssAndMac) {
  const SynCookieCodec codec(kPeriod);
  const CookieSecrets secrets(kKeyA);
  for (std::uint32_t count = 1000; count < 1008; ++count) {
    for (std::uint8_t mss_index = 0; mss_index < 8; ++mss_index) {
      const std::uint32_t cookie = make_cookie(codec, secrets, mss_index, count * kPeriod + 5 * kSecond);
      EXPECT_EQ(cookie >> 30, count & 3u);
      EXPECT_EQ((cookie >> 27) & 7u, mss_index);
    }
  }
}

TEST(SynCookieCodec, Encode_SameSynSamePeriod_SameCookie_NextPeriod_AnotherMac) {
  const SynCookieCodec codec(kPeriod);
  const CookieSecrets secrets(kKeyA);
  const std::uint32_t first = make_cookie(codec, secrets, 7, kPeriodStart);
  EXPECT_EQ(make_cookie(codec, secrets, 7, kPeriodStart + kPeriod - 1), first);
  const std::uint32_t next = make_cookie(codec, secrets, 7, kPeriodStart + kPeriod);
  EXPECT_NE(next & SynCookieCodec::kMacMask, first & SynCookieCodec::kMacMask);
}

// ---------------------------------------------------------------------------------------------
// Round trip: every MSS index x every option combination the SYN can carry

TEST(SynCookieCodec, RoundTrip_EveryMssIndexAndOptionCombination) {
  const SynCookieCodec codec(kPeriod);
  const CookieSecrets secrets(kKeyA);
  const TimeNs now = kPeriodStart + 17 * kSecond;
  const std::uint32_t ts_clock = 0x7654321f;
  int combinations = 0;
  for (std::uint8_t mss_index = 0; mss_index < 8; ++mss_index) {
    for (int wscale = -1; wscale <= kMaxWindowScale; ++wscale) {  // -1: no window scale option
      for (bool sack : {false, true}) {
        for (bool timestamps : {false, true}) {
          const CookieOptions offered{cookie_mss(mss_index), wscale >= 0,
                                      static_cast<std::uint8_t>(wscale >= 0 ? wscale : 0), sack};
          const std::uint32_t cookie = make_cookie(codec, secrets, mss_index, now);
          const std::uint32_t tsval = cookie_tsval(ts_clock, offered);

          const CookieCheck check = final_ack(codec, secrets, cookie, now + kSecond);
          ASSERT_TRUE(check.accepted());
          EXPECT_EQ(check.mss_index, mss_index);
          EXPECT_EQ(check.mss(), offered.mss);
          EXPECT_FALSE(check.previous_secret);

          TcpOptions ack;
          ack.has_timestamps = timestamps;
          ack.ts_val = 0x100;
          ack.ts_ecr = tsval;
          const std::optional<CookieOptions> decoded = cookie_options_from_ack(check.mss_index, ack);
          ASSERT_TRUE(decoded.has_value());
          const CookieOptions expected =
              timestamps ? offered : CookieOptions{offered.mss, false, 0, false};
          EXPECT_EQ(*decoded, expected) << "mss " << int(mss_index) << " wscale " << wscale << " sack "
                                        << sack << " timestamps " << timestamps;
          ++combinations;
        }
      }
    }
  }
  EXPECT_EQ(combinations, 8 * 16 * 2 * 2);
}

// ---------------------------------------------------------------------------------------------
// Age

TEST(SynCookieCodec, FinalAck_AcceptedWithinTwoPeriods_StaleAfter) {
  struct Case {
    TimeNs sent;       // SYN-ACK time, relative to a period start
    TimeNs ack_delay;  // final ACK this long after the SYN-ACK
    CookieVerdict verdict;
  };
  constexpr TimeNs P = kPeriod;
  const Case cases[] = {
      {0, 0, CookieVerdict::kAccepted},
      {0, P - 1, CookieVerdict::kAccepted},
      {0, P, CookieVerdict::kAccepted},
      {0, 2 * P - 1, CookieVerdict::kAccepted},  // made at a period start: just under two
      {0, 2 * P, CookieVerdict::kStale},
      {P - 1, 1, CookieVerdict::kAccepted},        // made at a period end: just over one
      {P - 1, P, CookieVerdict::kAccepted},
      {P - 1, P + 1, CookieVerdict::kStale},
      {P / 2, P + P / 2 - 1, CookieVerdict::kAccepted},
      {P / 2, P + P / 2, CookieVerdict::kStale},
      {0, 3 * P - 1, CookieVerdict::kStale},      // age 2 and 3: the MAC still proves it ours
      {0, 3 * P, CookieVerdict::kStale},
      {0, 4 * P - 1, CookieVerdict::kStale},
      {0, 4 * P, CookieVerdict::kBadMac},         // age 4 reads as age 0: the MAC fails
      {0, 10 * P, CookieVerdict::kBadMac},
  };
  const SynCookieCodec codec(kPeriod);
  const CookieSecrets secrets(kKeyA);
  for (const Case& c : cases) {
    for (TimeNs base = kPeriodStart; base < kPeriodStart + 4 * P; base += P) {  // every cnt value
      const std::uint32_t cookie = make_cookie(codec, secrets, 3, base + c.sent);
      const CookieCheck check = final_ack(codec, secrets, cookie, base + c.sent + c.ack_delay);
      EXPECT_EQ(check.verdict, c.verdict) << "sent +" << c.sent << " ack after " << c.ack_delay;
    }
  }
}

TEST(SynCookieCodec, FinalAck_FromBeforeTheSynAck_IsNotAccepted) {
  const SynCookieCodec codec(kPeriod);
  const CookieSecrets secrets(kKeyA);
  const std::uint32_t cookie = make_cookie(codec, secrets, 3, kPeriodStart + kPeriod);
  // Counter one behind reads as age 3 of a counter three periods back: a different MAC.
  EXPECT_EQ(final_ack(codec, secrets, cookie, kPeriodStart).verdict, CookieVerdict::kBadMac);
}

// ---------------------------------------------------------------------------------------------
// Secrets rotating under a cookie

TEST(SynCookieCodec, OneRotation_AcceptedUnderThePreviousSecret) {
  const SynCookieCodec codec(kPeriod);
  CookieSecrets secrets(kKeyA);
  const std::uint32_t cookie = make_cookie(codec, secrets, 5, kPeriodStart);
  secrets.rotate(kKeyB);
  const CookieCheck check = final_ack(codec, secrets, cookie, kPeriodStart + kSecond);
  EXPECT_TRUE(check.accepted());
  EXPECT_TRUE(check.previous_secret);
  EXPECT_EQ(check.mss_index, 5);

  // A cookie made after the rotation uses the new current secret.
  const std::uint32_t fresh = make_cookie(codec, secrets, 5, kPeriodStart + kSecond);
  const CookieCheck fresh_check = final_ack(codec, secrets, fresh, kPeriodStart + 2 * kSecond);
  EXPECT_TRUE(fresh_check.accepted());
  EXPECT_FALSE(fresh_check.previous_secret);
}

TEST(SynCookieCodec, TwoRotations_Rejected) {
  const SynCookieCodec codec(kPeriod);
  CookieSecrets secrets(kKeyA);
  const std::uint32_t cookie = make_cookie(codec, secrets, 5, kPeriodStart);
  secrets.rotate(kKeyB);
  secrets.rotate(kKeyC);
  EXPECT_EQ(final_ack(codec, secrets, cookie, kPeriodStart + kSecond).verdict, CookieVerdict::kBadMac);
}

// ---------------------------------------------------------------------------------------------
// Forgeries

// An off-path attacker spoofs a SYN (so it knows the client ISN and the tuple) and guesses
// the ACK number. Per guess: the 2 counter bits name an acceptable age (0 or 1) with
// probability 1/2, and then the 27-bit MAC must match under one of 2 secrets: 2^-27 overall
// (7.5e-9), so 1M guesses pass 0.0075 times on average. The seed is fixed, so the run is
// deterministic; the bound of 2 would hold for almost any seed (P(>= 3) is about 7e-8), and a
// codec checking 16 or fewer MAC bits would let about 15 or more through and fail.
TEST(SynCookieCodec, RandomForgedAcks_AlmostNeverPass) {
  const SynCookieCodec codec(kPeriod);
  CookieSecrets secrets(kKeyA);
  secrets.rotate(kKeyB);  // distinct current and previous: both are tried
  const CookieKeys keys = secrets.keys();
  const TimeNs now = kPeriodStart + 30 * kSecond;
  std::mt19937 rng(20240601);
  constexpr int kForgeries = 1'000'000;
  int accepted = 0;
  int stale = 0;
  int bad_mac = 0;
  for (int i = 0; i < kForgeries; ++i) {
    const CookieCheck check = codec.validate(keys, static_cast<std::uint32_t>(rng()), kClientIsn + 1, kTuple, now);
    switch (check.verdict) {
      case CookieVerdict::kAccepted: ++accepted; break;
      case CookieVerdict::kStale: ++stale; break;
      case CookieVerdict::kBadMac: ++bad_mac; break;
    }
  }
  EXPECT_LE(accepted, 2);
  EXPECT_LE(stale, 2);  // "stale" needs a MAC match too, so floods count as bad MAC
  EXPECT_EQ(accepted + stale + bad_mac, kForgeries);
}

TEST(SynCookieCodec, WrongClientIsn_Rejected) {
  const SynCookieCodec codec(kPeriod);
  const CookieSecrets secrets(kKeyA);
  const std::uint32_t cookie = make_cookie(codec, secrets, 7, kPeriodStart);
  const std::uint32_t wrong_isns[] = {kClientIsn + 1, kClientIsn - 1, kClientIsn ^ 0x80000000u,
                                      kClientIsn ^ 1u, 0, 0xffffffffu};
  for (std::uint32_t isn : wrong_isns) {
    EXPECT_EQ(final_ack(codec, secrets, cookie, kPeriodStart + kSecond, kTuple, isn).verdict,
              CookieVerdict::kBadMac)
        << "client ISN " << isn;
  }
  EXPECT_TRUE(final_ack(codec, secrets, cookie, kPeriodStart + kSecond).accepted());
}

TEST(SynCookieCodec, AnyTupleFieldChanged_Rejected) {
  struct Case {
    const char* name;
    FlowKey tuple;
  };
  const Case cases[] = {
      {"local ip", {kTuple.local_ip + 1, kTuple.remote_ip, kTuple.local_port, kTuple.remote_port}},
      {"remote ip", {kTuple.local_ip, kTuple.remote_ip ^ 0x100, kTuple.local_port, kTuple.remote_port}},
      {"local port", {kTuple.local_ip, kTuple.remote_ip, 8080, kTuple.remote_port}},
      {"remote port", {kTuple.local_ip, kTuple.remote_ip, kTuple.local_port, kTuple.remote_port + 1}},
      {"swapped ends", {kTuple.remote_ip, kTuple.local_ip, kTuple.remote_port, kTuple.local_port}},
  };
  const SynCookieCodec codec(kPeriod);
  const CookieSecrets secrets(kKeyA);
  const std::uint32_t cookie = make_cookie(codec, secrets, 2, kPeriodStart);
  for (const Case& c : cases) {
    EXPECT_EQ(final_ack(codec, secrets, cookie, kPeriodStart + kSecond, c.tuple).verdict,
              CookieVerdict::kBadMac)
        << c.name;
  }
}

TEST(SynCookieCodec, MssBitsRewritten_Rejected) {
  const SynCookieCodec codec(kPeriod);
  const CookieSecrets secrets(kKeyA);
  const std::uint32_t cookie = make_cookie(codec, secrets, 0, kPeriodStart);
  for (std::uint32_t index = 1; index < 8; ++index) {
    const std::uint32_t bigger = (cookie & ~(7u << 27)) | (index << 27);
    EXPECT_EQ(final_ack(codec, secrets, bigger, kPeriodStart + kSecond).verdict, CookieVerdict::kBadMac)
        << "MSS index " << index;
  }
}

TEST(SynCookieCodec, CounterBitsRewritten_Rejected) {
  const SynCookieCodec codec(kPeriod);
  const CookieSecrets secrets(kKeyA);
  const std::uint32_t cookie = make_cookie(codec, secrets, 4, kPeriodStart + kPeriod);
  for (std::uint32_t cnt = 0; cnt < 4; ++cnt) {
    const std::uint32_t rewritten = (cookie & ~(3u << 30)) | (cnt << 30);
    if (rewritten == cookie) continue;
    EXPECT_EQ(final_ack(codec, secrets, rewritten, kPeriodStart + kPeriod).verdict,
              CookieVerdict::kBadMac)
        << "counter bits " << cnt;
  }
}

// ---------------------------------------------------------------------------------------------
// Options in the timestamp

TEST(CookieTsval, CarriesOptionBits_NeverAheadOfTheClock) {
  const std::uint32_t clocks[] = {0, 1, 5, 63, 64, 65, 0x1000, 0x1000 + 0x3f, 0x7fffffff, 0x80000000u,
                                  0xffffffc0u, 0xffffffffu};
  const CookieOptions variants[] = {
      {1460, false, 0, false}, {1460, true, 0, false}, {1460, true, 14, true}, {1460, false, 0, true},
      {1460, true, 7, false},
  };
  for (std::uint32_t clock : clocks) {
    for (const CookieOptions& options : variants) {
      const std::uint32_t tsval = cookie_tsval(clock, options);
      EXPECT_EQ(tsval & kCookieTsMask, cookie_ts_option_bits(options));
      const std::uint32_t behind = clock - tsval;  // wrap-around distance
      EXPECT_LE(behind, 63u) << "clock " << clock << " tsval " << tsval;
    }
  }
}

TEST(CookieTsval, OptionBits_AsDrawn) {
  EXPECT_EQ(cookie_ts_option_bits({536, false, 0, false}), 0x0fu);
  EXPECT_EQ(cookie_ts_option_bits({536, false, 0, true}), 0x1fu);
  EXPECT_EQ(cookie_ts_option_bits({536, true, 0, false}), 0x00u);
  EXPECT_EQ(cookie_ts_option_bits({536, true, 14, true}), 0x1eu);
  EXPECT_EQ(cookie_ts_option_bits({536, true, 200, false}), 0x0eu);  // clamped like RFC 7323 §2.3
}

TEST(CookieOptionsFromAck, NoTimestamps_NoWindowScaleNoSack) {
  TcpOptions ack;
  ack.has_timestamps = false;
  ack.ts_ecr = 0x1e;  // ignored: not echoed
  const std::optional<CookieOptions> options = cookie_options_from_ack(6, ack);
  ASSERT_TRUE(options.has_value());
  EXPECT_EQ(*options, (CookieOptions{1440, false, 0, false}));
}

TEST(CookieOptionsFromAck, ReservedBitSet_NotOneOfOurs) {
  TcpOptions ack;
  ack.has_timestamps = true;
  ack.ts_ecr = 0x12345600u | kCookieTsReserved | 0x07;
  EXPECT_FALSE(cookie_options_from_ack(7, ack).has_value());
}

// ---------------------------------------------------------------------------------------------
// Debug rebuild (FreeBSD's syncache check): the connection a cookie rebuilds must hold what a
// half-open entry built from the same SYN would hold.

// What the SYN backlog keeps for a half-open connection: the SYN's offers as parsed, with
// RFC 9293 §3.7.1's default MSS when there is no option (the engine's negotiate_options()).
struct HalfOpenEntry {
  std::uint16_t peer_mss;
  bool window_scale;
  std::uint8_t wscale;
  bool sack_permitted;
  bool timestamps;
};

HalfOpenEntry half_open_from(const TcpOptions& syn) {
  return HalfOpenEntry{syn.has_mss ? syn.mss : kDefaultMss, syn.has_window_scale, syn.window_scale,
                       syn.sack_permitted, syn.has_timestamps};
}

TEST(SynCookieCodec, DebugRebuild_CookieConnectionMatchesTheHalfOpenEntry) {
  const SynCookieCodec codec(kPeriod);
  CookieSecrets secrets(kKeyA);
  std::mt19937_64 rng(7);
  int rotated_between = 0;
  const std::uint16_t mss_offers[] = {0 /* no option */, 100, 536, 1000, 1220, 1380, 1452, 1460, 9000};
  const int wscale_offers[] = {-1, 0, 7, 14, 15 /* clamped to 14 by the parser */};
  int checked = 0;
  for (std::uint16_t mss : mss_offers) {
    for (int wscale : wscale_offers) {
      for (bool sack : {false, true}) {
        for (bool timestamps : {false, true}) {
          // The SYN's options as a Linux client packs them, parsed as the engine parses them.
          TcpOptionsOut out;
          out.mss = mss != 0;
          out.mss_value = mss;
          out.window_scale = wscale >= 0;
          out.window_scale_shift = static_cast<std::uint8_t>(wscale >= 0 ? wscale : 0);
          out.sack_permitted = sack;
          out.timestamps = timestamps;
          out.ts_val = static_cast<std::uint32_t>(rng());
          std::array<std::uint8_t, 40> bytes{};
          const std::size_t len = write_tcp_options(bytes.data(), out);
          TcpOptions syn;
          parse_tcp_options(bytes.data(), len, syn);
          const HalfOpenEntry entry = half_open_from(syn);

          // SYN -> cookie SYN-ACK.
          const std::uint32_t client_isn = static_cast<std::uint32_t>(rng());
          const TimeNs syn_time = kPeriodStart + (rng() % kPeriod);
          const CookieOptions remembered = cookie_options_from_syn(syn);
          const std::uint8_t mss_index = cookie_mss_index(remembered.mss);
          const std::uint32_t cookie =
              codec.encode(secrets.current(), CookieInput{kTuple, client_isn}, mss_index, syn_time);
          const std::uint32_t tsval = cookie_tsval(static_cast<std::uint32_t>(rng()), remembered);

          // Final ACK -> rebuilt options; half the time a rotation lands in between.
          if ((rng() & 1) != 0) {
            secrets.rotate(SipKey{rng(), rng()});
            ++rotated_between;
          }
          const TimeNs ack_time = syn_time + 150 * kMillisecond;
          const CookieKeys keys = secrets.keys();
          const CookieCheck check = codec.validate(keys, cookie + 1, client_isn + 1, kTuple, ack_time);
          ASSERT_TRUE(check.accepted());
          TcpOptions ack;
          ack.has_timestamps = syn.has_timestamps;  // RFC 7323 §3.2: only if the SYN had them
          ack.ts_ecr = tsval;
          const std::optional<CookieOptions> rebuilt = cookie_options_from_ack(check.mss_index, ack);
          ASSERT_TRUE(rebuilt.has_value());

          // The debug check itself: rebuilding the cookie from the decoded state gives the ISN
          // the ACK acknowledged (same counter: the ACK came in the SYN's period or the next).
          if (codec.counter(ack_time) == codec.counter(syn_time)) {
            EXPECT_EQ(codec.encode(check.previous_secret ? keys.previous : keys.current,
                                   CookieInput{kTuple, client_isn}, check.mss_index, ack_time),
                      cookie);
          }

          // Same MSS after table rounding; same scale and SACK when timestamps carried them.
          EXPECT_EQ(rebuilt->mss, kCookieMssTable[cookie_mss_index(entry.peer_mss)]);
          if (entry.timestamps) {
            EXPECT_EQ(rebuilt->window_scale, entry.window_scale);
            EXPECT_EQ(rebuilt->wscale, entry.window_scale ? entry.wscale : 0);
            EXPECT_EQ(rebuilt->sack_permitted, entry.sack_permitted);
          } else {
            EXPECT_FALSE(rebuilt->window_scale);
            EXPECT_FALSE(rebuilt->sack_permitted);
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 9 * 5 * 2 * 2);
  EXPECT_GT(rotated_between, 0);
}

}  // namespace
}  // namespace synwave
