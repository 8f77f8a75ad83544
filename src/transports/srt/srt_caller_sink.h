#pragma once
// SrtCallerSink: an srt:// destination with mode=caller (the default) or
// rendezvous: one connection.
//   With the client (OutputSettings::wait_for_streams) it connects before the
//   first byte is read (a refusal, e.g. a wrong passphrase, fails the run in
//   one line) and waits for SRT to take each message: lossless; a stop ends
//   any wait, and what was not handed over is counted. At the end, flush()
//   waits until the receiver acknowledged everything.
//   With live input (the proxy) it never waits: a message the send buffer
//   cannot take is dropped whole (counted), and a broken connection is made
//   again every second (messages meanwhile are counted as away).
// A datagram longer than the largest message (payloadsize) is sent in pieces.
// Called from the pipe's thread only; report() and undelivered() from any.
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "stage/control.h"
#include "stage/schemes.h"
#include "stage/sink.h"
#include "transports/srt/srt_common.h"
#include "transports/srt/srt_link.h"

namespace netdisp::transports::srt {

class SrtCallerSink final : public stage::Sink {
 public:
  SrtCallerSink(const stage::Endpoint& endpoint, const Settings& settings, const stage::OutputSettings& outputs);
  ~SrtCallerSink() override;

  bool write(const stage::Batch& batch) override;
  void flush() override;
  bool on_ready(short revents) override;
  void report(stage::StatsRows& rows) const override;
  std::vector<std::string> undelivered() const override;

 private:
  bool connected();  // drop mode: checks the connection, and makes it again when due
  void broke(const char* why);

  Settings settings_;
  net::Address address_;
  bool wait_;
  const stage::Control& control_;
  Link link_;
  bool up_ = false;
  bool failed_ = false;
  std::chrono::steady_clock::time_point retry_at_{};
  stage::Counter away_datagrams_{0}, away_bytes_{0}, reconnects_{0};
  std::uint64_t unacknowledged_ = 0;  // bytes the receiver had not acknowledged when we gave up
  mutable std::mutex mutex_;          // guards link_.peer.socket against report()
  stage::LogLimit log_;
};

}  // namespace netdisp::transports::srt
