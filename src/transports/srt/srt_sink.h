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
// SrtListenerSink (mode=listener): waits for callers, any number (one
//   listener per endpoint in the process, SharedListener); each
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
#include <vector>

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

// One srt:// listener destination, shared by every sink of the process that
// names the same endpoint (text as written): the proxy opens its
// destinations once per listen address and once per tcp:// connection, and
// a second listener on the port would fail ("Another socket is already
// listening on the same port"). Every datagram any of them writes goes to
// every caller. write(), flush() and on_ready() take turns (use_mutex_);
// report() and undelivered() answer for the first sink that joined only,
// so that the listener is one row.
class SharedListener {
 public:
  // The endpoint's listener: the one open already, or a new one (throws net::Error).
  static std::shared_ptr<SharedListener> open(const stage::Endpoint& endpoint, const Settings& settings,
                                              const stage::OutputSettings& outputs);
  SharedListener(const stage::Endpoint& endpoint, const Settings& settings, const stage::OutputSettings& outputs);
  ~SharedListener();

  void join(const void* sink);
  void leave(const void* sink);
  bool write(const stage::Batch& batch);
  void flush();
  bool on_ready();
  void report(stage::StatsRows& rows, const void* sink) const;
  std::vector<std::string> undelivered(const void* sink) const;

 private:
  void accept_callers();
  bool wait_for_caller();  // the client: false when stopped first
  void drop(std::list<Link>::iterator it, const char* why);
  bool reports(const void* sink) const { return !members_.empty() && members_.front() == sink; }

  Settings settings_;
  bool wait_;
  const stage::Control& control_;
  SRTSOCKET listener_ = SRT_INVALID_SOCK;
  std::string name_;           // "srt 0.0.0.0:9000"
  std::string endpoint_name_;  // "srt://0.0.0.0:9000"
  std::mutex use_mutex_;       // one sink's write/flush/on_ready at a time
  mutable std::mutex mutex_;   // guards callers_ and members_ against report()
  std::list<Link> callers_;
  std::vector<const void*> members_;  // the sinks sharing it, in the order they joined
  stage::StageStats left_;  // the counters of callers that left, summed (guarded by mutex_)
  stage::Counter accepted_{0};
  std::uint64_t given_up_ = 0;  // the client: bytes not delivered to a caller that left
};

class SrtListenerSink final : public stage::Sink {
 public:
  SrtListenerSink(const stage::Endpoint& endpoint, const Settings& settings, const stage::OutputSettings& outputs)
      : listener_(SharedListener::open(endpoint, settings, outputs)) {
    listener_->join(this);
  }
  ~SrtListenerSink() override { listener_->leave(this); }

  bool write(const stage::Batch& batch) override { return listener_->write(batch); }
  void flush() override { listener_->flush(); }
  bool on_ready(short) override { return listener_->on_ready(); }
  void report(stage::StatsRows& rows) const override { listener_->report(rows, this); }
  std::vector<std::string> undelivered() const override { return listener_->undelivered(this); }

 private:
  std::shared_ptr<SharedListener> listener_;
};

}  // namespace netdisp::transports::srt
