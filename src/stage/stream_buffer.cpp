#include "stage/stream_buffer.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <span>
#include <utility>

namespace netdisp::stage {
namespace {

std::size_t total(std::span<const iovec> parts) {
  std::size_t bytes = 0;
  for (const iovec& part : parts) bytes += part.iov_len;
  return bytes;
}

}  // namespace

WriteResult write_to(const StreamFd& fd, std::span<const iovec> parts) {
  return write_all(fd.fd, parts, fd.kind == StreamFd::Kind::kSend ? WriteCall::kSend : WriteCall::kWritev);
}

StreamResult StreamBuffer::flush(const StreamFd& fd) {
  StreamResult result;
  while (!empty()) {
    iovec rest{data_.data() + head_, size()};
    WriteResult written = write_to(fd, {&rest, 1});
    head_ += written.written;
    result.written += written.written;
    if (written.error) {
      result.error = written.error;
      publish();
      return result;
    }
  }
  discard();
  return result;
}

StreamResult StreamBuffer::write(const StreamFd& fd, const Batch& batch, bool keep_on_error) {
  StreamResult result = flush(fd);
  std::size_t written = 0;
  if (!result.error) {
    // Nothing waits: the batch goes straight to the fd, no copy.
    WriteResult progress = write_to(fd, batch.datagrams);
    written = progress.written;
    result.written += written;
    result.error = progress.error;
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
  publish();
}

std::size_t StreamBuffer::discard() {
  std::size_t bytes = size();
  data_.clear();
  head_ = 0;
  publish();
  return bytes;
}

}  // namespace netdisp::stage
