// StreamSource (datagram fill), LineSource (--lines on the sending side),
// LineSink (--lines, --prefix on a receiver) and a stream connection's line
// framing (framing.h), over real pipes and socket pairs.
#include <poll.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "fixtures.h"
#include "net/address.h"
#include "net/error.h"
#include "stage/framing.h"
#include "stage/line_sink.h"
#include "stage/line_source.h"
#include "stage/stream_source.h"
#include "testing.h"

using namespace netdisp;
using namespace netdisp::stage;
using namespace std::chrono_literals;

namespace {

using Fds = test::FdPair;
using test::make_pipe;
using test::make_socket_pair;
using test::put;

// The datagrams of one read() that returned data, waiting on poll_fd() up to
// `deadline`; empty when none came (or the source ended: *ended).
std::vector<std::string> next_datagrams(Source& source, std::chrono::milliseconds deadline, bool* ended = nullptr) {
  auto until = std::chrono::steady_clock::now() + deadline;
  Batch batch;
  while (std::chrono::steady_clock::now() < until) {
    ReadStatus status = source.read(batch);
    if (status == ReadStatus::kEnd) {
      if (ended) *ended = true;
      return {};
    }
    if (status == ReadStatus::kData) {
      std::vector<std::string> got;
      for (const iovec& d : batch.datagrams) got.emplace_back(static_cast<const char*>(d.iov_base), d.iov_len);
      return got;
    }
    pollfd ready{source.poll_fd(), POLLIN, 0};
    ::poll(&ready, 1, 50);
  }
  return {};
}

// Every datagram until the source ends (bounded).
std::vector<std::string> all_datagrams(Source& source) {
  std::vector<std::string> all;
  auto until = std::chrono::steady_clock::now() + 5s;
  bool ended = false;
  while (!ended && std::chrono::steady_clock::now() < until)
    for (std::string& d : next_datagrams(source, 1s, &ended)) all.push_back(std::move(d));
  REQUIRE(ended);
  return all;
}

class CaptureSink final : public Sink {
 public:
  bool write(const Batch& batch) override {
    ++writes;
    for (const iovec& d : batch.datagrams) text.append(static_cast<const char*>(d.iov_base), d.iov_len);
    return true;
  }
  void report(stage::StatsRows& rows) const override { rows.emplace_back().text = "capture"; }
  std::string text;
  int writes = 0;
};

Batch batch_of(const std::vector<std::string>& datagrams, std::vector<iovec>& storage) {
  storage.clear();
  std::size_t bytes = 0;
  for (const std::string& d : datagrams) {
    storage.push_back({const_cast<char*>(d.data()), d.size()});
    bytes += d.size();
  }
  return Batch{storage, bytes, {}};
}

}  // namespace

TEST_CASE("a StreamSource joins short reads into whole datagrams; a short one only at the end", "[line_framing]") {
  Fds fds = make_pipe();
  StreamSource source(std::move(fds.read), "pipe", 1316, 1000ms);
  std::string sent;
  for (int i = 0; i < 10; ++i) {
    std::string piece(1000, static_cast<char>('a' + i));
    put(fds.write, piece);
    sent += piece;
  }
  std::vector<std::string> got = next_datagrams(source, 2s);
  REQUIRE(got.size() == 7);  // 10000 bytes: 7 whole datagrams, 788 bytes held back
  for (const std::string& d : got) CHECK(d.size() == 1316);
  fds.write.reset();
  std::vector<std::string> rest = all_datagrams(source);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].size() == 10000 - 7 * 1316);
  std::string joined;
  for (const std::string& d : got) joined += d;
  CHECK(joined + rest[0] == sent);
  CHECK(source.reached_end());
}

TEST_CASE("a StreamSource sends a partial datagram once the input was idle for flush_after", "[line_framing]") {
  Fds fds = make_pipe();
  StreamSource source(std::move(fds.read), "pipe", 1316, 20ms);
  put(fds.write, "hello\n");
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> got = next_datagrams(source, 2s);
  auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE(got == std::vector<std::string>{"hello\n"});
  CHECK(waited >= 20ms);
  CHECK(waited < 1s);  // the pipe's poll woke for the deadline, not for its 1 s tick
  CHECK(source.idle_flushes() == 1);
}

TEST_CASE("--lines=1 sends one line per datagram, however the input was read", "[line_framing]") {
  Fds fds = make_pipe();
  auto reader = std::make_unique<StreamSource>(std::move(fds.read), "pipe", 7, 0ms);
  LineSource lines(std::move(reader), 100, 1, 1000ms);
  put(fds.write, "one\ntwo\nthr");
  put(fds.write, "ee\nfour\n");
  fds.write.reset();
  CHECK(all_datagrams(lines) == std::vector<std::string>{"one\n", "two\n", "three\n", "four\n"});
}

TEST_CASE("--lines packs as many whole lines as fit; a longer line is split, counted", "[line_framing]") {
  Fds fds = make_pipe();
  auto reader = std::make_unique<StreamSource>(std::move(fds.read), "pipe", 4096, 0ms);
  LineSource lines(std::move(reader), 10, 0, 1000ms);
  put(fds.write, "aaa\nbbb\nccc\n0123456789012345\nd\nunterminated");
  fds.write.reset();
  std::vector<std::string> got = all_datagrams(lines);
  CHECK(got == std::vector<std::string>{"aaa\nbbb\n", "ccc\n", "0123456789", "012345\nd\n", "unterminat", "ed"});
  CHECK(lines.stats().find("2 lines longer than --datagram-size sent in pieces") != std::string::npos);
  CHECK(lines.stats().find("1 unterminated lines sent") == std::string::npos);  // the last piece ends a long line
}

