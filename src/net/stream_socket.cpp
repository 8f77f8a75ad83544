#include "net/stream_socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "net/error.h"
#include "net/platform.h"

namespace netdisp::net {
namespace {

bool is_ip(const Address& address) { return address.family() == AF_INET || address.family() == AF_INET6; }

void set_one(int fd, int level, int name) {
  int one = 1;
  ::setsockopt(fd, level, name, &one, sizeof one);
}

// Milliseconds left until `deadline` for poll(), at least 0.
int left_ms(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits until `fd` is writable (a non-blocking connect finished), or for
// `wait_for_fd` false only for the stop fd, up to `deadline`. 0 when it is
// time to look at the socket again, else ETIMEDOUT or ECANCELED.
int wait_connect(int fd, int stop_fd, std::chrono::steady_clock::time_point deadline, int at_most_ms = -1) {
  for (;;) {
    int ms = left_ms(deadline);
    bool capped = at_most_ms >= 0 && at_most_ms < ms;
    if (capped) ms = at_most_ms;
    pollfd fds[2] = {{stop_fd, POLLIN, 0}, {fd, POLLOUT, 0}};
    int rc = ::poll(fds, fd >= 0 ? 2 : 1, ms);
    if (rc < 0 && errno == EINTR) continue;
    if (fds[0].revents) return ECANCELED;
    if (rc > 0 || capped) return 0;
    return ETIMEDOUT;
  }
}

}  // namespace

void remove_stale_unix_socket(const Address& address, int type) {
  std::string path = address.unix_path();
  if (path.empty()) return;  // IP, or an abstract name: no file
  struct stat info{};
  if (::lstat(path.c_str(), &info) != 0) return;  // nothing there (or we may not look: bind will say)
  if (!S_ISSOCK(info.st_mode)) throw Error("unix " + path + ": exists and is not a socket; not removed");
  // Non-blocking: a connect to a live listener with a full backlog would otherwise wait for room.
  UniqueFd probe(open_socket(AF_UNIX, type, true));
  if (!probe.valid()) throw_errno("socket to probe unix " + path);
  int rc = ::connect(probe.get(), address.get(), address.length());
  // Refused: a file left by a process that ended. Anything else (connected,
  // or EPROTOTYPE: a live socket of the other type) means it is in use.
  if (rc != 0 && errno == ECONNREFUSED) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_errno("remove stale unix socket " + path);
    return;
  }
  if (rc == 0 || errno == EPROTOTYPE || errno == EAGAIN)
    throw Error("unix " + path + ": another process is listening there");
  // EACCES and the like: leave it; bind will fail and name the reason.
}

StreamListener open_stream_listener(const Address& address, const SocketOptions& options) {
  std::string where = (is_ip(address) ? "tcp " : "unix ") + address.to_string();
  StreamListener listener;
  listener.fd = UniqueFd(open_socket(address.family(), SOCK_STREAM, true));
  int fd = listener.fd.get();
  if (fd < 0) throw_errno("socket for " + where);
  if (is_ip(address)) {
    // Restarting must not wait for TIME_WAIT; on Linux this does not let a
    // second process listen on the same port.
    set_one(fd, SOL_SOCKET, SO_REUSEADDR);
    int v6_only = !address.both_families();  // a bare port listens on IPv4 too
    if (address.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6_only, sizeof v6_only);
    int one = 1;
    if (options.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
      throw_errno("SO_REUSEPORT on " + where);
    bind_device(fd, options.bind_device);
  } else {
    remove_stale_unix_socket(address, SOCK_STREAM);
  }
  if (::bind(fd, address.get(), address.length()) != 0) throw_errno("bind " + where);
  if (::listen(fd, SOMAXCONN) != 0) throw_errno("listen " + where);
  listener.bound = local_address(fd);
  return listener;
}

Accepted accept_client(int listen_fd, int* errno_out) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  *errno_out = 0;
  for (;;) {
    int fd = accept_socket(listen_fd, reinterpret_cast<sockaddr*>(&peer), &length);
    if (fd >= 0) {
      // A live stream to a subscriber: its small writes should not wait for Nagle.
      if (peer.ss_family == AF_INET || peer.ss_family == AF_INET6) set_one(fd, IPPROTO_TCP, TCP_NODELAY);
      return Accepted{UniqueFd(fd), Address::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), length)};
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED) *errno_out = errno;
    return Accepted{};
  }
}

int connect_stream(const Address& destination, std::chrono::milliseconds timeout, int stop_fd, UniqueFd& out,
                   const SocketOptions& options) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  UniqueFd fd(open_socket(destination.family(), SOCK_STREAM, true));
  if (!fd.valid()) return errno;
  // A peer that vanished without a word (power cut, cable) is found out in
  // the end instead of never.
  if (is_ip(destination)) set_one(fd.get(), SOL_SOCKET, SO_KEEPALIVE);
  if (int error = prepare_sender(fd.get(), destination, options)) return error;
  for (;;) {
    if (::connect(fd.get(), destination.get(), destination.length()) == 0) break;
    int error = errno;
    if (error == EAGAIN && destination.is_unix()) {
      // The listener's backlog is full: a Unix connect does not queue, so try again shortly.
      constexpr int kBacklogRetryMs = 10;
      if (int wait = wait_connect(-1, stop_fd, deadline, kBacklogRetryMs)) return wait;
      continue;
    }
    if (error != EINPROGRESS && error != EINTR) return error;
    if (int wait = wait_connect(fd.get(), stop_fd, deadline)) return wait;
    if (int so_error = take_socket_error(fd.get())) return so_error;
    break;
  }
  out = std::move(fd);
  return 0;
}

}  // namespace netdisp::net
