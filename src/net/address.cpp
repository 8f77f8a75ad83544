#include "net/address.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>

#include <cstddef>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>

#include "net/error.h"

namespace netdisp::net {
namespace {

struct HostPort {
  std::string host;
  std::string scope;  // the part after '%' inside brackets
  bool bracketed = false;
  std::string_view port;
};

[[noreturn]] void bad(std::string_view text, const std::string& why) {
  throw UsageError("address '" + std::string(text) + "': " + why);
}

HostPort split_host_port(std::string_view text) {
  HostPort hp;
  if (text.empty()) bad(text, "empty (expected host:port)");
  std::string_view rest;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) bad(text, "'[' without ']'");
    std::string_view inside = text.substr(1, close - 1);
    rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') bad(text, "missing port after ']' (expected [v6]:port)");
    rest.remove_prefix(1);
    auto percent = inside.find('%');
    hp.host = std::string(inside.substr(0, percent));
    if (percent != std::string_view::npos) {
      hp.scope = std::string(inside.substr(percent + 1));
      if (hp.scope.empty()) bad(text, "empty interface after '%'");
    }
    hp.bracketed = true;
  } else {
    if (text.find(']') != std::string_view::npos) bad(text, "']' without '['");
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) bad(text, "missing port (expected host:port)");
    if (text.find(':') != colon) bad(text, "IPv6 addresses need brackets, e.g. [::1]:9921");
    hp.host = std::string(text.substr(0, colon));
    rest = text.substr(colon + 1);
  }
  if (hp.host.empty()) bad(text, "empty host (use 0.0.0.0 or [::] for any)");
  if (rest.empty()) bad(text, "missing port (expected host:port)");
  hp.port = rest;
  return hp;
}

std::uint16_t parse_port(std::string_view text, std::string_view port, PortRule rule) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size())
    bad(text, "port '" + std::string(port) + "' is not a number from " + (rule == PortRule::kNonZero ? "1" : "0") +
                  " to 65535");
  if (value > 65535) bad(text, "port " + std::string(port) + " is above 65535");
  if (value == 0 && rule == PortRule::kNonZero) bad(text, "port 0 cannot be a destination");
  return static_cast<std::uint16_t>(value);
}

unsigned scope_index(std::string_view text, const std::string& scope) {
  unsigned index = 0;
  auto [end, ec] = std::from_chars(scope.data(), scope.data() + scope.size(), index);
  if (ec == std::errc() && end == scope.data() + scope.size()) return index;
  index = ::if_nametoindex(scope.c_str());
  if (index == 0) bad(text, "unknown interface '" + scope + "'");
  return index;
}

Address resolve(std::string_view text, const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    throw Error("resolve '" + host + "' (from '" + std::string(text) + "'): " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, ::freeaddrinfo);
  return Address::from_sockaddr(found->ai_addr, found->ai_addrlen);
}

void set_port(Address& address, std::uint16_t port) {
  if (address.family() == AF_INET)
    reinterpret_cast<sockaddr_in*>(address.get_mut())->sin_port = htons(port);
  else
    reinterpret_cast<sockaddr_in6*>(address.get_mut())->sin6_port = htons(port);
}

}  // namespace

Address Address::from_sockaddr(const sockaddr* sa, socklen_t length, int socket_family) {
  Address address;
  if (length > sizeof address.storage_) length = sizeof address.storage_;
  std::memcpy(&address.storage_, sa, length);
  address.length_ = length;
  if (socket_family == AF_UNIX && length < sizeof(sa_family_t)) {
    // recvmsg() gives no name at all for a datagram from an unbound Unix socket.
    address.storage_.ss_family = AF_UNIX;
    address.length_ = sizeof(sa_family_t);
  }
  return address;
}

Address unix_address(std::string_view path) {
  auto refuse = [&](const std::string& why) {
    std::string shown;
    for (char c : path) shown += c == '\0' ? std::string("\\0") : std::string(1, c);  // what() ends at a NUL
    throw UsageError("unix socket '" + shown + "': " + why);
  };
  if (path.empty() || path == "@") refuse("empty path");
  if (path.find('\0') != std::string_view::npos) refuse("a path cannot hold a NUL byte");
  bool abstract = path.front() == '@';
  std::string_view name = abstract ? path.substr(1) : path;
  if (name.size() > kMaxUnixPath)
    refuse(std::to_string(name.size()) + " bytes, longer than the " + std::to_string(kMaxUnixPath) +
           " a Unix socket address holds (sun_path); use a shorter path");
  Address address;
  auto& un = *reinterpret_cast<sockaddr_un*>(&address.storage_);
  un.sun_family = AF_UNIX;
  // An abstract name starts with a NUL byte and has no terminator: its length says where it ends.
  std::memcpy(un.sun_path + (abstract ? 1 : 0), name.data(), name.size());
  address.length_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
  return address;
}

