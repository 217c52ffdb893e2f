#include "merge.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "histogram_json.hpp"

namespace synwave::app {
namespace {

using nlohmann::json;

constexpr const char* kUsage =
    "usage: synwave merge REPORT.json REPORT.json... > merged.json\n"
    "  One report from the JSON reports (--report) of instances that ran together, e.g. one per\n"
    "  generator host with --shard and --start-at: counters summed, latency histograms merged\n"
    "  exactly, timelines aligned on the wall clock, cps over the period every instance was active.\n"
    "  The reports must be of one mode (server, client, loopback or pair).\n";

// The modes whose reports share one layout (flood's has its own, and is not merged).
constexpr const char* kMergeableModes[] = {"server", "client", "loopback", "pair"};

// What merging reads from every report; a file without them is not a report of these modes.
constexpr const char* kRequiredNumbers[] = {"started_at_unix_s", "startup_s",           "active_s",
                                            "duration_s",        "connections_completed", "connections_failed"};

// object[key], or null when the key (or the object) is absent: reads that never throw.
const json& field(const json& object, const std::string& key) {
  static const json kAbsent;
  if (!object.is_object()) return kAbsent;
  const auto it = object.find(key);
  return it == object.end() ? kAbsent : *it;
}

double number(const json& v, double otherwise = 0.0) { return v.is_number() ? v.get<double>() : otherwise; }

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// a + b, integers kept integers (the counters are 64-bit and must not go through a double).
json add_numbers(const json& a, const json& b) {
  if (a.is_number_unsigned() && b.is_number_unsigned()) return a.get<std::uint64_t>() + b.get<std::uint64_t>();
  if (a.is_number_integer() && b.is_number_integer()) return a.get<std::int64_t>() + b.get<std::int64_t>();
  return a.get<double>() + b.get<double>();
}

json max_number(const json& a, const json& b) { return b.get<double>() > a.get<double>() ? b : a; }

// Adds every numeric leaf of `part` into `total`, recursing into objects; a key `total` lacks is
// taken as it is, keys in `maxima` keep the larger value instead of the sum, and anything else
// (strings, booleans, arrays) keeps the first input's.
void sum_leaves(json& total, const json& part, const std::set<std::string>& maxima = {}) {
  if (!part.is_object()) return;
  if (!total.is_object()) total = json::object();
  for (const auto& [key, value] : part.items()) {
    const auto it = total.find(key);
    if (it == total.end()) {
      total[key] = value;
    } else if (value.is_object()) {
      sum_leaves(*it, value, maxima);
    } else if (value.is_number() && it->is_number()) {
      *it = maxima.contains(key) ? max_number(*it, value) : add_numbers(*it, value);
    }
  }
}

std::string check_report(const json& r) {
  if (!r.is_object()) return "not a synwave report (not a JSON object)";
  const json& mode = field(r, "mode");
  if (!mode.is_string()) return "not a synwave report (no \"mode\")";
  const std::string name = mode.get<std::string>();
  if (name == "flood") return "a flood report: merge takes the reports of server, client, loopback and pair runs";
  if (std::find(std::begin(kMergeableModes), std::end(kMergeableModes), name) == std::end(kMergeableModes)) {
    return "not a synwave report (mode \"" + name + "\")";
  }
  for (const char* key : kRequiredNumbers) {
    if (!field(r, key).is_number()) {
      return std::string("no \"") + key + "\": not a synwave report, or one from a synwave older than merge";
    }
  }
  if (!field(r, "counters").is_object()) return "not a synwave report (no \"counters\")";
  if (!field(r, "config").is_object()) return "not a synwave report (no \"config\")";
  const json& timeline = field(r, "timeline");
  if (!timeline.is_null()) {
    if (!timeline.is_array()) return "not a synwave report (\"timeline\" is not an array)";
    for (const json& sample : timeline) {
      if (!field(sample, "t_s").is_number()) return "not a synwave report (a \"timeline\" sample without \"t_s\")";
    }
  }
  return {};
}

// One input's run on the wall clock.
struct Instance {
  const ReportFile* file = nullptr;
  const json* report = nullptr;
  double started = 0;      // started_at_unix_s: its timeline's t_s count from here
  double active_from = 0;  // its first connection
  double stopped = 0;      // its stop
  double stats_interval = 0;
};

Instance instance_of(const ReportFile& f) {
  const json& r = f.report;
  Instance in;
  in.file = &f;
  in.report = &r;
  in.started = r["started_at_unix_s"].get<double>();
  in.active_from = in.started + r["startup_s"].get<double>();
  in.stopped = in.started + r["duration_s"].get<double>();
  in.stats_interval = number(field(field(r, "config"), "stats_interval_s"));
  return in;
}

// A count spread evenly over [from, to] on the wall clock (from == to: at that instant).
struct Segment {
  double from;
  double to;
  double count;
};

// What an instance counted of a timeline rate (completed_per_s, http_requests_per_s) as segments
// of the wall clock: one per sample (its rate times its interval; the first starts with the run),
// then what came after the last sample, which the timeline does not hold (`total` less what the
// samples counted). Nothing completes before the first connection, so no segment starts before
// it. Without a timeline, the whole active period is one segment.
std::vector<Segment> segments_of(const Instance& in, const std::string& rate_key, double total) {
  std::vector<Segment> out;
  double previous = 0;
  double counted = 0;
  for (const json& sample : field(*in.report, "timeline")) {
    const double t = sample["t_s"].get<double>();
    if (t <= previous) continue;
    const double n = number(field(sample, rate_key)) * (t - previous);
    const double end = in.started + t;
    out.push_back({std::min(std::max(in.started + previous, in.active_from), end), end, n});
    counted += n;
    previous = t;
  }
  const double from = std::max(in.started + previous, in.active_from);
  out.push_back({std::min(from, in.stopped), in.stopped, std::max(0.0, total - counted)});
  return out;
}

// How much of the segments' count falls inside [from, to].
double count_within(const std::vector<Segment>& segments, double from, double to) {
  double n = 0;
  for (const Segment& s : segments) {
    if (s.to <= s.from) {
      if (s.to >= from && s.to <= to) n += s.count;
      continue;
    }
    const double overlap = std::min(s.to, to) - std::max(s.from, from);
    if (overlap > 0) n += s.count * overlap / (s.to - s.from);
  }
  return n;
}

// Keys whose values the instances share: what the merged report's `config` says of all of them.
json common_config(const std::vector<Instance>& ins) {
  json common = field(*ins[0].report, "config");
  for (std::size_t i = 1; i < ins.size(); ++i) {
    const json& config = field(*ins[i].report, "config");
    for (auto it = common.begin(); it != common.end();) {
      const json& other = field(config, it.key());
      it = other == *it ? std::next(it) : common.erase(it);
    }
  }
  return common;
}

// Each input: which file, its own figures, and where its configuration differs from the others'
// (run_id, shard, src_ports_used and start_at always: which run, and how the instances divided it).
json inputs_json(const std::vector<Instance>& ins, const json& common) {
  static const std::set<std::string> kAlwaysPerInput = {"run_id", "shard", "src_ports_used", "start_at"};
  json inputs = json::array();
  for (std::size_t i = 0; i < ins.size(); ++i) {
    const json& r = *ins[i].report;
    json own = json::object();
    for (const auto& [key, value] : field(r, "config").items()) {
      if (!common.contains(key) || kAlwaysPerInput.contains(key)) own[key] = value;
    }
    json input = {{"instance", i},
                  {"file", ins[i].file->name},
                  {"mode", r["mode"]},
                  {"started_at_unix_s", r["started_at_unix_s"]},
                  {"startup_s", r["startup_s"]},
                  {"active_s", r["active_s"]},
                  {"duration_s", r["duration_s"]},
                  {"connections_completed", r["connections_completed"]},
                  {"connections_failed", r["connections_failed"]},
                  {"config", own}};
    if (r.contains("cps")) input["cps"] = r["cps"];
    if (r.contains("dispatch")) input["dispatch"] = r["dispatch"];
    inputs.push_back(std::move(input));
  }
  return inputs;
}

// Per role: counters and gauges summed, busy_s summed; busy_pct over all the instances' lcore time
// of the role (each instance's busy_s / its busy share), ns_per_connection from the sums.
json merged_roles(const std::vector<Instance>& ins) {
  json roles = json::object();
  std::map<std::string, double> loop_s;
  for (const Instance& in : ins) {
    for (const auto& [name, role] : field(*in.report, "roles").items()) {
      json& m = roles[name];
      sum_leaves(m["counters"], field(role, "counters"));
      sum_leaves(m["gauges"], field(role, "gauges"));
      const double busy_s = number(field(role, "busy_s"));
      const double share = number(field(role, "busy_pct")) / 100.0;
      m["busy_s"] = number(field(m, "busy_s")) + busy_s;
      if (share > 0) loop_s[name] += busy_s / share;
    }
  }
  for (auto& [name, m] : roles.items()) {
    const double busy_s = m["busy_s"].get<double>();
    const double loop = loop_s[name];
    m["busy_pct"] = loop > 0 ? 100.0 * busy_s / loop : 0.0;
    const double completed = number(field(m["counters"], "conn_completed"));
    m["ns_per_connection"] = completed > 0 ? busy_s * 1e9 / completed : 0.0;
  }
  return roles;
}

// Every histogram under each input's `latency`, rebuilt from its buckets and merged; the
// percentiles come from the same code as a report's. Returns "" or the error.
std::string merge_latency(const std::vector<Instance>& ins, json& out) {
  std::map<std::string, LatencyHistogram> merged;
  for (const Instance& in : ins) {
    const json& latency = field(*in.report, "latency");
    if (latency.is_null()) continue;
    if (!latency.is_object()) return in.file->name + ": \"latency\" is not an object: not a synwave report";
    for (const auto& [name, histogram] : latency.items()) {
      LatencyHistogram h;
      const std::string err = histogram_from_json(histogram, h);
      if (!err.empty()) return in.file->name + ": latency." + name + " " + err;
      merged[name].merge(h);
    }
  }
  if (merged.empty()) return {};
  out = json::object();
  for (const auto& [name, h] : merged) out[name] = histogram_json(h);
  return {};
}

// Merges numeric fields of samples that belong together (one timeline slot, one phase): within
// an instance its samples are averaged (a slot may catch two of a run whose interval is shorter),
// then across instances rates and counts are summed, busy shares (*_pct) averaged, and latency
// percentiles (*_us), which cannot be summed nor merged without buckets, give the highest as *_us_max.
class FieldMerger {
 public:
  void add(std::size_t instance, const json& sample) {
    for (const auto& [key, value] : sample.items()) {
      if (!value.is_number() || skip_.contains(key)) continue;
      Mean& m = per_instance_[instance][key];
      m.sum += value.get<double>();
      ++m.n;
      m.integer = m.integer && value.is_number_integer();
    }
  }
  void write(json& out) const {
    struct Across {
      double sum = 0;
      double max = -std::numeric_limits<double>::infinity();
      std::size_t n = 0;
      bool integer = true;
    };
    std::map<std::string, Across> across;
    for (const auto& [instance, keys] : per_instance_) {
      for (const auto& [key, m] : keys) {
        Across& a = across[key];
        const double v = m.sum / static_cast<double>(m.n);
        a.sum += v;
        a.max = std::max(a.max, v);
        ++a.n;
        a.integer = a.integer && m.integer && m.n == 1;
      }
    }
    for (const auto& [key, a] : across) {
      if (ends_with(key, "_pct")) out[key] = a.sum / static_cast<double>(a.n);
      else if (ends_with(key, "_us")) out[key + "_max"] = a.max;
      else if (a.integer) out[key] = static_cast<std::int64_t>(std::llround(a.sum));
      else out[key] = a.sum;
    }
  }
  [[nodiscard]] std::size_t instances() const { return per_instance_.size(); }
  void skip(const std::string& key) { skip_.insert(key); }

