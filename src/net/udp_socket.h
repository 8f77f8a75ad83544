#pragma once
// Datagram sockets for listening (UDP unicast, multicast join, broadcast;
// Unix SOCK_DGRAM) and for sending to one destination. Setup failures throw
// Error/UsageError with the address in the message.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/address.h"
#include "net/unique_fd.h"

namespace netdisp::net {

struct MulticastOptions {
  std::optional<Interface> interface;  // --multicast-if; else the scope of the group, else the kernel's choice
  int ttl = 1;                         // IPv4 TTL / IPv6 hop limit of sent multicast
  bool loop = true;                    // deliver our own multicast to local listeners
  // Source-specific multicast (?source= on a group): when not empty, the
  // listener joins the group once per source (MCAST_JOIN_SOURCE_GROUP) and
  // receives only what these hosts send; empty: any-source join. Ports are ignored.
  std::vector<Address> sources;
};

struct SocketOptions {
  int rcvbuf = 0;  // bytes to ask for; 0 keeps the kernel default
  int sndbuf = 0;
  bool reuse_port = false;  // SO_REUSEPORT, only when the user asks
  bool gro = false;         // listeners accept coalesced datagrams (UDP_GRO)
  std::string bind_device;  // SO_BINDTODEVICE when not empty
  // bind= on a destination: the local address (and port; 0: any) a sender
  // binds before it connects, UDP or TCP. Same family as the destination.
  std::optional<Address> bind_from;
  MulticastOptions multicast;
  // Not a socket option: how long a stopping pipe still writes what this
  // listener had queued (--drain-timeout, stage::kDefaultDrainSeconds).
  double drain_seconds = 1.0;
};

// What the kernel granted when asked for a buffer size. The system caps
// SO_RCVBUF (Linux: at net.core.rmem_max unless the caller may force it;
// net::receive_buffer_hint says how to raise the cap).
struct BufferGrant {
  int asked = 0;
  int granted = 0;
};

struct UdpListener {
  UniqueFd fd;
  Address bound;  // with the real port when port 0 was asked for
  BufferGrant rcvbuf;
  bool gro = false;  // UDP_GRO is on: one message, and one kernel drop, may hold several datagrams
};

// Binds `address`; a multicast group is joined (on options.multicast.interface,
// or the group's %scope; per source when options.multicast.sources is set).
// Enables SO_RXQ_OVFL so kernel drops can be counted.
// A Unix address gives a SOCK_DGRAM socket bound to that path, after a stale
// socket file is removed (see remove_stale_unix_socket); IPv6, GRO,
// multicast and device options do not apply to it (gro is false).
UdpListener open_udp_listener(const Address& address, const SocketOptions& options);

// A socket for sending to `destination`: broadcast allowed, multicast TTL/loop/
// interface applied when the destination is a group, bound to
// options.bind_from when set. Not yet connected.
// A Unix address gives an unbound, non-blocking SOCK_DGRAM socket: a full
// receiver queue makes a send fail with EAGAIN (poll POLLOUT waits for room)
// instead of blocking the sending thread where a stop cannot reach it.
UniqueFd open_udp_sender(const Address& destination, const SocketOptions& options);

// What a sender does before connect(), UDP or stream: SO_BINDTODEVICE
// (Error when refused), SO_SNDBUF, bind to options.bind_from. Returns 0 or
// the errno of that bind (EADDRINUSE may pass: a caller retrying may try
// again); a bind_from of another family than `destination` throws UsageError.
int prepare_sender(int fd, const Address& destination, const SocketOptions& options);

// connect() the sender, so ICMP errors (ECONNREFUSED) reach this destination's
// own socket and the route is looked up once. Returns 0 or errno: with no
// route yet the caller retries later.
int connect_udp_sender(int fd, const Address& destination);

// The error an ICMP report left pending on a connected sender (ECONNREFUSED:
// nobody listens there), read and cleared with SO_ERROR; 0 when none.
int take_socket_error(int fd);

// The largest datagram payload a connected sender can send without IP
// fragmentation (route MTU minus IP and UDP headers): the most a GSO segment
// may carry, since segmentation never fragments. 0 when the kernel won't say,
// and always for a Unix socket (no MTU, no GSO: UDP_SEGMENT means nothing there).
std::size_t unfragmented_payload(int fd, int family);

// Ask for `bytes` of SO_RCVBUF/SO_SNDBUF, forcing past the system's cap when
// the process may (Linux: CAP_NET_ADMIN). Returns what the kernel granted.
BufferGrant set_buffer_size(int fd, int optname, int bytes);

Address local_address(int fd);

// SO_BINDTODEVICE (--bind-device) when `device` is not empty: Error when
// refused, UsageError naming the system where there is none.
void bind_device(int fd, const std::string& device);

// The most the kernel lets this socket's receive queue hold, in bytes of
// allocation (SO_RCVBUF as applied: twice what was asked), each datagram
// costing more than its payload. 0 when unknown.
std::uint32_t receive_queue_limit(int fd);

}  // namespace netdisp::net
