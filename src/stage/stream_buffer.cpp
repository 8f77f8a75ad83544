#include "stage/stream_buffer.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <span>
#include <utility>

namespace netdisp::stage {
namespace {

// When a write stopped mid-datagram, the next call starts from a copy of the
// following iovecs (at most this many) whose first one is advanced: no
// allocation per call. Otherwise the batch's own iovecs are passed.
constexpr std::size_t kChunk = 64;

struct Progress {
  std::size_t written = 0;
  int error = 0;
};

// Writes the datagrams in order until all are written or a call fails.
Progress write_datagrams(const StreamFd& fd, std::span<const iovec> parts) {
  Progress progress;
  std::array<iovec, kChunk> chunk{};
  std::size_t index = 0;
  std::size_t offset = 0;  // bytes of parts[index] already written
  while (index < parts.size()) {
    const iovec* iov = parts.data() + index;
    std::size_t count = std::min(kMaxBatch, parts.size() - index);
    if (offset) {
      count = std::min(kChunk, count);
      std::copy_n(iov, count, chunk.begin());
      chunk[0].iov_base = static_cast<char*>(chunk[0].iov_base) + offset;
      chunk[0].iov_len -= offset;
      iov = chunk.data();
    }
    ssize_t n = write_some(fd, iov, count);
    if (n < 0) {
      progress.error = errno;
      return progress;
    }
    progress.written += static_cast<std::size_t>(n);
    auto left = static_cast<std::size_t>(n);
    while (index < parts.size() && left >= parts[index].iov_len - offset) {
      left -= parts[index].iov_len - offset;
      offset = 0;
      ++index;
    }
    offset += left;
  }
  return progress;
}

std::size_t total(std::span<const iovec> parts) {
  std::size_t bytes = 0;
  for (const iovec& part : parts) bytes += part.iov_len;
  return bytes;
}

}  // namespace

ssize_t write_some(const StreamFd& fd, const iovec* parts, std::size_t count) {
  while (true) {
    ssize_t n;
    if (fd.kind == StreamFd::Kind::kSend) {
      msghdr message{};
      message.msg_iov = const_cast<iovec*>(parts);
      message.msg_iovlen = count;
      n = ::sendmsg(fd.fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    } else {
      n = ::writev(fd.fd, parts, static_cast<int>(count));
    }
    if (n >= 0 || errno != EINTR) return n;
  }
}

StreamResult StreamBuffer::flush(const StreamFd& fd) {
  StreamResult result;
  while (!empty()) {
    iovec rest{data_.data() + head_, size()};
    ssize_t n = write_some(fd, &rest, 1);
    if (n < 0) {
      result.error = errno == EWOULDBLOCK ? EAGAIN : errno;
      return result;
    }
    head_ += static_cast<std::size_t>(n);
    result.written += static_cast<std::size_t>(n);
  }
  discard();
  return result;
}

StreamResult StreamBuffer::write(const StreamFd& fd, const Batch& batch, bool keep_on_error) {
  StreamResult result = flush(fd);
  std::size_t written = 0;
  if (!result.error) {
    // Nothing waits: the batch goes straight to the fd, no copy.
    Progress progress = write_datagrams(fd, batch.datagrams);
    written = progress.written;
    result.written += written;
    result.error = progress.error == EWOULDBLOCK ? EAGAIN : progress.error;
  }
  if (result.error == EAGAIN || (result.error && keep_on_error)) {
    keep(batch, written, result);
  } else if (result.error) {
    result.failed_bytes = total(batch.datagrams) - written;
  }
  return result;
}

StreamResult StreamBuffer::hold(const Batch& batch) {
  StreamResult result;
  keep(batch, 0, result);
  return result;
}

// Keeps the rest of a partly written datagram always, further datagrams while
// the buffer has room; drops the others whole.
void StreamBuffer::keep(const Batch& batch, std::size_t written, StreamResult& result) {
  std::size_t end = 0;  // offset in the batch just past the current datagram
  for (const iovec& datagram : batch.datagrams) {
    std::size_t start = end;
    end += datagram.iov_len;
    if (end <= written) continue;
    std::size_t done = written > start ? written - start : 0;
    if (done == 0 && size() + datagram.iov_len > limit_) {
      ++result.dropped_datagrams;
      result.dropped_bytes += datagram.iov_len;
      continue;
    }
    if (head_ > 0 && head_ >= data_.size() / 2) {
      // Reclaim the written front before growing: at most half is moved.
      data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    const char* data = static_cast<const char*>(datagram.iov_base);
    data_.insert(data_.end(), data + done, data + datagram.iov_len);
  }
}

std::size_t StreamBuffer::discard() {
  std::size_t bytes = size();
  data_.clear();
  head_ = 0;
  return bytes;
}

}  // namespace netdisp::stage
