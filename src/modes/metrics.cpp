#include "modes/metrics.h"

#include <civetweb.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <mutex>

#include "net/error.h"
#include "version.h"

namespace netdisp::modes {
namespace {

// A label value: backslash, double quote and newline escaped.
std::string label_value(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string labels(const stage::StageStats& row, std::string_view mode) {
  bool sink = row.role == stage::StageStats::Role::kSink;
  std::string out = fmt::format("mode=\"{}\",listen=\"{}\"", label_value(mode),
                                label_value(sink ? row.input : row.endpoint));
  if (sink) out += fmt::format(",destination=\"{}\"", label_value(row.endpoint));
  if (!row.peer.empty()) out += fmt::format(",peer=\"{}\"", label_value(row.peer));
  return out;
}

// civetweb reports why it could not start (a bind error) through this
// callback only; the constructor turns the first such line into its error.
thread_local std::string start_error;
int keep_log_message(const mg_connection* /*connection*/, const char* message) {
  if (start_error.empty()) start_error = message;
  spdlog::debug("metrics: {}", message);
  return 1;  // handled: civetweb prints nothing itself
}

constexpr unsigned kFeatureIpv6 = 8;  // mg_check_feature()

}  // namespace

std::string prometheus_text(const stage::StatsRows& rows, std::string_view mode) {
  std::string out = fmt::format(
      "# HELP netdisp_info netdisp's version and mode (always 1)\n# TYPE netdisp_info gauge\n"
      "netdisp_info{{version=\"{}\",mode=\"{}\"}} 1\n",
      NETDISP_VERSION, label_value(mode));
  // One family per role and stat, every series of it together, as the format asks.
  for (auto role : {stage::StageStats::Role::kSource, stage::StageStats::Role::kSink,
                    stage::StageStats::Role::kListener}) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(stage::Stat::kCount); ++i) {
      auto stat = static_cast<stage::Stat>(i);
      const stage::StatInfo& info = stage::info(stat);
      std::string name = fmt::format("netdisp_{}_{}{}", stage::role_name(role), info.name, info.gauge ? "" : "_total");
      bool first = true;
      for (const stage::StageStats& row : rows) {
        if (row.role != role) continue;
        for (const auto& [which, value] : row.values) {
          if (which != stat) continue;
          if (first)
            out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, info.help, name, info.gauge ? "gauge" : "counter");
          first = false;
          out += fmt::format("{}{{{}}} {}\n", name, labels(row, mode), value);
        }
      }
    }
  }
  return out;
}

MetricsServer::MetricsServer(const net::Address& address, std::string mode) : mode_(std::move(mode)) {
  static std::once_flag library;
  std::call_once(library, [] { mg_init_library(0); });
  std::string shown = address.to_string();
  if (address.family() == AF_INET6 && !mg_check_feature(kFeatureIpv6))
    throw net::Error("--metrics-addr " + shown + ": this system's civetweb was built without IPv6; use an IPv4 "
                     "address such as 127.0.0.1:" + std::to_string(address.port()));
  // Two workers: Prometheus and a curl by hand at once. Connections close
  // after each answer (civetweb's default), so neither holds a worker.
  const char* options[] = {"listening_ports", shown.c_str(), "num_threads", "2", nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = keep_log_message;
  start_error.clear();
  context_ = mg_start(&callbacks, this, options);
  if (!context_) {
    std::string why = start_error.empty() ? "cannot listen" : start_error;
    throw net::Error("--metrics-addr " + shown + ": " + why);
  }
  mg_set_request_handler(context_, "/metrics$", handle, this);
  mg_server_port port{};
  if (mg_get_server_ports(context_, 1, &port) == 1) {
    std::string host = shown.substr(0, shown.rfind(':'));
    spdlog::info("metrics on http://{}:{}/metrics", host, port.port);
  }
}

MetricsServer::~MetricsServer() {
  if (context_) mg_stop(context_);
}

void MetricsServer::start(Stats stats) {
  stats_ = std::move(stats);
  started_.store(true, std::memory_order_release);
}

int MetricsServer::handle(mg_connection* connection, void* self) {
  auto& server = *static_cast<MetricsServer*>(self);
  const mg_request_info* request = mg_get_request_info(connection);
  bool head = std::strcmp(request->request_method, "HEAD") == 0;
  if (!head && std::strcmp(request->request_method, "GET") != 0) {
    mg_send_http_error(connection, 405, "only GET and HEAD\n");
    return 405;
  }
  if (!server.started_.load(std::memory_order_acquire)) {
    mg_send_http_error(connection, 503, "starting\n");
    return 503;
  }
  std::string text = prometheus_text(server.stats_(), server.mode_);
  mg_send_http_ok(connection, "text/plain; version=0.0.4; charset=utf-8", static_cast<long long>(text.size()));
  if (!head) mg_write(connection, text.data(), text.size());
  return 200;
}

}  // namespace netdisp::modes
