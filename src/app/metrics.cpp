#include "metrics.hpp"

#include <civetweb.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string_view>
#include <vector>

#include "control.hpp"
#include "synwave/counters.hpp"
#include "synwave/tcp_state.hpp"

namespace synwave::app {

namespace {

struct CounterInfo {
  std::string_view name;
  std::string_view help;
};
constexpr CounterInfo kEngineCounters[] = {
#define SYNWAVE_COUNTER_INFO(name, desc) {#name, desc},
    SYNWAVE_COUNTERS(SYNWAVE_COUNTER_INFO)
#undef SYNWAVE_COUNTER_INFO
};

// Bounds of the latency histograms' Prometheus buckets, in seconds: 1-2-5 steps from 1 us to 10 s.
// The HDR histogram underneath has 2240 buckets; a series per bucket would swamp Prometheus, and
// these bounds answer the questions people ask (what share connects under 100 us, under 1 s).
constexpr double kLatencyBounds[] = {1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3,
                                     5e-3, 1e-2, 2e-2, 5e-2, 0.1,  0.2,  0.5,  1,    2,    5,    10};

// Prometheus label values escape backslash, double quote and newline (exposition format 0.0.4).
std::string escape_label(std::string_view v) {
  std::string out;
  for (const char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// Builds the text: a family's HELP and TYPE once, then its samples, each with the run's label.
class Exposition {
 public:
  explicit Exposition(const std::string& run_id) : run_label_("run=\"" + escape_label(run_id) + "\"") {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    text_ += help;
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type;
    text_ += '\n';
  }
  // labels: more labels after the run's, "role=\"client\",lcore=\"1\"" (may be empty).
  void sample(std::string_view name, std::string_view labels, double value) {
    char number[64];
    std::snprintf(number, sizeof number, "%.10g", value);
    append(name, labels, number);
  }
  void sample(std::string_view name, std::string_view labels, std::uint64_t value) {
    append(name, labels, std::to_string(value));
  }
  [[nodiscard]] std::string take() { return std::move(text_); }

 private:
  void append(std::string_view name, std::string_view labels, std::string_view value) {
    text_ += name;
    text_ += '{';
    text_ += run_label_;
    if (!labels.empty()) {
      text_ += ',';
      text_ += labels;
    }
    text_ += "} ";
    text_ += value;
    text_ += '\n';
  }

  std::string run_label_;
  std::string text_;
};

std::string lcore_label(unsigned lcore) { return "lcore=\"" + std::to_string(lcore) + "\""; }
const char* role_name(std::size_t role) { return role == kServer ? "server" : "client"; }

void add_histogram(Exposition& e, const std::string& name, std::string_view help, const LatencyHistogram& h) {
  e.family(name, "histogram", help);
  // A bucket of the HDR layout counts under the first bound at or above its top edge: within
  // its width (0.78 % of the value) of where the exact count would put it.
  std::size_t index = 0;
  std::uint64_t below = 0;
  for (const double bound : kLatencyBounds) {
    const auto bound_ns = static_cast<std::uint64_t>(bound * 1e9 + 0.5);
    while (index < LatencyHistogram::kBuckets && LatencyHistogram::bucket_highest(index) <= bound_ns) {
      below += h.count_in_bucket(index++);
    }
    char le[48];
    std::snprintf(le, sizeof le, "role=\"client\",le=\"%g\"", bound);
    e.sample(name + "_bucket", le, below);
  }
  e.sample(name + "_bucket", "role=\"client\",le=\"+Inf\"", h.count());
  e.sample(name + "_sum", "role=\"client\"", h.mean() * static_cast<double>(h.count()) / 1e9);
  e.sample(name + "_count", "role=\"client\"", h.count());
}

}  // namespace

std::string render_metrics(const RunState& s, const std::string& run_id) {
  std::vector<dpdk::LcoreSnapshot> snaps;
  snaps.reserve(s.slots.size());
  for (const auto* slot : s.slots) snaps.push_back(slot->read());
  const double hz = static_cast<double>(s.clock->hz());
  Exposition e(run_id);

  e.family("synwave_info", "gauge", "1, labelled with the run's mode");
  e.sample("synwave_info", "mode=\"" + escape_label(s.plan->options.mode_name) + "\"", std::uint64_t{1});

  // Engine counters: one family each, a series per lcore and role that lcore runs.
  std::vector<std::uint64_t> values;
  std::vector<std::string> labels;
  std::vector<std::vector<std::uint64_t>> by_series;
  for (std::size_t i = 0; i < snaps.size(); ++i) {
    for (std::size_t role = 0; role < dpdk::kRoles; ++role) {
      if (!snaps[i].has_role[role]) continue;
      labels.push_back(std::string("role=\"") + role_name(role) + "\"," + lcore_label(s.lcores[i]) + ",family=\"ipv4\"");
      values.clear();
      snaps[i].counters[role].for_each([&](std::string_view, std::uint64_t v) { values.push_back(v); });
      by_series.push_back(values);
    }
  }
  for (std::size_t k = 0; k < std::size(kEngineCounters); ++k) {
    const std::string name = "synwave_" + std::string(kEngineCounters[k].name) + "_total";
    e.family(name, "counter", kEngineCounters[k].help);
    for (std::size_t j = 0; j < labels.size(); ++j) e.sample(name, labels[j], by_series[j][k]);
  }

  e.family("synwave_connections", "gauge", "connection records by TCP state");
  for (std::size_t i = 0; i < snaps.size(); ++i) {
    for (std::size_t role = 0; role < dpdk::kRoles; ++role) {
      if (!snaps[i].has_role[role]) continue;
      const EngineGauges& g = snaps[i].gauges[role];
      for (std::size_t st = 0; st < g.by_state.size(); ++st) {
        const auto state = static_cast<TcpState>(st);
        if (state == TcpState::kClosed || state == TcpState::kListen) continue;
        e.sample("synwave_connections",
                 std::string("role=\"") + role_name(role) + "\"," + lcore_label(s.lcores[i]) + ",state=\"" +
                     std::string(to_string(state)) + "\"",
                 std::uint64_t{g.by_state[st]});
      }
    }
  }

  // Busy time as the report counts it (stats_slot.hpp): rate(busy) / rate(seconds) is the share.
  e.family("synwave_lcore_seconds_total", "counter", "seconds the lcore's poll loop has run");
  for (std::size_t i = 0; i < snaps.size(); ++i) {
    e.sample("synwave_lcore_seconds_total", lcore_label(s.lcores[i]), static_cast<double>(snaps[i].worker.loop_cycles) / hz);
  }
  e.family("synwave_lcore_busy_seconds_total", "counter", "seconds of loop passes that did work, by the role that did it");
  for (std::size_t i = 0; i < snaps.size(); ++i) {
    const dpdk::WorkerCounters& w = snaps[i].worker;
    for (std::size_t role = 0; role < dpdk::kRoles; ++role) {
      if (!snaps[i].has_role[role]) continue;
      const std::uint64_t busy = role == kServer ? w.busy_cycles_server : w.busy_cycles_client;
      e.sample("synwave_lcore_busy_seconds_total", lcore_label(s.lcores[i]) + ",role=\"" + role_name(role) + "\"",
               static_cast<double>(busy) / hz);
    }
  }
  e.family("synwave_lcore_longest_pass_seconds", "gauge",
           "the longest pass of the lcore's poll loop: milliseconds mean it lost its CPU");
  for (std::size_t i = 0; i < snaps.size(); ++i) {
    e.sample("synwave_lcore_longest_pass_seconds", lcore_label(s.lcores[i]),
             static_cast<double>(snaps[i].worker.longest_pass_us) / 1e6);
  }
  // The rest of the data plane's counters, whatever WorkerCounters holds (the four above aside).
  std::vector<std::string_view> dataplane_names;
  std::vector<std::vector<std::uint64_t>> dataplane_values(snaps.size());
  for (std::size_t i = 0; i < snaps.size(); ++i) {
    snaps[i].worker.for_each([&](std::string_view name, std::uint64_t v) {
      if (name == "loop_cycles" || name == "busy_cycles_server" || name == "busy_cycles_client" ||
          name == "longest_pass_us") {
        return;
      }
      if (i == 0) dataplane_names.push_back(name);
      dataplane_values[i].push_back(v);
    });
  }
  for (std::size_t k = 0; k < dataplane_names.size(); ++k) {
    const std::string n(dataplane_names[k]);
    const std::string name = "synwave_dataplane_" + n + "_total";
    e.family(name, "counter", "data-plane event outside the engine (report: data_plane." + n + ")");
    for (std::size_t i = 0; i < snaps.size(); ++i) e.sample(name, lcore_label(s.lcores[i]), dataplane_values[i][k]);
  }

  if (s.plan->options.mode == Mode::kFlood) {
    struct FloodField {
      const char* name;
      const char* help;
      std::uint64_t FloodStats::*field;
    };
    constexpr FloodField kFlood[] = {
        {"synwave_flood_sent_total", "flood frames the device accepted", &FloodStats::sent},
        {"synwave_flood_tx_queue_full_total", "flood frames refused by a full transmit queue", &FloodStats::tx_queue_full},
        {"synwave_flood_no_buffer_total", "flood frames that got no buffer", &FloodStats::no_buffer},
    };
    for (const FloodField& f : kFlood) {
      e.family(f.name, "counter", f.help);
      for (std::size_t i = 0; i < snaps.size(); ++i) e.sample(f.name, lcore_label(s.lcores[i]), snaps[i].flood.*(f.field));
    }
  }

  const LatencyTotals latency = collect_latency(s);
  if (latency.has_client) {
    add_histogram(e, "synwave_connect_latency_seconds", "first SYN sent to ESTABLISHED, retransmissions included",
                  latency.client.connect);
    if (client_has_transaction(s)) {
      add_histogram(e, "synwave_transaction_latency_seconds", "request start to response complete",
                    latency.client.transaction);
    }
  }
  return e.take();
}

struct MetricsServer::Impl {
  mg_context* context = nullptr;
  std::string run_id;
  std::mutex mutex;  // control plane only: a scrape against attach()
  const RunState* state = nullptr;
};

namespace {

int log_message(const mg_connection*, const char* message) {
  spdlog::debug("metrics: {}", message);
  return 1;  // handled: civetweb prints nothing itself
}

int serve_metrics(mg_connection* conn, void* data) {
  auto& impl = *static_cast<MetricsServer::Impl*>(data);
  const mg_request_info* request = mg_get_request_info(conn);
  const bool head = std::strcmp(request->request_method, "HEAD") == 0;
  if (!head && std::strcmp(request->request_method, "GET") != 0) {
    mg_send_http_error(conn, 405, "GET /metrics");
    return 405;
  }
  std::string body;
  {
    std::lock_guard lock(impl.mutex);
    if (impl.state != nullptr) {
      body = render_metrics(*impl.state, impl.run_id);
    } else {
      Exposition e(impl.run_id);  // before the run starts: only that it is there
      e.family("synwave_info", "gauge", "1 while synwave runs");
      e.sample("synwave_info", "", std::uint64_t{1});
      body = e.take();
    }
  }
  mg_send_http_ok(conn, "text/plain; version=0.0.4; charset=utf-8", static_cast<long long>(body.size()));
  if (!head) mg_write(conn, body.data(), body.size());
  return 200;
}

}  // namespace

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  attach(nullptr);
  mg_stop(impl_->context);
  mg_exit_library();
}

void MetricsServer::attach(const RunState* state) {
  std::lock_guard lock(impl_->mutex);
  impl_->state = state;
}

std::unique_ptr<MetricsServer> MetricsServer::start(const std::string& address, std::string run_id, std::string& error) {
  mg_init_library(0);
  auto impl = std::make_unique<Impl>();
  impl->run_id = std::move(run_id);
  mg_callbacks callbacks{};
  callbacks.log_message = log_message;
  // Two threads: Prometheus scrapes one at a time per target; a second lets a curl in meanwhile.
  const char* options[] = {"listening_ports", address.c_str(), "num_threads", "2", "request_timeout_ms", "10000", nullptr};
  char text[256] = "";
  unsigned code = 0;
  mg_error_data err{&code, text, sizeof text};
  mg_init_data init{&callbacks, impl.get(), options};
  impl->context = mg_start2(&init, &err);
  if (impl->context == nullptr) {
    mg_exit_library();
    error = "--metrics " + address + ": cannot listen there (" + (text[0] != 0 ? std::string(text) : "civetweb said nothing") +
            "): give a free port and an address of this host (0.0.0.0 for all)";
    return nullptr;
  }
  mg_set_request_handler(impl->context, "/metrics", serve_metrics, impl.get());
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

}  // namespace synwave::app
