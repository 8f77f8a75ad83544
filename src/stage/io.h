#pragma once
// Helpers shared by the stages: complete writes, rate-limited warnings,
// counter formatting.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include <sys/uio.h>

namespace netdisp::stage {

struct WriteResult {
  std::size_t written = 0;
  int error = 0;  // errno of the call that stopped the write, 0 when all was written
};

// How write_all() hands bytes to the fd.
enum class WriteCall {
  kWritev,  // writev(): a file, or an fd whose own open file description is non-blocking
  kSend,    // sendmsg(MSG_DONTWAIT | MSG_NOSIGNAL): a socket, never blocking, whatever its flags
};

// Writes every part in order, completing short writes and retrying EINTR;
// no allocation. EAGAIN (a non-blocking fd is full) stops it with error
// EAGAIN and the count written so far; so does any other error, with its errno.
WriteResult write_all(int fd, std::span<const iovec> parts, WriteCall call = WriteCall::kWritev);

// Allows one message per interval, so a dead peer or a full disk cannot
// flood the log; suppressed() tells how many were held back since.
class LogLimit {
 public:
  explicit LogLimit(std::chrono::seconds interval = std::chrono::seconds(10)) : interval_(interval) {}
  bool allow();
  std::uint64_t take_suppressed() { return std::exchange(suppressed_, 0); }

 private:
  std::chrono::seconds interval_;
  std::chrono::steady_clock::time_point last_{};
  bool first_ = true;
  std::uint64_t suppressed_ = 0;
};

// A counter written by one thread and read by the main thread for stats.
using Counter = std::atomic<std::uint64_t>;
inline void add(Counter& counter, std::uint64_t n) { counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
inline std::uint64_t get(const Counter& counter) { return counter.load(std::memory_order_relaxed); }

}  // namespace netdisp::stage
