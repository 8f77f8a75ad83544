#pragma once
// WakeTimer: one fd a pipe can poll (Source::poll_fd) that turns readable
// when an input fd is readable or when a deadline set with arm() passes: an
// epoll set over the input and a timerfd. A source that holds data back
// (a partial datagram, an unterminated line) arms it, so the pipe wakes to
// send that data once the input has been idle long enough.
#include <chrono>

#include "net/unique_fd.h"

namespace netdisp::stage {

class WakeTimer {
 public:
  using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC, as the timerfd

  // Throws net::Error when the epoll set or the timerfd cannot be made. An
  // input epoll cannot watch (a regular file, /dev/null: always readable)
  // makes input_pollable() false; the caller then never waits on it.
  explicit WakeTimer(int input_fd);

  int fd() const { return epoll_.get(); }
  bool input_pollable() const { return input_pollable_; }

  // One shot at `when`; a later arm() replaces it. disarm() also clears a
  // deadline that already passed, so fd() is readable only for the input.
  void arm(Clock::time_point when);
  void disarm();

 private:
  net::UniqueFd epoll_;
  net::UniqueFd timer_;
  bool input_pollable_ = false;
  bool armed_ = false;
};

}  // namespace netdisp::stage
