#pragma once
// What platform_posix.cpp and platform_win32.cpp each give input_timer.cpp,
// the helper thread behind net::InputTimer that both share (Linux needs
// none: its InputTimer is a timerfd in an epoll set). Internal to src/net.
#include <poll.h>

#include <functional>
#include <thread>
#include <vector>

#include "net/platform.h"
#include "net/unique_fd.h"

namespace netdisp::net::wake {

// A non-blocking pair: a pipe, or a loopback socket pair where poll takes
// sockets only (Windows).
void make_pair(UniqueFd& read_end, UniqueFd& write_end);
void poke(Handle write_end);   // one byte; a full pair is already readable
void drain(Handle read_end);   // every byte waiting
// Whether poll() can wait for `input` (a regular file is always readable).
bool input_pollable(Handle input);
// A helper thread that never runs a signal handler.
std::thread start_thread(std::function<void()> body);
// poll(), false on an error (after a short pause where an error could repeat at once).
bool poll_handles(std::vector<pollfd>& fds, int timeout_ms);

}  // namespace netdisp::net::wake
