#include "net/tcp_socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

#include "net/error.h"

namespace netdisp::net {

TcpListener open_tcp_listener(const Address& address, const SocketOptions& options) {
  std::string where = "tcp " + address.to_string();
  TcpListener listener;
  listener.fd = UniqueFd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  int fd = listener.fd.get();
  if (fd < 0) throw_errno("socket for " + where);
  int one = 1;
  // Restarting the reverse-proxy must not wait for TIME_WAIT; on Linux this does
  // not let a second process listen on the same port.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int v6_only = !address.both_families();  // a bare port listens on IPv4 too
  if (address.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6_only, sizeof v6_only);
  if (options.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    throw_errno("SO_REUSEPORT on " + where);
  if (!options.bind_device.empty() &&
      ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, options.bind_device.c_str(),
                   static_cast<socklen_t>(options.bind_device.size())) != 0)
    throw_errno("bind to device " + options.bind_device);
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
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return Accepted{UniqueFd(fd), Address::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), length)};
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED) *errno_out = errno;
    return Accepted{};
  }
}

}  // namespace netdisp::net
