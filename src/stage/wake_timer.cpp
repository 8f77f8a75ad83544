#include "stage/wake_timer.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <cerrno>

#include "net/error.h"

namespace netdisp::stage {
namespace {

void watch(int epoll, int fd) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = fd;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) net::throw_errno("epoll_ctl");
}

}  // namespace

WakeTimer::WakeTimer(int input_fd)
    : epoll_(::epoll_create1(EPOLL_CLOEXEC)), timer_(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) {
  if (!epoll_.valid()) net::throw_errno("epoll_create1");
  if (!timer_.valid()) net::throw_errno("timerfd_create");
  watch(epoll_.get(), timer_.get());
  if (input_fd < 0) return;
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = input_fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, input_fd, &event) == 0) {
    input_pollable_ = true;
  } else if (errno != EPERM) {  // EPERM: a file that does not support polling, always readable
    net::throw_errno("epoll_ctl");
  }
}

void WakeTimer::arm(Clock::time_point when) {
  auto since_boot = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  if (since_boot <= 0) since_boot = 1;  // 0 would disarm
  itimerspec spec{};
  spec.it_value.tv_sec = since_boot / 1'000'000'000;
  spec.it_value.tv_nsec = since_boot % 1'000'000'000;
  if (::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0) net::throw_errno("timerfd_settime");
  armed_ = true;
}

// Setting the timer resets its expiration count: an expired one stops being readable.
void WakeTimer::disarm() {
  if (!armed_) return;
  itimerspec spec{};
  if (::timerfd_settime(timer_.get(), 0, &spec, nullptr) != 0) net::throw_errno("timerfd_settime");
  armed_ = false;
}

}  // namespace netdisp::stage
