#include "net/udp_socket.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "net/error.h"
#include "net/platform.h"
#include "net/stream_socket.h"

namespace netdisp::net {
namespace {

void set_option(int fd, int level, int name, const void* value, socklen_t size, const std::string& what) {
  if (::setsockopt(fd, level, name, value, size) != 0) throw_errno(what);
}

void set_int(int fd, int level, int name, int value, const std::string& what) {
  set_option(fd, level, name, &value, sizeof value, what);
}

UniqueFd make_socket(int family, const std::string& what, bool nonblocking = false) {
  UniqueFd fd(open_socket(family, SOCK_DGRAM, nonblocking));
  if (!fd.valid()) throw_errno(what);
  return fd;
}

void apply_common(int fd, const SocketOptions& options, const std::string& where) {
  if (options.reuse_port) set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT on " + where);
  bind_device(fd, options.bind_device);
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
  if (group.family() == AF_INET)
    if (int error = deliver_own_groups_only(fd)) throw_errno("IP_MULTICAST_ALL off", error);
}

void join_group(int fd, const Address& group, const MulticastOptions& options) {
  check_interface_family(group, options);
  if (!options.sources.empty()) {
    join_sources(fd, group, options);
    return;
  }
  std::string what = "join multicast group " + group.to_string();
  if (group.family() == AF_INET) {
    in_addr interface_address{};
    if (options.interface) interface_address = options.interface->v4_address;
    if (int error = join_group_v4(fd, group.v4().sin_addr, interface_address, multicast_index(group, options)))
      throw_errno(what, error);
    // Only the groups this socket joined, not every group joined on the host.
    if (int error = deliver_own_groups_only(fd)) throw_errno(what, error);
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
    if (options.interface)
      if (int error = multicast_interface_v4(fd, options.interface->v4_address, index)) throw_errno(what, error);
  } else {
    set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, options.ttl, what);
    set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, options.loop, what);
    if (index) set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, static_cast<int>(index), what);
  }
}

}  // namespace

void bind_device(int fd, const std::string& device) {
  if (device.empty()) return;
  if (!features().bind_device)
    throw UsageError("--bind-device " + device + ": SO_BINDTODEVICE is Linux's; " + features().system + " has none");
  if (int error = bind_to_device(fd, device)) throw_errno("bind to device " + device, error);
}

BufferGrant set_buffer_size(int fd, int optname, int bytes) {
  if (!force_buffer_size(fd, optname, bytes))
    ::setsockopt(fd, SOL_SOCKET, optname, &bytes, sizeof bytes);  // capped at the sysctl; checked below
  return BufferGrant{bytes, buffer_size(fd, optname)};
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
  request_drop_reports(fd);
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
  request_drop_reports(fd);
  // GRO only changes how datagrams reach us, never what they are: where the
  // system has none, they come one by one.
  listener.gro = options.gro && features().gro;
  if (listener.gro)
    if (int error = enable_gro(fd)) throw_errno("UDP_GRO on " + where, error);
  apply_common(fd, options, where);
  if (options.rcvbuf > 0) listener.rcvbuf = set_buffer_size(fd, SO_RCVBUF, options.rcvbuf);
  if (::bind(fd, address.get(), address.length()) != 0) throw_errno("bind " + where);
  if (address.is_multicast()) join_group(fd, address, options.multicast);
  listener.bound = local_address(fd);
  return listener;
}

int prepare_sender(int fd, const Address& destination, const SocketOptions& options) {
  if (!destination.is_unix()) bind_device(fd, options.bind_device);
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
    UniqueFd fd = make_socket(AF_UNIX, "socket for " + where, true);
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
  int mtu = path_mtu(fd, family);
  if (mtu <= 0) return 0;
  bool v6 = family == AF_INET6;
  int payload = mtu - (v6 ? 40 : 20) - kUdpHeader;
  return payload > 0 ? static_cast<std::size_t>(payload) : 0;
}

}  // namespace netdisp::net