 private:
  struct Mean {
    double sum = 0;
    std::size_t n = 0;
    bool integer = true;
  };
  std::map<std::size_t, std::map<std::string, Mean>> per_instance_;
  std::set<std::string> skip_;
};

// The timelines on one grid: each sample's end on the wall clock, from the earliest start,
// rounded to the grid step (the longest of the instances' --stats-interval); the samples in a
// slot merged by FieldMerger. t_s counts from the merged start, unix_s is the wall clock, and
// `instances` says how many contributed (fewer at the edges when the runs did not start and stop
// together).
json merged_timeline(const std::vector<Instance>& ins, double merged_start, double step) {
  json out = json::array();
  if (step <= 0) return out;
  std::map<long long, FieldMerger> slots;
  for (std::size_t i = 0; i < ins.size(); ++i) {
    for (const json& sample : field(*ins[i].report, "timeline")) {
      const double end = ins[i].started + sample["t_s"].get<double>();
      FieldMerger& slot = slots[std::llround((end - merged_start) / step)];
      slot.skip("t_s");
      slot.add(i, sample);
    }
  }
  for (const auto& [slot, merger] : slots) {
    const double t = std::round(static_cast<double>(slot) * step * 1e9) / 1e9;
    json sample = {{"t_s", t}, {"unix_s", merged_start + t}, {"instances", merger.instances()}};
    merger.write(sample);
    out.push_back(std::move(sample));
  }
  return out;
}

// Phases by position (the instances ran one plan): counts and rates summed, start_s and end_s on
// the merged clock (earliest start, latest end), cut_short if any instance's was.
json merged_phases(const std::vector<Instance>& ins, double merged_start) {
  std::vector<FieldMerger> mergers;
  std::vector<json> phases;
  for (std::size_t i = 0; i < ins.size(); ++i) {
    const json& list = field(*ins[i].report, "phases");
    if (!list.is_array()) continue;
    const double shift = ins[i].started - merged_start;
    for (std::size_t k = 0; k < list.size(); ++k) {
      if (k == mergers.size()) {
        mergers.emplace_back();
        mergers.back().skip("start_s");
        mergers.back().skip("end_s");
        phases.push_back(json::object());
      }
      const json& p = list[k];
      json& m = phases[k];
      if (!m.contains("name") && p.contains("name")) m["name"] = p["name"];
      const double start = number(field(p, "start_s")) + shift;
      const double end = number(field(p, "end_s")) + shift;
      m["start_s"] = m.contains("start_s") ? std::min(m["start_s"].get<double>(), start) : start;
      m["end_s"] = m.contains("end_s") ? std::max(m["end_s"].get<double>(), end) : end;
      if (field(p, "cut_short") == true) m["cut_short"] = true;
      mergers[k].add(i, p);
    }
  }
  json out = json::array();
  for (std::size_t k = 0; k < phases.size(); ++k) {
    mergers[k].write(phases[k]);
    phases[k]["instances"] = mergers[k].instances();
    out.push_back(std::move(phases[k]));
  }
  return out;
}

// Per-instance lists (lcores, ports) one after the other, each entry told its instance.
json concatenated(const std::vector<Instance>& ins, const std::string& key) {
  json out = json::array();
  for (std::size_t i = 0; i < ins.size(); ++i) {
    for (const json& entry : field(*ins[i].report, key)) {
      json e = entry;
      if (e.is_object()) e["instance"] = i;
      out.push_back(std::move(e));
    }
  }
  return out;
}

// Pair mode: the two sides' figures summed, their agreement judged again on the sums.
json merged_pair(const std::vector<Instance>& ins) {
  json pair;
  for (const Instance& in : ins) sum_leaves(pair, field(*in.report, "pair"));
  if (pair.is_null()) return pair;
  const double client_completed = number(field(pair, "client_completed"));
  const double server_accepted = number(field(pair, "server_accepted"));
  const auto not_accepted = static_cast<std::uint64_t>(std::max(0.0, client_completed - server_accepted));
  pair["client_completed_not_accepted"] = not_accepted;
  pair["agree"] = not_accepted == 0;
  return pair;
}

std::string describe_period(const Instance& in) {
  std::ostringstream s;
  s.precision(3);
  s << std::fixed << in.file->name << " active " << in.active_from << " to " << in.stopped;
  return s.str();
}

}  // namespace

MergeOutcome merge_reports(const std::vector<ReportFile>& files) {
  MergeOutcome outcome;
  if (files.empty()) {
    outcome.error = "no report to merge";
    return outcome;
  }
  for (const ReportFile& f : files) {
    const std::string problem = check_report(f.report);
    if (!problem.empty()) {
      outcome.error = f.name + ": " + problem;
      return outcome;
    }
  }
  const std::string mode = files[0].report["mode"].get<std::string>();
  for (const ReportFile& f : files) {
    if (f.report["mode"] != mode) {
      outcome.error = "the reports are of different modes (" + files[0].name + ": " + mode + ", " + f.name + ": " +
                      f.report["mode"].get<std::string>() + "): merge the reports of one mode at a time";
      return outcome;
    }
  }
  std::vector<Instance> ins;
  for (const ReportFile& f : files) ins.push_back(instance_of(f));
  for (std::size_t i = 0; i < ins.size(); ++i) {
    for (std::size_t j = i + 1; j < ins.size(); ++j) {
      const json& a = *ins[i].report;
      const json& b = *ins[j].report;
      if (a["started_at_unix_s"] == b["started_at_unix_s"] && a["counters"] == b["counters"]) {
        outcome.warnings.push_back(files[i].name + " and " + files[j].name +
                                   " hold the same run: its figures are counted twice");
      }
    }
  }

  json r = json::object();
  r["mode"] = mode;
  r["instances"] = ins.size();
  const std::string latency_error = merge_latency(ins, r["latency"]);
  if (!latency_error.empty()) {
    outcome.error = latency_error;
    return outcome;
  }
  if (r["latency"].is_null()) r.erase("latency");

  // The run on the wall clock: from the earliest start to the latest stop; active, the period
  // every instance was (from the last first connection to the first stop).
  double merged_start = ins[0].started;
  double last_stop = ins[0].stopped;
  double common_from = ins[0].active_from;
  double common_to = ins[0].stopped;
  double first_activity = ins[0].active_from;
  double step = 0;
  for (const Instance& in : ins) {
    merged_start = std::min(merged_start, in.started);
    last_stop = std::max(last_stop, in.stopped);
    common_from = std::max(common_from, in.active_from);
    common_to = std::min(common_to, in.stopped);
    first_activity = std::min(first_activity, in.active_from);
    step = std::max(step, in.stats_interval);
  }
  const bool overlap = common_to > common_from;
  double completed_in_common = 0;
  double requests_in_common = 0;
  if (overlap) {
    for (const Instance& in : ins) {
      const json& report = *in.report;
      const double completed = report["connections_completed"].get<double>();
      const double requests = number(field(report, "http_requests_per_s")) * report["active_s"].get<double>();
      completed_in_common += count_within(segments_of(in, "completed_per_s", completed), common_from, common_to);
      requests_in_common += count_within(segments_of(in, "http_requests_per_s", requests), common_from, common_to);
    }
  } else {
    std::string periods;
    for (const Instance& in : ins) periods += (periods.empty() ? "" : "; ") + describe_period(in);
    outcome.warnings.push_back("the instances were never all active at once (" + periods +
                               "): cps and http_requests_per_s are 0; start them together with --start-at");
  }
  const double active_s = overlap ? common_to - common_from : 0.0;
  r["started_at_unix_s"] = merged_start;
  r["duration_s"] = last_stop - merged_start;
  r["startup_s"] = (overlap ? common_from : first_activity) - merged_start;
  r["active_s"] = active_s;
  r["active_period"] = {{"from_unix_s", overlap ? common_from : 0.0},
                        {"to_unix_s", overlap ? common_to : 0.0},
                        {"connections_completed", std::llround(completed_in_common)},
                        {"http_requests", std::llround(requests_in_common)}};
  r["cps"] = active_s > 0 ? completed_in_common / active_s : 0.0;
  r["http_requests_per_s"] = active_s > 0 ? requests_in_common / active_s : 0.0;

  // Counts summed; data_plane's longest_pass_us is the longest of any lcore. generator.tuple_space
  // is summed: shards split one space (each reports its slice), and instances on other addresses
  // add theirs.
  json sums = json::object();
  for (const Instance& in : ins) {
    for (const char* key : {"connections_completed", "connections_failed", "payload_gbit_per_s"}) {
      json part = json::object();
      if (in.report->contains(key)) part[key] = (*in.report)[key];
      sum_leaves(sums, part);
    }
    for (const char* key : {"counters", "failures", "generator", "throughput", "memory"}) {
      sum_leaves(sums[key], field(*in.report, key));
    }
    sum_leaves(sums["data_plane"], field(*in.report, "data_plane"), {"longest_pass_us"});
  }
  for (auto& [key, value] : sums.items()) {
    if (!value.is_null()) r[key] = value;
  }
  if (r.contains("memory")) {
    const double records = number(field(r["memory"], "connection_records"));
    const double bytes = number(field(r["memory"], "engine_bytes"));
    r["memory"]["bytes_per_record"] = records > 0 ? static_cast<std::uint64_t>(bytes / records) : 0;
  }
  r["roles"] = merged_roles(ins);
  if (const json pair = merged_pair(ins); !pair.is_null()) r["pair"] = pair;

  r["lcores"] = concatenated(ins, "lcores");
  r["ports"] = concatenated(ins, "ports");
  const json& dispatch = field(*ins[0].report, "dispatch");
  bool same_dispatch = true;
  for (const Instance& in : ins) same_dispatch = same_dispatch && field(*in.report, "dispatch") == dispatch;
  if (same_dispatch && !dispatch.is_null()) r["dispatch"] = dispatch;

  r["config"] = common_config(ins);
  r["inputs"] = inputs_json(ins, r["config"]);
  r["timeline_interval_s"] = step;
  r["timeline"] = merged_timeline(ins, merged_start, step);
  if (const json phases = merged_phases(ins, merged_start); !phases.empty()) r["phases"] = phases;

  std::vector<std::string> hints;
  for (const Instance& in : ins) {
    for (const json& hint : field(*in.report, "hints")) {
      if (hint.is_string() && std::find(hints.begin(), hints.end(), hint.get<std::string>()) == hints.end()) {
        hints.push_back(hint.get<std::string>());
      }
    }
  }
  if (!overlap) hints.push_back(outcome.warnings.back());
  r["hints"] = hints;
  outcome.report = std::move(r);
  return outcome;
}

namespace {

// nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: ..." without its tag.
std::string parse_problem(const std::string& what) {
  const std::size_t tag_end = what.find("] ");
  return tag_end == std::string::npos ? what : what.substr(tag_end + 2);
}

// Returns "" or the one line that says why the file cannot be read as JSON.
std::string read_json_file(const std::string& path, json& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return path + ": cannot open it (" + std::strerror(errno) + ")";
  std::ostringstream text;
  text << in.rdbuf();
  try {
    out = json::parse(text.str());
  } catch (const json::parse_error& e) {
    return path + ": not valid JSON (" + parse_problem(e.what()) + ")";
  }
  return {};
}

}  // namespace

int run_merge(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    out << kUsage;
    return 0;
  }
  if (args.empty()) {
    err << kUsage;
    return 2;
  }
  for (const std::string& a : args) {
    if (a.size() > 1 && a[0] == '-') {
      err << "synwave: merge: unknown option " << a << " (merge takes report files only)\n" << kUsage;
      return 2;
    }
  }
  try {
    std::vector<ReportFile> files;
    for (const std::string& path : args) {
      ReportFile& f = files.emplace_back();
      f.name = path;
      const std::string problem = read_json_file(path, f.report);
      if (!problem.empty()) {
        err << "synwave: merge: " << problem << "\n";
        return 2;
      }
    }
    const MergeOutcome merged = merge_reports(files);
    if (!merged.error.empty()) {
      err << "synwave: merge: " << merged.error << "\n";
      return 2;
    }
    for (const std::string& w : merged.warnings) err << "synwave: merge: warning: " << w << "\n";
    out << merged.report.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    out.flush();
    if (!out) {
      err << "synwave: merge: cannot write the merged report (is stdout a full disk or a closed pipe?)\n";
      return 1;
    }
  } catch (const json::exception& e) {
    // A report whose fields have other types than synwave writes (edited by hand, or truncated).
    err << "synwave: merge: a report holds a field of an unexpected type (" << parse_problem(e.what())
        << "): give the reports as synwave wrote them\n";
    return 2;
  }
  return 0;
}

}  // namespace synwave::app
