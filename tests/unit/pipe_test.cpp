#include "stage/pipe.h"

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "net/error.h"
#include "stage/file_sink.h"
#include "stage/file_source.h"
#include "stage/udp_sink.h"
#include "stage/udp_source.h"
#include "testing.h"

using namespace netdisp;
using namespace netdisp::stage;

namespace {

// Hands out the given datagrams, `per_batch` at a time, then ends.
class ListSource final : public Source {
 public:
  ListSource(std::vector<std::string> datagrams, std::size_t per_batch)
      : datagrams_(std::move(datagrams)), per_batch_(per_batch) {}
  ReadStatus read(Batch& batch) override {
    if (next_ == datagrams_.size()) return ReadStatus::kEnd;
    views_.clear();
    std::size_t bytes = 0;
    for (; next_ < datagrams_.size() && views_.size() < per_batch_; ++next_) {
      views_.push_back({datagrams_[next_].data(), datagrams_[next_].size()});
      bytes += datagrams_[next_].size();
    }
    batch = Batch{views_, bytes};
    return ReadStatus::kData;
  }
  int poll_fd() const override { return -1; }
  void report(stage::StatsRows& rows) const override { rows.emplace_back().text = "list"; }

 private:
  std::vector<std::string> datagrams_;
  std::size_t per_batch_;
  std::size_t next_ = 0;
  std::vector<iovec> views_;
};

// Records every datagram; gives up (returns false) after `limit` batches.
class RecordingSink final : public Sink {
 public:
  explicit RecordingSink(std::vector<std::string>& out, std::size_t limit = SIZE_MAX) : out_(out), limit_(limit) {}
  bool write(const Batch& batch) override {
    for (const iovec& d : batch.datagrams) out_.emplace_back(static_cast<const char*>(d.iov_base), d.iov_len);
    return ++batches_ < limit_;
  }
  void flush() override { flushed = true; }
  void report(stage::StatsRows& rows) const override { rows.emplace_back().text = "recording"; }
  bool flushed = false;

 private:
  std::vector<std::string>& out_;
  std::size_t limit_;
  std::size_t batches_ = 0;
};

std::vector<std::string> numbered(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("datagram " + std::to_string(i) + (i % 3 ? "" : std::string(i, 'x')));
  return out;
}

std::string temp_path(const char* name) {
  return "/tmp/netdisp_unit_" + std::to_string(::getpid()) + "_" + name;
}

}  // namespace

TEST_CASE("a pipe hands every batch to every sink, in order, and flushes at the end", "[pipe]") {
  auto input = numbered(100);
  std::vector<std::string> a, b;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<RecordingSink>(a));
  sinks.push_back(std::make_unique<RecordingSink>(b));
  auto* first = static_cast<RecordingSink*>(sinks[0].get());
  Pipe pipe(std::make_unique<ListSource>(input, 7), std::move(sinks));
  Control control;
  pipe.run(control);
  CHECK(a == input);
  CHECK(b == input);
  CHECK(first->flushed);
}

TEST_CASE("a sink whose peer is gone stops receiving, the others go on", "[pipe]") {
  auto input = numbered(50);
  std::vector<std::string> quitter, stayer;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<RecordingSink>(quitter, 2));
  sinks.push_back(std::make_unique<RecordingSink>(stayer));
  Pipe pipe(std::make_unique<ListSource>(input, 10), std::move(sinks));
  Control control;
  pipe.run(control);
  CHECK(quitter.size() == 20);
  CHECK(stayer == input);
}

// Records the size of every write (how the pipe sliced its batches).
class SliceSink final : public Sink {
 public:
  explicit SliceSink(std::vector<std::size_t>& writes) : writes_(writes) {}
  bool write(const Batch& batch) override {
    writes_.push_back(batch.datagrams.size());
    return true;
  }
  void report(stage::StatsRows& rows) const override { rows.emplace_back().text = "slices"; }

 private:
  std::vector<std::size_t>& writes_;
};

TEST_CASE("under a rate, a batch leaves in slices of about a millisecond's data", "[pipe]") {
  std::vector<std::string> input(100, std::string(1000, 'd'));
  std::vector<std::string> got;
  std::vector<std::size_t> writes;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<RecordingSink>(got));
  sinks.push_back(std::make_unique<SliceSink>(writes));
  Pipe pipe(std::make_unique<ListSource>(input, 100), std::move(sinks));
  pipe.set_rate(10e6);  // 10,000 bytes a millisecond: 10 datagrams a slice
  Control control;
  pipe.run(control);
  CHECK(got == input);
  CHECK(writes == std::vector<std::size_t>(10, 10));
}

