#include "stage/io.h"

#include <string>
#include <thread>

#include "fixtures.h"
#include "net/platform.h"
#include "testing.h"

using namespace netdisp::stage;
using netdisp::test::FdPair;

TEST_CASE("write_all completes short writes across many parts", "[io]") {
  FdPair pipe = netdisp::test::make_pipe();
  netdisp::net::grow_pipe(pipe.write.get(), 4096);  // Linux: a one-page pipe forces many short writes
  std::vector<std::string> parts;
  std::string expected;
  for (int i = 0; i < 300; ++i) {
    parts.push_back(std::string(static_cast<std::size_t>(i * 7 % 900), static_cast<char>('a' + i % 26)));
    expected += parts.back();
  }
  std::vector<iovec> views;
  for (auto& p : parts) views.push_back({p.data(), p.size()});
  std::string got;
  std::thread reader([&] { got = netdisp::test::take_all(pipe.read); });
  WriteResult result = write_all(pipe.write.get(), views);
  pipe.write.reset();
  reader.join();
  CHECK(result.error == 0);
  CHECK(result.written == expected.size());
  CHECK(got == expected);
}

TEST_CASE("write_all on a full non-blocking pipe stops with EAGAIN and the count written", "[io]") {
  FdPair pipe = netdisp::test::make_pipe(true);
  std::string big(16 << 20, 'x');  // more than a pipe or a socket pair holds unread
  iovec view{big.data(), big.size()};
  WriteResult result = write_all(pipe.write.get(), std::span<const iovec>(&view, 1));
  CHECK(result.error == EAGAIN);
  CHECK(result.written > 0);
  CHECK(result.written < big.size());
}

TEST_CASE("a log limit lets one message through per interval", "[io]") {
  LogLimit limit(std::chrono::seconds(3600));
  CHECK(limit.allow());
  CHECK_FALSE(limit.allow());
  CHECK_FALSE(limit.allow());
  CHECK(limit.take_suppressed() == 2);
}
