#pragma once
// MetricsServer (--metrics-addr): serves every stage's counters at /metrics
// in Prometheus' text exposition format, from an HTTP server thread of its
// own (cpp-httplib). Each scrape reads the stages' atomic counters, the same
// snapshot SIGUSR1 prints: nothing is locked or added on the data path.
//
// Metric names: netdisp_<role>_<stat>_total for counters and
// netdisp_<role>_<stat> for gauges (stage/stats.h), with the labels mode,
// listen (the pipe's input), destination (sinks) and peer (a stream
// connection's); netdisp_info{version,mode} is 1.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "net/address.h"
#include "stage/stats.h"

namespace httplib {
class Server;
}

namespace netdisp::modes {

// The exposition text for one scrape.
std::string prometheus_text(const stage::StatsRows& rows, std::string_view mode);

class MetricsServer {
 public:
  using Stats = std::function<stage::StatsRows()>;

  // Binds now: throws net::Error naming the address when it cannot (in use,
  // not local). Call with the handled signals blocked (the server's threads
  // inherit that).
  MetricsServer(const net::Address& address, std::string mode);
  ~MetricsServer();  // stops serving and joins

  // Serves `stats` until destruction.
  void start(Stats stats);

 private:
  std::unique_ptr<httplib::Server> server_;
  std::string mode_;
  Stats stats_;
  std::thread thread_;
};

}  // namespace netdisp::modes
