#pragma once
// Stream sockets, TCP and Unix (SOCK_STREAM): listening, accepting, and
// connecting with a timeout that a stop request cuts short.
#include <chrono>

#include "net/address.h"
#include "net/udp_socket.h"
#include "net/unique_fd.h"

namespace netdisp::net {

struct StreamListener {
  UniqueFd fd;  // non-blocking: accept() is called after poll() says ready
  Address bound;
};

// Listens on an IPv4, IPv6 or Unix address. For a Unix path, a socket file
// left behind by a process that ended (nobody accepts on it) is removed
// first; a live socket there, or a file that is not a socket, is an Error
// naming the path. The file is not removed when the listener closes: the
// next start removes it as stale. options.reuse_port and bind_device apply
// to TCP only.
StreamListener open_stream_listener(const Address& address, const SocketOptions& options);

struct Accepted {
  UniqueFd fd;  // non-blocking, close-on-exec; TCP_NODELAY on for TCP
  Address peer; // a Unix client that did not bind shows as "(unnamed)"
};

// One pending connection, or an invalid fd when none is waiting or the
// connection died before it was taken (ECONNABORTED): both are not errors.
// Other failures (EMFILE, ENFILE) leave their errno in *errno_out.
Accepted accept_client(int listen_fd, int* errno_out);

// Connects a stream socket to `destination` (TCP or Unix) without blocking
// past `timeout`, waking early when `stop_fd` (e.g. Control::stop_fd(); -1:
// none) becomes readable. Returns 0 with the connected socket in `out`
// (non-blocking, close-on-exec; TCP: SO_KEEPALIVE on, TCP_NODELAY off), or
// an errno with `out` untouched: ETIMEDOUT, ECANCELED (stop), ECONNREFUSED,
// ENOENT (no such Unix socket file), EADDRINUSE (bind_from taken)...
// options.bind_from (local address, port 0 allowed), bind_device and sndbuf
// apply; a bind_from of another family than `destination` throws UsageError.
int connect_stream(const Address& destination, std::chrono::milliseconds timeout, int stop_fd, UniqueFd& out,
                   const SocketOptions& options = SocketOptions{});

// Before binding a Unix path (`type` SOCK_STREAM or SOCK_DGRAM): removes a
// stale socket file (connecting to it is refused), throws Error when the
// path is a live socket or not a socket at all. Nothing to do for abstract
// names, IP addresses and paths that do not exist.
void remove_stale_unix_socket(const Address& address, int type);

}  // namespace netdisp::net