std::string Address::unix_path() const {
  if (!is_unix() || length_ <= offsetof(sockaddr_un, sun_path)) return "";
  const auto& un = *reinterpret_cast<const sockaddr_un*>(&storage_);
  if (un.sun_path[0] == '\0') return "";
  return std::string(un.sun_path, ::strnlen(un.sun_path, length_ - offsetof(sockaddr_un, sun_path)));
}

std::uint16_t Address::port() const {
  if (family() == AF_INET) return ntohs(v4().sin_port);
  if (family() == AF_INET6) return ntohs(v6().sin6_port);
  return 0;
}

std::uint32_t Address::scope_id() const { return family() == AF_INET6 ? v6().sin6_scope_id : 0; }

bool Address::is_multicast() const {
  if (family() == AF_INET) return IN_MULTICAST(ntohl(v4().sin_addr.s_addr));
  if (family() == AF_INET6) return IN6_IS_ADDR_MULTICAST(&v6().sin6_addr);
  return false;
}

bool Address::is_unspecified() const {
  if (family() == AF_INET) return v4().sin_addr.s_addr == htonl(INADDR_ANY);
  if (family() == AF_INET6) return IN6_IS_ADDR_UNSPECIFIED(&v6().sin6_addr);
  return false;
}

std::string Address::to_string() const {
  char host[INET6_ADDRSTRLEN] = "?";
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &v4().sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(port());
  }
  if (is_unix()) {
    std::size_t size = length_ > offsetof(sockaddr_un, sun_path) ? length_ - offsetof(sockaddr_un, sun_path) : 0;
    const auto& un = *reinterpret_cast<const sockaddr_un*>(&storage_);
    if (size == 0) return "(unnamed)";
    if (un.sun_path[0] == '\0') return "@" + std::string(un.sun_path + 1, size - 1);
    return unix_path();
  }
  if (family() != AF_INET6) return "(no address)";
  ::inet_ntop(AF_INET6, &v6().sin6_addr, host, sizeof host);
  std::string scope = scope_id() ? "%" + interface_name(scope_id()) : "";
  return "[" + std::string(host) + scope + "]:" + std::to_string(port());
}

