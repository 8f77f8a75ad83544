#include "stage/stdout_sink.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <limits>
#include <mutex>

#include "net/error.h"
#include "net/unique_fd.h"

namespace netdisp::stage {
namespace {

using Clock = std::chrono::steady_clock;

// How long a wait for the reader sleeps before it looks at the stop flag again
// (the stop fd wakes it at once; this is a safety net).
constexpr int kWaitStepMs = 1000;

// The process's stdout: every StdoutSink writes through this one state.
struct Stdout {
  Stdout();

  std::mutex lock;
  StreamFd out{STDOUT_FILENO, StreamFd::Kind::kWrite};
  net::UniqueFd own;  // a non-blocking description of stdout's pipe or terminal, when one was opened
  StreamBuffer pending{kStdoutBuffer};
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
  own.reset(::open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (own.valid()) {
    out.fd = own.get();
  } else if (errno != ENXIO) {
    spdlog::warn("stdout: cannot reopen it non-blocking through /proc/self/fd/1 ({}); a slow reader "
                 "will hold up the data", net::errno_text(errno));
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

bool StdoutSink::write(const Batch& batch) {
  if (control_) return write_waiting(batch);
  Stdout& out = shared_stdout();
  StreamResult result;
  {
    std::lock_guard lock(out.lock);
    result = out.pending.write(out.out, batch);
    if (result.failed()) result.failed_bytes += out.pending.discard();
    out.waiting.store(!out.pending.empty(), std::memory_order_relaxed);
  }
  return count(result);
}

// Holds the lock while it waits: the batch goes out whole, and only the
// client (one pipe) waits.
bool StdoutSink::write_waiting(const Batch& batch) {
  Stdout& out = shared_stdout();
  std::lock_guard lock(out.lock);
  StreamResult result = rest_.write(out.out, batch);
  bool alive = count(result);
  while (alive && result.error == EAGAIN) {
    if (!wait_writable(out.out.fd)) {
      add(stop_bytes_, rest_.discard());
      return true;
    }
    result = rest_.flush(out.out);
    if (result.failed()) result.failed_bytes += rest_.discard();
    alive = count(result);
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

// Counts what one write or flush did; false once stdout is gone for good.
bool StdoutSink::count(const StreamResult& result) {
  add(bytes_, result.written);
  if (result.dropped_datagrams) {
    add(dropped_datagrams_, result.dropped_datagrams);
    add(dropped_bytes_, result.dropped_bytes);
    if (drop_log_.allow())
      spdlog::warn("stdout: the reader is too slow, dropped {} datagrams ({} bytes) so far",
                   get(dropped_datagrams_), get(dropped_bytes_));
  }
  if (!result.failed()) return true;
  add(errors_, 1);
  add(error_bytes_, result.failed_bytes);
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
    result = out.pending.flush(out.out);
    if (result.failed()) result.failed_bytes += out.pending.discard();
    out.waiting.store(!out.pending.empty(), std::memory_order_relaxed);
  }
  return count(result);
}

// At stop: what waits gets kStopGrace to reach the reader, the rest is counted.
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
        add(stop_bytes_, out.pending.discard());
        out.waiting.store(false, std::memory_order_relaxed);
        return;
      }
      result = out.pending.flush(out.out);
      if (result.failed()) result.failed_bytes += out.pending.discard();
      out.waiting.store(!out.pending.empty(), std::memory_order_relaxed);
    }
    if (!count(result) || result.error != EAGAIN) return;
    pollfd fd{out.out.fd, POLLOUT, 0};
    ::poll(&fd, 1, static_cast<int>(left));
  }
}

std::string StdoutSink::stats() const {
  return fmt::format("  -> stdout: wrote {} bytes; dropped {} datagrams ({} bytes) a slow reader could not take, "
                     "{} bytes still waiting at stop; {} write errors ({} bytes lost)",
                     get(bytes_), get(dropped_datagrams_), get(dropped_bytes_), get(stop_bytes_), get(errors_),
                     get(error_bytes_));
}

}  // namespace netdisp::stage