TEST_CASE("under a rate lower than one datagram a millisecond, datagrams go one at a time", "[pipe]") {
  std::vector<std::string> input(20, std::string(1000, 'd'));
  std::vector<std::size_t> writes;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<SliceSink>(writes));
  Pipe pipe(std::make_unique<ListSource>(input, 20), std::move(sinks));
  pipe.set_rate(5e5);  // 500 bytes a millisecond
  Control control;
  pipe.run(control);
  CHECK(writes == std::vector<std::size_t>(20, 1));
}

// Records when each datagram was written; requests a stop after `stop_after` of them.
class ClockSink final : public Sink {
 public:
  ClockSink(std::vector<std::chrono::steady_clock::time_point>& times, Control& control, std::size_t stop_after)
      : times_(times), control_(control), stop_after_(stop_after) {}
  bool write(const Batch& batch) override {
    for (std::size_t i = 0; i < batch.datagrams.size(); ++i) times_.push_back(std::chrono::steady_clock::now());
    if (times_.size() >= stop_after_) control_.request_stop();
    return true;
  }
  void report(stage::StatsRows& rows) const override { rows.emplace_back().text = "clock"; }

 private:
  std::vector<std::chrono::steady_clock::time_point>& times_;
  Control& control_;
  std::size_t stop_after_;
};

TEST_CASE("under a rate below one datagram a second, each datagram waits until it is due", "[pipe]") {
  using namespace std::chrono;
  std::vector<steady_clock::time_point> times;
  Control control;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<ClockSink>(times, control, 2));
  Pipe pipe(std::make_unique<ListSource>(std::vector<std::string>(3, std::string(1000, 'd')), 3), std::move(sinks));
  pipe.set_rate(800);  // 1.25 s per datagram: more than the pacer's 1 s step
  auto start = steady_clock::now();
  pipe.run(control);
  auto total = steady_clock::now() - start;
  REQUIRE(times.size() == 2);
  CHECK(times[1] - times[0] >= milliseconds(1200));
  // The stop requested with the second datagram ends the pause after it at once.
  CHECK(total < milliseconds(1800));
}

// Sends `datagrams` into a fresh listener (loopback delivers them at once) and
// returns the source reading it, its queue full.
std::unique_ptr<UdpSource> queued_source(const std::vector<std::string>& datagrams, bool gro) {
  net::SocketOptions options;
  options.gro = gro;
  auto listener = net::open_udp_listener(net::parse_address("127.0.0.1:0", net::PortRule::kZeroAllowed), options);
  net::Address bound = listener.bound;
  auto source = std::make_unique<UdpSource>(std::move(listener), net::AccessList());
  UdpSink sink({bound}, {}, gro);
  std::vector<iovec> views;
  for (const auto& d : datagrams) views.push_back({const_cast<char*>(d.data()), d.size()});
  REQUIRE(sink.write(Batch{views, 0}));
  return source;
}

TEST_CASE("a stopping pipe first writes what its socket had queued", "[pipe]") {
  auto input = numbered(200);
  std::vector<std::string> got;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<RecordingSink>(got));
  auto source = queued_source(input, false);
  auto* udp = source.get();
  Pipe pipe(std::move(source), std::move(sinks));
  Control control;
  control.request_stop();
  pipe.run(control);
  CHECK(got == input);
  CHECK(udp->stats().find("discarded") == std::string::npos);
}

TEST_CASE("with no drain timeout, what a stopping pipe's socket had queued is counted as discarded", "[pipe]") {
  std::vector<std::string> input(20, std::string(1000, 'q'));
  std::vector<std::string> got;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<RecordingSink>(got));
  bool gro = GENERATE(false, true);  // with GRO, a coalesced message counts as every datagram in it
  auto source = queued_source(input, gro);
  auto* udp = source.get();
  Pipe pipe(std::move(source), std::move(sinks));
  pipe.set_drain_timeout(0);
  Control control;
  control.request_stop();
  pipe.run(control);
  CHECK(got.empty());
  CHECK(udp->stats().find("received 0 datagrams") != std::string::npos);
  CHECK(udp->stats().find("; 20 datagrams (20000 bytes) discarded at stop") != std::string::npos);
}

TEST_CASE("a stop request ends a pipe blocked on an idle socket", "[pipe]") {
  auto listener = net::open_udp_listener(net::parse_address("127.0.0.1:0", net::PortRule::kZeroAllowed), {});
  std::vector<std::string> got;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<RecordingSink>(got));
  Pipe pipe(std::make_unique<UdpSource>(std::move(listener), net::AccessList()), std::move(sinks));
  Control control;
  std::thread runner([&] { pipe.run(control); });
  control.request_stop();
  runner.join();  // would hang if the stop were not noticed
  CHECK(got.empty());
}

