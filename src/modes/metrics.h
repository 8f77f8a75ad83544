#pragma once
// MetricsServer (--metrics-addr): serves every stage's counters at /metrics
// in Prometheus' text exposition format, from HTTP server threads of its
// own (civetweb, a shared library from Debian). Each scrape reads the
// stages' atomic counters, the same snapshot SIGUSR1 prints: nothing is
// locked or added on the data path.
//
// Metric names: netdisp_<role>_<stat>_total for counters and
// netdisp_<role>_<stat> for gauges (stage/stats.h), with the labels mode,
// listen (the pipe's input), destination (sinks) and peer (a stream
// connection's); netdisp_info{version,mode} is 1.
#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "net/address.h"
#include "stage/stats.h"

struct mg_context;
struct mg_connection;

namespace netdisp::modes {

// The exposition text for one scrape.
std::string prometheus_text(const stage::StatsRows& rows, std::string_view mode);

class MetricsServer {
 public:
  using Stats = std::function<stage::StatsRows()>;

  // Binds and starts its threads now, answering 503 until start(): throws
  // net::Error naming the address when it cannot bind (in use, not local).
  // Call with the handled signals blocked (its threads inherit that).
  MetricsServer(const net::Address& address, std::string mode);
  ~MetricsServer();  // stops serving and joins its threads
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Serves `stats` from now on; call once.
  void start(Stats stats);

 private:
  static int handle(mg_connection* connection, void* self);

  std::string mode_;
  Stats stats_;
  std::atomic<bool> started_{false};
  mg_context* context_ = nullptr;
};

}  // namespace netdisp::modes
