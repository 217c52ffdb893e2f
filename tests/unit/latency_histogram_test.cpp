// The latency histogram against exact sorted percentiles, and the engine's connect and
// transaction latencies through two engines on a link with a known delay.
#include "synwave/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "support/segments.hpp"
#include "support/tcp_peer.hpp"
#include "support/test_io.hpp"

namespace synwave::test {
namespace {

constexpr double kPercentiles[] = {0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};

// Nearest rank: the smallest value with at least p percent of the sample at or below it. The
// sample sizes used here make p/100 * n an integer for every p above, so no rounding is involved.
std::uint64_t exact_percentile(const std::vector<std::uint64_t>& sorted, double p) {
  const auto rank = static_cast<std::size_t>(std::llround(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

void expect_within_one_percent(const std::vector<std::uint64_t>& values, const char* name) {
  LatencyHistogram h;
  for (std::uint64_t v : values) h.record(v);
  std::vector<std::uint64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (double p : kPercentiles) {
    const double exact = static_cast<double>(exact_percentile(sorted, p));
    const double got = static_cast<double>(h.value_at_percentile(p));
    EXPECT_LE(std::abs(got - exact), 0.01 * exact) << name << " p" << p << ": exact " << exact << " got " << got;
  }
  EXPECT_EQ(h.count(), values.size()) << name;
  EXPECT_EQ(h.min(), sorted.front()) << name;
  EXPECT_EQ(h.max(), sorted.back()) << name;
}

constexpr std::size_t kSamples = 100000;

TEST(LatencyHistogram, UniformMicroseconds_PercentilesWithinOnePercent) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::uint64_t> d(1000, 1000000);
  std::vector<std::uint64_t> v(kSamples);
  for (auto& x : v) x = d(rng);
  expect_within_one_percent(v, "uniform");
}

TEST(LatencyHistogram, UniformOverTheWholeRange_PercentilesWithinOnePercent) {
  std::mt19937_64 rng(2);
  std::uniform_int_distribution<std::uint64_t> d(1, LatencyHistogram::kHighestTrackable);
  std::vector<std::uint64_t> v(kSamples);
  for (auto& x : v) x = d(rng);
  expect_within_one_percent(v, "uniform-wide");
}

TEST(LatencyHistogram, LogUniformAcrossEveryOctave_PercentilesWithinOnePercent) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> e(0.0, 40.0);
  std::vector<std::uint64_t> v(kSamples);
  for (auto& x : v) x = static_cast<std::uint64_t>(std::exp2(e(rng)));
  expect_within_one_percent(v, "log-uniform");
}

TEST(LatencyHistogram, Exponential_PercentilesWithinOnePercent) {
  std::mt19937_64 rng(4);
  std::exponential_distribution<double> d(1.0 / 50000.0);  // mean 50 us
  std::vector<std::uint64_t> v(kSamples);
  for (auto& x : v) x = 1 + static_cast<std::uint64_t>(d(rng));
  expect_within_one_percent(v, "exponential");
}

TEST(LatencyHistogram, Constant_EveryPercentileIsTheValue) {
  for (std::uint64_t value : {0ull, 1ull, 127ull, 128ull, 12345ull, 1000000007ull}) {
    LatencyHistogram h;
    for (int i = 0; i < 1000; ++i) h.record(value);
    for (double p : kPercentiles) EXPECT_EQ(h.value_at_percentile(p), value) << value << " p" << p;
    EXPECT_DOUBLE_EQ(h.mean(), static_cast<double>(value));
  }
}

TEST(LatencyHistogram, Bimodal_PercentilesWithinOnePercentOnBothSides) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> fast(20000, 2000);        // 20 us: the handshake answered at once
  std::normal_distribution<double> slow(1.02e9, 1e6);        // ~1 s: the SYN was retransmitted
  std::bernoulli_distribution is_slow(0.05);
  std::vector<std::uint64_t> v(kSamples);
  for (auto& x : v) x = static_cast<std::uint64_t>(std::max(1.0, is_slow(rng) ? slow(rng) : fast(rng)));
  expect_within_one_percent(v, "bimodal");
}

TEST(LatencyHistogram, ValuesBelow128_AreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 0; v < 128; ++v) EXPECT_EQ(LatencyHistogram::bucket_lowest(LatencyHistogram::bucket_of(v)), v);
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.value_at_percentile(50), 50u);
  EXPECT_EQ(h.value_at_percentile(99), 99u);
}

