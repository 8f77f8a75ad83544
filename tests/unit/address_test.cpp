#include <net/if.h>
#include <netinet/in.h>

#include <string>

#include "net/address.h"
#include "net/error.h"
#include "testing.h"

using netdisp::net::Address;
using netdisp::net::parse_address;
using netdisp::net::PortRule;

namespace {
// The loopback interface's name as this system spells it: "lo" on Linux,
// "lo0" on macOS and the BSDs, "loopback_1" on Windows.
std::string loopback() {
  char name[IF_NAMESIZE] = {};
  return if_indextoname(netdisp::net::parse_interface("127.0.0.1").index, name) ? name : "?";
}
}  // namespace

TEST_CASE("addresses in every accepted form parse to the right family and port", "[address]") {
  struct Good {
    const char* text;
    int family;
    int port;
    const char* canonical;
  };
  auto row = GENERATE(values<Good>({
      {"127.0.0.1:9921", AF_INET, 9921, "127.0.0.1:9921"},
      {"0.0.0.0:0", AF_INET, 0, "0.0.0.0:0"},
      {"[::1]:9922", AF_INET6, 9922, "[::1]:9922"},
      {"[::]:65535", AF_INET6, 65535, "[::]:65535"},
      {"239.1.2.3:9000", AF_INET, 9000, "239.1.2.3:9000"},
      {"255.255.255.255:9", AF_INET, 9, "255.255.255.255:9"},
  }));
  Address address = parse_address(row.text, PortRule::kZeroAllowed);
  CHECK(address.family() == row.family);
  CHECK(address.port() == row.port);
  CHECK(address.to_string() == row.canonical);
  CHECK(address.length() == (row.family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)));
}

TEST_CASE("an IPv6 scope is written as the interface's name, by name or by index", "[address]") {
  std::string lo = loopback();
  std::string by_name = "[ff02::1234%" + lo + "]:5000";
  CHECK(parse_address(by_name, PortRule::kZeroAllowed).to_string() == by_name);
  std::string index = std::to_string(netdisp::net::parse_interface(lo).index);
  CHECK(parse_address("[fe80::1%" + index + "]:7", PortRule::kZeroAllowed).to_string() == "[fe80::1%" + lo + "]:7");
}

TEST_CASE("hostnames resolve with getaddrinfo", "[address]") {
  Address address = parse_address("localhost:9921", PortRule::kNonZero);
  CHECK((address.family() == AF_INET || address.family() == AF_INET6));
  CHECK(address.port() == 9921);
}

TEST_CASE("malformed addresses are usage errors that say what is wrong", "[address]") {
  struct Bad {
    const char* text;
    const char* why;
  };
  auto row = GENERATE(values<Bad>({
      {"", "empty"},
      {"127.0.0.1", "missing port"},
      {"127.0.0.1:", "missing port"},
      {":9000", "empty host"},
      {"[::1", "'[' without ']'"},
      {"::1]:90", "']' without '['"},
      {"[::1]9000", "missing port after ']'"},
      {"[::1]:", "missing port"},
      {"::1:9000", "need brackets"},
      {"[1.2.3.4]:90", "not an IPv6 address"},
      {"[fe80::1%nosuchif0]:90", "unknown interface 'nosuchif0'"},
      {"[fe80::1%]:90", "empty interface"},
      {"127.0.0.1:65536", "above 65535"},
      {"127.0.0.1:-1", "not a number"},
      {"127.0.0.1:abc", "not a number"},
      {"127.0.0.1:80x", "not a number"},
      {"127.0.0.1:0", "port 0 cannot be a destination"},
  }));
  INFO(row.text);
  try {
    parse_address(row.text, PortRule::kNonZero);
    FAIL("accepted");
  } catch (const netdisp::net::UsageError& e) {
    CHECK(std::string(e.what()).find(row.why) != std::string::npos);
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}

TEST_CASE("a hostname that does not resolve is a runtime error naming it", "[address]") {
  try {
    parse_address("no-such-host.invalid:9", PortRule::kNonZero);
    FAIL("resolved");
  } catch (const netdisp::net::Error& e) {
    CHECK(std::string(e.what()).find("no-such-host.invalid") != std::string::npos);
  }
}

TEST_CASE("multicast and unspecified addresses are recognised", "[address]") {
  CHECK(parse_address("239.1.2.3:1", PortRule::kNonZero).is_multicast());
  CHECK(parse_address("[ff02::1]:1", PortRule::kNonZero).is_multicast());
  CHECK_FALSE(parse_address("10.0.0.1:1", PortRule::kNonZero).is_multicast());
  CHECK(parse_address("0.0.0.0:1", PortRule::kNonZero).is_unspecified());
  CHECK(parse_address("[::]:1", PortRule::kNonZero).is_unspecified());
}

TEST_CASE("interfaces are found by name, index and local address", "[address]") {
  using netdisp::net::parse_interface;
  unsigned lo = parse_interface(loopback()).index;
  CHECK(lo > 0);
  CHECK(parse_interface(std::to_string(lo)).index == lo);
  CHECK(parse_interface("127.0.0.1").index == lo);
  CHECK(parse_interface("127.0.0.1").family == AF_INET);
  CHECK_THROWS_AS(parse_interface("nosuchif0"), netdisp::net::UsageError);
  CHECK_THROWS_AS(parse_interface("99999"), netdisp::net::UsageError);
  CHECK_THROWS_AS(parse_interface("192.0.2.77"), netdisp::net::UsageError);
}

TEST_CASE("a link-local unicast address without its interface is refused with a hint", "[address]") {
  CHECK_THROWS_WITH(parse_address("[fe80::1]:9", PortRule::kNonZero),
                    "address '[fe80::1]:9': a link-local address needs its interface, e.g. [fe80::1%eth0]:9921");
  CHECK(parse_address("[fe80::1%" + loopback() + "]:9", PortRule::kNonZero).scope_id() > 0);
}
