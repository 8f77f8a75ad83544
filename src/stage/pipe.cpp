#include "stage/pipe.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "net/platform.h"

namespace netdisp::stage {
namespace {

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Sinks are given a tick about once a second even when no data flows, so a
// vanished or stalled TCP client is noticed and a log file is reopened after
// SIGHUP without waiting for the next datagram.
constexpr int kSinkTickMs = 1000;

// Under --rate, a batch (up to 1 MiB from a file) leaves in slices of about
// this much time's worth of data, each when it is due: an even stream rather
// than a burst per batch that a receiver's buffer must absorb.
constexpr double kPaceSliceSeconds = 0.001;

}  // namespace

Pipe::Pipe(std::unique_ptr<Source> source, std::vector<std::unique_ptr<Sink>> sinks)
    : source_(std::move(source)), sinks_(std::move(sinks)), alive_(sinks_.size(), true), alive_count_(sinks_.size()) {}

void Pipe::run(const Control& control) {
  Batch batch;
  started_ = now_seconds();
  while (alive_count_ > 0 && !control.stop_requested()) {
    ReadStatus status = source_->read(batch);
    if (status == ReadStatus::kEnd) break;
    if (status == ReadStatus::kWouldBlock) {
      if (!wait(control)) break;
      continue;
    }
    if (spdlog::should_log(spdlog::level::debug)) log_batch(batch);
    if (rate_ > 0) {
      write_paced(control, batch);
    } else {
      write_to_sinks(batch);
    }
  }
  if (control.stop_requested() && alive_count_ > 0 && source_->drains()) drain();
  for (std::size_t i = 0; i < sinks_.size(); ++i)
    if (alive_[i]) sinks_[i]->flush();
}

// Datagrams the kernel queued before the stop were sent to us: they are
// written like any other batch until a read finds nothing waiting (an idle
// source stops at once) or the drain timeout passes. The source then counts
// what is still queued, so no datagram leaves with the socket uncounted.
void Pipe::drain() {
  double deadline = now_seconds() + drain_seconds_;
  Batch batch;
  while (drain_seconds_ > 0 && alive_count_ > 0 && now_seconds() < deadline) {
    if (source_->read(batch) != ReadStatus::kData) return;
    write_to_sinks(batch);
  }
  source_->discard_queued();
}

void Pipe::log_batch(const Batch& batch) {
  ++logged_batches_;
  logged_datagrams_ += batch.datagrams.size();
  logged_bytes_ += batch.bytes;
  if (!batch_log_.allow()) return;
  spdlog::debug("{}: batch of {} datagrams, {} bytes ({} batches, {} datagrams, {} bytes since the last such line)",
                source_->name(), batch.datagrams.size(), batch.bytes, logged_batches_, logged_datagrams_, logged_bytes_);
  logged_batches_ = logged_datagrams_ = logged_bytes_ = 0;
}

void Pipe::write_to_sinks(const Batch& batch) {
  add(delivered_, batch.bytes);
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    if (alive_[i] && !sinks_[i]->write(batch)) {
      alive_[i] = false;
      --alive_count_;
    }
  }
}

void Pipe::write_paced(const Control& control, const Batch& batch) {
  auto slice_bytes = static_cast<std::size_t>(rate_ * kPaceSliceSeconds);
  std::span<const iovec> rest = batch.datagrams;
  while (!rest.empty() && alive_count_ > 0 && !control.stop_requested()) {
    std::size_t count = 1;  // at least one datagram, however low the rate
    std::size_t bytes = rest[0].iov_len;
    while (count < rest.size() && bytes + rest[count].iov_len <= slice_bytes) bytes += rest[count++].iov_len;
    write_to_sinks(Batch{rest.first(count), bytes});
    pace(control, bytes);
    rest = rest.subspan(count);
  }
}

bool Pipe::wait(const Control& control) {
  std::vector<pollfd>& fds = poll_fds_;  // reused: no allocation per wait
  fds.assign({{source_->poll_fd(), POLLIN, 0}, {control.stop_fd(), POLLIN, 0}});
  for (std::size_t i = 0; i < sinks_.size(); ++i) fds.push_back(alive_[i] ? sinks_[i]->watch() : pollfd{-1, 0, 0});
  int rc = ::poll(fds.data(), fds.size(), kSinkTickMs);
  if (rc < 0 && errno != EINTR) return false;
  if (fds[1].revents) return false;
  return poll_sinks(fds, 2);
}

bool Pipe::poll_sinks(const std::vector<pollfd>& fds, std::size_t first) {
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    if (!alive_[i]) continue;
    if (!sinks_[i]->on_ready(fds[first + i].revents)) {
      alive_[i] = false;
      --alive_count_;
    }
  }
  return alive_count_ > 0;
}

void Pipe::pace(const Control& control, std::size_t bytes) {
  sent_ += static_cast<double>(bytes);
  double due = started_ + sent_ / rate_;
  // Sleep by polling the stop fd, so a stop request still ends the pipe at
  // once; ppoll, for sub-millisecond sleeps. A second at most per call keeps
  // the timeout's numbers small at a very low --rate; the loop goes on until
  // the next datagram is due, however far away that is.
  for (double ahead = due - now_seconds(); ahead > 0; ahead = due - now_seconds()) {
    auto nanoseconds = static_cast<long>(std::min(ahead, 1.0) * 1e9);
    if (net::wait_readable(control.stop_fd(), std::chrono::nanoseconds(nanoseconds))) return;  // stop requested
  }
}

std::vector<std::string> Pipe::undelivered() const {
  std::vector<std::string> lines;
  for (const auto& sink : sinks_)
    for (std::string& line : sink->undelivered()) lines.push_back(std::move(line));
  return lines;
}

void Pipe::report(StatsRows& rows) const {
  std::size_t first = rows.size();
  source_->report(rows);
  std::size_t sinks = rows.size();  // the first sink's row
  for (const auto& sink : sinks_) sink->report(rows);
  if (!peer_.empty()) rows[first].peer = peer_;
  for (std::size_t i = sinks; i < rows.size(); ++i) {
    rows[i].input = rows[first].endpoint;
    rows[i].peer = rows[first].peer;
  }
}

}  // namespace netdisp::stage