TEST(LatencyHistogram, Buckets_TileTheRangeWithoutGapsAndWithinTheErrorBound) {
  for (std::size_t i = 0; i + 1 < LatencyHistogram::kBuckets; ++i) {
    ASSERT_EQ(LatencyHistogram::bucket_highest(i) + 1, LatencyHistogram::bucket_lowest(i + 1)) << i;
    // A percentile reports the bucket's midpoint: no value of the bucket is further from it
    // than 1/128 of the bucket's lowest value.
    const std::uint64_t lo = LatencyHistogram::bucket_lowest(i);
    const std::uint64_t hi = LatencyHistogram::bucket_highest(i);
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    if (lo > 0) {
      ASSERT_LE(static_cast<double>(std::max(mid - lo, hi - mid)) / static_cast<double>(lo), 1.0 / 128.0) << i;
    } else {
      ASSERT_EQ(hi, 0u);
    }
    ASSERT_EQ(LatencyHistogram::bucket_of(lo), i);
    ASSERT_EQ(LatencyHistogram::bucket_of(LatencyHistogram::bucket_highest(i)), i);
  }
  EXPECT_EQ(LatencyHistogram::bucket_highest(LatencyHistogram::kBuckets - 1), LatencyHistogram::kHighestTrackable);
}

TEST(LatencyHistogram, MergeEqualsRecordingBoth) {
  std::mt19937_64 rng(6);
  std::exponential_distribution<double> d(1.0 / 80000.0);
  LatencyHistogram a, b, both;
  for (int i = 0; i < 20000; ++i) {
    const auto x = static_cast<std::uint64_t>(d(rng));
    ((i % 3 == 0) ? a : b).record(x);
    both.record(x);
  }
  b.record(LatencyHistogram::kHighestTrackable + 5);
  both.record(LatencyHistogram::kHighestTrackable + 5);
  a.merge(b);
  for (std::size_t i = 0; i < LatencyHistogram::kBuckets; ++i) ASSERT_EQ(a.count_in_bucket(i), both.count_in_bucket(i)) << i;
  EXPECT_EQ(a.count(), both.count());
  EXPECT_EQ(a.min(), both.min());
  EXPECT_EQ(a.max(), both.max());
  EXPECT_EQ(a.clamped(), both.clamped());
  EXPECT_DOUBLE_EQ(a.mean(), both.mean());
  for (double p : kPercentiles) EXPECT_EQ(a.value_at_percentile(p), both.value_at_percentile(p)) << p;
}

TEST(LatencyHistogram, MergeIntoEmpty_CopiesMinAndMax) {
  LatencyHistogram empty, h;
  h.record(500);
  h.record(7000);
  empty.merge(h);
  EXPECT_EQ(empty.min(), 500u);
  EXPECT_EQ(empty.max(), 7000u);
  LatencyHistogram other_empty;
  h.merge(other_empty);
  EXPECT_EQ(h.min(), 500u);
  EXPECT_EQ(h.count(), 2u);
}

TEST(LatencyHistogram, SubtractEarlierCopy_LeavesWhatCameInBetween) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::uint64_t> early(1000, 2000);
  std::uniform_int_distribution<std::uint64_t> late(50000, 90000);
  LatencyHistogram cumulative, between;
  for (int i = 0; i < 5000; ++i) cumulative.record(early(rng));
  const LatencyHistogram before = cumulative;
  std::vector<std::uint64_t> later(10000);
  for (auto& x : later) {
    x = late(rng);
    cumulative.record(x);
    between.record(x);
  }
  LatencyHistogram diff = cumulative;
  diff.subtract(before);
  EXPECT_EQ(diff.count(), between.count());
  EXPECT_DOUBLE_EQ(diff.mean(), between.mean());
  std::sort(later.begin(), later.end());
  for (double p : {1.0, 50.0, 99.0, 99.9}) {
    const double exact = static_cast<double>(exact_percentile(later, p));
    EXPECT_LE(std::abs(static_cast<double>(diff.value_at_percentile(p)) - exact), 0.01 * exact) << p;
  }
  // Bounds of the difference are bucket edges around the true ones.
  EXPECT_LE(diff.min(), between.min());
  EXPECT_GE(static_cast<double>(diff.min()), 0.99 * static_cast<double>(between.min()));
  EXPECT_GE(diff.max(), between.max());
  EXPECT_LE(static_cast<double>(diff.max()), 1.01 * static_cast<double>(between.max()));
  LatencyHistogram nothing = cumulative;
  nothing.subtract(cumulative);
  EXPECT_EQ(nothing.count(), 0u);
  EXPECT_EQ(nothing.value_at_percentile(99), 0u);
}

