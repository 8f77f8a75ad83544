#include "modes/monitor.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>

#include "modes/common.h"
#include "modes/progress.h"
#include "modes/supervisor.h"
#include "net/error.h"

namespace netdisp::modes {
namespace {

// JSON string contents: quotes, backslashes and control characters escaped.
void append_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
}

void append_field(std::string& out, std::string_view key, std::string_view value) {
  out += '"';
  out += key;
  out += "\":\"";
  append_escaped(out, value);
  out += "\",";
}

// RFC 3339, UTC, milliseconds: "2026-12-02T07:40:00.123Z".
std::string utc_now() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::tm utc{};
  ::gmtime_r(&now.tv_sec, &utc);
  char text[32];
  std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", std::string_view(text, length), now.tv_nsec / 1000000);
}

// The same stage in successive snapshots (a TCP client's rows carry its peer).
std::string row_key(const stage::StageStats& row) {
  return fmt::format("{}|{}|{}|{}", stage::role_name(row.role), row.input, row.endpoint, row.peer);
}

// "12.3 Mbit/s": bits per second with SI prefixes, as pv and iperf3 print rates.
std::string bit_rate(double bytes_per_second) {
  double bits = bytes_per_second * 8;
  if (bits >= 1e9) return fmt::format("{:.2f} Gbit/s", bits / 1e9);
  if (bits >= 1e6) return fmt::format("{:.2f} Mbit/s", bits / 1e6);
  if (bits >= 1e3) return fmt::format("{:.2f} kbit/s", bits / 1e3);
  return fmt::format("{:.0f} bit/s", bits);
}

}  // namespace

void add_monitoring_options(cxxopts::Options& options) {
  options.add_options("monitoring")
      ("stats-interval,stats_interval", "print every stage's counters and rates every SECONDS (fractions allowed; "
       "default: only on SIGUSR1 and at exit)", cxxopts::value<std::string>(), "SECONDS")
      ("stats-format,stats_format", "counters as text log lines or as one JSON object per stage and line, for "
       "--stats-interval, SIGUSR1 and the exit summary: text|json (default text)",
       cxxopts::value<std::string>(), "text|json")
      ("metrics-addr,metrics_addr", "serve the counters for Prometheus at http://ADDR:PORT/metrics (port 0: any "
       "free port, logged; default: none, no HTTP server)", cxxopts::value<std::string>(), "ADDR:PORT");
}

Monitoring monitoring(const cxxopts::ParseResult& result, const std::string& program) {
  Monitoring settings;
  settings.mode = program.starts_with("nd") ? program.substr(2) : program;
  if (result.count("stats-interval")) {
    double seconds = number(result, "stats-interval", 0, 0.001, 86400);
    settings.interval = std::chrono::milliseconds(static_cast<long>(seconds * 1000 + 0.5));
  }
  std::string format = single(result, "stats-format", "text");
  if (format == "json") {
    settings.format = StatsFormat::kJson;
  } else if (format != "text") {
    throw net::UsageError("--stats-format " + format + ": expected text or json");
  }
  if (result.count("metrics-addr")) {
    std::string text = single(result, "metrics-addr", "");
    try {
      settings.metrics = net::parse_address(text, net::PortRule::kZeroAllowed);
    } catch (const net::UsageError& e) {
      throw net::UsageError("--metrics-addr " + text + ": " + e.what());
    }
    if (settings.metrics->is_unix() || settings.metrics->is_multicast())
      throw net::UsageError("--metrics-addr " + text + ": expected a local IP address and port, e.g. 127.0.0.1:9100");
  }
  return settings;
}

std::vector<std::string> StatsPrinter::lines(const stage::StatsRows& rows, std::string_view event) {
  bool interval = event == "interval";
  auto now = std::chrono::steady_clock::now();
  double seconds = std::chrono::duration<double>(now - last_time_).count();
  std::map<std::string, Sample> current;
  std::vector<std::string> out;
  std::string time = format_ == StatsFormat::kJson ? utc_now() : "";
  if (format_ == StatsFormat::kText && !interval) out.push_back(std::string(event == "summary" ? "summary" : "counters (SIGUSR1)") + ":");
  for (const stage::StageStats& row : rows) {
    Sample sample{row.get(stage::Stat::kDatagrams), row.get(stage::Stat::kBytes)};
    Sample rate{};  // per second, rounded down
    if (interval) {
      std::string key = row_key(row);
      Sample before = last_.count(key) ? last_[key] : Sample{};
      if (seconds > 0) {
        rate.datagrams = static_cast<std::uint64_t>(static_cast<double>(sample.datagrams - before.datagrams) / seconds);
        rate.bytes = static_cast<std::uint64_t>(static_cast<double>(sample.bytes - before.bytes) / seconds);
      }
      current[key] = sample;
    }
    if (format_ == StatsFormat::kJson) {
      out.push_back(json(row, event, time, interval ? &rate : nullptr, seconds));
    } else if (interval) {
      out.push_back(fmt::format("{}; in the last {:.1f} s: {} datagrams/s, {}", row.text, seconds, rate.datagrams,
                                bit_rate(static_cast<double>(rate.bytes))));
    } else {
      out.push_back(row.text);
    }
  }
  if (interval) {
    last_ = std::move(current);  // rows that are gone (a client left) are forgotten
    last_time_ = now;
  }
  return out;
}

std::string StatsPrinter::json(const stage::StageStats& row, std::string_view event, const std::string& time,
                               const Sample* rate, double seconds) const {
  std::string out = "{";
  append_field(out, "time", time);
  append_field(out, "mode", mode_);
  append_field(out, "event", event);
  append_field(out, "role", stage::role_name(row.role));
  append_field(out, "endpoint", row.endpoint);
  if (!row.input.empty()) append_field(out, "input", row.input);
  if (!row.peer.empty()) append_field(out, "peer", row.peer);
  std::string counters, gauges;
  for (const auto& [stat, value] : row.values) {
    const stage::StatInfo& info = stage::info(stat);
    std::string& to = info.gauge ? gauges : counters;
    to += fmt::format("{}\"{}\":{}", to.empty() ? "" : ",", info.name, value);
  }
  out += "\"counters\":{" + counters + "},\"gauges\":{" + gauges + "}";
  if (rate)
    out += fmt::format(",\"interval_seconds\":{:.3f},\"rates\":{{\"datagrams_per_second\":{},\"bytes_per_second\":{}}}",
                       seconds, rate->datagrams, rate->bytes);
  return out + "}";
}

void StatsPrinter::print(const stage::StatsRows& rows, std::string_view event) {
  for (const std::string& line : lines(rows, event)) {
    if (format_ == StatsFormat::kText) {
      report(line);
      continue;
    }
    // One whole line per fwrite: stdio locks stderr around it, as it does for
    // the log's own writes, so lines never mix.
    std::string whole = line + "\n";
    erase_progress_line();  // the client's, if a terminal shows it (modes/progress.h)
    std::fwrite(whole.data(), 1, whole.size(), stderr);
    std::fflush(stderr);
  }
}

}  // namespace netdisp::modes
