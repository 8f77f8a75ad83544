#pragma once
// NatsSource: the messages of one subscription, each message's payload one
// datagram. libnats delivers a subscription's messages on one thread of its
// own (the subscription's dispatcher), one at a time: that thread is the one
// producer of a HandoffQueue, which the pipe reads in batches (poll_fd() is
// its eventfd); no lock per message.
//
// Core NATS has no backpressure. While the queue is full the dispatcher
// waits for room, so the backlog gathers in the library's pending list,
// bounded by the subscription's pending limits (the mode's --rcvbuf bytes);
// what overflows them the library drops and counts (a slow consumer), and
// report() shows it as slow_consumer_drops. At a stop, what is still queued
// (ours and the library's) is counted as discarded.
//
// JetStream (jetstream.cpp) reuses it with a subscribe function of its own
// and a hook run for each message after it was queued (an ack).
#include <nats/nats.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <condition_variable>

#include "stage/handoff_queue.h"
#include "stage/io.h"
#include "stage/source.h"
#include "transports/nats/connection.h"

namespace netdisp::transports::nats {

// Subscribes `handler(closure)` on the connection; the core one is
// natsConnection_Subscribe / QueueSubscribe (?queue=).
using Subscribe = std::function<natsStatus(natsConnection*, natsSubscription**, natsMsgHandler, void* closure)>;
// Called on the dispatcher thread for each message once it is queued, before it is destroyed.
using Queued = std::function<void(natsMsg*)>;

Subscribe core_subscribe(const Target& target);

class NatsSource final : public stage::Source {
 public:
  // `pending_bytes`: the library's limit for this subscription's backlog.
  // Throws net::Error when the subscription is refused.
  NatsSource(std::unique_ptr<Connection> connection, std::size_t pending_bytes, const Subscribe& subscribe,
             Queued queued = {});
  ~NatsSource() override;

  stage::ReadStatus read(stage::Batch& batch) override;
  net::Handle poll_fd() const override { return queue_.fd(); }
  void report(stage::StatsRows& rows) const override;
  std::string name() const override { return connection_->target().shown; }
  bool drains() const override { return true; }
  void discard_queued() override;

 private:
  static void on_message(natsConnection* connection, natsSubscription* subscription, natsMsg* message,
                         void* closure);
  static void on_complete(void* closure);
  void unsubscribe();  // once; waits (at most 1 s) until the dispatcher left on_message for good
  std::uint64_t library_drops() const;

  std::unique_ptr<Connection> connection_;
  Queued queued_;
  stage::HandoffQueue queue_;
  natsSubscription* subscription_ = nullptr;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable completed_signal_;
  bool completed_ = false;
  bool unsubscribed_ = false;
  stage::Counter datagrams_{0}, bytes_{0};                   // read by the pipe
  // at stop; both the library's thread and the pipe's add to them when
  // unsubscribe() gives up waiting, hence fetch_add, not stage::add
  stage::Counter discarded_{0}, discarded_bytes_{0};
  mutable stage::Counter dropped_{0};                        // the library's slow-consumer drops, last seen
};

}  // namespace netdisp::transports::nats
