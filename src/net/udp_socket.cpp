#include "net/udp_socket.h"

#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "net/error.h"
#include "net/stream_socket.h"

namespace netdisp::net {
namespace {

void set_option(int fd, int level, int name, const void* value, socklen_t size, const std::string& what) {
  if (::setsockopt(fd, level, name, value, size) != 0) throw_errno(what);
}

void set_int(int fd, int level, int name, int value, const std::string& what) {
  set_option(fd, level, name, &value, sizeof value, what);
}

UniqueFd make_socket(int family, const std::string& what, int flags = 0) {
  UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC | flags, 0));
  if (!fd.valid()) throw_errno(what);
  return fd;
}

void apply_common(int fd, const SocketOptions& options, const std::string& where) {
  if (options.reuse_port) set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT on " + where);
  if (!options.bind_device.empty())
    set_option(fd, SOL_SOCKET, SO_BINDTODEVICE, options.bind_device.c_str(),
               static_cast<socklen_t>(options.bind_device.size()), "bind to device " + options.bind_device);
  if (options.sndbuf > 0) set_buffer_size(fd, SO_SNDBUF, options.sndbuf);
}

// The interface index a group is joined on or sent through.
unsigned multicast_index(const Address& group, const MulticastOptions& options) {
  if (options.interface) return options.interface->index;
  return group.scope_id();
}

const char* family_name(int family) { return family == AF_INET ? "IPv4" : "IPv6"; }

void check_interface_family(const Address& group, const MulticastOptions& options) {
  if (!options.interface || options.interface->family == AF_UNSPEC) return;
  if (options.interface->family != group.family())
    throw UsageError("--multicast-if " + options.interface->text + " is an " + family_name(options.interface->family) +
                     " address, but the group " + group.to_string() + " is " + family_name(group.family()));
}

// Source-specific joins: one MCAST_JOIN_SOURCE_GROUP per source, same call for both families.
void join_sources(int fd, const Address& group, const MulticastOptions& options) {
  for (const Address& source : options.sources) {
    std::string what = "join multicast group " + group.to_string() + " for source " + source.to_string();
    if (source.family() != group.family())
      throw UsageError(what + ": the source is " + family_name(source.family()) + ", the group " +
                       family_name(group.family()));
    group_source_req request{};
    request.gsr_interface = multicast_index(group, options);
    std::memcpy(&request.gsr_group, group.get(), group.length());
    std::memcpy(&request.gsr_source, source.get(), source.length());
    set_option(fd, group.family() == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP, &request,
               sizeof request, what);
  }
  if (group.family() == AF_INET) set_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL off");
}

void join_group(int fd, const Address& group, const MulticastOptions& options) {
  check_interface_family(group, options);
  if (!options.sources.empty()) {
    join_sources(fd, group, options);
    return;
  }
  std::string what = "join multicast group " + group.to_string();
  if (group.family() == AF_INET) {
    ip_mreqn request{};
    request.imr_multiaddr = group.v4().sin_addr;
    if (options.interface) request.imr_address = options.interface->v4_address;
    request.imr_ifindex = static_cast<int>(multicast_index(group, options));
    set_option(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &request, sizeof request, what);
    // Only the groups this socket joined, not every group joined on the host.
    set_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, what);
  } else {
    ipv6_mreq request{};
    request.ipv6mr_multiaddr = group.v6().sin6_addr;
    request.ipv6mr_interface = multicast_index(group, options);
    set_option(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &request, sizeof request, what);
  }
}

void apply_multicast_send(int fd, const Address& group, const MulticastOptions& options) {
  check_interface_family(group, options);
  std::string what = "multicast options for " + group.to_string();
  unsigned index = multicast_index(group, options);
  if (group.family() == AF_INET) {
    set_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, options.ttl, what);
    set_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, options.loop, what);
    if (options.interface) {
      ip_mreqn request{};
      request.imr_address = options.interface->v4_address;
      request.imr_ifindex = static_cast<int>(index);
      set_option(fd, IPPROTO_IP, IP_MULTICAST_IF, &request, sizeof request, what);
    }
  } else {
    set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, options.ttl, what);
    set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, options.loop, what);
    if (index) set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, static_cast<int>(index), what);
  }
}

}  // namespace

BufferGrant set_buffer_size(int fd, int optname, int bytes) {
  int force = optname == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
  if (::setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) != 0)
    ::setsockopt(fd, SOL_SOCKET, optname, &bytes, sizeof bytes);  // capped at the sysctl; checked below
  int doubled = 0;
  socklen_t size = sizeof doubled;
  ::getsockopt(fd, SOL_SOCKET, optname, &doubled, &size);
  // The kernel doubles the request to account for its bookkeeping and reports the doubled value.
  return BufferGrant{bytes, doubled / 2};
}

Address local_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) throw_errno("getsockname");
  return Address::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length);
}

