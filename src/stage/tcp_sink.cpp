#include "stage/tcp_sink.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>

#include "net/error.h"

namespace netdisp::stage {

TcpSink::TcpSink(net::UniqueFd fd, net::Address peer, std::chrono::milliseconds timeout, std::size_t buffer_limit)
    : fd_(std::move(fd)), peer_(peer), timeout_(timeout), pending_(buffer_limit) {}

TcpSink::~TcpSink() {
  if (!closed_) gone("shutting down");
}

bool TcpSink::gone(const char* why) {
  closed_ = true;
  // Accepted for this client but never written: counted with the drops.
  add(dropped_bytes_, pending_.discard());
  spdlog::info("tcp client {}: closed ({}); sent {} bytes, dropped {} datagrams ({} bytes) it could not take",
               peer_.to_string(), why, get(bytes_), get(dropped_datagrams_), get(dropped_bytes_));
  return false;
}

void TcpSink::count(const StreamResult& result, bool was_empty) {
  add(bytes_, result.written);
  // --client-timeout runs from the last progress, or from the start of a stall.
  if (result.written > 0 || (was_empty && !pending_.empty())) stalled_since_ = std::chrono::steady_clock::now();
  if (!result.dropped_datagrams && !result.failed_bytes) return;
  add(dropped_datagrams_, result.dropped_datagrams);
  add(dropped_bytes_, result.dropped_bytes + result.failed_bytes);
  if (result.dropped_datagrams && drop_log_.allow())
    spdlog::warn("tcp client {}: too slow, dropped {} datagrams ({} bytes) so far", peer_.to_string(),
                 get(dropped_datagrams_), get(dropped_bytes_));
}

bool TcpSink::write(const Batch& batch) {
  if (closed_) return false;
  bool was_empty = pending_.empty();
  StreamResult result = pending_.write(StreamFd{fd_.get(), StreamFd::Kind::kSend}, batch);
  count(result, was_empty);
  if (result.failed()) return gone(net::errno_text(result.error).c_str());
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
  if (pending_.empty()) return true;
  // Errors other than EAGAIN show up as POLLERR on the next poll.
  StreamResult result = pending_.flush(StreamFd{fd_.get(), StreamFd::Kind::kSend});
  count(result, false);
  if (result.error == EAGAIN && std::chrono::steady_clock::now() - stalled_since_ > timeout_)
    return gone("could not write for --client-timeout");
  return true;
}

void TcpSink::report(StatsRows& rows) const {
  StageStats& row = rows.emplace_back();
  row.role = StageStats::Role::kSink;
  row.endpoint = endpoint_name("tcp", peer_.to_string());
  row.set(Stat::kBytes, get(bytes_));
  row.set(Stat::kDroppedDatagrams, get(dropped_datagrams_)).set(Stat::kDroppedBytes, get(dropped_bytes_));
  row.set(Stat::kBufferedBytes, pending_.waiting());
  row.text = fmt::format("  -> tcp client {}: sent {} bytes; dropped {} datagrams, {} bytes", peer_.to_string(),
                     get(bytes_), get(dropped_datagrams_), get(dropped_bytes_));
}

}  // namespace netdisp::stage
