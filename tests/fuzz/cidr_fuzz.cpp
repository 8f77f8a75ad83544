// cidr_fuzz: net::parse_cidr and AccessList::allows. The input is lines:
// each line is given to parse_cidr (only UsageError may come out); lines
// that start with '@' are peers instead ("@10.1.2.3", "@fd00::1").
// Properties:
//   - a parsed range has family AF_INET/AF_INET6 and prefix <= 32/128;
//   - Cidr::contains agrees with a bit-by-bit reference, for the given peers
//     and for peers made from the range's own bytes with one bit flipped:
//     flipping a bit inside the prefix leaves the range, outside stays in;
//   - an address of the other family is never contained, but for an
//     IPv4-mapped IPv6 peer (::ffff:a.b.c.d), which IPv4 ranges hold as a.b.c.d;
//   - AccessList::allows is "empty, or some range contains the peer".
#include <arpa/inet.h>

#include <cstring>

#include "fuzz_util.h"
#include "net/cidr.h"
#include "net/error.h"

using namespace netdisp;

namespace {

net::Address make_address(int family, const std::uint8_t* bytes) {
  if (family == AF_INET) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    std::memcpy(&v4.sin_addr, bytes, 4);
    return net::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&v4), sizeof v4);
  }
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  std::memcpy(&v6.sin6_addr, bytes, 16);
  return net::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
}

const std::uint8_t* raw_bytes(const net::Address& a) {
  return a.family() == AF_INET ? reinterpret_cast<const std::uint8_t*>(&a.v4().sin_addr)
                               : reinterpret_cast<const std::uint8_t*>(&a.v6().sin6_addr);
}

bool bit(const std::uint8_t* bytes, unsigned i) { return (bytes[i / 8] >> (7 - i % 8)) & 1; }

bool reference_contains(const net::Cidr& range, const net::Address& peer) {
  const std::uint8_t* bytes = raw_bytes(peer);
  // A socket listening on both families sees IPv4 peers as ::ffff:a.b.c.d:
  // IPv4 ranges hold them as the IPv4 address they are.
  bool mapped = peer.family() == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&peer.v6().sin6_addr);
  if (range.family == AF_INET && mapped) {
    bytes += 12;
  } else if (peer.family() != range.family) {
    return false;
  }
  for (unsigned i = 0; i < range.prefix; ++i)
    if (bit(bytes, i) != bit(range.bytes.data(), i)) return false;
  return true;
}

void check_range(const net::Cidr& range, const std::string& text) {
  auto line = [&] { return fuzz::printable(text); };
  unsigned width = range.family == AF_INET ? 32 : 128;
  FUZZ_EXPECT(range.family == AF_INET || range.family == AF_INET6, "'" + line() + "': family " + std::to_string(range.family));
  FUZZ_EXPECT(range.prefix <= width, "'" + line() + "': prefix " + std::to_string(range.prefix));
  net::Address own = make_address(range.family, range.bytes.data());
  FUZZ_EXPECT(range.contains(own), "'" + line() + "' does not contain its own address");
  // One flipped bit, at a few positions around the prefix boundary and at both ends.
  for (unsigned i : {0u, range.prefix ? range.prefix - 1 : 0u, range.prefix, width - 1}) {
    if (i >= width) continue;
    std::array<std::uint8_t, 16> flipped = range.bytes;
    flipped[i / 8] ^= static_cast<std::uint8_t>(0x80 >> (i % 8));
    bool inside = range.contains(make_address(range.family, flipped.data()));
    FUZZ_EXPECT(inside == (i >= range.prefix), "'" + line() + "': bit " + std::to_string(i) + " flipped gives contains=" +
                                                   std::to_string(inside));
  }
  std::uint8_t other[16] = {};
  std::memcpy(other, range.bytes.data(), 16);
  FUZZ_EXPECT(!range.contains(make_address(range.family == AF_INET ? AF_INET6 : AF_INET, other)),
               "'" + line() + "' contains an address of the other family");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<net::Cidr> ranges;
  std::vector<net::Address> peers;
  for (const std::string& line : fuzz::split(fuzz::as_text(data, size), '\n')) {
    if (!line.empty() && line.front() == '@') {
      std::uint8_t bytes[16] = {};
      std::string text = line.substr(1);
      if (::inet_pton(AF_INET, text.c_str(), bytes) == 1) peers.push_back(make_address(AF_INET, bytes));
      else if (::inet_pton(AF_INET6, text.c_str(), bytes) == 1) peers.push_back(make_address(AF_INET6, bytes));
      continue;
    }
    try {
      net::Cidr range = net::parse_cidr(line);
      check_range(range, line);
      ranges.push_back(range);
    } catch (const net::UsageError&) {
    }
  }
  net::AccessList list(ranges);
  for (const net::Address& peer : peers) {
    bool any = false;
    for (const net::Cidr& range : ranges) {
      bool expected = reference_contains(range, peer);
      FUZZ_EXPECT(range.contains(peer) == expected, "contains disagrees with the reference for " + peer.to_string());
      any = any || expected;
    }
    FUZZ_EXPECT(list.allows(peer) == (ranges.empty() || any), "allows() wrong for " + peer.to_string());
  }
  return 0;
}
