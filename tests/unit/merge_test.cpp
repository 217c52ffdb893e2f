// `synwave merge`: two small reports built here (the fields report.cpp writes that merging reads)
// merged, checked for sums, an exact histogram merge, wall-clock alignment and cps over the
// common period; then each way an input can be refused.
#include "merge.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "histogram_json.hpp"
#include "synwave/latency_histogram.hpp"

namespace synwave::app {
namespace {

using nlohmann::json;

// The report JSON as a file would give it back: through text, so min and max are the doubles a
// reader parses, not the ones the writer held.
json round_trip(const json& j) { return json::parse(j.dump(2)); }

struct RunShape {
  double started_at = 1000;
  double startup_s = 0;
  double duration_s = 4;
  double completed_per_s = 100;  // every timeline sample
  std::int64_t established = 10;
  int samples = 4;               // at t_s = 1, 2, ... (a 1 s --stats-interval)
  std::uint64_t completed_after_timeline = 0;  // between the last sample and the stop
};

json make_report(const RunShape& shape, const LatencyHistogram& connect, const LatencyHistogram& transaction,
                 const std::string& mode = "client") {
  json timeline = json::array();
  for (int i = 1; i <= shape.samples; ++i) {
    // End times a little late, as a control plane that ticks every millisecond stamps them.
    timeline.push_back({{"t_s", i + 0.0009},
                        {"opened_per_s", shape.completed_per_s + 1},
                        {"completed_per_s", shape.completed_per_s},
                        {"failed_per_s", 0.0},
                        {"http_requests_per_s", shape.completed_per_s},
                        {"client_established", shape.established},
                        {"client_busy_pct", 50.0},
                        {"connect_p99_us", 10.0 * shape.established}});
  }
  const auto completed = static_cast<std::uint64_t>(shape.completed_per_s * shape.samples) + shape.completed_after_timeline;
  const double active_s = shape.duration_s - shape.startup_s;
  json r = {
      {"mode", mode},
      {"started_at_unix_s", shape.started_at},
      {"startup_s", shape.startup_s},
      {"duration_s", shape.duration_s},
      {"active_s", active_s},
      {"connections_completed", completed},
      {"connections_failed", 2},
      {"cps", static_cast<double>(completed) / active_s},
      {"http_requests_per_s", static_cast<double>(completed) / active_s},
      {"counters", {{"conn_completed", completed}, {"conn_opened", completed + 5}, {"retransmits", 3}}},
      {"failures", {{"reset", 1}, {"timeout", 1}, {"tuple_exhaustion", 0}}},
      {"data_plane", {{"rx_packets", 1000}, {"longest_pass_us", shape.established * 100}}},
      {"generator", {{"opened", completed + 5}, {"tuple_space", 32256}}},
      {"roles",
       {{"client",
         {{"counters", {{"conn_completed", completed}}},
          {"gauges", {{"connections", shape.established}, {"ESTABLISHED", shape.established}}},
          {"busy_pct", 50.0},
          {"busy_s", 1.0},
          {"ns_per_connection", 1e9 / static_cast<double>(completed)}}}}},
      {"throughput", {{"client", {{"rx_bytes", 5000}, {"tx_bytes", 700}, {"rx_gbit_per_s", 0.5}}}}},
      {"payload_gbit_per_s", 0.25},
      {"latency", {{"connect", histogram_json(connect)}, {"transaction", histogram_json(transaction)}}},
      {"lcores", json::array({{{"lcore", 1}, {"busy_pct", 50.0}}})},
      {"ports", json::array({{{"id", 0}, {"driver", "net_memif"}}})},
      {"dispatch", "single-queue"},
      {"memory", {{"engine_bytes", 1000}, {"connection_records", 10}, {"bytes_per_record", 100}}},
      {"config", {{"mode", mode}, {"rate", 100}, {"stats_interval_s", 1.0}, {"shard", ""}, {"run_id", "r1"}, {"report", "x.json"}}},
      {"timeline", timeline},
      {"hints", json::array({"shared hint"})},
  };
  return round_trip(r);
}

// Two latency streams, recorded apart (one per instance) and together (what merging must equal).
struct Streams {
  LatencyHistogram connect_a, connect_b, connect_both;
  LatencyHistogram transaction_a, transaction_b, transaction_both;
};

Streams make_streams() {
  Streams s;
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> fast(9.0, 0.5);   // ~8 us
  std::lognormal_distribution<double> slow(12.0, 1.0);  // ~160 us, a long tail
  for (int i = 0; i < 20000; ++i) {
    const auto a = static_cast<std::uint64_t>(fast(rng));
    const auto b = static_cast<std::uint64_t>(slow(rng));
    s.connect_a.record(a);
    s.connect_b.record(b);
    s.connect_both.record(a);
    s.connect_both.record(b);
    s.transaction_a.record(a * 3);
    s.transaction_b.record(b / 2);
    s.transaction_both.record(a * 3);
    s.transaction_both.record(b / 2);
  }
  // One value beyond the trackable range, in one instance: clamped in the top bucket, max exact.
  constexpr std::uint64_t kBeyond = LatencyHistogram::kHighestTrackable + 12345;
  s.connect_b.record(kBeyond);
  s.connect_both.record(kBeyond);
  return s;
}

struct Merged {
  Streams streams;
  json a, b, report;
  std::vector<std::string> warnings;
};

// Instance A starts at 1000, B one second later; each runs 4 s with a sample every second.
Merged merge_offset_pair() {
  Merged m;
  m.streams = make_streams();
  RunShape a;
  RunShape b;
  b.started_at = 1001;
  b.completed_per_s = 200;
  b.established = 20;
  m.a = make_report(a, m.streams.connect_a, m.streams.transaction_a);
  m.b = make_report(b, m.streams.connect_b, m.streams.transaction_b);
  m.b["hints"].push_back("b's own hint");
  m.b["config"]["shard"] = "1/2";
  m.b["config"]["report"] = "y.json";
  const MergeOutcome out = merge_reports({{"a.json", m.a}, {"b.json", m.b}});
  EXPECT_EQ(out.error, "");
  m.report = round_trip(out.report);
  m.warnings = out.warnings;
  return m;
}

TEST(Merge, SumsCountsAndKeepsTheMaximaThatAreMaxima) {
  const Merged m = merge_offset_pair();
  const json& r = m.report;
  EXPECT_EQ(r["mode"], "client");
  EXPECT_EQ(r["instances"], 2);
  EXPECT_EQ(r["connections_completed"], 400 + 800);
  EXPECT_EQ(r["connections_failed"], 4);
  EXPECT_EQ(r["counters"]["conn_completed"], 1200);
  EXPECT_EQ(r["counters"]["conn_opened"], 1210);
  EXPECT_EQ(r["counters"]["retransmits"], 6);
  EXPECT_EQ(r["failures"]["reset"], 2);
  EXPECT_EQ(r["data_plane"]["rx_packets"], 2000);
  EXPECT_EQ(r["data_plane"]["longest_pass_us"], 2000);  // the longer of 1000 and 2000
  EXPECT_EQ(r["generator"]["tuple_space"], 2 * 32256);
  EXPECT_EQ(r["roles"]["client"]["counters"]["conn_completed"], 1200);
  EXPECT_EQ(r["roles"]["client"]["gauges"]["ESTABLISHED"], 30);
  EXPECT_DOUBLE_EQ(r["roles"]["client"]["busy_s"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(r["roles"]["client"]["busy_pct"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(r["roles"]["client"]["ns_per_connection"].get<double>(), 2e9 / 1200);
  EXPECT_EQ(r["throughput"]["client"]["rx_bytes"], 10000);
  EXPECT_DOUBLE_EQ(r["throughput"]["client"]["rx_gbit_per_s"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(r["payload_gbit_per_s"].get<double>(), 0.5);
  EXPECT_EQ(r["memory"]["bytes_per_record"], 100);
  EXPECT_EQ(r["hints"], json::array({"shared hint", "b's own hint"}));
  ASSERT_EQ(r["lcores"].size(), 2u);
  EXPECT_EQ(r["lcores"][1]["instance"], 1);
  EXPECT_EQ(r["ports"].size(), 2u);
  EXPECT_EQ(r["dispatch"], "single-queue");
  // config: what the instances share; inputs: each file and where it differs.
  EXPECT_EQ(r["config"]["rate"], 100);
  EXPECT_FALSE(r["config"].contains("report"));
  ASSERT_EQ(r["inputs"].size(), 2u);
  EXPECT_EQ(r["inputs"][0]["file"], "a.json");
  EXPECT_EQ(r["inputs"][1]["file"], "b.json");
  EXPECT_EQ(r["inputs"][1]["mode"], "client");
  EXPECT_EQ(r["inputs"][1]["config"]["shard"], "1/2");
  EXPECT_EQ(r["inputs"][1]["config"]["report"], "y.json");
  EXPECT_EQ(r["inputs"][0]["config"]["run_id"], "r1");  // shared, yet said per input: which run
  EXPECT_EQ(r["config"]["run_id"], "r1");
  EXPECT_TRUE(m.warnings.empty());
}

TEST(Merge, HistogramsMergeExactlyAsIfOneHadRecordedBothStreams) {
  const Merged m = merge_offset_pair();
  // Every figure and bucket equal to those of the histogram that recorded both streams, through
  // the same code (histogram_json) and a trip through text.
  EXPECT_EQ(m.report["latency"]["connect"], round_trip(histogram_json(m.streams.connect_both)));
  EXPECT_EQ(m.report["latency"]["transaction"], round_trip(histogram_json(m.streams.transaction_both)));
  EXPECT_EQ(m.report["latency"]["connect"]["clamped"], 1);
  EXPECT_EQ(m.report["latency"]["connect"]["count"], 40001);
  // The merged percentiles are not those of either instance.
  EXPECT_NE(m.report["latency"]["connect"]["p99"], m.a["latency"]["connect"]["p99"]);
  EXPECT_NE(m.report["latency"]["connect"]["p99"], m.b["latency"]["connect"]["p99"]);
}

TEST(Merge, HistogramJsonRebuildsTheSameHistogram) {
  const Streams s = make_streams();
  const json j = round_trip(histogram_json(s.connect_b));
  // The bucket contract: [lowest_ns, highest_ns, count], non-empty only, ascending.
  ASSERT_FALSE(j["buckets"].empty());
  std::uint64_t previous_highest = 0;
  for (const json& b : j["buckets"]) {
    ASSERT_EQ(b.size(), 3u);
    EXPECT_LE(b[0].get<std::uint64_t>(), b[1].get<std::uint64_t>());
    EXPECT_GT(b[2].get<std::uint64_t>(), 0u);
    EXPECT_TRUE(previous_highest == 0 || b[0].get<std::uint64_t>() > previous_highest);
    previous_highest = b[1].get<std::uint64_t>();
  }
  LatencyHistogram back;
  ASSERT_EQ(histogram_from_json(j, back), "");
  EXPECT_EQ(back.count(), s.connect_b.count());
  EXPECT_EQ(back.min(), s.connect_b.min());
  EXPECT_EQ(back.max(), s.connect_b.max());
  EXPECT_EQ(back.sum(), s.connect_b.sum());
  EXPECT_EQ(back.clamped(), s.connect_b.clamped());
  for (std::size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    ASSERT_EQ(back.count_in_bucket(i), s.connect_b.count_in_bucket(i)) << "bucket " << i;
  }
  // An empty histogram survives the trip too.
  LatencyHistogram empty_back;
  ASSERT_EQ(histogram_from_json(round_trip(histogram_json(LatencyHistogram{})), empty_back), "");
  EXPECT_EQ(empty_back.count(), 0u);
  EXPECT_EQ(round_trip(histogram_json(empty_back)), round_trip(histogram_json(LatencyHistogram{})));
}

TEST(Merge, TimelinesAlignOnTheWallClock) {
  const Merged m = merge_offset_pair();
  const json& t = m.report["timeline"];
  // A's samples end at 1001..1004, B's at 1002..1005: five slots from the earliest start.
  ASSERT_EQ(t.size(), 5u);
  const double completed[] = {100, 300, 300, 300, 200};
  const int established[] = {10, 30, 30, 30, 20};
  const int instances[] = {1, 2, 2, 2, 1};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_DOUBLE_EQ(t[i]["t_s"].get<double>(), static_cast<double>(i + 1)) << i;
    EXPECT_DOUBLE_EQ(t[i]["unix_s"].get<double>(), 1001.0 + static_cast<double>(i)) << i;
    EXPECT_DOUBLE_EQ(t[i]["completed_per_s"].get<double>(), completed[i]) << i;
    EXPECT_EQ(t[i]["client_established"], established[i]) << i;
    EXPECT_EQ(t[i]["instances"], instances[i]) << i;
    EXPECT_DOUBLE_EQ(t[i]["client_busy_pct"].get<double>(), 50.0) << i;  // a share: averaged
    EXPECT_FALSE(t[i].contains("connect_p99_us")) << i;                  // percentiles do not add
  }
  EXPECT_DOUBLE_EQ(t[2]["connect_p99_us_max"].get<double>(), 200.0);
  EXPECT_DOUBLE_EQ(m.report["timeline_interval_s"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m.report["started_at_unix_s"].get<double>(), 1000.0);
}

TEST(Merge, CpsIsTheCompletionsInsideTheCommonActivePeriod) {
  const Merged m = merge_offset_pair();
  const json& r = m.report;
  // A active 1000-1004, B 1001-1005: all active 1001-1004. A completed 300 in it (its last three
  // seconds), B 600 (its first three).
  EXPECT_DOUBLE_EQ(r["active_s"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(r["startup_s"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(r["duration_s"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(r["active_period"]["from_unix_s"].get<double>(), 1001.0);
  EXPECT_DOUBLE_EQ(r["active_period"]["to_unix_s"].get<double>(), 1004.0);
  EXPECT_NEAR(r["active_period"]["connections_completed"].get<double>(), 900, 1);
  EXPECT_NEAR(r["cps"].get<double>(), 300.0, 0.5);
  EXPECT_NEAR(r["http_requests_per_s"].get<double>(), 300.0, 0.5);
}

TEST(Merge, CpsCountsWhatCameAfterTheLastSampleAndSharesAPartSample) {
  const Streams s = make_streams();
  RunShape a;
  a.duration_s = 4.5;  // stops half-way through its fifth interval, 50 completed in it
  a.completed_after_timeline = 50;
  RunShape b;
  b.started_at = 1001;
  b.completed_per_s = 200;
  const MergeOutcome out = merge_reports({{"a.json", make_report(a, s.connect_a, s.transaction_a)},
                                          {"b.json", make_report(b, s.connect_b, s.transaction_b)}});
  ASSERT_EQ(out.error, "");
  // Common period 1001-1004.5: A 300 + its last 50; B 600 + half of its fourth second, 100.
  EXPECT_DOUBLE_EQ(out.report["active_s"].get<double>(), 3.5);
  EXPECT_NEAR(out.report["cps"].get<double>(), 1050 / 3.5, 0.5);
}

TEST(Merge, PeriodsThatNeverOverlapGiveNoCpsAndSaySo) {
  const Streams s = make_streams();
  RunShape a;
  RunShape b;
  b.started_at = 1010;
  const MergeOutcome out = merge_reports({{"a.json", make_report(a, s.connect_a, s.transaction_a)},
                                          {"b.json", make_report(b, s.connect_b, s.transaction_b)}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.report["cps"], 0.0);
  EXPECT_EQ(out.report["active_s"], 0.0);
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_NE(out.warnings[0].find("never all active at once"), std::string::npos);
  EXPECT_EQ(out.report["connections_completed"], 800);
}

// run_merge over files: the exit code, stdout and stderr as the program gives them.
class MergeFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("synwave-merge-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::string write(const std::string& name, const json& j) { return write(name, j.dump(2)); }

  int run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    return run_merge(args, out_, err_);
  }
  // One line on stderr, naming `what`.
  void expect_one_line_naming(const std::string& what) {
    const std::string e = err_.str();
    EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 1) << e;
    EXPECT_NE(e.find(what), std::string::npos) << e;
    EXPECT_EQ(out_.str(), "");
  }

  json report(const std::string& mode = "client") {
    const Streams s = make_streams();
    return make_report(RunShape{}, s.connect_a, s.transaction_a, mode);
  }

  std::filesystem::path dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(MergeFiles, WritesTheMergedReportOnStdout) {
  const std::string a = write("a.json", report());
  const std::string b = write("b.json", report());
  ASSERT_EQ(run({a, b}), 0) << err_.str();
  const json merged = json::parse(out_.str());
  EXPECT_EQ(merged["connections_completed"], 800);
  EXPECT_EQ(out_.str(), merged.dump(2) + "\n");  // pretty, as --report writes
  // Two copies of one run: merged, but not without a word.
  EXPECT_NE(err_.str().find("the same run"), std::string::npos);
}

TEST_F(MergeFiles, NoArgumentsIsAUsageError) {
  EXPECT_EQ(run({}), 2);
  EXPECT_NE(err_.str().find("usage: synwave merge"), std::string::npos);
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_NE(out_.str().find("usage: synwave merge"), std::string::npos);
  EXPECT_EQ(run({"--pretty", write("a.json", report())}), 2);
}

TEST_F(MergeFiles, AFileThatIsNotJsonIsNamed) {
  const std::string bad = write("bad.json", std::string("{\"mode\": \"client\",,}"));
  EXPECT_EQ(run({write("a.json", report()), bad}), 2);
  expect_one_line_naming("bad.json: not valid JSON");
}

TEST_F(MergeFiles, AFileThatCannotBeReadIsNamed) {
  EXPECT_EQ(run({write("a.json", report()), (dir_ / "missing.json").string()}), 2);
  expect_one_line_naming("missing.json: cannot open it");
}

TEST_F(MergeFiles, JsonThatIsNotAReportIsNamed) {
  EXPECT_EQ(run({write("a.json", report()), write("other.json", json{{"name", "x"}})}), 2);
  expect_one_line_naming("other.json: not a synwave report");
  json no_start = report();
  no_start.erase("started_at_unix_s");
  EXPECT_EQ(run({write("old.json", no_start)}), 2);
  expect_one_line_naming("old.json: no \"started_at_unix_s\"");
  json flood = {{"mode", "flood"}, {"sent_total", 5}};
  EXPECT_EQ(run({write("flood.json", flood)}), 2);
  expect_one_line_naming("flood.json: a flood report");
}

TEST_F(MergeFiles, ReportsOfDifferentModesAreRefused) {
  EXPECT_EQ(run({write("client.json", report("client")), write("server.json", report("server"))}), 2);
  expect_one_line_naming("different modes (");
  EXPECT_NE(err_.str().find("server.json: server"), std::string::npos) << err_.str();
}

TEST_F(MergeFiles, AHistogramWithoutBucketsIsNamed) {
  json old = report();
  old["latency"]["transaction"].erase("buckets");
  EXPECT_EQ(run({write("a.json", report()), write("old.json", old)}), 2);
  expect_one_line_naming("old.json: latency.transaction has no \"buckets\"");
}

TEST_F(MergeFiles, AFieldOfTheWrongTypeIsAnErrorNotACrash) {
  json odd = report();
  odd["roles"]["client"]["busy_s"] = "one";
  odd["latency"]["connect"]["buckets"][0][2] = -1;
  EXPECT_EQ(run({write("odd.json", odd)}), 2);
  expect_one_line_naming("odd.json: latency.connect has a bucket that is not");
}

}  // namespace
}  // namespace synwave::app
