#pragma once
// TcpSink: one TCP client of the reverse-proxy. Payloads are concatenated
// onto the connection. The socket is non-blocking: what the client cannot
// take right now waits in a bounded buffer; when that is full, whole
// datagrams are dropped for this client alone (counted), so a slow client
// never slows the upstream or the other clients. A client that could not be
// written to for `timeout` is disconnected. The client's own bytes are read
// and discarded; its EOF or reset ends the sink.
#include <chrono>
#include <string>

#include "net/address.h"
#include "net/unique_fd.h"
#include "stage/io.h"
#include "stage/sink.h"
#include "stage/stream_buffer.h"

namespace netdisp::stage {

class TcpSink final : public Sink {
 public:
  TcpSink(net::UniqueFd fd, net::Address peer, std::chrono::milliseconds timeout, std::size_t buffer_limit);
  ~TcpSink() override;

  bool write(const Batch& batch) override;
  pollfd watch() const override;
  bool on_ready(short revents) override;
  void report(StatsRows& rows) const override;

 private:
  void count(const StreamResult& result, bool was_empty);
  bool gone(const char* why);

  net::UniqueFd fd_;
  net::Address peer_;
  std::chrono::milliseconds timeout_;
  StreamBuffer pending_;  // bytes accepted for this client but not yet written
  std::chrono::steady_clock::time_point stalled_since_{};
  bool closed_ = false;
  Counter bytes_{0}, dropped_datagrams_{0}, dropped_bytes_{0};
  LogLimit drop_log_;
};

}  // namespace netdisp::stage
