// StreamSink (stream_sink.h), the end of the stream: shutdown(SHUT_WR) and
// the wait for the peer's acknowledgement; and what the sink reports.
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>

#include "stage/stream_sink.h"

namespace netdisp::stage {

// ---- the end ----

// After shutdown(SHUT_WR): true once the send queue is empty (TCP: the data
// and our FIN acknowledged; Unix: the peer read everything), false on a reset,
// a stop request or the deadline. Where the system cannot say what the queue
// holds (Windows), true once the peer ends its side after ours: a program
// that reads to the end closes after it read our FIN, behind every byte
// (one that closes with bytes unread resets instead). A peer that had ended
// its side before ours shows nothing more: the deadline, false.
bool StreamSink::wait_acknowledged(Clock::time_point deadline) {
  const bool finished_before = peer_finished_;
  for (;;) {
    // The queue first, then the error: a Unix peer sets the error before its
    // close frees what it had not read, so an empty queue read here with no
    // error after it was read, not thrown away.
    std::optional<std::uint64_t> queued = send_queue(fd_.get());
    if (int error = take_error(fd_.get())) {
      count_break(error);
      return false;
    }
    if (queued ? *queued == 0 : peer_finished_ && !finished_before) return true;
    if (control_.stop_requested() || Clock::now() >= deadline) return false;
    short events = peer_finished_ ? 0 : POLLIN | POLLRDHUP;
    pollfd fds[2] = {{fd_.get(), events, 0}, {control_.stop_fd(), POLLIN, 0}};
    int wait = std::min(kAckStepMs, ms_until(deadline));
    short revents = ::poll(fds, 2, wait) > 0 ? fds[0].revents : 0;
    if (revents & POLLERR) {
      // Wine reports the peer's reset as POLLERR alone: no SO_ERROR, and
      // recv() then returns 0 as at an end (measured with WSAPoll, Wine 8.0).
      int error = take_error(fd_.get());
      count_break(error ? error : ECONNRESET);
      return false;
    }
    // WSAPoll reports the peer's end as POLLHUP without POLLIN: read it too.
    if (!peer_finished_ && (revents & (POLLIN | POLLRDHUP | POLLHUP))) {
      if (int error = read_peer()) {
        count_break(error);
        return false;
      }
    } else if (revents & POLLHUP) {
      // Both directions are shut and our FIN is not acknowledged yet: poll() would return at once.
      pollfd stop{control_.stop_fd(), POLLIN, 0};
      ::poll(&stop, 1, wait);
    }
  }
}

void StreamSink::flush() {
  if (failed() || flushed_) return;
  flushed_ = true;
  Clock::time_point deadline = Clock::now() + settings_.flush_timeout;
  if (!wait_handed_over(deadline) && !failed()) {
    std::size_t left = pending_.discard();
    add(not_sent_, left);
    if (left)
      spdlog::warn("{}: {} bytes not sent ({})", label_, left,
                   control_.stop_requested() ? "stopped" : "the end of the stream timed out");
  }
  if (state_ != State::kConnected) return;
  ::shutdown(fd_.get(), SHUT_WR);
  acknowledged_ = wait_acknowledged(deadline);
  std::uint64_t unacknowledged = 0;
  std::optional<std::uint64_t> queued;
  if (!acknowledged_ && fd_.valid()) {
    // TCP counts our FIN as one byte of the queue until it is acknowledged.
    queued = send_queue(fd_.get());
    std::uint64_t fin = destination_.family() != AF_UNIX && queued.value_or(0) > 0 ? 1 : 0;
    unacknowledged = std::min<std::uint64_t>(queued.value_or(sent_on_connection_) - fin, sent_on_connection_);
    acknowledged_ = queued && unacknowledged == 0;  // a stop cut the wait for the FIN's acknowledgement only
  }
  const char* why = control_.stop_requested() ? "stopped" : "timed out";
  if (acknowledged_) {
    spdlog::info("{}: sent {} bytes, all acknowledged", label_, get(sent_));
  } else if (fd_.valid() && queued) {
    spdlog::warn("{}: {} bytes of the end of the stream were not acknowledged ({})", label_, unacknowledged, why);
  } else if (fd_.valid()) {
    spdlog::warn("{}: up to {} bytes of the end of the stream were not acknowledged ({}; the peer did not close: {})",
                 label_, unacknowledged, why, kUpperBound);
  }
  fd_.reset();
  if (state_ != State::kFailed) state_ = State::kBackoff;
  timer_.disarm();
}

// ---- reports ----

StreamSink::Totals StreamSink::totals() const {
  Totals t;
  t.sent = get(sent_);
  t.reconnects = get(reconnects_);
  t.breaks = get(breaks_);
  t.possibly_lost = get(possibly_lost_);
  t.possibly_lost_bounded = possibly_lost_bounded_.load(std::memory_order_relaxed);
  t.dropped_datagrams = get(dropped_datagrams_);
  t.dropped_bytes = get(dropped_bytes_);
  t.away_datagrams = get(away_datagrams_);
  t.away_bytes = get(away_bytes_);
  t.not_sent = get(not_sent_);
  return t;
}

std::string StreamSink::failure() const { return failed() ? failure_ : std::string(); }

void StreamSink::report(StatsRows& rows) const {
  Totals t = totals();
  StageStats& row = rows.emplace_back();
  row.role = StageStats::Role::kSink;
  row.endpoint = label_;
  row.set(Stat::kBytes, t.sent).set(Stat::kReconnects, t.reconnects).set(Stat::kPossiblyLostBytes, t.possibly_lost);
  row.set(Stat::kDroppedDatagrams, t.dropped_datagrams).set(Stat::kDroppedBytes, t.dropped_bytes);
  row.set(Stat::kAwayDatagrams, t.away_datagrams).set(Stat::kAwayBytes, t.away_bytes);
  row.set(Stat::kNotSentBytes, t.not_sent).set(Stat::kBufferedBytes, pending_.waiting());
  std::string& line = row.text;
  line = fmt::format("  -> {}: sent {} bytes; {} reconnects; {} bytes possibly lost at breaks", label_,
                                 t.sent, t.reconnects, t.possibly_lost);
  if (t.possibly_lost_bounded) line += fmt::format(" ({})", kUpperBound);
  if (settings_.when_behind == WhenBehind::kDrop)
    line += fmt::format("; {} datagrams ({} bytes) dropped (too slow)", t.dropped_datagrams, t.dropped_bytes);
  if (t.away_datagrams)
    line += fmt::format("; {} datagrams ({} bytes) dropped while reconnecting", t.away_datagrams, t.away_bytes);
  if (t.not_sent) line += fmt::format("; {} bytes never sent", t.not_sent);
  if (failed()) line += "; failed: " + failure_;
}

std::vector<std::string> StreamSink::undelivered() const {
  Totals t = totals();
  std::vector<std::string> lines;
  if (failed()) lines.push_back(label_ + ": " + failure_);
  if (t.possibly_lost)
    lines.push_back(fmt::format("{}: {} bytes possibly lost at {} breaks{}", label_, t.possibly_lost, t.breaks,
                                t.possibly_lost_bounded ? fmt::format(" ({})", kUpperBound) : std::string()));
  if (t.dropped_datagrams || t.away_datagrams)
    lines.push_back(fmt::format("{}: {} datagrams ({} bytes) dropped", label_, t.dropped_datagrams + t.away_datagrams,
                                t.dropped_bytes + t.away_bytes));
  if (t.not_sent) lines.push_back(fmt::format("{}: {} bytes never sent", label_, t.not_sent));
  if (flushed_ && !acknowledged_ && !failed() && lines.empty())
    lines.push_back(fmt::format("{}: the end of the stream was not acknowledged within {:.1f} s", label_,
                                seconds(settings_.flush_timeout)));
  return lines;
}

bool StreamSink::delivered_everything() const { return flushed_ && acknowledged_ && undelivered().empty(); }

}  // namespace netdisp::stage
