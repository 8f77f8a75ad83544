// StreamSink over TCP everywhere, and over Unix sockets (tagged [unix])
// where the system has them (not in the Windows build's tests). [send_queue]:
// counts the bytes a dead connection's kernel held, or sees that the peer
// did not take them (net::send_queue_bytes); where the system cannot say
// (Windows), the count is everything handed over on that connection, an
// upper bound the totals mark. [bulk]: 8 MiB read 1 KiB at a time (1 MiB
// under Wine, where that reader is slow: see check_slow_reader).
#include "stage/stream_sink.h"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <future>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fixtures.h"
#include "net/address.h"
#include "net/error.h"
#include "net/platform.h"
#include "net/unique_fd.h"
#include "stage/control.h"
#include "testing.h"

using namespace netdisp;
using stage::StreamSink;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// A stream of bytes that does not repeat within a few MiB: a resumed stream
// must continue at exactly the right offset to match it.
char pattern_at(std::uint64_t i) { return static_cast<char>((i * 7) ^ (i >> 9) ^ (i >> 17)); }

std::string pattern(std::uint64_t offset, std::size_t length) {
  std::string bytes(length, '\0');
  for (std::size_t i = 0; i < length; ++i) bytes[i] = pattern_at(offset + i);
  return bytes;
}

// `bytes` cut into datagrams of `size` (the last may be shorter).
// Views of `bytes` in datagrams of `size`; `bytes` must outlive them.
struct Datagrams {
  Datagrams(const std::string& bytes, std::size_t size) {
    for (std::size_t at = 0; at < bytes.size(); at += size)
      views.push_back({const_cast<char*>(bytes.data()) + at, std::min(size, bytes.size() - at)});
    total = bytes.size();
  }
  stage::Batch batch() const { return stage::Batch{views, total}; }
  std::vector<iovec> views;
  std::size_t total = 0;
};

// A listening stream socket on 127.0.0.1 (any port, or a given one) or a Unix path.
struct Listener {
  explicit Listener(std::uint16_t port = 0)
      : Listener(net::parse_address("127.0.0.1:" + std::to_string(port), net::PortRule::kZeroAllowed)) {}
  explicit Listener(const net::Address& where) {
    fd.reset(::socket(where.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd.valid());
    int one = 1;
    if (where.family() != AF_UNIX) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    REQUIRE(::bind(fd.get(), where.get(), where.length()) == 0);
    REQUIRE(::listen(fd.get(), 8) == 0);
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length) == 0);
    address = where.family() == AF_UNIX ? where
                                        : net::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&bound), length);
  }
  // The next connection, or an invalid fd after 5 s.
  net::UniqueFd accept() const {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return net::UniqueFd();
    return net::UniqueFd(::accept(fd.get(), nullptr, nullptr));
  }
  net::UniqueFd fd;
  net::Address address;
};

using test::TempDir;  // a private directory for Unix socket files

// Reads until EOF, `limit` bytes or 10 s, at most `chunk` bytes per read.
std::string receive(int fd, std::size_t limit = SIZE_MAX, std::size_t chunk = 65536) {
  std::string got;
  std::vector<char> buffer(chunk);
  auto deadline = Clock::now() + seconds(10);
  while (got.size() < limit && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, buffer.data(), std::min(chunk, limit - got.size()), MSG_DONTWAIT);
    if (n == 0) break;
    if (n > 0) got.append(buffer.data(), static_cast<std::size_t>(n));
    if (n < 0 && errno != EAGAIN && errno != EINTR) break;
  }
  return got;
}

// receive(), then closes `peer` as a program that read to the end does:
// where the system cannot say what the peer acknowledged (Windows), the
// peer's close after the sink's end is what shows the sink it got everything.
std::string receive_and_close(net::UniqueFd& peer, std::size_t limit = SIZE_MAX, std::size_t chunk = 65536) {
  std::string got = receive(peer.get(), limit, chunk);
  peer.reset();
  return got;
}

