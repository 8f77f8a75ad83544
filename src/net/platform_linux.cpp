// The platform seam on Linux (net/platform.h): the fast paths. Each call here
// is the one netdisp made before the seam existed, so the Linux build does
// the same syscalls as before.
#include <fcntl.h>
#include <linux/sock_diag.h>
#include <netinet/udp.h>
#include <poll.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/error.h"
#include "net/platform.h"

namespace netdisp::net {

const Features& features() {
  static const Features kLinux{"linux", "Linux", true, true, true, true, true};
  return kLinux;
}

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns the message, which may or may not be buf.
  return ::strerror_r(err, buf, sizeof buf);
}

Handle open_socket(int family, int type, bool nonblocking) {
  return ::socket(family, type | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
}

Handle accept_socket(Handle listener, sockaddr* peer, socklen_t* length) {
  return ::accept4(listener, peer, length, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

bool force_buffer_size(Handle fd, int optname, int bytes) {
  int force = optname == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
  return ::setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) == 0;
}

int buffer_size(Handle fd, int optname) {
  int doubled = 0;
  socklen_t size = sizeof doubled;
  if (::getsockopt(fd, SOL_SOCKET, optname, &doubled, &size) != 0) return 0;
  return doubled / 2;
}

std::string receive_buffer_hint(int bytes) {
  return "Raise it with: sysctl -w net.core.rmem_max=" + std::to_string(bytes) +
         " (or run it with CAP_NET_ADMIN, as root)";
}

int bind_to_device(Handle fd, const std::string& device) {
  return ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), static_cast<socklen_t>(device.size())) == 0
             ? 0
             : errno;
}

int deliver_own_groups_only(Handle fd) {
  int zero = 0;
  return ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero) == 0 ? 0 : errno;
}

int join_group_v4(Handle fd, in_addr group, in_addr interface_address, unsigned index) {
  ip_mreqn request{};
  request.imr_multiaddr = group;
  request.imr_address = interface_address;
  request.imr_ifindex = static_cast<int>(index);
  return ::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &request, sizeof request) == 0 ? 0 : errno;
}

int multicast_interface_v4(Handle fd, in_addr interface_address, unsigned index) {
  ip_mreqn request{};
  request.imr_address = interface_address;
  request.imr_ifindex = static_cast<int>(index);
  return ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &request, sizeof request) == 0 ? 0 : errno;
}

int path_mtu(Handle fd, int family) {
  int mtu = 0;
  socklen_t size = sizeof mtu;
  bool v6 = family == AF_INET6;
  if (::getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &size) != 0) return 0;
  return mtu;
}

std::string executable_path() {
  char path[4096];
  ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return length > 0 ? std::string(path, static_cast<std::size_t>(length)) : std::string();
}

std::optional<std::uint64_t> send_queue_bytes(Handle fd) {
  int queued = 0;
  if (::ioctl(fd, SIOCOUTQ, &queued) != 0 || queued < 0) return std::nullopt;
  return static_cast<std::uint64_t>(queued);
}

void grow_pipe(Handle fd, int bytes) { ::fcntl(fd, F_SETPIPE_SZ, bytes); }

int receive_batch(Handle fd, BatchMessage* messages, unsigned count) {
  return ::recvmmsg(fd, messages, count, MSG_DONTWAIT, nullptr);
}

int send_batch(Handle fd, BatchMessage* messages, unsigned count) { return ::sendmmsg(fd, messages, count, 0); }

void request_drop_reports(Handle fd) {
  int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) != 0) throw_errno("SO_RXQ_OVFL");
}

int enable_gro(Handle fd) {
  int one = 1;
  return ::setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0 ? 0 : errno;
}

ReceivedControl read_receive_control(const msghdr& header) {
  ReceivedControl got;
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&header), c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
      std::uint32_t dropped = 0;
      std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
      got.drops = dropped;
    } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(c), sizeof size);
      got.segment = size > 0 ? static_cast<std::size_t>(size) : 0;
    }
  }
  return got;
}

