#include "stage/stdout_sink.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <limits>
#include <mutex>

#include "net/error.h"
#include "net/platform.h"
#include "net/unique_fd.h"

namespace netdisp::stage {
namespace {

using Clock = std::chrono::steady_clock;
using Counts = StdoutSink::Counts;

// How long a wait for the reader sleeps before it looks at the stop flag again
// (the stop fd wakes it at once; this is a safety net).
constexpr int kWaitStepMs = 1000;

// Bytes one sink queued, in the order they wait.
struct Run {
  Counts* owner;  // null once that sink is gone
  std::size_t bytes;
};

// The process's stdout: every StdoutSink writes through this one state. All
// members and the Counts of the drop-policy sinks change under `lock`.
struct Stdout {
  Stdout();

  // The first `bytes` of what waits left the buffer: each owner counts its part in `field`.
  void settle(std::size_t bytes, Counter Counts::*field);
  // `owner` queued `bytes` behind what waits.
  void queued(Counts* owner, std::size_t bytes);
  // What waits is gone after an error: counted as lost to it.
  void discard_failed() { settle(pending.discard(), &Counts::error_bytes); }
  void update_waiting() { waiting.store(!pending.empty(), std::memory_order_relaxed); }

  std::mutex lock;
  StreamFd out{STDOUT_FILENO, StreamFd::Kind::kWrite};
  net::UniqueFd own;  // a non-blocking description of stdout's pipe or terminal, when one was opened
  StreamBuffer pending{kStdoutBuffer};
  std::deque<Run> runs;  // who queued what waits; consecutive runs of one sink are merged
  std::atomic<bool> waiting{false};  // pending is not empty; read by watch() without the lock
};

// Picks a way to write stdout that never blocks, without setting O_NONBLOCK
// on fd 1 itself (its open file description is the shell's and terminal's):
// - socket: send(MSG_DONTWAIT) on fd 1;
// - regular file or block device: fd 1 as it is (a write never waits long);
// - pipe, fifo, terminal, /dev/null: a new open file description of the same
//   object, opened non-blocking through /proc/self/fd/1.
// Without /proc, fd 1 is written as it is: a slow reader then holds up the
// pipe as before (warned once); ENXIO means the reader has already gone, and
// the first write reports EPIPE.
Stdout::Stdout() {
  struct stat st {};
  if (::fstat(STDOUT_FILENO, &st) != 0) return;  // no stdout: the first write reports EBADF
  if (S_ISSOCK(st.st_mode)) {
    out.kind = StreamFd::Kind::kSend;
    return;
  }
  if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) return;
  own.reset(net::open_file("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (own.valid()) {
    out.fd = own.get();
    // A pipe takes only what its buffer holds (64 KiB by default) each time a
    // busy pipe thread writes, once per batch: ask for a larger one (best
    // effort, up to fs.pipe-max-size), so a reader that keeps up on average
    // rides out bursts without drops.
    if (S_ISFIFO(st.st_mode)) net::grow_pipe(own.get(), static_cast<int>(kStdoutBuffer));
  } else if (errno != ENXIO) {
    spdlog::warn("stdout: cannot reopen it non-blocking through /proc/self/fd/1 ({}); a slow reader "
                 "will hold up the data", net::errno_text(errno));
  }
}

void Stdout::settle(std::size_t bytes, Counter Counts::*field) {
  while (bytes > 0 && !runs.empty()) {
    Run& run = runs.front();
    std::size_t part = std::min(bytes, run.bytes);
    if (run.owner) add(run.owner->*field, part);
    bytes -= part;
    run.bytes -= part;
    if (run.bytes == 0) runs.pop_front();
  }
}

// Writes what waits in the shared buffer; a failure is counted by `caller`
// (the sink that tried). Called under out.lock.
StreamResult flush_shared(Stdout& out, Counts& caller) {
  StreamResult result = out.pending.flush(out.out);
  out.settle(result.written, &Counts::written);
  if (result.failed()) {
    add(caller.errors, 1);
    out.discard_failed();
  }
  out.update_waiting();
  return result;
}

void Stdout::queued(Counts* owner, std::size_t bytes) {
  if (bytes == 0) return;
  if (!runs.empty() && runs.back().owner == owner) {
    runs.back().bytes += bytes;
  } else {
    runs.push_back(Run{owner, bytes});
  }
}

Stdout& shared_stdout() {
  static Stdout instance;
  return instance;
}

}  // namespace

StdoutSink::StdoutSink() : rest_(0) { shared_stdout(); }

StdoutSink::StdoutSink(const Control& control)
    : control_(&control), rest_(std::numeric_limits<std::size_t>::max()) {
  shared_stdout();
}

// Bytes this sink queued may still wait: they can no longer be counted here.
StdoutSink::~StdoutSink() {
  Stdout& out = shared_stdout();
  std::lock_guard lock(out.lock);
  for (Run& run : out.runs)
    if (run.owner == &counts_) run.owner = nullptr;
}

bool StdoutSink::write(const Batch& batch) {
  if (control_) return write_waiting(batch);
  Stdout& out = shared_stdout();
  StreamResult result;
  {
    std::lock_guard lock(out.lock);
    std::size_t before = out.pending.size();
    result = out.pending.write(out.out, batch);
    // What was written went first to the bytes that waited, then to this batch.
    std::size_t earlier = std::min(before, result.written);
    out.settle(earlier, &Counts::written);
    add(counts_.written, result.written - earlier);
    out.queued(&counts_, out.pending.size() - (before - earlier));
    tally(result);
    if (result.failed()) out.discard_failed();
    out.update_waiting();
  }
  return report(result);
}

// Holds the lock while it waits: the batch goes out whole, and only the
// client (one pipe) waits.
bool StdoutSink::write_waiting(const Batch& batch) {
  Stdout& out = shared_stdout();
  std::lock_guard lock(out.lock);
  StreamResult result = rest_.write(out.out, batch);
  add(counts_.written, result.written);
  tally(result);
  bool alive = report(result);
  while (alive && result.error == EAGAIN) {
    if (!wait_writable(out.out.fd)) {
      add(counts_.at_stop, rest_.discard());
      return true;
    }
    result = rest_.flush(out.out);
    if (result.failed()) result.failed_bytes += rest_.discard();
    add(counts_.written, result.written);
    tally(result);
    alive = report(result);
  }
  return alive;
}

// Waits until stdout can take more; false when a stop was requested first.
bool StdoutSink::wait_writable(int fd) const {
  while (!control_->stop_requested()) {
    pollfd fds[2] = {{fd, POLLOUT, 0}, {control_->stop_fd(), POLLIN, 0}};
    int rc = ::poll(fds, 2, kWaitStepMs);
    if (rc < 0 && errno != EINTR) return true;  // let the next write report what is wrong
    if (fds[1].revents) return false;
    if (fds[0].revents) return true;
  }
  return false;
}

// Counts this sink's own drops and failures (called under the lock).
void StdoutSink::tally(const StreamResult& result) {
  add(counts_.dropped_datagrams, result.dropped_datagrams);
  add(counts_.dropped_bytes, result.dropped_bytes);
  if (!result.failed()) return;
  add(counts_.errors, 1);
  add(counts_.error_bytes, result.failed_bytes);
}

// Logs what one write or flush did; false once stdout is gone for good.
bool StdoutSink::report(const StreamResult& result) {
  if (result.dropped_datagrams && drop_log_.allow())
    spdlog::warn("stdout: the reader is too slow, dropped {} datagrams ({} bytes) so far",
                 get(counts_.dropped_datagrams), get(counts_.dropped_bytes));
  if (!result.failed()) return true;
  if (result.error == EPIPE) {
    spdlog::warn("stdout was closed (its reader left): nothing more is copied to it");
    return false;
  }
  if (error_log_.allow()) spdlog::error("write stdout: {}", net::errno_text(result.error));
  return true;
}

pollfd StdoutSink::watch() const {
  Stdout& out = shared_stdout();
  if (control_ || !out.waiting.load(std::memory_order_relaxed)) return pollfd{-1, 0, 0};
  return pollfd{out.out.fd, POLLOUT, 0};
}

bool StdoutSink::on_ready(short /*revents*/) {
  Stdout& out = shared_stdout();
  if (control_ || !out.waiting.load(std::memory_order_relaxed)) return true;
  StreamResult result;
  {
    std::lock_guard lock(out.lock);
    result = flush_shared(out, counts_);
  }
  return report(result);
}

// At stop: what waits gets kStopGrace to reach the reader; the rest is
// counted, by the sinks that queued it, as dropped at stop.
void StdoutSink::flush() {
  if (control_) return;
  Stdout& out = shared_stdout();
  auto deadline = Clock::now() + kStopGrace;
  while (out.waiting.load(std::memory_order_relaxed)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    StreamResult result;
    {
      std::lock_guard lock(out.lock);
      if (left <= 0) {
        out.settle(out.pending.discard(), &Counts::at_stop);
        out.update_waiting();
        return;
      }
      result = flush_shared(out, counts_);
    }
    if (!report(result) || result.error != EAGAIN) return;
    pollfd fd{out.out.fd, POLLOUT, 0};
    ::poll(&fd, 1, static_cast<int>(left));
  }
}

void StdoutSink::report(StatsRows& rows) const {
  StageStats& row = rows.emplace_back();
  row.role = StageStats::Role::kSink;
  row.endpoint = "stdout";
  row.set(Stat::kBytes, get(counts_.written));
  row.set(Stat::kDroppedDatagrams, get(counts_.dropped_datagrams)).set(Stat::kDroppedBytes, get(counts_.dropped_bytes));
  row.set(Stat::kAtStopBytes, get(counts_.at_stop));
  row.set(Stat::kWriteErrors, get(counts_.errors)).set(Stat::kLostBytes, get(counts_.error_bytes));
  row.text = fmt::format("  -> stdout: wrote {} bytes; dropped {} datagrams ({} bytes) a slow reader could not take, "
                     "{} bytes still waiting at stop; {} write errors ({} bytes lost)",
                     get(counts_.written), get(counts_.dropped_datagrams), get(counts_.dropped_bytes),
                     get(counts_.at_stop), get(counts_.errors), get(counts_.error_bytes));
}

}  // namespace netdisp::stage
