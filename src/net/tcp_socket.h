#pragma once
// TCP listening and accepting, for the reverse-proxy's subscribers.
#include "net/address.h"
#include "net/udp_socket.h"
#include "net/unique_fd.h"

namespace netdisp::net {

struct TcpListener {
  UniqueFd fd;  // non-blocking: accept() is called after poll() says ready
  Address bound;
};

TcpListener open_tcp_listener(const Address& address, const SocketOptions& options);

struct Accepted {
  UniqueFd fd;  // non-blocking, close-on-exec
  Address peer;
};

// One pending connection, or an invalid fd when none is waiting or the
// connection died before it was taken (ECONNABORTED): both are not errors.
// Other failures (EMFILE, ENFILE) leave their errno in *errno_out.
Accepted accept_client(int listen_fd, int* errno_out);

}  // namespace netdisp::net
