#pragma once
// StreamSink: one tcp:// or unix:// destination. Payloads are concatenated
// onto one connection, which the sink makes, keeps and remakes:
// - Behind the destination, one of two policies:
//   kWait (the client): lossless backpressure. write() returns only when the
//     kernel took the whole batch, so the pipe's input is read only as fast as
//     this destination takes it; a stop request (Control::stop_fd) ends any
//     wait at once, and the bytes not handed over then are counted.
//   kDrop (the proxy: live input never waits): what the destination cannot
//     take waits in a buffer of `buffer_limit` bytes; past that, whole
//     datagrams are dropped for this destination alone and counted. The rest
//     of a partly written datagram is always kept: the stream stays whole.
// - A break (reset, the peer gone) is followed by reconnects with capped
//   exponential backoff (first after `first_retry`, doubling, at most
//   `max_retry` apart); after `reconnect_timeout` without a connection the sink
//   fails for good (failed(), the reason in failure()), and write() returns
//   false. A connection that lasted less than a second does not end the
//   outage: its clock and its backoff go on.
// - After a reconnect the stream resumes with the bytes not yet handed to the
//   kernel. What the kernel had taken but the peer not acknowledged at the
//   break is counted as "possibly lost", as the kernel reports it (SIOCOUTQ:
//   TCP's unsent + unacknowledged bytes; for a Unix socket the memory of the
//   messages the peer had not read, an upper bound of their bytes, counted
//   when the peer reset the connection with them unread). Bytes a TCP peer's
//   kernel acknowledged but its program never read are beyond what a sender
//   can see, and are not in that count. Where the system cannot say what its
//   kernel holds (Windows), every byte handed over on the broken connection
//   is counted: an upper bound, which the totals and the summary say it is.
// - flush() at the end: hands over what waits (bounded by `flush_timeout`),
//   then shutdown(SHUT_WR) and waits, within the same bound, until the peer
//   acknowledged everything (the send queue is empty) or reset; where the
//   system cannot say, until the peer ends its side after ours. A stop
//   request ends every wait at once.
// - The peer's own bytes are read and discarded; its half-close (FIN) is not
//   a break (it may still read): a real close shows at the next send.
// The connection and the data are stream_sink.cpp; the end (flush) and the
// reports are stream_sink_end.cpp.
// Called from the pipe's thread only; stats(), totals(), failed() and
// failure() from any thread.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/address.h"
#include "net/unique_fd.h"
#include "stage/control.h"
#include "stage/io.h"
#include "stage/sink.h"
#include "stage/stream_buffer.h"

namespace netdisp::stage {

// --stream-buffer's default.
inline constexpr std::size_t kDefaultStreamBuffer = std::size_t{4} << 20;

class StreamSink final : public Sink {
 public:
  using Clock = std::chrono::steady_clock;

  enum class WhenBehind { kWait, kDrop };

  struct Settings {
    WhenBehind when_behind = WhenBehind::kWait;
    std::size_t buffer_limit = kDefaultStreamBuffer;  // kDrop only: kWait keeps whatever it must
    bool reconnect = true;                            // false: the first break fails the sink
    std::chrono::milliseconds first_retry{100};
    std::chrono::milliseconds max_retry{5000};
    std::chrono::milliseconds reconnect_timeout{60000};  // counted from the break
    std::chrono::milliseconds connect_timeout{10000};    // one attempt
    std::chrono::milliseconds flush_timeout{5000};
  };

  // kWait connects before returning (a stop request cuts it short) and throws
  // net::Error naming `label` when that fails ("connect tcp://h:p: Connection
  // refused"). kDrop never blocks: it starts connecting, and failures go
  // through the reconnect policy. `label` ("tcp://h:p") names the
  // destination in logs and stats. `control` must outlive the sink.
  StreamSink(net::Address destination, std::string label, Settings settings, const Control& control);
  ~StreamSink() override;

  bool write(const Batch& batch) override;
  void flush() override;
  pollfd watch() const override;
  bool on_ready(short revents) override;
  void report(StatsRows& rows) const override;
  std::vector<std::string> undelivered() const override;

