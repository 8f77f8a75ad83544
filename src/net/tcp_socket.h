#pragma once
// The TCP names used before Unix stream sockets came: net/stream_socket.h
// serves both; these forward to it.
#include "net/stream_socket.h"

namespace netdisp::net {

using TcpListener = StreamListener;

inline TcpListener open_tcp_listener(const Address& address, const SocketOptions& options) {
  return open_stream_listener(address, options);
}

}  // namespace netdisp::net