StreamSink::Settings waiting() {
  StreamSink::Settings settings;
  settings.when_behind = StreamSink::WhenBehind::kWait;
  settings.connect_timeout = milliseconds(2000);
  return settings;
}

// Every byte reaches a reader that takes 1 KiB at a time (TCP or Unix).
void check_slow_reader(const net::Address& address) {
  ::signal(SIGPIPE, SIG_IGN);
  // 8 MiB: more than the kernels buffer, so writes wait for the reader.
  // Under Wine 1 MiB: a 1 KiB recv() there takes about 1.5 ms (256 KiB, 1
  // and 2 MiB took 0.5, 1.7 and 4.0 s, load 5), so 8 MiB outlasted the
  // reader's 10 s deadline, and then the kWait writer waited, as it should,
  // for a peer that no longer read: the "300 s" seen. Writes did wait and
  // wake there at 8 MiB (the slowest 0.55 s): WSAPoll's POLLOUT works; 1 MiB
  // fits in the loopback buffers, so under Wine no write waits.
  const bool windows = std::string_view(net::features().flavour) == "windows";
  const std::size_t total = windows ? std::size_t{1} << 20 : std::size_t{8} << 20;
  Listener listener(address);
  stage::Control control;
  StreamSink sink(listener.address, "test", waiting(), control);
  net::UniqueFd peer = listener.accept();
  REQUIRE(peer.valid());
  auto reader = std::async(std::launch::async, [&] {
    std::string got = receive_and_close(peer, SIZE_MAX, 1024);
    if (got.size() < total) control.request_stop();  // gave up: the writer must not wait for it forever
    return got;
  });

  std::string data = pattern(0, total);
  std::size_t given = 0;
  bool all_handed_over = true;
  for (std::size_t at = 0; at < total; at += 256 * 1024) {
    std::string part = data.substr(at, 256 * 1024);
    Datagrams datagrams(part, 1000);
    REQUIRE(sink.write(datagrams.batch()));
    given += part.size();
    // Backpressure: the kernel took all of it before write() returned.
    all_handed_over = all_handed_over && sink.totals().sent == given;
  }
  CHECK(all_handed_over);
  sink.flush();
  std::string got = reader.get();
  CHECK(got.size() == total);
  CHECK(got == data);
  CHECK(sink.delivered_everything());
  CHECK(sink.undelivered().empty());
  CHECK(sink.totals().sent == total);
}

}  // namespace

TEST_CASE("stream sink under kWait hands every byte to a slow reader before write returns", "[stream_sink][bulk]") {
  check_slow_reader(net::parse_address("127.0.0.1:0", net::PortRule::kZeroAllowed));
}

TEST_CASE("stream sink under kWait hands every byte to a slow Unix reader before write returns",
          "[stream_sink][unix]") {
  TempDir dir;
  check_slow_reader(net::unix_address(dir.file("sink.sock")));
}