Address parse_address(std::string_view text, PortRule rule) {
  // A bare port where any port may be listened on: every local address, IPv4
  // and IPv6 on one socket, as `nc -l 9950` does.
  bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (digits && rule == PortRule::kZeroAllowed) {
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_addr = in6addr_any;
    Address address = Address::from_sockaddr(reinterpret_cast<sockaddr*>(&any), sizeof any);
    address.both_families_ = true;
    set_port(address, parse_port(text, text, rule));
    return address;
  }
  if (digits) bad(text, "a destination needs a host too (expected host:port)");
  HostPort hp = split_host_port(text);
  std::uint16_t port = parse_port(text, hp.port, rule);
  Address address;
  sockaddr_in6 v6{};
  sockaddr_in v4{};
  if (hp.bracketed) {
    if (::inet_pton(AF_INET6, hp.host.c_str(), &v6.sin6_addr) != 1)
      bad(text, "'" + hp.host + "' inside [] is not an IPv6 address");
    v6.sin6_family = AF_INET6;
    if (!hp.scope.empty()) v6.sin6_scope_id = scope_index(text, hp.scope);
    if (IN6_IS_ADDR_LINKLOCAL(&v6.sin6_addr) && v6.sin6_scope_id == 0)
      bad(text, "a link-local address needs its interface, e.g. [fe80::1%eth0]:9921");
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {
      // [::ffff:1.2.3.4] is that IPv4 address; an IPv6-only socket could not bind or reach it.
      v4.sin_family = AF_INET;
      std::memcpy(&v4.sin_addr, &v6.sin6_addr.s6_addr[12], 4);
      address = Address::from_sockaddr(reinterpret_cast<sockaddr*>(&v4), sizeof v4);
    } else {
      address = Address::from_sockaddr(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
    }
  } else if (::inet_pton(AF_INET, hp.host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    address = Address::from_sockaddr(reinterpret_cast<sockaddr*>(&v4), sizeof v4);
  } else {
    address = resolve(text, hp.host);
  }
  set_port(address, port);
  return address;
}

Address parse_address_port_optional(std::string_view text) {
  if (text.empty()) bad(text, "empty (expected an address, e.g. 10.0.0.5 or [fd00::5])");
  if (text.find_first_not_of("0123456789") == std::string_view::npos)
    bad(text, "a number alone; write an address, with :PORT if a port is meant (0.0.0.0:" + std::string(text) + ")");
  bool bracketed_port = text.front() == '[' && text.find("]:") != std::string_view::npos;
  auto colons = std::count(text.begin(), text.end(), ':');
  if (bracketed_port || (text.front() != '[' && colons == 1)) return parse_address(text, PortRule::kZeroAllowed);
  // No port: an IPv6 address (bracketed or not), an IPv4 address or a hostname, port 0.
  std::string host(text);
  if (text.front() == '[') {
    if (text.back() != ']') bad(text, "'[' without ']'");
    host = std::string(text.substr(1, text.size() - 2));
  }
  if (host.find(':') != std::string::npos) return parse_address("[" + host + "]:0", PortRule::kZeroAllowed);
  return parse_address(host + ":0", PortRule::kZeroAllowed);
}

std::string interface_name(unsigned index) {
  char name[IF_NAMESIZE] = {};
  if (::if_indextoname(index, name)) return name;
  return std::to_string(index);
}

namespace {

// The name of the interface that has this local address (`wanted`: an
// in_addr or in6_addr of `family`), "" when none has; throws Error when the
// interfaces cannot be listed.
std::string interface_with_address(int family, const void* wanted, std::string_view text) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) throw_errno("list interfaces for '" + std::string(text) + "'");
  std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owner(list, ::freeifaddrs);
  for (ifaddrs* it = list; it; it = it->ifa_next) {
    if (!it->ifa_addr || it->ifa_addr->sa_family != family) continue;
    bool same = family == AF_INET
                    ? std::memcmp(&reinterpret_cast<sockaddr_in*>(it->ifa_addr)->sin_addr, wanted, 4) == 0
                    : std::memcmp(&reinterpret_cast<sockaddr_in6*>(it->ifa_addr)->sin6_addr, wanted, 16) == 0;
    if (same) return it->ifa_name;
  }
  return "";
}

// The interface that owns a local address.
Interface interface_of_address(std::string_view text, int family, const void* wanted) {
  std::string name = interface_with_address(family, wanted, text);
  if (!name.empty()) return Interface{::if_nametoindex(name.c_str()), family, {}, std::string(text)};
  throw UsageError("interface '" + std::string(text) + "': no local interface has that address");
}

}  // namespace

Interface parse_interface(std::string_view text) {
  std::string name(text);
  unsigned index = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
  if (ec == std::errc() && end == name.data() + name.size()) {
    char buf[IF_NAMESIZE];
    if (!::if_indextoname(index, buf)) throw UsageError("interface '" + name + "': no interface has that index");
    return Interface{index, AF_UNSPEC, {}, name};
  }
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, name.c_str(), &v4) == 1) {
    Interface found = interface_of_address(text, AF_INET, &v4);
    found.v4_address = v4;
    return found;
  }
  if (::inet_pton(AF_INET6, name.c_str(), &v6) == 1) return interface_of_address(text, AF_INET6, &v6);
  index = name.empty() ? 0 : ::if_nametoindex(name.c_str());
  if (index == 0) throw UsageError("interface '" + name + "': no such interface");
  return Interface{index, AF_UNSPEC, {}, name};
}

bool is_local_address(const Address& address) {
  int family = address.family();
  const void* wanted = nullptr;
  if (family == AF_INET) {
    if ((ntohl(address.v4().sin_addr.s_addr) >> 24) == 127) return true;  // all of 127/8 is loopback
    wanted = &address.v4().sin_addr;
  } else if (family == AF_INET6) {
    const in6_addr& v6 = address.v6().sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      sockaddr_in v4{};
      v4.sin_family = AF_INET;
      std::memcpy(&v4.sin_addr, &v6.s6_addr[12], 4);
      return is_local_address(Address::from_sockaddr(reinterpret_cast<const sockaddr*>(&v4), sizeof v4));
    }
    wanted = &v6;
  } else {
    return false;
  }
  if (address.is_unspecified()) return true;  // sending to 0.0.0.0 or :: reaches this host
  try {
    return !interface_with_address(family, wanted, address.to_string()).empty();
  } catch (const Error&) {
    return false;  // cannot tell: only a warning depends on it
  }
}

}  // namespace netdisp::net
