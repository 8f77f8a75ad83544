#include "net/endpoint.h"

#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <string>

#include "net/cidr.h"
#include "net/error.h"
#include "testing.h"

using namespace netdisp::net;

namespace {

std::string params_text(const EndpointText& e) {
  std::string out;
  for (const auto& [name, value] : e.params) out += (out.empty() ? "" : "|") + name + "=" + value;
  return out;
}

}  // namespace

TEST_CASE("endpoint text splits into scheme, address and query parameters", "[endpoint]") {
  struct Good {
    const char* text;
    const char* scheme;
    bool had_scheme;
    const char* rest;
    const char* params;  // name=value|name=value
  };
  auto row = GENERATE(values<Good>({
      {"127.0.0.1:9921", "udp", false, "127.0.0.1:9921", ""},
      {"9921", "udp", false, "9921", ""},
      {"[fe80::1%eth0]:5000", "udp", false, "[fe80::1%eth0]:5000", ""},
      {"[fe80::1%12]:5000", "udp", false, "[fe80::1%12]:5000", ""},
      {"udp://239.1.2.3:5000", "udp", true, "239.1.2.3:5000", ""},
      {"TCP://h:1", "tcp", true, "h:1", ""},
      {"tcp://h:1?", "tcp", true, "h:1", ""},
      {"udp://232.1.2.3:5000?source=10.0.0.5", "udp", true, "232.1.2.3:5000", "source=10.0.0.5"},
      {"232.1.2.3:5000?source=10.0.0.5&source=10.0.0.6", "udp", false, "232.1.2.3:5000",
       "source=10.0.0.5|source=10.0.0.6"},
      {"tcp://h:1?bind=10.0.0.1:0&a=", "tcp", true, "h:1", "bind=10.0.0.1:0|a="},
      {"tcp://h:1?a=b=c", "tcp", true, "h:1", "a=b=c"},
      {"tcp://h:1?n%61me=%3F%26%25&x=%zz%4", "tcp", true, "h:1", "name=?&%|x=%zz%4"},
      {"unix:///run/x.sock", "unix", true, "/run/x.sock", ""},
      {"unixgram:///dev/log", "unixgram", true, "/dev/log", ""},
      {"unix://@abstract", "unix", true, "@abstract", ""},
      {"srt+x.y-z://a", "srt+x.y-z", true, "a", ""},
      {"tcp://", "tcp", true, "", ""},
  }));
  INFO(row.text);
  EndpointText e = split_endpoint(row.text);
  CHECK(e.scheme == row.scheme);
  CHECK(e.had_scheme == row.had_scheme);
  CHECK(e.rest == row.rest);
  CHECK(params_text(e) == row.params);
}

TEST_CASE("malformed endpoint text is a usage error naming what is wrong", "[endpoint]") {
  struct Bad {
    const char* text;
    const char* why;
  };
  auto row = GENERATE(values<Bad>({
      {"://x:1", "empty scheme"},
      {"1tcp://x:1", "not a scheme name"},
      {"t_cp://x:1", "not a scheme name"},
      {"tcp://h:1?source", "'source' has no value"},
      {"tcp://h:1?=5", "has no name"},
      {"tcp://h:1?a=1&&b=2", "empty query parameter"},
      {"tcp://h:1?a=1&", "empty query parameter"},
  }));
  INFO(row.text);
  try {
    split_endpoint(row.text);
    FAIL("accepted");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find(row.why) != std::string::npos);
    CHECK(std::string(e.what()).find(row.text) != std::string::npos);
  }
}

TEST_CASE("unix endpoint paths: absolute files and abstract names", "[endpoint]") {
  struct Good {
    const char* rest;
    const char* shown;
    const char* path;
    socklen_t length;
  };
  constexpr socklen_t kBase = offsetof(sockaddr_un, sun_path);
  auto row = GENERATE(values<Good>({
      {"/run/x.sock", "/run/x.sock", "/run/x.sock", kBase + 12},
      {"/tmp/a%20b%3F.sock", "/tmp/a b?.sock", "/tmp/a b?.sock", kBase + 15},
      {"/tmp/50%off", "/tmp/50%off", "/tmp/50%off", kBase + 12},
      {"@name", "@name", "", kBase + 5},
  }));
  INFO(row.rest);
  Address a = parse_unix_endpoint_path(row.rest);
  CHECK(a.family() == AF_UNIX);
  CHECK(a.is_unix());
  CHECK(a.to_string() == row.shown);
  CHECK(a.unix_path() == row.path);
  CHECK(a.length() == row.length);
  CHECK(a.port() == 0);
  CHECK_FALSE(a.is_multicast());
  CHECK_FALSE(a.is_unspecified());
}

