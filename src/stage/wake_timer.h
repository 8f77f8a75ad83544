#pragma once
// WakeTimer: one descriptor a pipe can poll (Source::poll_fd) that turns
// readable when an input is readable or when a deadline set with arm()
// passes. A source that holds data back (a partial datagram, an unterminated
// line) arms it, so the pipe wakes to send that data once the input has been
// idle long enough. It calls rearm() before it returns kWouldBlock. The
// platform seam has it (net::InputTimer: epoll + timerfd on Linux).
#include "net/platform.h"

namespace netdisp::stage {

using WakeTimer = net::InputTimer;

}  // namespace netdisp::stage
