// The platform seam in plain POSIX (net/platform.h): what macOS and the BSDs
// build, and what -Dportable=true builds on Linux so that this path is tested
// on every change. No recvmmsg/sendmmsg (a loop of recvmsg/sendmsg), no
// eventfd/signalfd/timerfd/epoll (pipes, a sigwait thread, one helper thread
// for timers), no SO_MEMINFO (kernel drops unknown), no GSO/GRO;
// SO_BINDTODEVICE, forced buffer sizes and the route MTU only
// where the system's headers have them (Linux does).
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#if __has_include(<linux/sockios.h>)
#include <linux/sockios.h>  // SIOCOUTQ
#endif
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "net/error.h"
#include "net/platform.h"
#include "net/wake_pair.h"

namespace netdisp::net {
namespace {

bool set_flags(Handle fd, bool nonblocking) {
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return false;
  if (!nonblocking) return true;
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// Takes ownership: closes `fd` and returns -1 (errno kept) when the flags cannot be set.
Handle with_flags(Handle fd, bool nonblocking) {
  if (fd < 0 || set_flags(fd, nonblocking)) return fd;
  int error = errno;
  ::close(fd);
  errno = error;
  return kNoHandle;
}

void make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (::pipe(fds) != 0) throw_errno("pipe");
  read_end = UniqueFd(fds[0]);
  write_end = UniqueFd(fds[1]);
  if (!set_flags(fds[0], true) || !set_flags(fds[1], true)) throw_errno("pipe flags");
}

void drain(Handle fd) {
  char buf[64];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

// The two strerror_r of the world: XSI returns int, GNU the message.
[[maybe_unused]] const char* message_of(int rc, const char* buf) { return rc == 0 ? buf : "unknown error"; }
[[maybe_unused]] const char* message_of(const char* message, const char*) { return message; }

// Threads this file starts take no signal: the Supervisor's signals are read
// through SignalFd, and a helper thread must never run a handler.
template <typename Body>
std::thread start_quiet_thread(Body body) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  std::thread thread(std::move(body));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return thread;
}

}  // namespace

const Features& features() {
#if defined(SO_BINDTODEVICE)
  constexpr bool kBindDevice = true;
#else
  constexpr bool kBindDevice = false;
#endif
  static const Features kPortable{"portable", "this portable POSIX build", false, false, false, kBindDevice, false};
  return kPortable;
}

std::string errno_text(int err) {
  char buf[256] = "";
  return message_of(::strerror_r(err, buf, sizeof buf), buf);
}

Handle open_socket(int family, int type, bool nonblocking) {
  return with_flags(::socket(family, type, 0), nonblocking);
}

Handle accept_socket(Handle listener, sockaddr* peer, socklen_t* length) {
  return with_flags(::accept(listener, peer, length), true);
}

// What some systems beside Linux have too is used where the headers say so:
// the program behaves the same, and where it is missing it falls back
// (buffer sizes capped, no fragmentation hint) or refuses (--bind-device).
bool force_buffer_size([[maybe_unused]] Handle fd, [[maybe_unused]] int optname, [[maybe_unused]] int bytes) {
#if defined(SO_RCVBUFFORCE) && defined(SO_SNDBUFFORCE)
  int force = optname == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
  return ::setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) == 0;
#else
  return false;
#endif
}

int buffer_size(Handle fd, int optname) {
  int size = 0;
  socklen_t length = sizeof size;
  if (::getsockopt(fd, SOL_SOCKET, optname, &size, &length) != 0 || size < 0) return 0;
#if defined(__linux__)
  size /= 2;  // Linux reports twice what was asked (its bookkeeping); the BSDs report the request
#endif
  return size;
}

// Where each system caps a socket buffer. The BSDs and macOS grant at most
// kern.ipc.maxsockbuf * MCLBYTES / (MSIZE + MCLBYTES), 8/9 of it
// (FreeBSD's and XNU's sbreserve): the hint asks for 9/8 of the bytes.
std::string receive_buffer_hint([[maybe_unused]] int bytes) {
  [[maybe_unused]] std::string with_overhead = std::to_string(static_cast<long long>(bytes) / 8 * 9 + 9);
#if defined(__linux__)
  return "Raise it with: sysctl -w net.core.rmem_max=" + std::to_string(bytes) +
         " (or run it with CAP_NET_ADMIN, as root)";
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__DragonFly__)
  return "Raise it with: sysctl -w kern.ipc.maxsockbuf=" + with_overhead;