TEST_CASE("stream sink under kDrop drops whole datagrams past its buffer and never part of one", "[stream_sink]") {
  ::signal(SIGPIPE, SIG_IGN);
  Listener listener;
  stage::Control control;
  StreamSink::Settings settings;
  settings.when_behind = StreamSink::WhenBehind::kDrop;
  settings.buffer_limit = 64 * 1024;
  StreamSink sink(listener.address, "test", settings, control);
  net::UniqueFd peer = listener.accept();
  REQUIRE(peer.valid());

  // Datagrams of 1000 bytes, each starting with its number and filled with
  // a byte derived from it, written while nobody reads.
  constexpr std::size_t kSize = 1000;
  constexpr std::size_t kPerBatch = 64;
  std::string batch_bytes(kSize * kPerBatch, '\0');
  std::uint64_t next = 0;
  auto make_batch = [&] {
    for (std::size_t i = 0; i < kPerBatch; ++i, ++next) {
      char* d = batch_bytes.data() + i * kSize;
      std::memset(d, static_cast<int>(next * 13 % 251), kSize);
      std::memcpy(d, &next, sizeof next);
    }
  };
  std::uint64_t batches_after_drop = 0;
  while (batches_after_drop < 16 && next < (256u << 20) / kSize) {
    make_batch();
    Datagrams datagrams(batch_bytes, kSize);
    REQUIRE(sink.write(datagrams.batch()));
    if (sink.totals().dropped_datagrams) ++batches_after_drop;
  }
  REQUIRE(sink.totals().dropped_datagrams > 0);

  auto reader = std::async(std::launch::async, [&] { return receive_and_close(peer); });
  sink.flush();
  std::string got = reader.get();
  StreamSink::Totals totals = sink.totals();
  REQUIRE(got.size() % kSize == 0);
  std::uint64_t previous = 0;
  bool whole = true, ordered = true;
  for (std::size_t at = 0; at < got.size(); at += kSize) {
    std::uint64_t number = 0;
    std::memcpy(&number, got.data() + at, sizeof number);
    ordered = ordered && (at == 0 || number > previous);
    previous = number;
    std::string expected(kSize - sizeof number, static_cast<char>(number * 13 % 251));
    whole = whole && got.compare(at + sizeof number, kSize - sizeof number, expected) == 0;
  }
  CHECK(whole);
  CHECK(ordered);
  CHECK(got.size() / kSize + totals.dropped_datagrams + totals.away_datagrams == next);
  CHECK(totals.dropped_bytes + totals.away_bytes == (totals.dropped_datagrams + totals.away_datagrams) * kSize);
  CHECK(totals.sent == got.size());
  CHECK(!sink.delivered_everything());
  CHECK(sink.stats().find("dropped (too slow)") != std::string::npos);
}

TEST_CASE("stream sink: a stop request ends a kWait write within a second", "[stream_sink]") {
  ::signal(SIGPIPE, SIG_IGN);
  Listener listener;
  stage::Control control;
  StreamSink sink(listener.address, "test", waiting(), control);
  net::UniqueFd peer = listener.accept();  // never read: the write must wait
  REQUIRE(peer.valid());
  std::string data(32 << 20, 'x');
  Datagrams datagrams(data, 1 << 20);
  auto writer = std::async(std::launch::async, [&] { return sink.write(datagrams.batch()); });
  auto deadline = Clock::now() + seconds(10);
  while (sink.totals().sent == 0 && Clock::now() < deadline) std::this_thread::yield();
  REQUIRE(sink.totals().sent > 0);
  auto asked = Clock::now();
  control.request_stop();
  REQUIRE(writer.wait_for(seconds(1)) == std::future_status::ready);
  CHECK(writer.get());
  auto flush_started = Clock::now();
  sink.flush();
  CHECK(Clock::now() - flush_started < seconds(1));
  CHECK(Clock::now() - asked < seconds(2));
  StreamSink::Totals totals = sink.totals();
  CHECK(totals.not_sent > 0);
  CHECK(totals.sent + totals.not_sent == data.size());
  CHECK(!sink.delivered_everything());
}

