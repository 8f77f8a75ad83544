#pragma once
// SrtSource: an srt:// listen endpoint. A listener (the default) takes any
// number of callers at once, each a connection whose messages all go into
// this one source; a caller or rendezvous endpoint connects, and connects
// again after a break, until stopped.
//
// SRT sockets are not OS descriptors, so a thread of ours waits on the
// library's epoll, reads with srt_recvmsg2 and hands the messages to the
// pipe's thread through a HandoffQueue (whose eventfd the pipe polls). When
// the queue is full the thread stops reading: SRT's own buffers and flow
// control then hold the sender back (lossless in file mode; in live mode the
// library drops what comes too late, counted in srt_dropped_too_late_packets).
#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <thread>

#include "stage/handoff_queue.h"
#include "stage/io.h"
#include "stage/source.h"
#include "transports/srt/srt_common.h"

namespace netdisp::transports::srt {

class SrtSource final : public stage::Source {
 public:
  // Listener: binds now (throws net::Error) and logs "listening on srt://..."
  // when `log_listening`. Caller/rendezvous: connects in its thread.
  SrtSource(const stage::Endpoint& endpoint, const Settings& settings, const stage::InputSettings& inputs,
            bool log_listening);
  ~SrtSource() override;  // stops the thread, closes every connection

  stage::ReadStatus read(stage::Batch& batch) override;
  int poll_fd() const override { return queue_.fd(); }
  void report(stage::StatsRows& rows) const override;
  std::string name() const override { return name_; }
  // On a stop the pipe still writes what SRT delivered (--drain-timeout);
  // what is left then is counted as discarded.
  bool drains() const override { return true; }
  void discard_queued() override;

 private:
  struct Connection {
    Peer peer;
    std::string label;  // "srt://0.0.0.0:9000 <- 127.0.0.1:40000"
    // The library's counters as last read (a broken socket has none), with
    // what its receive buffer held then and what we had read out by then.
    stage::StageStats last;
    std::string last_text;
    std::uint64_t last_held = 0, last_taken = 0;
    std::chrono::steady_clock::time_point updated{};
    std::uint64_t messages = 0;  // read so far
    std::uint64_t taken = 0;     // bytes read out of the library so far (probes too)
    // The peer closed or the connection broke: what SRT received (and
    // acknowledged) is still read out of its buffer, see end().
    bool ending = false;
    std::chrono::steady_clock::time_point progress{};  // ending: when a message was last read
    std::chrono::milliseconds patience{0};             // ending: how long to wait for the next one
  };

  void run();
  void accept_callers();
  void connect();                          // caller, rendezvous: one attempt, waits for its outcome
  bool read_from(Connection& connection);  // false: it ended
  void look_at(Connection& connection);    // its counters and buffer, every kLookEvery
  void end(std::list<Connection>::iterator it);  // the peer is gone: read what is left, then close
  void read_ending();                            // every ending connection: read on, close when empty
  bool any_ending() const;
  bool hand_over(const char* data, std::size_t size);  // false: stopping
  void close(std::list<Connection>::iterator it, const char* why);
  void stop_thread();

  Settings settings_;
  net::Address address_;
  net::AccessList allow_;
  std::size_t max_clients_;
  std::string name_;  // "srt 0.0.0.0:9000"
  std::string endpoint_name_;
  SRTSOCKET listener_ = SRT_INVALID_SOCK;
  int epoll_ = -1;
  stage::HandoffQueue queue_;
  std::vector<char> buffer_;
  mutable std::mutex mutex_;  // guards connections_ and gone_ against report() from any thread
  std::list<Connection> connections_;
  stage::StageStats ended_;   // the srt counters of connections that ended, summed
  std::atomic<bool> stop_{false};
  std::string failure_;       // set by the thread before it closes the queue: read() throws it
  stage::Counter datagrams_{0}, bytes_{0}, accepted_{0}, refused_{0}, over_limit_{0};
  stage::Counter discarded_datagrams_{0}, discarded_bytes_{0};
  stage::Counter probes_{0};  // transtype=file: the senders' end-of-data probes, dropped
  stage::Counter lost_at_end_{0};  // bytes behind a gap never repaired when a connection ended
  stage::LogLimit retry_log_;
  std::thread thread_;
};

}  // namespace netdisp::transports::srt