#elif defined(__NetBSD__)
  return "Raise it with: sysctl -w kern.sbmax=" + with_overhead;
#else
  return "";
#endif
}

int bind_to_device([[maybe_unused]] Handle fd, [[maybe_unused]] const std::string& device) {
#if defined(SO_BINDTODEVICE)
  return ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), static_cast<socklen_t>(device.size())) == 0
             ? 0
             : errno;
#else
  return ENOPROTOOPT;
#endif
}

int deliver_own_groups_only(Handle) { return 0; }  // per-socket membership is what BSD sockets do

int join_group_v4(Handle fd, in_addr group, in_addr interface_address, unsigned index) {
  if (index != 0 && interface_address.s_addr == htonl(INADDR_ANY)) {
    // RFC 3678's protocol-independent join takes an interface index.
    group_req request{};
    request.gr_interface = index;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr = group;
    std::memcpy(&request.gr_group, &address, sizeof address);
    return ::setsockopt(fd, IPPROTO_IP, MCAST_JOIN_GROUP, &request, sizeof request) == 0 ? 0 : errno;
  }
  ip_mreq request{};
  request.imr_multiaddr = group;
  request.imr_interface = interface_address;
  return ::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &request, sizeof request) == 0 ? 0 : errno;
}

int multicast_interface_v4(Handle fd, in_addr interface_address, unsigned index) {
  // IP_MULTICAST_IF takes an address here: find the interface's first IPv4 one.
  if (interface_address.s_addr == htonl(INADDR_ANY) && index != 0) {
    char name[IF_NAMESIZE] = "";
    ifaddrs* list = nullptr;
    if (::if_indextoname(index, name) && ::getifaddrs(&list) == 0) {
      for (ifaddrs* a = list; a; a = a->ifa_next)
        if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && std::strcmp(a->ifa_name, name) == 0) {
          interface_address = reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr;
          break;
        }
      ::freeifaddrs(list);
    }
  }
  return ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &interface_address, sizeof interface_address) == 0 ? 0 : errno;
}

int path_mtu([[maybe_unused]] Handle fd, [[maybe_unused]] int family) {
#if defined(IP_MTU) && defined(IPV6_MTU)
  int mtu = 0;
  socklen_t size = sizeof mtu;
  bool v6 = family == AF_INET6;
  if (::getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &size) != 0) return 0;
  return mtu;
#else
  return 0;  // not a POSIX option: only the client's fragmentation hint is lost
#endif
}

std::string executable_path() {
  char path[4096];
  ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);  // where there is a /proc
  return length > 0 ? std::string(path, static_cast<std::size_t>(length)) : std::string();
}

std::optional<std::uint64_t> send_queue_bytes([[maybe_unused]] Handle fd) {
  int queued = 0;
#if defined(FIONWRITE)  // the BSDs and macOS
  if (::ioctl(fd, FIONWRITE, &queued) != 0 || queued < 0) return std::nullopt;
#elif defined(SIOCOUTQ)  // Linux (in the portable build)
  if (::ioctl(fd, SIOCOUTQ, &queued) != 0 || queued < 0) return std::nullopt;
#else
  return std::nullopt;  // a system with neither cannot say
#endif
  return static_cast<std::uint64_t>(queued);
}

void grow_pipe(Handle, int) {}

int receive_batch(Handle fd, BatchMessage* messages, unsigned count) {
  unsigned got = 0;
  for (; got < count; ++got) {
    ssize_t n = ::recvmsg(fd, &messages[got].msg_hdr, MSG_DONTWAIT);
    if (n < 0) break;
    messages[got].msg_len = static_cast<unsigned>(n);
  }
  return got > 0 ? static_cast<int>(got) : -1;  // errno from the first recvmsg when none came
}