namespace {

UdpListener open_unix_listener(const Address& address, const SocketOptions& options) {
  std::string where = "unixgram " + address.to_string();
  UdpListener listener;
  listener.fd = make_socket(AF_UNIX, "socket for " + where);
  int fd = listener.fd.get();
  set_int(fd, SOL_SOCKET, SO_RXQ_OVFL, 1, "SO_RXQ_OVFL on " + where);
  if (options.rcvbuf > 0) listener.rcvbuf = set_buffer_size(fd, SO_RCVBUF, options.rcvbuf);
  remove_stale_unix_socket(address, SOCK_DGRAM);
  if (::bind(fd, address.get(), address.length()) != 0) throw_errno("bind " + where);
  listener.bound = local_address(fd);
  return listener;
}

}  // namespace

UdpListener open_udp_listener(const Address& address, const SocketOptions& options) {
  if (address.is_unix()) return open_unix_listener(address, options);
  std::string where = "udp " + address.to_string();
  UdpListener listener;
  listener.fd = make_socket(address.family(), "socket for " + where);
  int fd = listener.fd.get();
  // Several sockets (reverse-proxy clients, other processes) share one group;
  // each joined socket gets its own copy. Unicast ports are never shared
  // unless --reuse-port says so.
  if (address.is_multicast()) set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR on " + where);
  // [::] means IPv6 only, so 0.0.0.0 and [::] can listen on the same port;
  // a bare port asked for both.
  if (address.family() == AF_INET6)
    set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, !address.both_families(), "IPV6_V6ONLY on " + where);
  set_int(fd, SOL_SOCKET, SO_RXQ_OVFL, 1, "SO_RXQ_OVFL on " + where);
  if (options.gro) set_int(fd, SOL_UDP, UDP_GRO, 1, "UDP_GRO on " + where);
  listener.gro = options.gro;
  apply_common(fd, options, where);
  if (options.rcvbuf > 0) listener.rcvbuf = set_buffer_size(fd, SO_RCVBUF, options.rcvbuf);
  if (::bind(fd, address.get(), address.length()) != 0) throw_errno("bind " + where);
  if (address.is_multicast()) join_group(fd, address, options.multicast);
  listener.bound = local_address(fd);
  return listener;
}

int prepare_sender(int fd, const Address& destination, const SocketOptions& options) {
  if (!options.bind_device.empty() && !destination.is_unix())
    set_option(fd, SOL_SOCKET, SO_BINDTODEVICE, options.bind_device.c_str(),
               static_cast<socklen_t>(options.bind_device.size()), "bind to device " + options.bind_device);
  if (options.sndbuf > 0) set_buffer_size(fd, SO_SNDBUF, options.sndbuf);
  if (!options.bind_from) return 0;
  const Address& local = *options.bind_from;
  if (local.family() != destination.family())
    throw UsageError("bind=" + local.to_string() + " for " + destination.to_string() + ": the local address is " +
                     (local.is_unix() ? "a Unix socket" : family_name(local.family())) + ", the destination " +
                     (destination.is_unix() ? "a Unix socket" : family_name(destination.family())));
  return ::bind(fd, local.get(), local.length()) == 0 ? 0 : errno;
}

UniqueFd open_udp_sender(const Address& destination, const SocketOptions& options) {
  if (destination.is_unix()) {
    std::string where = "unixgram " + destination.to_string();
    UniqueFd fd = make_socket(AF_UNIX, "socket for " + where, SOCK_NONBLOCK);
    if (int error = prepare_sender(fd.get(), destination, options))
      throw_errno("bind " + options.bind_from->to_string() + " (bind= for " + where + ")", error);
    return fd;
  }
  std::string where = "udp " + destination.to_string();
  UniqueFd fd = make_socket(destination.family(), "socket for " + where);
  set_int(fd.get(), SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST for " + where);
  if (options.reuse_port) set_int(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT on " + where);
  if (destination.is_multicast()) apply_multicast_send(fd.get(), destination, options.multicast);
  if (int error = prepare_sender(fd.get(), destination, options))
    throw_errno("bind " + options.bind_from->to_string() + " (bind= for " + where + ")", error);
  return fd;
}

std::uint32_t socket_drops(int fd) {
  std::uint32_t info[SK_MEMINFO_VARS] = {};
  socklen_t size = sizeof info;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &size) != 0 || size <= SK_MEMINFO_DROPS * sizeof info[0]) return 0;
  return info[SK_MEMINFO_DROPS];
}

std::uint32_t receive_queue_limit(int fd) {
  int limit = 0;
  socklen_t size = sizeof limit;
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &limit, &size) != 0 || limit < 0) return 0;
  return static_cast<std::uint32_t>(limit);
}

int connect_udp_sender(int fd, const Address& destination) {
  return ::connect(fd, destination.get(), destination.length()) == 0 ? 0 : errno;
}

int take_socket_error(int fd) {
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return 0;
  return error;
}

std::size_t unfragmented_payload(int fd, int family) {
  if (family != AF_INET && family != AF_INET6) return 0;
  constexpr int kUdpHeader = 8;
  int mtu = 0;
  socklen_t size = sizeof mtu;
  bool v6 = family == AF_INET6;
  if (::getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &size) != 0) return 0;
  int payload = mtu - (v6 ? 40 : 20) - kUdpHeader;
  return payload > 0 ? static_cast<std::size_t>(payload) : 0;
}

}  // namespace netdisp::net