TEST_CASE("unix endpoints with a host, a relative path or no path are refused", "[endpoint]") {
  struct Bad {
    const char* rest;
    const char* why;
  };
  auto row = GENERATE(values<Bad>({
      {"", "no path"},
      {"host/run/x.sock", "takes no host"},
      {"x.sock", "write unix:///path"},
      {"./x.sock", "takes no host"},
      {"@", "empty path"},
      {"/tmp/%00x", "NUL"},
  }));
  INFO(row.rest);
  try {
    parse_unix_endpoint_path(row.rest);
    FAIL("accepted");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find(row.why) != std::string::npos);
  }
}

TEST_CASE("unix_address checks the length sun_path allows", "[endpoint]") {
  std::string longest = "/" + std::string(kMaxUnixPath - 1, 'a');
  CHECK(unix_address(longest).unix_path() == longest);
  CHECK(unix_address("@" + std::string(kMaxUnixPath, 'b')).to_string().size() == kMaxUnixPath + 1);
  try {
    unix_address(longest + "a");
    FAIL("accepted");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("longer than the 107") != std::string::npos);
  }
  CHECK_THROWS_AS(unix_address(""), UsageError);
}

TEST_CASE("a unix peer without a name reads as (unnamed); --allow ranges never contain it", "[endpoint]") {
  sockaddr_un none{};
  none.sun_family = AF_UNIX;
  Address from_accept = Address::from_sockaddr(reinterpret_cast<sockaddr*>(&none), sizeof(sa_family_t));
  CHECK(from_accept.to_string() == "(unnamed)");
  Address from_recvmsg = Address::from_sockaddr(reinterpret_cast<sockaddr*>(&none), 0, AF_UNIX);
  CHECK(from_recvmsg.is_unix());
  CHECK(from_recvmsg.to_string() == "(unnamed)");
  CHECK(Address::from_sockaddr(reinterpret_cast<sockaddr*>(&none), 0).family() == AF_UNSPEC);

  Address named = unix_address("/run/x.sock");
  CHECK_FALSE(parse_cidr("0.0.0.0/0").contains(named));
  CHECK_FALSE(parse_cidr("::/0").contains(named));
  CHECK_FALSE(parse_cidr("::/0").contains(from_accept));
  CHECK(AccessList().allows(named));
  CHECK_FALSE(AccessList({parse_cidr("0.0.0.0/0"), parse_cidr("::/0")}).allows(named));
  CHECK_FALSE(is_local_address(named));
}

TEST_CASE("source= and bind= addresses may leave out the port", "[endpoint]") {
  struct Good {
    const char* text;
    const char* canonical;
  };
  auto row = GENERATE(values<Good>({
      {"10.0.0.5", "10.0.0.5:0"},
      {"10.0.0.5:4000", "10.0.0.5:4000"},
      {"fd00::5", "[fd00::5]:0"},
      {"[fd00::5]", "[fd00::5]:0"},
      {"[fd00::5]:4000", "[fd00::5]:4000"},
      {"[::ffff:10.0.0.5]", "10.0.0.5:0"},
  }));
  INFO(row.text);
  CHECK(parse_address_port_optional(row.text).to_string() == row.canonical);
  for (const char* bad : {"", "4000", "[fd00::5", "10.0.0.5:x", "fe80::1"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_address_port_optional(bad), UsageError);
  }
}

TEST_CASE("endpoint texts shown in messages hide credentials", "[endpoint]") {
  struct Row {
    const char* text;
    const char* shown;
  };
  auto row = GENERATE(values<Row>({
      {"nats://me:secret@h1:4222,tok@h2:4222/a.b?queue=q", "nats://h1:4222,h2:4222/a.b?queue=q"},
      {"nats://h:4222/x?token=abc&name=n&password=pw", "nats://h:4222/x?token=***&name=n&password=***"},
      {"srt://1.2.3.4:9000?passphrase=0123456789&mode=caller", "srt://1.2.3.4:9000?passphrase=***&mode=caller"},
      {"udp://127.0.0.1:9", "udp://127.0.0.1:9"},
      {"127.0.0.1:9", "127.0.0.1:9"},
      {"unix://@abstract", "unix://@abstract"},
      {"unix:///run/a@b.sock", "unix:///run/a@b.sock"},
      {"tcp://[fe80::1%eth0]:5000?", "tcp://[fe80::1%eth0]:5000?"},
  }));
  INFO(row.text);
  CHECK(redact_endpoint(row.text) == row.shown);
}
