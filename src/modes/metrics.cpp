#include "modes/metrics.h"

#include <httplib.h>
#include <netdb.h>
#include <spdlog/spdlog.h>

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

// The numeric host httplib binds to: "127.0.0.1", "::1".
std::string numeric_host(const net::Address& address) {
  char host[NI_MAXHOST];
  if (::getnameinfo(address.get(), address.length(), host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0)
    throw net::Error("--metrics-addr " + address.to_string() + ": not an IP address");
  return host;
}

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

MetricsServer::MetricsServer(const net::Address& address, std::string mode)
    : server_(std::make_unique<httplib::Server>()), mode_(std::move(mode)) {
  // One worker: a scrape is short, and each idle thread costs memory.
  server_->new_task_queue = [] { return new httplib::ThreadPool(1); };
  server_->set_keep_alive_max_count(100);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a
  // second process would share the port instead of failing to bind it.
  server_->set_socket_options([](int fd) {
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  });
  std::string host = numeric_host(address);
  int port = address.port();
  bool bound = port == 0 ? (port = server_->bind_to_any_port(host)) > 0 : server_->bind_to_port(host, port);
  if (!bound) throw net::Error("--metrics-addr " + address.to_string() + ": " + net::errno_text(errno));
  std::string shown = address.family() == AF_INET6 ? "[" + host + "]" : host;
  spdlog::info("metrics on http://{}:{}/metrics", shown, port);
}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void MetricsServer::start(Stats stats) {
  stats_ = std::move(stats);
  // Routed by hand, not by Server::Get: its patterns are std::regex, which
  // would cost the binary more than the whole HTTP server.
  server_->set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
    if (request.path != "/metrics") {
      response.status = 404;
      response.set_content("not found: the counters are at /metrics\n", "text/plain");
    } else if (request.method != "GET" && request.method != "HEAD") {
      response.status = 405;
      response.set_header("Allow", "GET, HEAD");
    } else {
      response.set_content(prometheus_text(stats_(), mode_), "text/plain; version=0.0.4; charset=utf-8");
    }
    return httplib::Server::HandlerResponse::Handled;
  });
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

}  // namespace netdisp::modes
