#pragma once
// SrtListenerSink: an srt:// destination with mode=listener. It waits for
// callers, any number (one listener per endpoint in the process,
// SharedListener); each receives the stream from when it connected. Live
// input: each caller is served without waiting, a slow one loses whole
// messages alone (counted), as a reverse-proxy client does. The client waits
// for the first caller, then for every caller connected; at the end, flush()
// waits until every caller acknowledged everything.
// A datagram longer than the largest message (payloadsize) is sent in pieces.
// Called from the pipe's thread only; report() and undelivered() from any.
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "stage/control.h"
#include "stage/schemes.h"
#include "stage/sink.h"
#include "transports/srt/srt_common.h"
#include "transports/srt/srt_link.h"

namespace netdisp::transports::srt {

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
