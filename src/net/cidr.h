#pragma once
// Access control for listening sockets: --allow CIDR (repeatable).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.h"

namespace netdisp::net {

struct Cidr {
  int family = 0;
  std::array<std::uint8_t, 16> bytes{};
  unsigned prefix = 0;  // leading bits that must match
  bool contains(const Address& address) const;
};

// "10.0.0.0/8", "fd00::/8", or a single host "127.0.0.1" / "::1".
// Throws UsageError for anything else.
Cidr parse_cidr(std::string_view text);

// Empty: everyone is allowed. Otherwise a peer must be inside one of the
// ranges; a Unix-domain peer is inside none, so only an empty list allows it.
class AccessList {
 public:
  AccessList() = default;
  explicit AccessList(std::vector<Cidr> ranges) : ranges_(std::move(ranges)) {}
  bool allows(const Address& peer) const;
  bool empty() const { return ranges_.empty(); }

 private:
  std::vector<Cidr> ranges_;
};

}  // namespace netdisp::net