TEST(LatencyHistogram, ValuesAboveTheRange_ClampToTheTopBucketAndAreCounted) {
  LatencyHistogram h;
  const std::uint64_t huge = LatencyHistogram::kHighestTrackable * 4;
  h.record(1000);
  h.record(huge);
  h.record(~std::uint64_t{0} / 4);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.clamped(), 2u);
  EXPECT_EQ(h.count_in_bucket(LatencyHistogram::kBuckets - 1), 2u);
  EXPECT_EQ(h.max(), ~std::uint64_t{0} / 4);
  EXPECT_EQ(h.value_at_percentile(100), h.max());
  EXPECT_GE(h.value_at_percentile(50), LatencyHistogram::bucket_lowest(LatencyHistogram::kBuckets - 1));
  EXPECT_NEAR(static_cast<double>(h.value_at_percentile(10)), 1000.0, 10.0);
}

TEST(LatencyHistogram, Empty_ReportsZeroes) {
  const LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.clamped(), 0u);
  for (double p : kPercentiles) EXPECT_EQ(h.value_at_percentile(p), 0u);
}

TEST(LatencyHistogram, MaxAndMin_AreExactNotBucketed) {
  LatencyHistogram h;
  h.record(1000003);
  h.record(999999937);
  h.record(5000011);
  EXPECT_EQ(h.min(), 1000003u);
  EXPECT_EQ(h.max(), 999999937u);
  EXPECT_EQ(h.value_at_percentile(100), 999999937u);
  EXPECT_NEAR(static_cast<double>(h.value_at_percentile(1)), 1000003.0, 10000.0);  // bucketed, within 1 %
}

TEST(LatencyHistogram, Reset_EmptiesEverything) {
  LatencyHistogram h;
  h.record(42);
  h.record(LatencyHistogram::kHighestTrackable + 1);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.clamped(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.count_in_bucket(LatencyHistogram::bucket_of(42)), 0u);
  h.record(7);
  EXPECT_EQ(h.min(), 7u);
}

// ---------------------------------------------------------------------------------------------
// The engine's latencies.

const MacAddr kClientMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kServerMac{{0x02, 0, 0, 0, 0, 0x02}};
constexpr std::uint32_t kClientIp = ip4(198, 18, 0, 1);
constexpr std::uint32_t kServerIp = ip4(198, 18, 0, 2);
constexpr TimeNs kOneWay = 50 * kMicrosecond;

EngineConfig pair_config(std::uint32_t ip, const MacAddr& mac, std::uint32_t peer_ip, const MacAddr& peer_mac,
                         WorkloadKind kind) {
  EngineConfig c;
  c.local_ip = ip;
  c.local_mac = mac;
  c.prefix_len = 24;
  c.neighbors.push_back({peer_ip, peer_mac});
  c.max_connections = 1024;
  c.time_wait = kSecond;
  c.workload.kind = kind;
  c.workload.response_bytes = 3000;
  return c;
}

// A client and a server engine on a link that delays every frame by kOneWay: frames sent during
// one step arrive at the next, kOneWay later.
struct DelayedPair {
  explicit DelayedPair(WorkloadKind kind)
      : client(pair_config(kClientIp, kClientMac, kServerIp, kServerMac, kind), cio.io(), kSecond),
        server(
            [&] {
              EngineConfig c = pair_config(kServerIp, kServerMac, kClientIp, kClientMac, kind);
              c.listen_ports = {80};
              return c;
            }(),
            sio.io(), kSecond) {}

  void run_until(TimeNs end) {
    while (now < end) {
      std::deque<Bytes> to_server, to_client;
      to_server.swap(cio.sent());
      to_client.swap(sio.sent());
      now += kOneWay;
      for (const Bytes& b : to_server) sio.deliver(server, b, now);
      for (const Bytes& b : to_client) cio.deliver(client, b, now);
      client.advance(now);
      server.advance(now);
    }
  }

  TestIo cio, sio;
  Engine client;
  Engine server;
  TimeNs now = kSecond;
};