TEST_CASE("--lines=2 holds at most two lines; an unterminated line goes after flush_after idle", "[line_framing]") {
  Fds fds = make_pipe();
  auto reader = std::make_unique<StreamSource>(std::move(fds.read), "pipe", 4096, 0ms);
  LineSource lines(std::move(reader), 1000, 2, 30ms);
  put(fds.write, "1\n2\n3\n4\n5\npartial");
  std::vector<std::string> got = next_datagrams(lines, 2s);
  CHECK(got == std::vector<std::string>{"1\n2\n", "3\n4\n", "5\n"});
  auto start = std::chrono::steady_clock::now();
  got = next_datagrams(lines, 2s);
  CHECK(got == std::vector<std::string>{"partial"});
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(lines.stats().find("1 unterminated lines sent") != std::string::npos);
}

TEST_CASE("LineSink ends every datagram's last line and writes each batch in one call", "[line_framing]") {
  auto capture = std::make_unique<CaptureSink>();
  CaptureSink& out = *capture;
  LineSink sink(std::move(capture), LinePrefix{});
  std::vector<iovec> storage;
  std::vector<std::string> datagrams{"<13>msg one", "two\nthree\n", "", "four\nfive"};
  REQUIRE(sink.write(batch_of(datagrams, storage)));
  CHECK(out.text == "<13>msg one\ntwo\nthree\nfour\nfive\n");
  CHECK(out.writes == 1);
  CHECK(sink.stats() == "capture; --lines: 2 newlines added to unterminated datagrams");
}

TEST_CASE("--prefix peer,time puts the RFC 3339 time and the sender before every line", "[line_framing]") {
  auto capture = std::make_unique<CaptureSink>();
  CaptureSink& out = *capture;
  LineSink sink(std::move(capture), parse_line_prefix("peer,time"));
  std::vector<iovec> storage;
  std::vector<std::string> datagrams{"a\nb", "c\n"};
  Batch batch = batch_of(datagrams, storage);
  std::vector<net::Address> peers{net::parse_address("127.0.0.1:5000", net::PortRule::kNonZero),
                                  net::parse_address("[::1]:6000", net::PortRule::kNonZero)};
  batch.peers = peers;
  REQUIRE(sink.write(batch));
  std::regex line(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (\S+) (\w)\n)");
  std::vector<std::pair<std::string, std::string>> got;
  for (std::sregex_iterator it(out.text.begin(), out.text.end(), line), end; it != end; ++it)
    got.emplace_back((*it)[1], (*it)[2]);
  CHECK(got == std::vector<std::pair<std::string, std::string>>{
                   {"127.0.0.1:5000", "a"}, {"127.0.0.1:5000", "b"}, {"[::1]:6000", "c"}});
}

TEST_CASE("--prefix takes time, peer or both, nothing else", "[line_framing]") {
  CHECK(parse_line_prefix("time").time);
  CHECK(parse_line_prefix("peer").peer);
  CHECK_THROWS_AS(parse_line_prefix(""), net::UsageError);
  CHECK_THROWS_AS(parse_line_prefix("time,time"), net::UsageError);
  CHECK_THROWS_WITH(parse_line_prefix("host"), "--prefix host: expected time, peer or time,peer");
}

TEST_CASE("a stream connection is cut into whole lines; tails and long lines end with a newline", "[line_framing]") {
  Fds fds = make_socket_pair();
  Framing framing;
  framing.receive_lines = true;
  framing.prefix.peer = true;
  framing.max_line = 8;
  framing.line_timeout = 30ms;
  net::Address peer = net::parse_address("10.0.0.5:514", net::PortRule::kNonZero);
  std::unique_ptr<Source> source = frame_stream_input(std::move(fds.read), "tcp", "tcp://0.0.0.0:514", peer, framing, 8192);
  auto capture = std::make_unique<CaptureSink>();
  CaptureSink& out = *capture;
  LineSink sink(std::move(capture), framing.prefix);
  auto pass = [&](std::chrono::milliseconds deadline) {
    Batch batch;
    auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      ReadStatus status = source->read(batch);
      if (status == ReadStatus::kEnd) return false;
      if (status == ReadStatus::kData) {
        sink.write(batch);
        return true;
      }
      pollfd ready{source->poll_fd(), POLLIN, 0};
      ::poll(&ready, 1, 50);
    }
    return true;
  };
  put(fds.write, "one\ntw");
  pass(2s);
  CHECK(out.text == "10.0.0.5:514 one\n");
  put(fds.write, "o\n");
  pass(2s);
  CHECK(out.text == "10.0.0.5:514 one\n10.0.0.5:514 two\n");
  put(fds.write, "tail");  // no newline: written after line_timeout, a newline added
  auto start = std::chrono::steady_clock::now();
  pass(2s);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(out.text.ends_with("10.0.0.5:514 tail\n"));
  out.text.clear();
  put(fds.write, "0123456789abc\nend");  // longer than max_line 8: pieces; "end" at close
  fds.write.reset();
  for (int i = 0; i < 10 && pass(2s);) ++i;
  CHECK(out.text == "10.0.0.5:514 01234567\n10.0.0.5:514 89abc\n10.0.0.5:514 end\n");
  CHECK(source->stats().find("1 lines longer than --max-line sent in pieces") != std::string::npos);
}