TEST_CASE("stream sink reconnects after the peer closes and resumes with what the kernel had not taken",
          "[stream_sink][send_queue]") {
  ::signal(SIGPIPE, SIG_IGN);
  auto first = std::make_unique<Listener>();
  std::uint16_t port = first->address.port();
  stage::Control control;
  StreamSink::Settings settings = waiting();
  settings.reconnect_timeout = seconds(10);
  StreamSink sink(first->address, "test", settings, control);

  // The first peer reads exactly the first part, then closes (nothing unread:
  // a clean close), and nobody listens there any more.
  const std::size_t first_part = 256 * 1024;
  const std::size_t total = 4 << 20;
  std::string data = pattern(0, total);
  auto peer_a = std::async(std::launch::async, [&] {
    net::UniqueFd a = first->accept();
    return a.valid() ? receive(a.get(), first_part) : std::string();
  });
  std::string first_bytes = data.substr(0, first_part);  // the views below point into it
  Datagrams part1(first_bytes, 1000);
  REQUIRE(sink.write(part1.batch()));
  std::string got_a = peer_a.get();
  REQUIRE(got_a.size() == first_part);
  first.reset();

  // A new listener on the same port takes the reconnection.
  Listener second(port);
  auto peer_b = std::async(std::launch::async, [&] {
    net::UniqueFd b = second.accept();
    return b.valid() ? receive(b.get()) : std::string();
  });
  std::string rest = data.substr(first_part);
  for (std::size_t at = 0; at < rest.size(); at += 64 * 1024) {
    std::string piece = rest.substr(at, 64 * 1024);
    Datagrams datagrams(piece, 1000);
    REQUIRE(sink.write(datagrams.batch()));
  }
  sink.flush();
  std::string got_b = peer_b.get();
  StreamSink::Totals totals = sink.totals();
  INFO(sink.stats());
  CHECK(totals.reconnects == 1);
  CHECK(totals.sent == total);
  CHECK(got_a.size() + got_b.size() + totals.possibly_lost >= total);
  // The new connection carries the rest, in order.
  CHECK(got_b == data.substr(total - got_b.size()));
  if (!totals.possibly_lost_bounded) {
    // Exactly: what went into the dead connection is the kernel's count.
    CHECK(got_a.size() + totals.possibly_lost + got_b.size() == total);
  } else {
    // The system cannot say (Windows): all that went into the dead
    // connection is counted, the bytes its peer read too, and said to be
    // an upper bound.
    CHECK(totals.possibly_lost + got_b.size() == total);
    CHECK(totals.possibly_lost >= got_a.size());
    CHECK(sink.stats().find("an upper bound") != std::string::npos);
  }
  CHECK(sink.delivered_everything() == (totals.possibly_lost == 0));
}

TEST_CASE("stream sink gives up after the reconnect timeout and says why", "[stream_sink]") {
  ::signal(SIGPIPE, SIG_IGN);
  auto listener = std::make_unique<Listener>();
  stage::Control control;
  StreamSink::Settings settings = waiting();
  settings.first_retry = milliseconds(50);
  settings.reconnect_timeout = milliseconds(300);
  StreamSink sink(listener->address, "tcp://test", settings, control);
  {
    net::UniqueFd peer = listener->accept();
    REQUIRE(peer.valid());
  }  // the peer closes, and nobody listens any more
  listener.reset();
  std::string data(64 * 1024, 'y');
  Datagrams datagrams(data, 1000);
  auto started = Clock::now();
  auto writer = std::async(std::launch::async, [&] {
    bool alive = true;
    for (int i = 0; i < 1000 && alive; ++i) alive = sink.write(datagrams.batch());
    return alive;
  });
  REQUIRE(writer.wait_for(seconds(5)) == std::future_status::ready);
  CHECK(!writer.get());
  CHECK(Clock::now() - started >= milliseconds(300));
  CHECK(sink.failed());
  CHECK(sink.failure().find("gave up reconnecting") != std::string::npos);
  CHECK(sink.stats().find("failed: gave up") != std::string::npos);
  CHECK(!sink.undelivered().empty());
  CHECK(!sink.delivered_everything());
  // Whatever was given is sent or counted.
  StreamSink::Totals totals = sink.totals();
  CHECK(totals.not_sent > 0);
}

namespace {

// flush() after the peer closed cleanly, then after it reset the connection.
void check_flush_after_close(const net::Address& address) {
  ::signal(SIGPIPE, SIG_IGN);
  std::string data = pattern(0, 64 * 1024);
  Datagrams datagrams(data, 1000);
  Listener listener(address);
  stage::Control control;
  {
    StreamSink sink(listener.address, "test", waiting(), control);
    net::UniqueFd peer = listener.accept();
    auto reader = std::async(std::launch::async, [&] { return receive_and_close(peer); });
    REQUIRE(sink.write(datagrams.batch()));
    sink.flush();
    CHECK(reader.get() == data);
    CHECK(sink.delivered_everything());
  }
  {
    StreamSink sink(listener.address, "test", waiting(), control);
    net::UniqueFd peer = listener.accept();
    REQUIRE(sink.write(datagrams.batch()));  // the kernels take it all; nobody reads
    peer.reset();                            // closed with the data unread: a reset
    sink.flush();
    CHECK(!sink.delivered_everything());
    CHECK(!sink.undelivered().empty());
    // A Unix peer's unread bytes are seen from here (TCP's were acknowledged).
    if (address.family() == AF_UNIX) CHECK(sink.totals().possibly_lost == data.size());
  }
}

}  // namespace

