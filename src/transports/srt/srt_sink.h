#pragma once
// The srt:// destinations.
//
// SrtCallerSink (mode=caller, the default, or rendezvous): one connection.
//   With the client (OutputSettings::wait_for_streams) it connects before the
//   first byte is read (a refusal, e.g. a wrong passphrase, fails the run in
//   one line) and waits for SRT to take each message: lossless; a stop ends
//   any wait, and what was not handed over is counted. At the end, flush()
//   waits until the receiver acknowledged everything.
//   With live input (the proxy) it never waits: a message the send buffer
//   cannot take is dropped whole (counted), and a broken connection is made
//   again every second (messages meanwhile are counted as away).
// SrtListenerSink (mode=listener): waits for callers, any number; each
//   receives the stream from when it connected. Live input: each caller is
//   served without waiting, a slow one loses whole messages alone (counted),
//   as a reverse-proxy client does. The client waits for the first caller,
//   then for every caller connected.
// A datagram longer than the largest message (payloadsize) is sent in pieces.
// Called from the pipe's thread only; report() and undelivered() from any.
#include <chrono>
#include <list>
#include <memory>
#include <mutex>

#include "stage/control.h"
#include "stage/io.h"
#include "stage/schemes.h"
#include "stage/sink.h"
#include "transports/srt/srt_common.h"

namespace netdisp::transports::srt {

// One connected socket we send on, with its counters.
struct Link {
  Peer peer;
  std::string label;  // "srt://127.0.0.1:9000", "srt 0.0.0.0:9000 -> 127.0.0.1:40000"
  stage::Counter datagrams{0}, bytes{0}, dropped_datagrams{0}, dropped_bytes{0};
  std::uint64_t not_sent = 0;  // bytes given up (a stop, a break)
  bool file = false;           // transtype=file: a piece equal to the end-of-data probe is split
  stage::Counter probes{0};    // end-of-data probes sent (srt_sink.cpp)

  enum class Sent { kAll, kDropped, kStopped, kBroken };
  // Sends one datagram (in pieces of `message` bytes). `wait`: until SRT
  // takes it, or `control` asks to stop; else drops it when the buffer is full.
  Sent send(const iovec& datagram, int message, bool wait, const stage::Control& control);
  // "sent 10 messages (13160 bytes), 0 dropped; srt sent ..." into `row` too;
  // a broken socket's library counters as last seen (look()).
  std::string describe(stage::StageStats& row) const;
  // Keeps the library's counters (a broken socket has none); after each
  // batch sent and at each idle tick. The caller holds the lock report() takes.
  void look();

 private:
  stage::StageStats library_;  // the library's counters as last seen
  std::string library_text_;
};

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

class SrtListenerSink final : public stage::Sink {
 public:
  SrtListenerSink(const stage::Endpoint& endpoint, const Settings& settings, const stage::OutputSettings& outputs);
  ~SrtListenerSink() override;

  bool write(const stage::Batch& batch) override;
  void flush() override;
  bool on_ready(short revents) override;
  void report(stage::StatsRows& rows) const override;
  std::vector<std::string> undelivered() const override;

 private:
  void accept_callers();
  bool wait_for_caller();  // the client: false when stopped first
  void drop(std::list<Link>::iterator it, const char* why);

  Settings settings_;
  bool wait_;
  const stage::Control& control_;
  SRTSOCKET listener_ = SRT_INVALID_SOCK;
  std::string name_;           // "srt 0.0.0.0:9000"
  std::string endpoint_name_;  // "srt://0.0.0.0:9000"
  mutable std::mutex mutex_;   // guards callers_ against report()
  std::list<Link> callers_;
  stage::StageStats left_;  // the counters of callers that left, summed (guarded by mutex_)
  stage::Counter accepted_{0};
  std::uint64_t given_up_ = 0;  // the client: bytes not delivered to a caller that left
};

}  // namespace netdisp::transports::srt
