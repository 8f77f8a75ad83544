#include "stage/stream_buffer.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "testing.h"

using namespace netdisp::stage;

namespace {

// A pipe whose write end is non-blocking and holds one page: a stdout nobody reads.
struct SmallPipe {
  SmallPipe() {
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    REQUIRE(::fcntl(fds[1], F_SETPIPE_SZ, 4096) >= 4096);
    REQUIRE(::fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0);
    capacity = static_cast<std::size_t>(::fcntl(fds[1], F_GETPIPE_SZ));
  }
  ~SmallPipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  std::string drain() {
    std::string got;
    char buf[65536];
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
    return got;
  }
  StreamFd out() const { return StreamFd{fds[1], StreamFd::Kind::kWrite}; }
  int fds[2];
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
          "[stream_buffer]") {
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
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  StreamFd out{fds[0], StreamFd::Kind::kSend};  // a blocking socket: MSG_DONTWAIT keeps it from blocking
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
    ssize_t n = ::recv(fds[1], buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) received += static_cast<std::size_t>(n);
    result = buffer.flush(out);
    REQUIRE((result.error == 0 || result.error == EAGAIN));
  }
  CHECK(buffer.empty());
  CHECK(received == sent + kept);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("stream buffer reports an error and the bytes it could not write", "[stream_buffer]") {
  ::signal(SIGPIPE, SIG_IGN);  // as netdisp does: EPIPE is an outcome, not a signal
  SmallPipe pipe;
  Datagrams data({pipe.capacity + 500, 100});
  StreamBuffer buffer(1 << 20);
  StreamResult result = buffer.write(pipe.out(), data.batch());
  REQUIRE(result.error == EAGAIN);
  CHECK(buffer.size() == 600);
  ::close(pipe.fds[0]);
  pipe.fds[0] = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // the reader left
  result = buffer.write(pipe.out(), Datagrams({50}).batch());
  CHECK(result.failed());
  CHECK(result.error == EPIPE);
  CHECK(result.failed_bytes == 50);
  CHECK(buffer.discard() == 600);
  CHECK(buffer.empty());
}
