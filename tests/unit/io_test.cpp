#include "stage/io.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "testing.h"

using namespace netdisp::stage;

TEST_CASE("write_all completes short writes across many parts", "[io]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::fcntl(fds[1], F_SETPIPE_SZ, 4096);  // forces many short writes
  std::vector<std::string> parts;
  std::string expected;
  for (int i = 0; i < 300; ++i) {
    parts.push_back(std::string(static_cast<std::size_t>(i * 7 % 900), static_cast<char>('a' + i % 26)));
    expected += parts.back();
  }
  std::vector<iovec> views;
  for (auto& p : parts) views.push_back({p.data(), p.size()});
  std::string got;
  std::thread reader([&] {
    char buf[1000];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
  });
  WriteResult result = write_all(fds[1], views);
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  CHECK(result.error == 0);
  CHECK(result.written == expected.size());
  CHECK(got == expected);
}

TEST_CASE("write_all on a full non-blocking pipe stops with EAGAIN and the count written", "[io]") {
  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK) == 0);
  std::string big(1 << 20, 'x');
  iovec view{big.data(), big.size()};
  WriteResult result = write_all(fds[1], std::span<const iovec>(&view, 1));
  CHECK(result.error == EAGAIN);
  CHECK(result.written > 0);
  CHECK(result.written < big.size());
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("a log limit lets one message through per interval", "[io]") {
  LogLimit limit(std::chrono::seconds(3600));
  CHECK(limit.allow());
  CHECK_FALSE(limit.allow());
  CHECK_FALSE(limit.allow());
  CHECK(limit.take_suppressed() == 2);
}
