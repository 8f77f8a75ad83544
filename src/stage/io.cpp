#include "stage/io.h"

#include <limits.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

namespace netdisp::stage {

WriteResult write_all(int fd, std::span<const iovec> parts) {
  WriteResult result;
  std::size_t index = 0;
  std::size_t offset = 0;  // bytes of parts[index] already written
  iovec first{};
  while (index < parts.size()) {
    // The first entry may be partly written; the rest are passed as they are.
    first = {static_cast<char*>(parts[index].iov_base) + offset, parts[index].iov_len - offset};
    std::size_t count = std::min<std::size_t>(parts.size() - index, IOV_MAX);
    std::vector<iovec> view;
    const iovec* iov = parts.data() + index;
    if (offset) {
      view.assign(parts.begin() + static_cast<std::ptrdiff_t>(index), parts.begin() + static_cast<std::ptrdiff_t>(index + count));
      view[0] = first;
      iov = view.data();
    }
    ssize_t n = ::writev(fd, iov, static_cast<int>(count));
    if (n < 0) {
      if (errno == EINTR) continue;
      result.error = errno;
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
