#include "stage/handoff_queue.h"

#include <poll.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>

#include "testing.h"

using namespace netdisp::stage;

namespace {

std::string text_of(const iovec& view) { return std::string(static_cast<const char*>(view.iov_base), view.iov_len); }

bool readable(int fd, int timeout_ms) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, timeout_ms) == 1;
}

}  // namespace

TEST_CASE("datagrams come out whole and in order, then the end", "[handoff_queue]") {
  HandoffQueue queue(64);
  Batch batch;
  REQUIRE(queue.read(batch) == ReadStatus::kWouldBlock);
  REQUIRE(queue.push("one", 3));
  REQUIRE(queue.push("two!", 4));
  REQUIRE(readable(queue.fd(), 0));  // the consumer had said it would sleep
  REQUIRE(queue.read(batch) == ReadStatus::kData);
  REQUIRE(batch.datagrams.size() == 2);
  CHECK(text_of(batch.datagrams[0]) == "one");
  CHECK(text_of(batch.datagrams[1]) == "two!");
  CHECK(batch.bytes == 7);
  queue.close();
  REQUIRE(queue.read(batch) == ReadStatus::kEnd);
}

TEST_CASE("a full ring refuses, and records wrap around its end", "[handoff_queue]") {
  HandoffQueue queue(64);
  std::string chunk(20, 'a');  // 24 bytes a record: two fit, a third does not
  REQUIRE(queue.push(chunk.data(), chunk.size()));
  REQUIRE(queue.push(chunk.data(), chunk.size()));
  CHECK_FALSE(queue.push(chunk.data(), chunk.size()));
  CHECK_FALSE(queue.push(std::string(40, 'x').data(), 40));  // more than half the ring: never fits
  Batch batch;
  REQUIRE(queue.read(batch) == ReadStatus::kData);
  REQUIRE(batch.datagrams.size() == 2);
  std::string wrapped(20, 'b');  // offset 48: 16 bytes to the end, so it goes to offset 0
  REQUIRE(queue.read(batch) == ReadStatus::kWouldBlock);  // releases the first two
  REQUIRE(queue.push(wrapped.data(), wrapped.size()));
  REQUIRE(queue.read(batch) == ReadStatus::kData);
  REQUIRE(batch.datagrams.size() == 1);
  CHECK(text_of(batch.datagrams[0]) == wrapped);
}

TEST_CASE("a producer thread and a polling consumer move every byte", "[handoff_queue]") {
  HandoffQueue queue(4096);
  constexpr std::uint32_t kCount = 200000;
  std::thread producer([&] {
    for (std::uint32_t i = 0; i < kCount; ++i)
      while (!queue.push(&i, sizeof i)) std::this_thread::yield();
    queue.close();
  });
  std::uint32_t expected = 0;
  Batch batch;
  for (;;) {
    ReadStatus status = queue.read(batch);
    if (status == ReadStatus::kEnd) break;
    if (status == ReadStatus::kWouldBlock) {
      REQUIRE(readable(queue.fd(), 5000));  // a missed wake-up would hang here
      continue;
    }
    for (const iovec& view : batch.datagrams) {
      std::uint32_t value;
      REQUIRE(view.iov_len == sizeof value);
      std::memcpy(&value, view.iov_base, sizeof value);
      REQUIRE(value == expected);
      ++expected;
    }
  }
  producer.join();
  CHECK(expected == kCount);
}