int send_batch(Handle fd, BatchMessage* messages, unsigned count) {
  unsigned sent = 0;
  for (; sent < count; ++sent) {
    ssize_t n = ::sendmsg(fd, &messages[sent].msg_hdr, 0);
    if (n < 0) break;
    messages[sent].msg_len = static_cast<unsigned>(n);
  }
  return sent > 0 ? static_cast<int>(sent) : -1;  // as sendmmsg: the error comes again on the next call
}

// request_drop_reports ... kernel_drops: net/no_offload.cpp.

// pselect() takes nanoseconds (poll() only milliseconds, which makes --rate
// bursty), but its fd_set holds descriptors below FD_SETSIZE only.
bool wait_readable(Handle fd, std::chrono::nanoseconds timeout) {
  auto ns = std::max<std::int64_t>(timeout.count(), 0);
  if (fd >= 0 && fd < FD_SETSIZE) {
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(fd, &readable);
    timespec spec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    return ::pselect(fd + 1, &readable, nullptr, nullptr, &spec, nullptr) > 0;
  }
  pollfd one{fd, POLLIN, 0};
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(std::chrono::nanoseconds(ns)).count();
  return ::poll(&one, 1, static_cast<int>(ms)) > 0;
}

// --- wake-ups ----------------------------------------------------------------

WakeFd::WakeFd() { make_pipe(read_, write_); }

void WakeFd::notify() const {
  char one = 1;
  [[maybe_unused]] auto ignored = ::write(write_.get(), &one, 1);  // EAGAIN: full, so already readable
}

void WakeFd::clear() const { drain(read_.get()); }

// A thread waits in sigwait() for the blocked signals and writes each one's
// number to a pipe: the self-pipe, with no handler running anywhere.
struct SignalFd::Waiter {
  sigset_t set;
  UniqueFd write_end;
  std::atomic<bool> stopping{false};
  std::thread thread;
};

SignalFd::SignalFd(const sigset_t& set) : waiter_(std::make_unique<Waiter>()) {
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  make_pipe(read_, waiter_->write_end);
  waiter_->set = set;
  Waiter* waiter = waiter_.get();
  waiter_->thread = std::thread([waiter] {  // inherits the blocked set, as sigwait() needs
    for (;;) {
      int signal = 0;
      if (::sigwait(&waiter->set, &signal) != 0) continue;
      if (waiter->stopping.load()) return;
      auto byte = static_cast<unsigned char>(signal);
      [[maybe_unused]] auto ignored = ::write(waiter->write_end.get(), &byte, 1);
    }
  });
}

SignalFd::~SignalFd() {
  waiter_->stopping.store(true);
  for (int signal = 1; signal < 64; ++signal)
    if (sigismember(&waiter_->set, signal) == 1) {
      pthread_kill(waiter_->thread.native_handle(), signal);  // wakes its sigwait()
      break;
    }
  waiter_->thread.join();
}

int SignalFd::take() const {
  unsigned char byte = 0;
  return ::read(read_.get(), &byte, 1) == 1 ? byte : 0;
}

std::string signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGQUIT: return "SIGQUIT";
    case SIGPIPE: return "SIGPIPE";
    default: return "signal " + std::to_string(signal);
  }
}

// --- what input_timer.cpp's helper thread needs (net/wake_pair.h) -------------

namespace wake {

void make_pair(UniqueFd& read_end, UniqueFd& write_end) { make_pipe(read_end, write_end); }

void poke(Handle write_end) {
  char one = 1;
  [[maybe_unused]] auto ignored = ::write(write_end, &one, 1);  // EAGAIN: full, so already readable
}

void drain(Handle read_end) { net::drain(read_end); }

// A regular file or block device is always readable: poll() would say so at
// once, epoll refuses it; either way it is not waited on.
bool input_pollable(Handle input) {
  struct stat info {};
  if (input < 0 || ::fstat(input, &info) != 0) return false;
  return !S_ISREG(info.st_mode) && !S_ISBLK(info.st_mode);
}

std::thread start_thread(std::function<void()> body) { return start_quiet_thread(std::move(body)); }

bool poll_handles(std::vector<pollfd>& fds, int timeout_ms) {
  return ::poll(fds.data(), fds.size(), timeout_ms) >= 0;  // EINTR
}

}  // namespace wake

}  // namespace netdisp::net
