#pragma once
// NatsSink: every datagram of a batch published as one message on the
// endpoint's subject. natsConnection_Publish only copies into the
// connection's buffer (the library's flusher thread writes it); the sink
// makes a round trip (a flush: the server has everything so far) every
// kFlushEvery bytes, so a fast file cannot run ahead of the server by more
// than that, and at the end (flush()), so a client exits only once the
// server has all of it.
//
// While the library reconnects, publications wait in its reconnect buffer
// (kReconnectBuffer); what does not fit is counted as away (dropped while
// reconnecting). Other refusals (a message above the server's max_payload, a
// closed connection) are send errors. Both are named by undelivered().
#include <memory>

#include "stage/control.h"
#include "stage/io.h"
#include "stage/sink.h"
#include "transports/nats/connection.h"

namespace netdisp::transports::nats {

inline constexpr std::size_t kFlushEvery = 4 << 20;

class NatsSink final : public stage::Sink {
 public:
  // `control` (may be null): once a stop is requested, the last round trip is short.
  NatsSink(std::unique_ptr<Connection> connection, const stage::Control* control);

  bool write(const stage::Batch& batch) override;
  void flush() override;
  void report(stage::StatsRows& rows) const override;
  std::vector<std::string> undelivered() const override;

 private:
  void failed(natsStatus status, std::size_t bytes);

  std::unique_ptr<Connection> connection_;
  const stage::Control* control_;
  std::size_t since_flush_ = 0;
  stage::Counter datagrams_{0}, bytes_{0}, errors_{0}, error_bytes_{0}, away_{0}, away_bytes_{0};
  stage::Counter unconfirmed_{0}, not_sent_bytes_{0};  // the last round trip failed; what was still buffered
  stage::LogLimit log_;
};

}  // namespace netdisp::transports::nats
