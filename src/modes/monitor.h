#pragma once
// Monitoring: how a running mode shows its counters. --stats-interval prints
// every stage's row each interval with its rates; --stats-format json makes
// that, SIGUSR1's output and the exit summary one JSON object per stage and
// line (keys: README, "Monitoring"); --metrics-addr serves them to Prometheus
// (modes/metrics.h).
#include <chrono>
#include <cxxopts.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.h"
#include "stage/stats.h"

namespace netdisp::modes {

enum class StatsFormat { kText, kJson };

struct Monitoring {
  std::string mode;                     // "server", "client" ...
  StatsFormat format = StatsFormat::kText;
  std::chrono::milliseconds interval{0};  // --stats-interval; 0: none
  std::optional<net::Address> metrics;    // --metrics-addr
};

// --stats-interval, --stats-format, --metrics-addr (every mode has them).
void add_monitoring_options(cxxopts::Options& options);
// Reads them; throws net::UsageError naming the option. `program` is "ndserver" ...
Monitoring monitoring(const cxxopts::ParseResult& result, const std::string& program);

// Turns rows of counters into the lines one event prints. Remembers the last
// interval's counters, for rates. Used by the supervisor's thread only.
class StatsPrinter {
 public:
  explicit StatsPrinter(const Monitoring& monitoring) : mode_(monitoring.mode), format_(monitoring.format) {}

  // event: "summary", "counters" (SIGUSR1) or "interval" (rates since the
  // last interval, or since the start).
  std::vector<std::string> lines(const stage::StatsRows& rows, std::string_view event);
  // Writes those lines on stderr: text as log lines, whatever -q says; JSON
  // unprefixed, one object a line.
  void print(const stage::StatsRows& rows, std::string_view event);

 private:
  struct Sample {
    std::uint64_t datagrams = 0, bytes = 0;
  };
  std::string json(const stage::StageStats& row, std::string_view event, const std::string& time,
                   const Sample* rate, double seconds) const;

  std::string mode_;
  StatsFormat format_;
  std::map<std::string, Sample> last_;  // per row key, at the last interval
  std::chrono::steady_clock::time_point last_time_ = std::chrono::steady_clock::now();
};

}  // namespace netdisp::modes