void set_segment_control(msghdr& header, void* control, std::uint16_t segment) {
  header.msg_control = control;
  header.msg_controllen = kSegmentControlSize;
  cmsghdr* c = CMSG_FIRSTHDR(&header);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof segment);
  std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
}

std::optional<std::uint32_t> kernel_drops(Handle fd) {
  std::uint32_t info[SK_MEMINFO_VARS] = {};
  socklen_t size = sizeof info;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &size) != 0 || size <= SK_MEMINFO_DROPS * sizeof info[0])
    return 0;  // a socket that cannot say (not UDP): nothing counted, as before the seam
  return info[SK_MEMINFO_DROPS];
}

bool wait_readable(Handle fd, std::chrono::nanoseconds timeout) {
  pollfd one{fd, POLLIN, 0};
  auto ns = timeout.count() > 0 ? timeout.count() : 0;
  timespec spec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  return ::ppoll(&one, 1, &spec, nullptr) > 0;
}

// --- wake-ups ----------------------------------------------------------------

WakeFd::WakeFd() : read_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!read_.valid()) throw_errno("eventfd");
}

void WakeFd::notify() const {
  std::uint64_t one = 1;
  [[maybe_unused]] auto ignored = ::write(read_.get(), &one, sizeof one);  // EAGAIN: already readable
}

void WakeFd::clear() const {
  std::uint64_t count;
  [[maybe_unused]] auto ignored = ::read(read_.get(), &count, sizeof count);
}

struct SignalFd::Waiter {};

SignalFd::SignalFd(const sigset_t& set) {
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  read_ = UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));  // take() returns 0 when none is pending
  if (!read_.valid()) throw_errno("signalfd");
}

SignalFd::~SignalFd() = default;

int SignalFd::take() const {
  signalfd_siginfo info{};
  if (::read(read_.get(), &info, sizeof info) != sizeof info) return 0;
  return static_cast<int>(info.ssi_signo);
}

std::string signal_name(int signal) {
  const char* name = ::sigabbrev_np(signal);
  return name ? std::string("SIG") + name : "signal " + std::to_string(signal);
}

// --- InputTimer: epoll over the input and a timerfd --------------------------

struct InputTimer::Entry {};

InputTimer::InputTimer(Handle input) : b_(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) {
  if (!b_.valid()) throw_errno("timerfd_create");
  if (input < 0) return;  // a timer alone: handle() is the timerfd
  a_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (!a_.valid()) throw_errno("epoll_create1");
  for (Handle fd : {b_.get(), input}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(a_.get(), EPOLL_CTL_ADD, fd, &event) == 0) {
      input_pollable_ = fd == input;
    } else if (fd == b_.get() || errno != EPERM) {  // EPERM: a file that does not support polling
      throw_errno("epoll_ctl");
    }
  }
}

InputTimer::~InputTimer() = default;

Handle InputTimer::handle() const { return a_.valid() ? a_.get() : b_.get(); }

void InputTimer::arm(Clock::time_point when) {
  auto since_boot = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  if (since_boot <= 0) since_boot = 1;  // 0 would disarm
  itimerspec spec{};
  spec.it_value.tv_sec = since_boot / 1'000'000'000;
  spec.it_value.tv_nsec = since_boot % 1'000'000'000;
  if (::timerfd_settime(b_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0) throw_errno("timerfd_settime");
  armed_ = true;
}

// Setting the timer resets its expiration count: an expired one stops being readable.
void InputTimer::disarm() {
  if (!armed_) return;
  itimerspec spec{};
  if (::timerfd_settime(b_.get(), 0, &spec, nullptr) != 0) throw_errno("timerfd_settime");
  armed_ = false;
}

bool InputTimer::take_expired() {
  std::uint64_t count = 0;
  bool expired = ::read(b_.get(), &count, sizeof count) == sizeof count && count > 0;
  if (expired) armed_ = false;
  return expired;
}

void InputTimer::rearm() {}

}  // namespace netdisp::net
