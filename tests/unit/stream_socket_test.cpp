#include "net/stream_socket.h"

// TCP everywhere; Unix sockets (tagged [unix]) where the system has them
// (not in the Windows build's tests: Wine's AF_UNIX is not dependable).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "fixtures.h"
#include "net/error.h"
#include "stage/control.h"
#include "stage/udp_sink.h"
#include "stage/udp_source.h"
#include "testing.h"

using namespace netdisp;
using namespace netdisp::net;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

using test::TempDir;

// Waits (up to 5 s) for a connection on the listener and takes it.
Accepted accept_within(int listen_fd) {
  pollfd fd{listen_fd, POLLIN, 0};
  REQUIRE(::poll(&fd, 1, 5000) == 1);
  int error = 0;
  Accepted client = accept_client(listen_fd, &error);
  REQUIRE(error == 0);
  REQUIRE(client.fd.valid());
  return client;
}

// Bytes written on one end arrive on the other.
void check_talks(int from, int to) {
  REQUIRE(::send(from, "hello", 5, MSG_NOSIGNAL) == 5);
  pollfd fd{to, POLLIN, 0};
  REQUIRE(::poll(&fd, 1, 5000) == 1);
  char buf[16] = {};
  CHECK(::recv(to, buf, sizeof buf, 0) == 5);
  CHECK(std::string(buf) == "hello");
}

long elapsed_ms(Clock::time_point since) {
  return static_cast<long>(std::chrono::duration_cast<milliseconds>(Clock::now() - since).count());
}

// A Unix socket file left behind by a process that ended: bound, then closed.
void leave_stale_socket(const std::string& path, int type) {
  UniqueFd fd(::socket(AF_UNIX, type, 0));
  Address address = unix_address(path);
  REQUIRE(::bind(fd.get(), address.get(), address.length()) == 0);
}

}  // namespace

TEST_CASE("tcp: listen on port 0, connect, accept, bytes flow both ways", "[stream_socket]") {
  auto address = GENERATE(as<std::string>{}, "127.0.0.1:0", "[::1]:0");
  StreamListener listener = open_stream_listener(parse_address(address, PortRule::kZeroAllowed), {});
  REQUIRE(listener.bound.port() != 0);
  UniqueFd client;
  REQUIRE(connect_stream(listener.bound, milliseconds(5000), -1, client) == 0);
  Accepted accepted = accept_within(listener.fd.get());
  CHECK(accepted.peer.port() == local_address(client.get()).port());
  int keepalive = 0;
  socklen_t size = sizeof keepalive;
  ::getsockopt(client.get(), SOL_SOCKET, SO_KEEPALIVE, &keepalive, &size);
  CHECK(keepalive == 1);
  check_talks(client.get(), accepted.fd.get());
  check_talks(accepted.fd.get(), client.get());
}

TEST_CASE("tcp: bind_from sets the local address of a connection", "[stream_socket]") {
  StreamListener listener = open_stream_listener(parse_address("127.0.0.1:0", PortRule::kZeroAllowed), {});
  SocketOptions options;
  options.bind_from = parse_address("127.0.0.2:0", PortRule::kZeroAllowed);
  UniqueFd client;
  REQUIRE(connect_stream(listener.bound, milliseconds(5000), -1, client, options) == 0);
  Accepted accepted = accept_within(listener.fd.get());
  CHECK(accepted.peer.to_string().rfind("127.0.0.2:", 0) == 0);
  options.bind_from = parse_address("[::1]:0", PortRule::kZeroAllowed);
  CHECK_THROWS_AS(connect_stream(listener.bound, milliseconds(5000), -1, client, options), UsageError);
}

TEST_CASE("unix: listen on a path, connect, accept; the client shows as (unnamed)", "[stream_socket][unix]") {
  TempDir dir;
  std::string path = dir.file("s.sock");
  StreamListener listener = open_stream_listener(unix_address(path), {});
  CHECK(listener.bound.to_string() == path);
  UniqueFd client;
  REQUIRE(connect_stream(unix_address(path), milliseconds(5000), -1, client) == 0);
  Accepted accepted = accept_within(listener.fd.get());
  CHECK(accepted.peer.to_string() == "(unnamed)");
  check_talks(client.get(), accepted.fd.get());
  check_talks(accepted.fd.get(), client.get());
}

TEST_CASE("unix: an abstract name needs no file", "[stream_socket][unix]") {
  std::string name = "@netdisp-test-" + std::to_string(::getpid());
  StreamListener listener = open_stream_listener(unix_address(name), {});
  CHECK(listener.bound.to_string() == name);
  UniqueFd client;
  REQUIRE(connect_stream(unix_address(name), milliseconds(5000), -1, client) == 0);
  accept_within(listener.fd.get());
}

