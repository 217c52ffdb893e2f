#pragma once
// Prometheus exposition (--metrics ADDR:PORT): GET /metrics answers in the text format 0.0.4 with
// every engine counter, the records by state, each lcore's busy time and data-plane counters and
// the client's latency histograms, labelled by run, role, lcore and family.
//
// A scrape reads what the workers publish into their stats slots every few milliseconds
// (stats_slot.hpp), from the HTTP server's own threads: nothing on the data path waits for it or
// shares a cache line with it. The server is civetweb (Debian's libcivetweb-dev): it starts before
// DPDK pins any thread, so its threads stay off the lcores' cores.
#include <memory>
#include <string>

namespace synwave::app {

struct RunState;

// The exposition text of a run (what GET /metrics returns while it runs).
std::string render_metrics(const RunState& state, const std::string& run_id);

class MetricsServer {
 public:
  // Listens on `address` (IPv4:PORT). On failure returns nullptr and sets `error` to one line
  // that names the problem.
  static std::unique_ptr<MetricsServer> start(const std::string& address, std::string run_id, std::string& error);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The run whose figures a scrape shows from now on (nullptr: none, before its state goes away).
  void attach(const RunState* state);

  struct Impl;  // metrics.cpp: civetweb's context and the attached run

 private:
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace synwave::app
