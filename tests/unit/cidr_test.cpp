#include "net/cidr.h"
#include "net/error.h"
#include "testing.h"

using namespace netdisp::net;

namespace {
Address at(const char* text) { return parse_address(text, PortRule::kZeroAllowed); }
}  // namespace

TEST_CASE("a CIDR range contains exactly the addresses under its prefix", "[cidr]") {
  Cidr ten = parse_cidr("10.0.0.0/8");
  CHECK(ten.contains(at("10.255.1.2:1")));
  CHECK_FALSE(ten.contains(at("11.0.0.1:1")));
  Cidr odd = parse_cidr("192.168.1.128/25");
  CHECK(odd.contains(at("192.168.1.200:1")));
  CHECK_FALSE(odd.contains(at("192.168.1.127:1")));
  Cidr host = parse_cidr("127.0.0.2");
  CHECK(host.contains(at("127.0.0.2:5")));
  CHECK_FALSE(host.contains(at("127.0.0.1:5")));
  Cidr v6 = parse_cidr("fd00::/8");
  CHECK(v6.contains(at("[fd12::1]:1")));
  CHECK_FALSE(v6.contains(at("[fe12::1]:1")));
  CHECK_FALSE(v6.contains(at("10.0.0.1:1")));  // families never match each other
  CHECK(parse_cidr("0.0.0.0/0").contains(at("8.8.8.8:53")));
}

TEST_CASE("an empty access list allows everyone, a filled one only its ranges", "[cidr]") {
  CHECK(AccessList().allows(at("1.2.3.4:1")));
  AccessList list({parse_cidr("127.0.0.0/8"), parse_cidr("::1/128")});
  CHECK(list.allows(at("127.9.9.9:1")));
  CHECK(list.allows(at("[::1]:1")));
  CHECK_FALSE(list.allows(at("10.0.0.1:1")));
}

TEST_CASE("malformed ranges are usage errors", "[cidr]") {
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "host/8", "10.0.0/8"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_cidr(bad), UsageError);
  }
}