TEST_CASE("unix: a stale socket file is removed, a live one or a plain file is refused", "[stream_socket][unix]") {
  TempDir dir;
  std::string path = dir.file("s.sock");
  auto type = GENERATE(SOCK_STREAM, SOCK_DGRAM);
  INFO("stale file of socket type " << type);
  leave_stale_socket(path, type);
  StreamListener listener = open_stream_listener(unix_address(path), {});
  UniqueFd client;
  REQUIRE(connect_stream(unix_address(path), milliseconds(5000), -1, client) == 0);

  try {
    open_stream_listener(unix_address(path), {});
    FAIL("a second listener on a live socket");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "unix " + path + ": another process is listening there");
  }
  try {
    open_udp_listener(unix_address(path), {});
    FAIL("a datagram listener on a live stream socket");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("another process is listening there") != std::string::npos);
  }
  std::string plain = dir.file("plain");
  std::ofstream(plain) << "keep me";
  try {
    open_stream_listener(unix_address(plain), {});
    FAIL("bound over a regular file");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "unix " + plain + ": exists and is not a socket; not removed");
  }
  CHECK(std::filesystem::file_size(plain) == 7);
}

TEST_CASE("connecting to nobody fails at once with the reason", "[stream_socket]") {
  // A port that was just free: listen on port 0, note it, close.
  Address closed = open_stream_listener(parse_address("127.0.0.1:0", PortRule::kZeroAllowed), {}).bound;
  UniqueFd out;
  auto start = Clock::now();
  CHECK(connect_stream(closed, milliseconds(5000), -1, out) == ECONNREFUSED);
  CHECK(elapsed_ms(start) < 1000);
  CHECK_FALSE(out.valid());
}

TEST_CASE("connecting to no Unix socket fails at once with the reason", "[stream_socket][unix]") {
  UniqueFd out;
  TempDir dir;
  CHECK(connect_stream(unix_address(dir.file("none.sock")), milliseconds(5000), -1, out) == ENOENT);
  leave_stale_socket(dir.file("stale.sock"), SOCK_STREAM);
  CHECK(connect_stream(unix_address(dir.file("stale.sock")), milliseconds(5000), -1, out) == ECONNREFUSED);
  CHECK_FALSE(out.valid());
}

namespace {

// A listener whose accept queue is full, so a further connect stays pending:
// TCP drops the SYN (the client retransmits), Unix says EAGAIN.
struct FullListener {
  UniqueFd fd;
  Address address;
  std::vector<UniqueFd> queued;