  struct Totals {
    std::uint64_t sent = 0;            // bytes handed to the kernel
    std::uint64_t reconnects = 0;      // connections remade after a break
    std::uint64_t breaks = 0;
    std::uint64_t possibly_lost = 0;   // at breaks: handed over, not acknowledged (see above)
    bool possibly_lost_bounded = false;  // some of it is an upper bound: the system did not say
    std::uint64_t dropped_datagrams = 0, dropped_bytes = 0;        // kDrop: buffer full while connected
    std::uint64_t away_datagrams = 0, away_bytes = 0;              // kDrop: buffer full while reconnecting
    std::uint64_t not_sent = 0;        // waiting bytes given up: at a stop, at flush's timeout, on failure
  };
  Totals totals() const;

  // Failed for good (gave up reconnecting, or a break with reconnect off).
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  std::string failure() const;  // why, "" while not failed
  // After flush(): every byte given to write() was handed to the kernel and
  // acknowledged by the peer at the end, and none was lost at a break or
  // dropped. What the client's exit status 0 means.
  bool delivered_everything() const;

 private:
  enum class State { kBackoff, kConnecting, kConnected, kFailed };

  void start_connect();
  void connected();
  void attempt_failed(int error);
  void count_break(int error);
  void lost_connection(int error);
  void fail(const std::string& why);
  void schedule_retry(int error);
  void advance();  // timers: a due retry, a finished or timed-out connect
  bool step(short revents);
  void send_batch(const Batch& batch);
  void send_pending();
  int read_peer();
  void count(const StreamResult& result, bool away);
  bool wait_handed_over(Clock::time_point deadline);
  bool wait_acknowledged(Clock::time_point deadline);
  int poll_once(Clock::time_point deadline);
  StreamFd out() const { return StreamFd{fd_.get(), StreamFd::Kind::kSend}; }

  // Bytes the kernel took but the peer has not acknowledged (TCP: unsent +
  // unacknowledged; Unix: memory of the messages the peer has not read yet);
  // nullopt where the system cannot say (Windows).
  static std::optional<std::uint64_t> send_queue(int fd);
  static int take_error(int fd);  // the socket's pending error (and clears it), 0 if none
  static int ms_until(Clock::time_point when);  // at most kTickMs
  static double seconds(Clock::duration d);
  // How often a wait looks at its deadlines even when nothing wakes it.
  static constexpr int kTickMs = 1000;
  // After shutdown(SHUT_WR), nothing in poll() says "the send queue is empty"
  // (POLLOUT stays set): the queue is read again at this step.
  static constexpr int kAckStepMs = 10;
  // Said of a figure bounded by what was handed over, where the system cannot
  // say what the peer acknowledged.
  static constexpr const char* kUpperBound = "an upper bound: this system does not say what the peer acknowledged";

  net::Address destination_;
  std::string label_;
  Settings settings_;
  const Control& control_;
  net::UniqueFd fd_;      // connecting or connected
  net::InputTimer timer_;  // readable when a retry is due (a timerfd on Linux)
  State state_ = State::kBackoff;
  StreamBuffer pending_;  // accepted for this destination, not yet handed to the kernel
  bool peer_finished_ = false;  // the peer half-closed (FIN): stop polling for its bytes
  bool ever_connected_ = false;
  bool flushed_ = false;
  bool acknowledged_ = false;
  int attempts_ = 0;                       // failed attempts in this outage
  int last_break_error_ = 0;
  std::chrono::milliseconds delay_{0};     // the next backoff
  Clock::time_point outage_since_{}, retry_at_{}, attempt_deadline_{}, connected_at_{};
  std::uint64_t sent_on_connection_ = 0;
  std::uint64_t queue_sample_ = 0;  // Unix: SIOCOUTQ after the last send
  std::string failure_;             // written once, before failed_ turns true
  std::atomic<bool> failed_{false};
  std::atomic<bool> possibly_lost_bounded_{false};  // a break counted everything handed over on it
  Counter sent_{0}, reconnects_{0}, breaks_{0}, possibly_lost_{0}, dropped_datagrams_{0}, dropped_bytes_{0},
      away_datagrams_{0}, away_bytes_{0}, not_sent_{0};
  LogLimit drop_log_, retry_log_;
};

}  // namespace netdisp::stage
