// Source-specific multicast joins and bind_from on senders. Multicast must
// never leave the machine: these run only inside the private namespace that
// tests/e2e/ssm_source_filter.sh makes (nd0 10.77.0.1 fd77::1 <-> nd1
// 10.77.0.2 fd77::2, both ends local); anywhere else they skip with a warning.
#include <poll.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "net/address.h"
#include "net/error.h"
#include "net/udp_socket.h"
#include "stage/udp_source.h"
#include "testing.h"

using namespace netdisp;
using netdisp::net::parse_address;
using netdisp::net::PortRule;

namespace {

bool in_test_namespace() {
  const char* flag = std::getenv("ND_IN_NETNS");
  return flag && std::string(flag) == "1" &&
         net::is_local_address(parse_address("10.77.0.1:1", PortRule::kNonZero)) &&
         net::is_local_address(parse_address("10.77.0.2:1", PortRule::kNonZero));
}

// Sends each payload from a socket bound to `from` to `group`.
void send_from(const std::string& from, const net::Address& group, const std::vector<std::string>& payloads) {
  net::SocketOptions options;
  options.bind_from = parse_address(from, PortRule::kZeroAllowed);
  // Out of nd0 whatever the source: a sender bound to an address otherwise
  // leaves through that address's interface (nd1 for the other sender).
  options.multicast.interface = net::parse_interface("nd0");
  net::UniqueFd fd = net::open_udp_sender(group, options);
  REQUIRE(net::connect_udp_sender(fd.get(), group) == 0);
  CHECK(net::local_address(fd.get()).to_string().rfind(from.substr(0, from.rfind(':')), 0) == 0);
  for (const std::string& p : payloads) REQUIRE(::send(fd.get(), p.data(), p.size(), 0) == ssize_t(p.size()));
}

// Everything the source receives until "end" arrives (or 5 s pass).
std::vector<std::string> receive_until_end(stage::UdpSource& source) {
  std::vector<std::string> got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline && (got.empty() || got.back() != "end")) {
    pollfd fd{source.poll_fd(), POLLIN, 0};
    ::poll(&fd, 1, 100);
    stage::Batch batch;
    if (source.read(batch) != stage::ReadStatus::kData) continue;
    for (const iovec& d : batch.datagrams) got.emplace_back(static_cast<const char*>(d.iov_base), d.iov_len);
  }
  return got;
}

}  // namespace

TEST_CASE("a source-specific join receives what its source sends and nothing from another host", "[ssm]") {
  if (!in_test_namespace()) {
    WARN("skipped: needs the private namespace of tests/e2e/ssm_source_filter.sh");
    SUCCEED();
    return;
  }
  struct Case {
    const char* group;
    const char* source;  // bind_from of the sender the receiver wants
    const char* other;   // bind_from of a sender it must not hear
  };
  auto row = GENERATE(values<Case>({
      {"232.1.2.3:0", "10.77.0.1:0", "10.77.0.2:0"},
      {"[ff32::8000:1234%nd0]:0", "[fd77::1]:0", "[fd77::2]:0"},
  }));
  INFO(row.group);
  net::SocketOptions ssm;
  ssm.multicast.sources.push_back(parse_address(row.source, PortRule::kZeroAllowed));
  net::UdpListener joined = net::open_udp_listener(parse_address(row.group, PortRule::kZeroAllowed), ssm);
  net::Address group = joined.bound;
  // Same group and port, any-source: proves the other sender's datagrams do arrive without the filter.
  net::UdpListener any = net::open_udp_listener(group, {});
  stage::UdpSource filtered(std::move(joined), {});
  stage::UdpSource unfiltered(std::move(any), {});

  send_from(row.other, group, {"other-1", "other-2", "other-3"});
  send_from(row.source, group, {"wanted-1", "wanted-2", "end"});

  CHECK(receive_until_end(filtered) == std::vector<std::string>{"wanted-1", "wanted-2", "end"});
  CHECK(receive_until_end(unfiltered) ==
        std::vector<std::string>{"other-1", "other-2", "other-3", "wanted-1", "wanted-2", "end"});

  net::SocketOptions mixed;
  mixed.multicast.sources.push_back(parse_address(row.source[0] == '[' ? "10.77.0.1:0" : "[fd77::1]:0",
                                                  PortRule::kZeroAllowed));
  CHECK_THROWS_AS(net::open_udp_listener(group, mixed), net::UsageError);
}