  explicit FullListener(const Address& where) {
    fd = UniqueFd(::socket(where.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(::bind(fd.get(), where.get(), where.length()) == 0);
    REQUIRE(::listen(fd.get(), 0) == 0);
    address = local_address(fd.get());
    for (int i = 0; i < 3; ++i) {
      UniqueFd client(::socket(where.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
      ::connect(client.get(), address.get(), address.length());
      queued.push_back(std::move(client));
    }
  }
};

}  // namespace

namespace {

void check_connect_times_out(const Address& where, bool unix_socket) {
  FullListener full(where);
  UniqueFd out;
  auto start = Clock::now();
  CHECK(connect_stream(full.address, milliseconds(300), -1, out) == ETIMEDOUT);
  CHECK(elapsed_ms(start) >= 290);
  CHECK_FALSE(out.valid());

  // A listener this busy is still live: never taken for stale, and the probe does not wait for room.
  if (unix_socket) CHECK_THROWS_AS(open_stream_listener(full.address, {}), Error);

  stage::Control control;
  start = Clock::now();
  auto result = std::async(std::launch::async, [&] {
    UniqueFd fd;
    return connect_stream(full.address, milliseconds(20000), control.stop_fd(), fd);
  });
  control.request_stop();
  CHECK(result.get() == ECANCELED);
  CHECK(elapsed_ms(start) < 1000);
}

}  // namespace

TEST_CASE("a connect that cannot complete times out, and a stop request cancels it at once", "[stream_socket]") {
  check_connect_times_out(parse_address("127.0.0.1:0", PortRule::kZeroAllowed), false);
}

TEST_CASE("a Unix connect that cannot complete times out, and a stop request cancels it at once",
          "[stream_socket][unix]") {
  TempDir dir;
  check_connect_times_out(unix_address(dir.file("full.sock")), true);
}

TEST_CASE("unixgram: UdpSink to UdpSource keeps every datagram boundary, sizes 0 to 65000", "[stream_socket][unix]") {
  TempDir dir;
  std::string path = dir.file("dgram.sock");
  leave_stale_socket(path, SOCK_DGRAM);  // removed as stale
  UdpListener listener = open_udp_listener(unix_address(path), {});
  CHECK_FALSE(listener.gro);
  stage::UdpSource source(std::move(listener), {});
  CHECK(source.bound().to_string() == path);

  // Equal sizes in runs: what GSO would group into one message (a Unix socket
  // would then deliver the run as one datagram).
  std::vector<std::string> sent;
  for (std::size_t size : {0, 1, 7, 1472, 8192, 65000}) {
    for (int i = 0; i < 40; ++i) sent.push_back(std::string(size, static_cast<char>('a' + i % 26)));
    sent.back()[0] = 'Z';
  }
  std::vector<iovec> views;
  std::size_t bytes = 0;
  for (std::string& d : sent) {
    views.push_back({d.data(), d.size()});
    bytes += d.size();
  }

  std::vector<std::string> received;
  stage::Control control;
  std::thread reader([&] {
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (received.size() < sent.size() && Clock::now() < deadline) {
      pollfd fd{source.poll_fd(), POLLIN, 0};
      ::poll(&fd, 1, 100);
      stage::Batch batch;
      if (source.read(batch) != stage::ReadStatus::kData) continue;
      for (const iovec& d : batch.datagrams) received.emplace_back(static_cast<const char*>(d.iov_base), d.iov_len);
    }
  });
  stage::UdpSink sink({unix_address(path)}, {}, /*gso=*/true);
  // A Unix socket queues few datagrams (net.unix.max_dgram_qlen): batches of
  // 64 overflow it, and the sink waits for room rather than dropping.
  for (std::size_t first = 0; first < views.size(); first += 64) {
    std::size_t count = std::min<std::size_t>(64, views.size() - first);
    std::size_t batch_bytes = 0;
    for (std::size_t i = first; i < first + count; ++i) batch_bytes += views[i].iov_len;
    sink.write(stage::Batch{std::span<const iovec>(views.data() + first, count), batch_bytes});
  }
  reader.join();
  INFO(sink.stats());
  REQUIRE(received.size() == sent.size());
  CHECK(received == sent);
  CHECK(sink.stats().find("; 0 not sent") != std::string::npos);
}

TEST_CASE("unixgram: a sender reconnects after its receiver was replaced", "[stream_socket][unix]") {
  TempDir dir;
  std::string path = dir.file("dgram.sock");
  auto first = std::make_unique<UdpListener>(open_udp_listener(unix_address(path), {}));
  stage::UdpSink sink({unix_address(path)}, {});
  std::string payload = "x";
  iovec view{payload.data(), payload.size()};
  sink.write(stage::Batch{std::span<const iovec>(&view, 1), 1});
  first.reset();  // the receiver ends; its file stays
  UdpListener second = open_udp_listener(unix_address(path), {});
  sink.write(stage::Batch{std::span<const iovec>(&view, 1), 1});  // to the dead socket: counted
  sink.write(stage::Batch{std::span<const iovec>(&view, 1), 1});  // connects again
  pollfd fd{second.fd.get(), POLLIN, 0};
  REQUIRE(::poll(&fd, 1, 5000) == 1);
  char buf[4];
  CHECK(::recv(second.fd.get(), buf, sizeof buf, 0) == 1);
  INFO(sink.stats());
  CHECK(sink.stats().find("sent 2 datagrams") != std::string::npos);
  CHECK(sink.stats().find("; 1 not sent") != std::string::npos);
}

TEST_CASE("unixgram: a destination that connects late still gets single datagrams, never a GSO run",
          "[stream_socket][unix]") {
  TempDir dir;
  std::string path = dir.file("late.sock");
  // No receiver yet: the sink's first connect fails, and it tries again later
  // (within the write that then builds its messages before connecting).
  stage::UdpSink sink({unix_address(path)}, {}, /*gso=*/true);
  UdpListener listener = open_udp_listener(unix_address(path), {});
  std::vector<std::string> sent(8, std::string(1000, 'g'));
  std::vector<iovec> views;
  for (std::string& d : sent) views.push_back({d.data(), d.size()});
  pollfd fd{listener.fd.get(), POLLIN, 0};
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (::poll(&fd, 1, 50) == 0 && Clock::now() < deadline)
    sink.write(stage::Batch{std::span<const iovec>(views), 8000});
  std::vector<std::size_t> sizes;
  char buf[65536];
  for (ssize_t n; (n = ::recv(listener.fd.get(), buf, sizeof buf, MSG_DONTWAIT)) >= 0;)
    sizes.push_back(static_cast<std::size_t>(n));
  INFO(sink.stats());
  REQUIRE(sizes.size() == 8);
  CHECK(sizes == std::vector<std::size_t>(8, 1000));
}
