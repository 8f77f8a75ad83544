#include "stage/tcp_sink.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>

#include "net/error.h"

namespace netdisp::stage {

TcpSink::TcpSink(net::UniqueFd fd, net::Address peer, std::chrono::milliseconds timeout, std::size_t buffer_limit)
    : fd_(std::move(fd)), peer_(peer), timeout_(timeout), buffer_limit_(buffer_limit) {}

TcpSink::~TcpSink() {
  if (!closed_) gone("shutting down");
}

bool TcpSink::gone(const char* why) {
  closed_ = true;
  if (!pending_.empty()) {
    // Accepted for this client but never written: count it with the drops.
    add(dropped_bytes_, pending_.size());
    pending_.clear();
  }
  spdlog::info("tcp client {}: closed ({}); sent {} bytes, dropped {} datagrams ({} bytes) it could not take",
               peer_.to_string(), why, get(bytes_), get(dropped_datagrams_), get(dropped_bytes_));
  return false;
}

// Writes what waits from earlier batches; true when nothing is left waiting.
bool TcpSink::flush_pending() {
  while (!pending_.empty()) {
    ssize_t n = ::send(fd_.get(), pending_.data(), pending_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) return false;  // EAGAIN, or an error that on_ready() will see as POLLERR
    add(bytes_, static_cast<std::uint64_t>(n));
    pending_.erase(0, static_cast<std::size_t>(n));
    stalled_since_ = std::chrono::steady_clock::now();
  }
  return true;
}

bool TcpSink::write(const Batch& batch) {
  if (closed_) return false;
  std::size_t written = 0;
  if (flush_pending()) {
    WriteResult result = write_all(fd_.get(), batch.datagrams);  // non-blocking fd: stops at EAGAIN
    written = result.written;
    add(bytes_, written);
    if (result.error && result.error != EAGAIN && result.error != EWOULDBLOCK)
      return gone(net::errno_text(result.error).c_str());
    if (!result.error) return true;
    stalled_since_ = std::chrono::steady_clock::now();
  }
  return queue(batch, written);
}

// Keeps what was not written: the rest of a partly written datagram always
// (the stream must stay whole), further datagrams while the buffer has room.
bool TcpSink::queue(const Batch& batch, std::size_t written) {
  std::size_t skipped = 0;
  for (const iovec& datagram : batch.datagrams) {
    const char* data = static_cast<const char*>(datagram.iov_base);
    if (skipped + datagram.iov_len <= written) {
      skipped += datagram.iov_len;
      continue;
    }
    std::size_t done = written > skipped ? written - skipped : 0;
    skipped += datagram.iov_len;
    if (done == 0 && pending_.size() + datagram.iov_len > buffer_limit_) {
      add(dropped_datagrams_, 1);
      add(dropped_bytes_, datagram.iov_len);
      continue;
    }
    pending_.append(data + done, datagram.iov_len - done);
  }
  if (get(dropped_datagrams_) && drop_log_.allow())
    spdlog::warn("tcp client {}: too slow, dropped {} datagrams ({} bytes) so far", peer_.to_string(),
                 get(dropped_datagrams_), get(dropped_bytes_));
  return true;
}

pollfd TcpSink::watch() const {
  short events = POLLIN | POLLRDHUP;
  if (!pending_.empty()) events |= POLLOUT;
  return pollfd{fd_.get(), events, 0};
}

bool TcpSink::on_ready(short revents) {
  if (revents & (POLLERR | POLLHUP)) return gone("connection reset");
  if (revents & (POLLIN | POLLRDHUP)) {
    char discard[4096];
    ssize_t n = ::recv(fd_.get(), discard, sizeof discard, MSG_DONTWAIT);
    if (n == 0) return gone("client closed");
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return gone(net::errno_text(errno).c_str());
  }
  if (pending_.empty() || flush_pending()) return true;
  if (std::chrono::steady_clock::now() - stalled_since_ > timeout_) return gone("could not write for --client-timeout");
  return true;
}

std::string TcpSink::stats() const {
  return fmt::format("  -> tcp client {}: sent {} bytes; dropped {} datagrams, {} bytes", peer_.to_string(),
                     get(bytes_), get(dropped_datagrams_), get(dropped_bytes_));
}

}  // namespace netdisp::stage
