#pragma once
// Connection: one connection to a NATS server (or cluster) through libnats,
// opened for one source or one sink. The library runs threads of its own
// (a reader and a flusher per connection, a dispatcher per subscription,
// timers): they are created with every signal blocked, so SIGINT/SIGTERM
// reach only the Supervisor's signalfd.
//
// Connecting is bounded (kConnectTimeout per server); a first connect that
// fails throws net::Error naming the servers (never the credentials). Later
// breaks are the library's to repair: it reconnects forever, every
// kReconnectWait, keeping up to kReconnectBuffer bytes of publications
// meanwhile (the sink counts what does not fit). Reconnects, disconnects and
// the library's asynchronous errors (a slow consumer) are counted and logged.
//
// Also the hook for JetStream (jetstream.cpp): get() is the natsConnection
// its context is made from.
#include <nats/nats.h>
#include <signal.h>

#include <cstdint>
#include <string>

#include "stage/io.h"
#include "transports/nats/target.h"

namespace netdisp::transports::nats {

inline constexpr std::int64_t kConnectTimeoutMs = 2000;
inline constexpr std::int64_t kReconnectWaitMs = 250;
inline constexpr int kReconnectBuffer = 8 << 20;

// Blocks every signal in the calling thread while it lives, so threads the
// library starts meanwhile inherit a mask that blocks them all.
class SignalsBlocked {
 public:
  SignalsBlocked();
  ~SignalsBlocked();
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t saved_;
};

// "what: the library's status text (and its last error's detail)".
std::string status_text(natsStatus status);

class Connection {
 public:
  // Connects; throws net::Error (exit 1) when no server of `target` answers.
  explicit Connection(const Target& target);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  natsConnection* get() const { return connection_; }
  const Target& target() const { return target_; }

  std::uint64_t reconnects() const;
  std::uint64_t disconnects() const;
  // The library's counts for this connection (every subscription and publication on it).
  struct Counts {
    std::uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0;
  };
  Counts counts() const;

 private:
  // What the library's callbacks (on its own threads) touch; it outlives the
  // connection until the closed callback ran (see ~Connection).
  struct Events;
  static void on_disconnected(natsConnection* connection, void* closure);
  static void on_reconnected(natsConnection* connection, void* closure);
  static void on_closed(natsConnection* connection, void* closure);
  static void on_error(natsConnection* connection, natsSubscription* subscription, natsStatus status, void* closure);

  Target target_;
  Events* events_;
  natsOptions* options_ = nullptr;
  natsConnection* connection_ = nullptr;
};

}  // namespace netdisp::transports::nats
