// The stats rows' output formats: JSON lines (--stats-format json) and the
// Prometheus text (--metrics-addr), including names that need escaping.
#include <catch2/catch.hpp>

#include "modes/metrics.h"
#include "modes/monitor.h"
#include "stage/stats.h"

using namespace netdisp;

namespace {

stage::StatsRows sample_rows(std::uint64_t bytes) {
  stage::StatsRows rows(2);
  stage::StageStats& source = rows[0];
  source.endpoint = "unixgram:///run/a \"b\"\\c";
  source.text = "unixgram /run/a: received";
  source.set(stage::Stat::kDatagrams, bytes / 100).set(stage::Stat::kBytes, bytes).set(stage::Stat::kKernelDrops, 3);
  stage::StageStats& sink = rows[1];
  sink.role = stage::StageStats::Role::kSink;
  sink.endpoint = "file:/var/log/x\nlog";
  sink.input = source.endpoint;
  sink.set(stage::Stat::kBytes, bytes).set(stage::Stat::kBufferedBytes, 7);
  return rows;
}

}  // namespace

TEST_CASE("JSON lines escape names and keep counters and gauges apart", "[stats]") {
  modes::Monitoring monitoring;
  monitoring.mode = "server";
  monitoring.format = modes::StatsFormat::kJson;
  modes::StatsPrinter printer(monitoring);
  std::vector<std::string> lines = printer.lines(sample_rows(1000), "summary");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find(R"("endpoint":"unixgram:///run/a \"b\"\\c")") != std::string::npos);
  CHECK(lines[0].find(R"("counters":{"datagrams":10,"bytes":1000,"kernel_drops":3},"gauges":{}})") !=
        std::string::npos);
  CHECK(lines[1].find(R"("endpoint":"file:/var/log/x\u000alog")") != std::string::npos);
  CHECK(lines[1].find(R"("gauges":{"buffered_bytes":7})") != std::string::npos);
  CHECK(lines[1].find("\"rates\"") == std::string::npos);  // only interval lines have rates
}

TEST_CASE("interval lines give rates since the last interval", "[stats]") {
  modes::Monitoring monitoring;
  monitoring.mode = "server";
  modes::StatsPrinter printer(monitoring);
  printer.lines(sample_rows(1000), "interval");
  std::vector<std::string> lines = printer.lines(sample_rows(1000), "interval");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("; in the last ") != std::string::npos);
  CHECK(lines[0].find(" s: 0 datagrams/s, 0 bit/s") != std::string::npos);  // nothing new since
  std::vector<std::string> summary = printer.lines(sample_rows(1000), "summary");
  REQUIRE(summary.size() == 3);
  CHECK(summary[0] == "summary:");
}

TEST_CASE("Prometheus text: one family per metric, labels escaped", "[stats]") {
  std::string text = modes::prometheus_text(sample_rows(1000), "server");
  CHECK(text.find("# TYPE netdisp_source_bytes_total counter\n"
                  "netdisp_source_bytes_total{mode=\"server\",listen=\"unixgram:///run/a \\\"b\\\"\\\\c\"} 1000\n") !=
        std::string::npos);
  CHECK(text.find("netdisp_sink_buffered_bytes{mode=\"server\",listen=\"unixgram:///run/a \\\"b\\\"\\\\c\","
                  "destination=\"file:/var/log/x\\nlog\"} 7\n") != std::string::npos);
  CHECK(text.find("# TYPE netdisp_sink_buffered_bytes gauge\n") != std::string::npos);
  CHECK(text.find("netdisp_info{version=") != std::string::npos);
  // Each family's HELP and TYPE once.
  std::size_t first = text.find("# TYPE netdisp_sink_bytes_total");
  CHECK(text.find("# TYPE netdisp_sink_bytes_total", first + 1) == std::string::npos);
}