TEST(EngineLatency, HttpOverDelayedLink_ConnectIsOneRoundTripAndTransactionIsOneRoundTrip) {
  DelayedPair pair(WorkloadKind::kHttp);
  for (std::uint16_t i = 0; i < 50; ++i) {
    ASSERT_EQ(pair.client.open(kServerIp, 80, static_cast<std::uint16_t>(20000 + i), pair.now).error, OpenError::kOk);
  }
  pair.client.flush();
  pair.run_until(pair.now + kSecond);
  ASSERT_EQ(pair.client.counters().conn_completed, 50u);
  const LatencyStats& l = pair.client.latency();
  // SYN out, SYN-ACK back: two one-way delays. The request leaves with the handshake's ACK and
  // the whole 3000-byte response comes back in one window: two more.
  EXPECT_EQ(l.connect.count(), 50u);
  EXPECT_EQ(l.connect.min(), 2 * kOneWay);
  EXPECT_EQ(l.connect.max(), 2 * kOneWay);
  EXPECT_EQ(l.connect.value_at_percentile(50), 2 * kOneWay);
  EXPECT_EQ(l.transaction.count(), 50u);
  EXPECT_EQ(l.transaction.value_at_percentile(99), 2 * kOneWay);
  EXPECT_EQ(l.transaction.max(), 2 * kOneWay);
  // The server opens nothing and times nothing.
  EXPECT_EQ(pair.server.latency().connect.count(), 0u);
  EXPECT_EQ(pair.server.latency().transaction.count(), 0u);
}

TEST(EngineLatency, NoWorkload_ConnectOnlyNoTransaction) {
  DelayedPair pair(WorkloadKind::kNone);
  for (std::uint16_t i = 0; i < 10; ++i) {
    ASSERT_EQ(pair.client.open(kServerIp, 80, static_cast<std::uint16_t>(20000 + i), pair.now).error, OpenError::kOk);
  }
  pair.client.flush();
  pair.run_until(pair.now + kSecond);
  ASSERT_EQ(pair.client.counters().conn_completed, 10u);
  EXPECT_EQ(pair.client.latency().connect.count(), 10u);
  EXPECT_EQ(pair.client.latency().connect.value_at_percentile(50), 2 * kOneWay);
  EXPECT_EQ(pair.client.latency().transaction.count(), 0u);
}

TEST(EngineLatency, RawWorkload_TransactionRecorded) {
  DelayedPair pair(WorkloadKind::kRaw);
  ASSERT_EQ(pair.client.open(kServerIp, 80, 20000, pair.now).error, OpenError::kOk);
  pair.client.flush();
  pair.run_until(pair.now + kSecond);
  ASSERT_EQ(pair.client.counters().conn_completed, 1u);
  EXPECT_EQ(pair.client.latency().transaction.count(), 1u);
  EXPECT_EQ(pair.client.latency().transaction.max(), 2 * kOneWay);
}

TEST(EngineLatency, RetransmittedSyn_ConnectLatencyCountsFromTheFirstSyn) {
  TcpPeer p;
  p.MakeSynSent();
  const TimeNs opened = p.now();
  p.Advance(p.engine().config().rto_initial + 10 * kMillisecond);
  p.ExpectEmit(kSyn, kAny, kAny);  // the retransmission
  p.Advance(100 * kMillisecond);
  p.Send({.flags = kSynAck, .seq = p.R(0), .ack = p.L(1)});
  p.snd_nxt = p.R(1);
  p.ExpectEmit(kAck, p.L(1), p.R(1));
  ASSERT_EQ(p.State(), TcpState::kEstablished);
  const LatencyHistogram& connect = p.engine().latency().connect;
  ASSERT_EQ(connect.count(), 1u);
  const TimeNs expected = (p.now() / kMicrosecond - opened / kMicrosecond) * kMicrosecond;  // 1 us clock
  EXPECT_GT(expected, p.engine().config().rto_initial);
  EXPECT_EQ(connect.max(), expected);
  EXPECT_EQ(connect.value_at_percentile(50), expected);
  EXPECT_EQ(p.engine().latency().transaction.count(), 0u);  // kManual: no transaction
}

TEST(EngineLatency, SimultaneousOpen_ConnectLatencyRecordedOnEstablished) {
  TcpPeer p;
  p.MakeSimultaneousSynReceived();
  p.Advance(3 * kMillisecond);
  p.SendAck();
  ASSERT_EQ(p.State(), TcpState::kEstablished);
  EXPECT_EQ(p.engine().latency().connect.count(), 1u);
  EXPECT_EQ(p.engine().latency().connect.max(), 3 * kMillisecond);
}

TEST(EngineLatency, PassiveOpen_RecordsNothing) {
  TcpPeer p;
  p.MakeEstablished(Side::kPassive);
  EXPECT_EQ(p.engine().latency().connect.count(), 0u);
}

}  // namespace
}  // namespace synwave::test
