#pragma once
// `synwave merge REPORT.json...`: the JSON reports of instances that ran together (one per
// generator host, with --shard and --start-at) as one report. Counters are summed, latency
// histograms merged exactly from their buckets, timelines aligned on the wall clock, and `cps`
// is the completions inside the period every instance was active, over its length (README,
// "Merging reports"). Plain C++ and JSON, no DPDK: main() runs it before the EAL starts.
#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>
#include <vector>

namespace synwave::app {

struct ReportFile {
  std::string name;  // as given on the command line: what messages and the merged `inputs` say
  nlohmann::json report;
};

struct MergeOutcome {
  nlohmann::json report;              // the merged report, when `error` is empty
  std::string error;                  // one line: which file, what is wrong, what to do
  std::vector<std::string> warnings;  // what the merged figures should be read with
};

MergeOutcome merge_reports(const std::vector<ReportFile>& inputs);

// The subcommand, given the words after "merge": reads the files, writes the merged report to
// `out` (2-space JSON, as --report writes), messages to `err`. Returns the exit code: 0, or 2
// for a usage error or a file that cannot be merged.
int run_merge(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace synwave::app
