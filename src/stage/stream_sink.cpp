#include "stage/stream_sink.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <limits>
#include <optional>

#include "net/error.h"
#include "net/stream_socket.h"

namespace netdisp::stage {
namespace {

using Clock = StreamSink::Clock;
using std::chrono::milliseconds;

// A connection that lasted less than this did not end the outage: a peer that
// accepts and drops at once must not reset the backoff or the give-up clock.
constexpr auto kStableConnection = std::chrono::seconds(1);
// The last attempt before giving up gets at least this long to connect.
constexpr milliseconds kMinAttempt{1000};
// Peer bytes read and discarded per wake: a chatty peer cannot hold the pipe.
constexpr int kPeerReadsPerWake = 16;

// Starts a non-blocking connect (the pipe thread must not wait on it under
// kDrop): 0 connected, EINPROGRESS (poll for POLLOUT), or why it failed.
// TODO(lead): belongs in net/stream_socket as the non-blocking half of
// connect_stream (socket options, bind_from).
int begin_connect(const net::Address& destination, net::UniqueFd& out) {
  net::UniqueFd fd(::socket(destination.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return errno;
  int one = 1;
  if (destination.family() != AF_UNIX) ::setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  int error = 0;
  do {
    error = ::connect(fd.get(), destination.get(), destination.length()) == 0 ? 0 : errno;
  } while (error == EINTR);
  if (error == 0 || error == EINPROGRESS) out = std::move(fd);
  return error;  // EAGAIN from a Unix listener with a full backlog: retried like a refusal
}

}  // namespace

std::optional<std::uint64_t> StreamSink::send_queue(int fd) {
  return fd < 0 ? std::optional<std::uint64_t>(0) : net::send_queue_bytes(fd);
}

int StreamSink::take_error(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

int StreamSink::ms_until(Clock::time_point when) {
  auto left = std::chrono::ceil<milliseconds>(when - Clock::now()).count();
  return static_cast<int>(std::clamp<std::int64_t>(left, 0, kTickMs));
}

double StreamSink::seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

StreamSink::StreamSink(net::Address destination, std::string label, Settings settings, const Control& control)
    : destination_(destination),
      label_(std::move(label)),
      settings_(settings),
      control_(control),
      pending_(settings.when_behind == WhenBehind::kWait ? std::numeric_limits<std::size_t>::max()
                                                           : settings.buffer_limit) {
  outage_since_ = Clock::now();
  delay_ = settings_.first_retry;
  if (settings_.when_behind == WhenBehind::kDrop) {
    start_connect();
    return;
  }
  // The client connects before it reads its input: a destination that cannot
  // be reached is a setup failure (exit 1) naming it.
  int error = net::connect_stream(destination_, settings_.connect_timeout, control_.stop_fd(), fd_);
  if (error == ECANCELED) {
    schedule_retry(error);  // stopping: the pipe ends before it writes
    return;
  }
  if (error) throw net::Error("connect " + label_ + ": " + net::errno_text(error));
  connected();
}

StreamSink::~StreamSink() = default;

// ---- connection state ----

void StreamSink::start_connect() {
  Clock::time_point now = Clock::now();
  Clock::time_point give_up_at = outage_since_ + settings_.reconnect_timeout;
  attempt_deadline_ = std::min(now + settings_.connect_timeout, std::max(give_up_at, now + kMinAttempt));
  int error = begin_connect(destination_, fd_);
  if (error == 0) {
    connected();
  } else if (error == EINPROGRESS) {
    state_ = State::kConnecting;
  } else {
    attempt_failed(error);
  }
}

void StreamSink::connected() {
  timer_.disarm();
  state_ = State::kConnected;
  peer_finished_ = false;
  sent_on_connection_ = 0;
  queue_sample_ = 0;
  connected_at_ = Clock::now();
  if (ever_connected_) {
    add(reconnects_, 1);
    spdlog::info("{}: reconnected after {:.1f} s ({} failed attempts); resuming with the {} bytes not yet sent",
                 label_, seconds(connected_at_ - outage_since_), attempts_, pending_.size());
  } else {
    spdlog::info("{}: connected", label_);
    outage_since_ = Clock::time_point::min();  // no outage to continue at the first break
  }
  ever_connected_ = true;
  attempts_ = 0;
}

void StreamSink::attempt_failed(int error) {
  fd_.reset();
  ++attempts_;
  if (!settings_.reconnect) {
    fail("connect failed (" + net::errno_text(error) + ") and reconnecting is off");
    return;
  }
  if (retry_log_.allow())
    spdlog::warn("{}: connect failed ({}); retrying for up to {:.1f} s more", label_, net::errno_text(error),
                 std::max(0.0, seconds(outage_since_ + settings_.reconnect_timeout - Clock::now())));
  schedule_retry(error);
}

void StreamSink::schedule_retry(int error) {
  Clock::time_point now = Clock::now();
  Clock::time_point give_up_at = outage_since_ + settings_.reconnect_timeout;
  if (error != ECANCELED && now >= give_up_at) {
    fail(fmt::format("gave up reconnecting after {:.1f} s ({} attempts; last: {})", seconds(now - outage_since_),
                     attempts_, net::errno_text(error)));
    return;
  }
  retry_at_ = std::min(now + delay_, give_up_at);
  delay_ = std::min<milliseconds>(delay_ * 2, settings_.max_retry);
  state_ = State::kBackoff;
  timer_.arm(std::max(retry_at_, now + std::chrono::nanoseconds(1)));
}

// Counts a break: what the kernel holds unacknowledged, read before the
// socket is closed (closing throws it away), is what may be lost. Where the
// system cannot say, nothing handed over on this connection is known to be
// acknowledged: all of it is counted, an upper bound, and said to be one.
void StreamSink::count_break(int error) {
  int pending_error = take_error(fd_.get());
  if (!error) error = pending_error ? pending_error : EPIPE;
  std::optional<std::uint64_t> queued = send_queue(fd_.get());
  std::uint64_t lost = queued.value_or(sent_on_connection_);
  if (queued && destination_.family() == AF_UNIX) {
    // A Unix peer's close frees what it had not read: the sample taken after
    // our last send bounds it, and the peer's reset says it was not read.
    bool reset = error == ECONNRESET || pending_error == ECONNRESET;
    lost = reset ? std::max(lost, queue_sample_) : lost;
  }
  lost = std::min(lost, sent_on_connection_);
  add(breaks_, 1);
  add(possibly_lost_, lost);
  if (!queued) possibly_lost_bounded_.store(true, std::memory_order_relaxed);
  fd_.reset();
  state_ = State::kBackoff;
  if (queued)
    spdlog::warn("{}: connection lost ({}) after {} bytes on it; {} bytes the peer had not acknowledged may be lost",
                 label_, net::errno_text(error), sent_on_connection_, lost);
  else
    spdlog::warn("{}: connection lost ({}) after {} bytes on it; up to {} bytes may be lost ({})", label_,
                 net::errno_text(error), sent_on_connection_, lost, kUpperBound);
  last_break_error_ = error;
}

void StreamSink::lost_connection(int error) {
  count_break(error);
  Clock::time_point now = Clock::now();
  if (outage_since_ == Clock::time_point::min() || now - connected_at_ >= kStableConnection) {
    outage_since_ = now;
    delay_ = settings_.first_retry;
    attempts_ = 0;
  }
  if (!settings_.reconnect) {
    fail("connection lost (" + net::errno_text(last_break_error_) + ") and reconnecting is off");
    return;
  }
  schedule_retry(last_break_error_);
}

void StreamSink::fail(const std::string& why) {
  fd_.reset();
  timer_.disarm();
  state_ = State::kFailed;
  std::size_t dropped = pending_.discard();
  add(not_sent_, dropped);
  failure_ = why;
  failed_.store(true, std::memory_order_release);
  spdlog::error("{}: {}; {} bytes waiting were not sent", label_, why, dropped);
}

// Timers, whatever woke us: a retry that is due, a connect that finished or
// timed out. Called before every write too: a busy pipe never goes idle.
void StreamSink::advance() {
  if (state_ == State::kBackoff) {
    if (timer_.take_expired() || Clock::now() >= retry_at_) start_connect();
    return;
  }
  if (state_ != State::kConnecting) return;
  pollfd p{fd_.get(), POLLOUT, 0};
  if (::poll(&p, 1, 0) > 0) {
    int error = take_error(fd_.get());
    if (error) {
      attempt_failed(error);
    } else {
      connected();
    }
  } else if (Clock::now() >= attempt_deadline_) {
    attempt_failed(ETIMEDOUT);
  }
}

// ---- data ----

void StreamSink::count(const StreamResult& result, bool away) {
  add(sent_, result.written);
  sent_on_connection_ += result.written;
  if (result.written && destination_.family() == AF_UNIX) queue_sample_ = send_queue(fd_.get()).value_or(0);
  if (!result.dropped_datagrams) return;
  add(away ? away_datagrams_ : dropped_datagrams_, result.dropped_datagrams);
  add(away ? away_bytes_ : dropped_bytes_, result.dropped_bytes);
  if (drop_log_.allow())
    spdlog::warn("{}: {}, dropped {} datagrams ({} bytes) so far for this destination", label_,
                 away ? "reconnecting" : "too slow", get(dropped_datagrams_) + get(away_datagrams_),
                 get(dropped_bytes_) + get(away_bytes_));
}

void StreamSink::send_batch(const Batch& batch) {
  if (state_ != State::kConnected) {
    count(pending_.hold(batch), true);
    return;
  }
  // On a break the rest of the batch is kept: it goes to the next connection.
  StreamResult result = pending_.write(out(), batch, true);
  count(result, false);
  if (result.failed()) lost_connection(result.error);
}

void StreamSink::send_pending() {
  StreamResult result = pending_.flush(out());
  count(result, false);
  if (result.failed()) lost_connection(result.error);
}

// The peer's bytes are not ours to keep. 0, or the error that broke the connection.
int StreamSink::read_peer() {
  char discard[4096];
  for (int i = 0; i < kPeerReadsPerWake; ++i) {
    ssize_t n = ::recv(fd_.get(), discard, sizeof discard, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) {
      peer_finished_ = true;  // it may still read: a real close shows at the next send
      return 0;
    }
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno;
  }
  return 0;
}

bool StreamSink::step(short revents) {
  if (state_ == State::kConnected) {
    if (revents & (POLLERR | POLLHUP)) {
      lost_connection(0);
    } else if (revents & (POLLIN | POLLRDHUP)) {
      if (int error = read_peer()) lost_connection(error);
    }
    if (state_ == State::kConnected && !pending_.empty()) send_pending();
  }
  advance();
  return !failed();
}

int StreamSink::poll_once(Clock::time_point deadline) {
  if (state_ == State::kConnecting) deadline = std::min(deadline, attempt_deadline_);
  pollfd fds[2] = {watch(), {control_.stop_fd(), POLLIN, 0}};
  if (::poll(fds, 2, ms_until(deadline)) <= 0) return 0;
  return fds[0].revents;
}

// Waits until the kernel took everything that waits (reconnecting as needed):
// false at `deadline`, on a stop request or when the sink failed.
bool StreamSink::wait_handed_over(Clock::time_point deadline) {
  while (!pending_.empty() && !failed()) {
    if (control_.stop_requested() || Clock::now() >= deadline) return false;
    step(static_cast<short>(poll_once(deadline)));
  }
  return pending_.empty();
}

bool StreamSink::write(const Batch& batch) {
  if (failed()) return false;
  advance();
  send_batch(batch);
  if (settings_.when_behind == WhenBehind::kWait && !wait_handed_over(Clock::time_point::max()) && !failed()) {
    std::size_t left = pending_.discard();  // a stop request ended the wait
    add(not_sent_, left);
    spdlog::info("{}: stopped with {} bytes not sent", label_, left);
  }
  return !failed();
}

pollfd StreamSink::watch() const {
  switch (state_) {
    case State::kConnected: {
      short events = peer_finished_ ? 0 : POLLIN | POLLRDHUP;
      if (!pending_.empty()) events |= POLLOUT;
      return pollfd{fd_.get(), events, 0};
    }
    case State::kConnecting:
      return pollfd{fd_.get(), POLLOUT, 0};
    case State::kBackoff:
      return pollfd{timer_.handle(), POLLIN, 0};
    case State::kFailed:
      break;
  }
  return pollfd{-1, 0, 0};
}

bool StreamSink::on_ready(short revents) {
  if (failed()) return false;
  return step(revents);
}

}  // namespace netdisp::stage