TEST_CASE("datagrams sent by a UdpSink arrive whole and in order at a UdpSource", "[pipe]") {
  auto listener = net::open_udp_listener(net::parse_address("127.0.0.1:0", net::PortRule::kZeroAllowed), {});
  net::Address bound = listener.bound;
  UdpSource source(std::move(listener), net::AccessList());
  UdpSink sink({bound}, {});
  std::vector<std::string> input{"", "one", std::string(65507, 'z'), "three"};
  std::vector<iovec> views;
  for (auto& d : input) views.push_back({d.data(), d.size()});
  REQUIRE(sink.write(Batch{views, 0}));

  std::vector<std::string> got;
  for (int tries = 0; got.size() < input.size() && tries < 100; ++tries) {
    Batch batch;
    if (source.read(batch) == ReadStatus::kWouldBlock) {
      pollfd ready{source.poll_fd(), POLLIN, 0};
      ::poll(&ready, 1, 100);  // deadline: 100 tries of at most 100 ms
      continue;
    }
    for (const iovec& d : batch.datagrams) got.emplace_back(static_cast<const char*>(d.iov_base), d.iov_len);
  }
  CHECK(got == input);
  CHECK(source.stats().find("received 4 datagrams") != std::string::npos);
}

TEST_CASE("a FileSource slices its input into datagrams of at most --datagram-size", "[pipe]") {
  std::string path = temp_path("source");
  std::string content(10000, 'a');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 26);
  std::ofstream(path) << content;
  FileSource source(path, 4096);
  Batch batch;
  REQUIRE(source.read(batch) == ReadStatus::kData);
  REQUIRE(batch.datagrams.size() == 3);
  CHECK(batch.datagrams[0].iov_len == 4096);
  CHECK(batch.datagrams[2].iov_len == 10000 - 2 * 4096);
  CHECK(batch.bytes == 10000);
  CHECK(source.read(batch) == ReadStatus::kEnd);
  std::remove(path.c_str());
}

TEST_CASE("a FileSource refuses a directory and a missing file, naming the path", "[pipe]") {
  CHECK_THROWS_WITH(FileSource("/tmp", 100), "open --path /tmp: Is a directory");
  CHECK_THROWS_AS(FileSource("/nonexistent/file", 100), net::Error);
}

TEST_CASE("a FileSink appends, never truncates, and reopens after SIGHUP", "[pipe]") {
  std::string path = temp_path("sink");
  std::string moved = path + ".1";
  std::ofstream(path) << "old|";
  Control control;
  FileSink sink(path, control, false);
  std::string a = "first|", b = "second";
  iovec one{a.data(), a.size()}, two{b.data(), b.size()};
  sink.write(Batch{std::span<const iovec>(&one, 1), a.size()});
  std::rename(path.c_str(), moved.c_str());
  control.request_reopen();
  sink.write(Batch{std::span<const iovec>(&two, 1), b.size()});
  std::stringstream before, after;
  before << std::ifstream(moved).rdbuf();
  after << std::ifstream(path).rdbuf();
  CHECK(before.str() == "old|first|");
  CHECK(after.str() == "second");
  std::remove(path.c_str());
  std::remove(moved.c_str());
}

TEST_CASE("a FileSink on a full disk counts the loss and keeps going", "[pipe]") {
  Control control;
  FileSink sink("/dev/full", control, false);
  std::string data = "lost";
  iovec view{data.data(), data.size()};
  CHECK(sink.write(Batch{std::span<const iovec>(&view, 1), data.size()}));
  CHECK(sink.stats().find("4 bytes lost to 1 write errors") != std::string::npos);
  FileSink strict("/dev/full", control, true);
  CHECK_THROWS_AS(strict.write(Batch{std::span<const iovec>(&view, 1), data.size()}), net::Error);
}

TEST_CASE("an idle FileSink reopens its file on the tick after SIGHUP", "[pipe]") {
  std::string path = temp_path("idle");
  std::string moved = path + ".1";
  Control control;
  FileSink sink(path, control, false);
  std::rename(path.c_str(), moved.c_str());
  CHECK(::access(path.c_str(), F_OK) != 0);
  CHECK(sink.on_ready(0));
  CHECK(::access(path.c_str(), F_OK) != 0);  // no SIGHUP yet: nothing to reopen
  control.request_reopen();
  CHECK(sink.on_ready(0));
  CHECK(::access(path.c_str(), F_OK) == 0);
  std::remove(path.c_str());
  std::remove(moved.c_str());
}
