#include "net/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "net/error.h"

namespace netdisp::net {
namespace {

const std::uint8_t* address_bytes(const Address& address) {
  if (address.family() == AF_INET) return reinterpret_cast<const std::uint8_t*>(&address.v4().sin_addr);
  return reinterpret_cast<const std::uint8_t*>(&address.v6().sin6_addr);
}

}  // namespace

bool Cidr::contains(const Address& address) const {
  // A Unix peer has no IP address: outside every range.
  if (address.family() != AF_INET && address.family() != AF_INET6) return false;
  const std::uint8_t* peer = address_bytes(address);
  // A socket listening on both families sees IPv4 peers as ::ffff:a.b.c.d.
  if (family == AF_INET && address.family() == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&address.v6().sin6_addr))
    peer += 12;
  else if (address.family() != family)
    return false;
  unsigned whole = prefix / 8;
  if (std::memcmp(peer, bytes.data(), whole) != 0) return false;
  unsigned rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (peer[whole] & mask) == (bytes[whole] & mask);
}

Cidr parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  std::string host(text.substr(0, slash));
  Cidr cidr;
  if (::inet_pton(AF_INET, host.c_str(), cidr.bytes.data()) == 1) {
    cidr.family = AF_INET;
    cidr.prefix = 32;
  } else if (::inet_pton(AF_INET6, host.c_str(), cidr.bytes.data()) == 1) {
    cidr.family = AF_INET6;
    cidr.prefix = 128;
  } else {
    throw UsageError("--allow '" + std::string(text) + "': not an IP address or CIDR range (e.g. 10.0.0.0/8)");
  }
  if (slash == std::string_view::npos) return cidr;
  std::string_view bits = text.substr(slash + 1);
  unsigned prefix = 0;
  auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || prefix > cidr.prefix)
    throw UsageError("--allow '" + std::string(text) + "': prefix length must be 0.." + std::to_string(cidr.prefix));
  cidr.prefix = prefix;
  return cidr;
}

bool AccessList::allows(const Address& peer) const {
  if (ranges_.empty()) return true;
  for (const Cidr& range : ranges_)
    if (range.contains(peer)) return true;
  return false;
}

}  // namespace netdisp::net
