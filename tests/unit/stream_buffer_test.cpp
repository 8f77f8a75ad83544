// StreamBuffer over a non-blocking pipe (tagged [pipe_capacity]: a pipe of a fixed
// capacity, which Windows' blocking pipes and its socket pairs are not) and
// over a socket pair.
#include "stage/stream_buffer.h"

#include <signal.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "fixtures.h"
#include "net/platform.h"
#include "testing.h"

using namespace netdisp::stage;
using netdisp::test::FdPair;

namespace {

// A non-blocking pipe that holds one page (Linux; elsewhere the system's
// size): a stdout nobody reads. Its capacity is what one write took before
// EAGAIN, read back out before the test.
struct SmallPipe {
  SmallPipe() : fds(netdisp::test::make_pipe(true)) {
    netdisp::net::grow_pipe(fds.write.get(), 4096);
    std::string fill(1 << 20, 'f');
    iovec all{fill.data(), fill.size()};
    ssize_t n = ::writev(fds.write.get(), &all, 1);
    REQUIRE(n > 0);
    capacity = static_cast<std::size_t>(n);
    REQUIRE(drain().size() == capacity);
  }
  std::string drain() { return netdisp::test::take_all(fds.read); }  // EAGAIN ends it: non-blocking
  StreamFd out() const { return StreamFd{fds.write.get(), StreamFd::Kind::kWrite}; }
  FdPair fds;
  std::size_t capacity = 0;
};

// Datagrams of the given sizes, each filled with its own letter.
struct Datagrams {
  explicit Datagrams(std::vector<std::size_t> sizes) {
    for (std::size_t i = 0; i < sizes.size(); ++i) payloads.emplace_back(sizes[i], static_cast<char>('a' + i % 26));
    for (std::string& p : payloads) {
      views.push_back({p.data(), p.size()});
      bytes += p.size();
    }
  }
  Batch batch() const { return Batch{views, bytes}; }
  std::string joined(std::vector<std::size_t> which) const {
    std::string all;
    for (std::size_t i : which) all += payloads[i];
    return all;
  }
  std::vector<std::string> payloads;
  std::vector<iovec> views;
  std::size_t bytes = 0;
};

}  // namespace

TEST_CASE("stream buffer keeps the rest of a partly written datagram and drops whole ones past its limit",
          "[stream_buffer][pipe_capacity]") {
  SmallPipe pipe;
  // The first datagram overflows the pipe: its rest is kept whatever the
  // limit; the second fits the limit after it; the third does not.
  std::size_t first = pipe.capacity + 1000;
  StreamBuffer buffer(1000 + 3000);
  Datagrams data({first, 3000, 2000});
  StreamResult result = buffer.write(pipe.out(), data.batch());
  CHECK(result.error == EAGAIN);
  CHECK(result.written == pipe.capacity);
  CHECK(buffer.size() == 1000 + 3000);
  CHECK(result.dropped_datagrams == 1);
  CHECK(result.dropped_bytes == 2000);
  CHECK(result.written + buffer.size() + result.dropped_bytes == data.bytes);

  // Full: a further batch is dropped whole, nothing of it reaches the pipe.
  Datagrams more({10, 20});
  result = buffer.write(pipe.out(), more.batch());
  CHECK(result.written == 0);
  CHECK(result.dropped_datagrams == 2);
  CHECK(result.dropped_bytes == 30);

  // The reader catches up: flushes drain what waits, in order, whole.
  std::string got;
  while (!buffer.empty()) {
    got += pipe.drain();
    result = buffer.flush(pipe.out());
    CHECK((result.error == 0 || result.error == EAGAIN));
  }
  got += pipe.drain();
  CHECK(got == data.joined({0, 1}));
}

TEST_CASE("stream buffer writes straight through while the reader keeps up, and after a flush",
          "[stream_buffer]") {
  FdPair pair = netdisp::test::make_socket_pair();
  StreamFd out{pair.read.get(), StreamFd::Kind::kSend};  // a blocking socket: MSG_DONTWAIT keeps it from blocking
  StreamBuffer buffer(1 << 20);
  Datagrams small({100, 0, 200});
  StreamResult result = buffer.write(out, small.batch());
  CHECK(result.error == 0);
  CHECK(result.written == 300);
  CHECK(buffer.empty());

  // Fill the socket until it refuses, then let the reader take everything.
  Datagrams big({60000, 60000, 60000, 60000});
  std::size_t sent = result.written;
  std::size_t kept = 0;
  std::size_t dropped = 0;
  for (int i = 0; i < 100 && buffer.empty(); ++i) {
    result = buffer.write(out, big.batch());
    sent += result.written;
    dropped += result.dropped_bytes;
  }
  REQUIRE(!buffer.empty());
  kept = buffer.size();
  CHECK(dropped == 0);
  std::size_t received = 0;
  char buf[65536];
  while (received < sent + kept) {
    ssize_t n = ::recv(pair.write.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) received += static_cast<std::size_t>(n);
    result = buffer.flush(out);
    REQUIRE((result.error == 0 || result.error == EAGAIN));
  }
  CHECK(buffer.empty());
  CHECK(received == sent + kept);
}

TEST_CASE("stream buffer reports an error and the bytes it could not write", "[stream_buffer][pipe_capacity]") {
  ::signal(SIGPIPE, SIG_IGN);  // as netdisp does: EPIPE is an outcome, not a signal
  SmallPipe pipe;
  Datagrams data({pipe.capacity + 500, 100});
  StreamBuffer buffer(1 << 20);
  StreamResult result = buffer.write(pipe.out(), data.batch());
  REQUIRE(result.error == EAGAIN);
  CHECK(buffer.size() == 600);
  pipe.fds.read.reset();  // the reader left
  result = buffer.write(pipe.out(), Datagrams({50}).batch());
  CHECK(result.failed());
  CHECK(result.error == EPIPE);
  CHECK(result.failed_bytes == 50);
  CHECK(buffer.discard() == 600);
  CHECK(buffer.empty());
}
