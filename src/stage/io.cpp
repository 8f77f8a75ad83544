#include "stage/io.h"

#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>
#include <vector>

namespace netdisp::stage {

namespace {

// When a write stopped mid-part, the next call starts from a copy of the
// following iovecs (at most this many) whose first one is advanced: no
// allocation per call. Otherwise the caller's own iovecs are passed.
constexpr std::size_t kChunk = 64;

ssize_t write_some(int fd, const iovec* parts, std::size_t count, WriteCall call) {
  while (true) {
    ssize_t n;
    if (call == WriteCall::kSend) {
      msghdr message{};
      message.msg_iov = const_cast<iovec*>(parts);
      message.msg_iovlen = count;
      n = ::sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    } else {
      n = ::writev(fd, parts, static_cast<int>(count));
    }
    if (n >= 0 || errno != EINTR) return n;
  }
}

}  // namespace

WriteResult write_all(int fd, std::span<const iovec> parts, WriteCall call) {
  WriteResult result;
  std::array<iovec, kChunk> chunk{};
  std::size_t index = 0;
  std::size_t offset = 0;  // bytes of parts[index] already written
  while (index < parts.size()) {
    const iovec* iov = parts.data() + index;
    std::size_t count = std::min<std::size_t>(IOV_MAX, parts.size() - index);
    if (offset) {
      count = std::min(kChunk, count);
      std::copy_n(iov, count, chunk.begin());
      chunk[0].iov_base = static_cast<char*>(chunk[0].iov_base) + offset;
      chunk[0].iov_len -= offset;
      iov = chunk.data();
    }
    ssize_t n = write_some(fd, iov, count, call);
    if (n < 0) {
      result.error = errno == EWOULDBLOCK ? EAGAIN : errno;
      return result;
    }
    result.written += static_cast<std::size_t>(n);
    auto left = static_cast<std::size_t>(n);
    // Advance past what was written.
    while (index < parts.size() && left >= parts[index].iov_len - offset) {
      left -= parts[index].iov_len - offset;
      offset = 0;
      ++index;
    }
    offset += left;
  }
  return result;
}

bool LogLimit::allow() {
  auto now = std::chrono::steady_clock::now();
  if (first_ || now - last_ >= interval_) {
    first_ = false;
    last_ = now;
    return true;
  }
  ++suppressed_;
  return false;
}

}  // namespace netdisp::stage