TEST_CASE("stream sink flush reports everything acknowledged after a clean close, and not after a reset",
          "[stream_sink][send_queue]") {
  check_flush_after_close(net::parse_address("127.0.0.1:0", net::PortRule::kZeroAllowed));
}

TEST_CASE("stream sink flush over a Unix socket: all acknowledged after a clean close, the unread bytes counted after a reset",
          "[stream_sink][unix]") {
  TempDir dir;
  check_flush_after_close(net::unix_address(dir.file("sink.sock")));
}

TEST_CASE("stream sink under kWait refuses to start when the destination refuses", "[stream_sink]") {
  // A bound socket that does not listen: connecting to its port is refused.
  net::UniqueFd holder(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  net::Address any = net::parse_address("127.0.0.1:0", net::PortRule::kZeroAllowed);
  REQUIRE(::bind(holder.get(), any.get(), any.length()) == 0);
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  REQUIRE(::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&bound), &length) == 0);
  stage::Control control;
  net::Address address = net::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&bound), length);
  CHECK_THROWS_AS(StreamSink(address, "tcp://refused", waiting(), control), net::Error);
  try {
    StreamSink sink(address, "tcp://refused", waiting(), control);
  } catch (const net::Error& error) {
    CHECK(std::string(error.what()) == "connect tcp://refused: Connection refused");
  }
}

TEST_CASE("stream sink under kDrop never waits for an absent destination and counts what it drops meanwhile",
          "[stream_sink][send_queue]") {
  ::signal(SIGPIPE, SIG_IGN);
  auto first = std::make_unique<Listener>();
  std::uint16_t port = first->address.port();
  stage::Control control;
  StreamSink::Settings settings;
  settings.when_behind = StreamSink::WhenBehind::kDrop;
  settings.buffer_limit = 16 * 1024;
  settings.first_retry = milliseconds(50);
  StreamSink sink(first->address, "test", settings, control);
  first->accept();  // accepted and closed at once; nobody listens any more
  first.reset();

  std::string data = pattern(0, 10 * 1000);
  Datagrams datagrams(data, 1000);
  std::uint64_t given = 0;
  auto started = Clock::now();
  for (int i = 0; i < 100; ++i) {
    REQUIRE(sink.write(datagrams.batch()));
    given += data.size();
  }
  CHECK(Clock::now() - started < milliseconds(500));  // no write waited for the destination
  CHECK(sink.totals().away_datagrams > 0);

  // The destination comes back: the idle pipe's polling reconnects.
  Listener second(port);
  auto peer = std::async(std::launch::async, [&] {
    net::UniqueFd b = second.accept();
    return b.valid() ? receive(b.get()) : std::string();
  });
  auto deadline = Clock::now() + seconds(5);
  while (sink.totals().reconnects == 0 && Clock::now() < deadline) {
    pollfd p = sink.watch();
    ::poll(&p, 1, 100);
    REQUIRE(sink.on_ready(p.revents));
  }
  REQUIRE(sink.totals().reconnects == 1);
  sink.flush();
  std::string got = peer.get();
  StreamSink::Totals totals = sink.totals();
  INFO(sink.stats());
  // Every byte given is sent or counted; what went into the dead connection
  // is the kernel's count (where the system cannot say, all of it: the
  // peer read none, so the bound is the count).
  CHECK(totals.sent + totals.away_bytes + totals.dropped_bytes + totals.not_sent == given);
  CHECK(got.size() + totals.possibly_lost == totals.sent);
  CHECK(totals.away_bytes == totals.away_datagrams * 1000);
  CHECK(sink.stats().find("dropped while reconnecting") != std::string::npos);
}
