#pragma once
// Address: an IPv4, IPv6 or Unix-domain socket address with its real
// socklen_t, a value type. parse_address() accepts the forms of the command line contract:
//   host:port   1.2.3.4:port   [v6]:port   [fe80::1%eth0]:port
// and, where a listen address is expected, a bare port: [::]:port on a socket
// that takes IPv4 too. [::ffff:1.2.3.4]:port is read as 1.2.3.4:port.
// and throws UsageError for text that cannot be an address, Error for a
// hostname that does not resolve.
// Unix addresses come from unix_address(), never from parse_address().
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace netdisp::net {

// Whether port 0 is acceptable: a listen address may ask for any free port,
// a destination may not.
enum class PortRule { kNonZero, kZeroAllowed };

class Address {
 public:
  Address() = default;
  // `socket_family`: the family of the socket that reported the address. A
  // Unix peer that never bound a name comes back with length 0 (recvmsg) or
  // only its family (accept); given AF_UNIX here, both read as "(unnamed)".
  static Address from_sockaddr(const sockaddr* sa, socklen_t length, int socket_family = AF_UNSPEC);

  int family() const { return storage_.ss_family; }
  std::uint16_t port() const;
  std::uint32_t scope_id() const;  // IPv6 interface index, 0 if none
  bool is_multicast() const;
  bool is_unspecified() const;      // 0.0.0.0 or ::
  bool is_unix() const { return family() == AF_UNIX; }
  // A bare port was given: listen on [::] with IPv4 included (IPV6_V6ONLY off).
  bool both_families() const { return both_families_; }
  // "1.2.3.4:5", "[::1]:5", "[fe80::1%eth0]:5"; Unix: "/run/x.sock", an
  // abstract name "@name", a peer with no name "(unnamed)".
  std::string to_string() const;
  // The file a Unix address names ("" for IP, abstract and unnamed addresses).
  std::string unix_path() const;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* get_mut() { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t length() const { return length_; }
  const sockaddr_in& v4() const { return *reinterpret_cast<const sockaddr_in*>(&storage_); }
  const sockaddr_in6& v6() const { return *reinterpret_cast<const sockaddr_in6*>(&storage_); }

 private:
  friend Address parse_address(std::string_view text, PortRule rule);
  friend Address unix_address(std::string_view path);

  sockaddr_storage storage_{};
  socklen_t length_ = 0;
  bool both_families_ = false;
};

Address parse_address(std::string_view text, PortRule rule);

// An address whose port may be left out (port 0 then): "10.0.0.5",
// "10.0.0.5:4000", "fd00::5", "[fd00::5]", "[fd00::5]:4000", "host",
// "host:4000". For endpoint parameters: ?source= (the port is ignored) and
// ?bind= (0: any port). A bare number is refused (a port alone, or an IPv4
// address in a form nobody means). UsageError / Error as parse_address.
Address parse_address_port_optional(std::string_view text);

// The longest Unix socket path: sun_path less its terminating NUL.
inline constexpr std::size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;

// A Unix-domain address: a file path ("/run/x.sock", taken as written), or
// with a leading '@' a Linux abstract name ("@name": no file). Throws
// UsageError when empty, longer than kMaxUnixPath bytes, or holding a NUL.
Address unix_address(std::string_view path);

// A network interface given by name ("eth0"), index ("2") or one of its local
// addresses ("10.0.0.1", "fd00::1"). family is that address's family, or
// AF_UNSPEC when the interface was named or numbered.
struct Interface {
  unsigned index = 0;
  int family = AF_UNSPEC;
  in_addr v4_address{};  // set when given as an IPv4 address
  std::string text;
};

// Throws UsageError when no such interface exists.
Interface parse_interface(std::string_view text);

// "eth0" for an index; the number as text if the interface has no name.
std::string interface_name(unsigned index);

// Whether datagrams sent to `address` stay on this host: loopback, the
// unspecified address, or an address of a local interface (getifaddrs).
// false when the interfaces cannot be listed.
bool is_local_address(const Address& address);

}  // namespace netdisp::net
