// address_fuzz: net::parse_address (both port rules) and net::parse_interface
// on arbitrary text. They may only throw UsageError (malformed) or Error
// (does not resolve); anything else, or a broken property below, is a crash.
// Properties of a parsed address:
//   - it is IPv4 or IPv6 with the matching socklen_t; "[...]" gives IPv6,
//     but for IPv4-mapped addresses ([::ffff:a.b.c.d]), which give IPv4;
//   - a bare port is a listen address on both families: kZeroAllowed gives
//     [::] with both_families(), kNonZero refuses it;
//   - otherwise kNonZero accepts exactly the kZeroAllowed results whose port is not 0;
//   - to_string() parses back to the same address (what the logs print can
//     be pasted back on a command line).
// Hostnames reach getaddrinfo; with no DNS here they fail in ~1 ms.
#include <arpa/inet.h>

#include <cstring>
#include <optional>

#include "fuzz_util.h"
#include "net/address.h"
#include "net/error.h"

using namespace netdisp;

namespace {

std::optional<net::Address> try_parse(std::string_view text, net::PortRule rule) {
  try {
    return net::parse_address(text, rule);
  } catch (const net::UsageError&) {
  } catch (const net::Error&) {
  }
  return std::nullopt;
}

bool same_address(const net::Address& a, const net::Address& b) {
  if (a.family() != b.family() || a.port() != b.port() || a.scope_id() != b.scope_id()) return false;
  if (a.family() == AF_INET) return a.v4().sin_addr.s_addr == b.v4().sin_addr.s_addr;
  return std::memcmp(&a.v6().sin6_addr, &b.v6().sin6_addr, sizeof(in6_addr)) == 0;
}

bool is_bare_port(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// True when the host part is a literal, so two parses cannot differ through DNS answers.
bool is_literal(std::string_view text) {
  if (!text.empty() && text.front() == '[') return true;
  std::string host(text.substr(0, text.rfind(':')));
  in_addr v4{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1;
}

void check_address(std::string_view text) {
  auto shown = [&] { return fuzz::printable(text); };
  auto any_port = try_parse(text, net::PortRule::kZeroAllowed);
  auto non_zero = try_parse(text, net::PortRule::kNonZero);
  if (any_port) {
    const net::Address& a = *any_port;
    bool v4 = a.family() == AF_INET && a.length() == sizeof(sockaddr_in);
    bool v6 = a.family() == AF_INET6 && a.length() == sizeof(sockaddr_in6);
    FUZZ_EXPECT(v4 || v6, "'" + shown() + "' parsed to family " + std::to_string(a.family()) + " length " +
                               std::to_string(a.length()));
    bool mapped = text.front() == '[' && v4;  // [::ffff:a.b.c.d]
    if (mapped) {
      in6_addr bytes{};
      std::string inside(text.substr(1, text.find_first_of("%]") - 1));
      FUZZ_EXPECT(::inet_pton(AF_INET6, inside.c_str(), &bytes) == 1 && IN6_IS_ADDR_V4MAPPED(&bytes) &&
                      std::memcmp(&bytes.s6_addr[12], &a.v4().sin_addr, 4) == 0,
                  "'" + shown() + "' is bracketed but gave IPv4 " + a.to_string());
    } else if (text.front() == '[') {
      FUZZ_EXPECT(v6, "'" + shown() + "' is bracketed but did not give IPv6");
    }
    FUZZ_EXPECT(a.both_families() == is_bare_port(text), "'" + shown() + "': both_families() is wrong");
    if (a.both_families()) FUZZ_EXPECT(v6 && a.is_unspecified(), "'" + shown() + "': a bare port is not [::]");
    auto again = try_parse(a.to_string(), net::PortRule::kZeroAllowed);
    FUZZ_EXPECT(again && same_address(a, *again),
                 "'" + shown() + "' -> '" + a.to_string() + "' does not parse back to the same address");
  }
  if (is_bare_port(text)) FUZZ_EXPECT(!non_zero, "'" + shown() + "': kNonZero accepted a bare port");
  if (is_literal(text) && !is_bare_port(text)) {
    bool should = any_port && any_port->port() != 0;
    FUZZ_EXPECT(should == non_zero.has_value(), "'" + shown() + "': kNonZero " +
                                                     (non_zero ? "accepted" : "refused") + ", kZeroAllowed " +
                                                     (any_port ? "port " + std::to_string(any_port->port()) : "refused"));
    if (non_zero) FUZZ_EXPECT(same_address(*any_port, *non_zero), "'" + shown() + "': the two rules disagree");
  }
}

void check_interface(std::string_view text) {
  try {
    net::Interface found = net::parse_interface(text);
    FUZZ_EXPECT(found.index != 0, "interface '" + fuzz::printable(text) + "' accepted with index 0");
    FUZZ_EXPECT(!net::interface_name(found.index).empty(), "interface index without a name");
  } catch (const net::UsageError&) {
  } catch (const net::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  check_address(text);
  check_interface(text);
  return 0;
}
