// The platform seam (net/platform.h), whichever flavour this build has:
// the same behaviour from platform_linux.cpp, platform_posix.cpp and
// platform_win32.cpp. Signals: platform_signal_test.cpp (POSIX only).
#include "net/platform.h"

#include <arpa/inet.h>
#include <poll.h>

#include <array>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>

#include "net/udp_socket.h"
#include "testing.h"

using namespace netdisp::net;
using namespace std::chrono_literals;

namespace {

bool readable(Handle fd, int timeout_ms) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, timeout_ms) == 1;
}

// A UDP socket bound to 127.0.0.1 on a port the kernel picks.
UniqueFd bound_udp(sockaddr_in& where) {
  UniqueFd fd(open_socket(AF_INET, SOCK_DGRAM, true));
  REQUIRE(fd.valid());
  where = sockaddr_in{};
  where.sin_family = AF_INET;
  where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&where), sizeof where) == 0);
  socklen_t length = sizeof where;
  REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&where), &length) == 0);
  return fd;
}

}  // namespace

TEST_CASE("the build names its platform flavour and what it lacks", "[platform]") {
  const Features& f = features();
  std::string flavour = f.flavour;
  REQUIRE((flavour == "linux" || flavour == "portable" || flavour == "windows"));
  // The portable flavour is the generic POSIX path: none of Linux's extras.
  if (flavour == "portable") CHECK((!f.gso && !f.gro && !f.kernel_drops));
  if (flavour == "linux") CHECK((f.gso && f.gro && f.kernel_drops && f.bind_device));
  if (flavour == "windows") CHECK((!f.gso && !f.gro && !f.kernel_drops && !f.bind_device && !f.reuse_port));
}

TEST_CASE("a receive buffer below the system's cap is granted as asked", "[platform]") {
  sockaddr_in where{};
  UniqueFd fd = bound_udp(where);
  // 64 KiB is under every default cap (Linux's rmem_max is 208 KiB). Linux
  // reports twice the size asked, Windows and the BSDs the size itself.
  BufferGrant grant = set_buffer_size(fd.get(), SO_RCVBUF, 64 << 10);
  CHECK(grant.asked == 64 << 10);
  CHECK(grant.granted == 64 << 10);
  CHECK(buffer_size(fd.get(), SO_RCVBUF) == 64 << 10);
}

TEST_CASE("a capped receive buffer's hint names this system's knob, or nothing", "[platform]") {
  std::string hint = receive_buffer_hint(8 << 20);
  std::string flavour = features().flavour;
  if (flavour == "linux")
    CHECK(hint == "Raise it with: sysctl -w net.core.rmem_max=8388608 (or run it with CAP_NET_ADMIN, as root)");
  if (flavour == "windows") CHECK(hint.empty());  // no system-wide cap, no sysctl to name
  // The portable build on Linux says what the Linux build says; on a BSD,
  // the kern.ipc.maxsockbuf that grants 8 MiB past its overhead.
  if (flavour == "portable")
    CHECK((hint.empty() || hint.find("net.core.rmem_max=8388608") != std::string::npos ||
           hint.find("maxsockbuf=9437193") != std::string::npos || hint.find("sbmax=9437193") != std::string::npos));
}

TEST_CASE("a batch sent is a batch received, datagram for datagram", "[platform]") {
  sockaddr_in to{};
  UniqueFd receiver = bound_udp(to);
  UniqueFd sender(open_socket(AF_INET, SOCK_DGRAM, false));
  REQUIRE(::connect(sender.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);

  std::array<std::string, 3> payloads{"one", "second datagram", "3"};
  std::array<iovec, 3> out{};
  std::array<BatchMessage, 3> messages{};
  for (std::size_t i = 0; i < 3; ++i) {
    out[i] = {payloads[i].data(), payloads[i].size()};
    messages[i].msg_hdr.msg_iov = &out[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  REQUIRE(send_batch(sender.get(), messages.data(), 3) == 3);
  CHECK(messages[1].msg_len == payloads[1].size());

  REQUIRE(readable(receiver.get(), 2000));
  std::array<std::array<char, 64>, 4> slots{};
  std::array<iovec, 4> in{};
  std::array<BatchMessage, 4> got{};
  for (std::size_t i = 0; i < 4; ++i) {
    in[i] = {slots[i].data(), slots[i].size()};
    got[i].msg_hdr.msg_iov = &in[i];
    got[i].msg_hdr.msg_iovlen = 1;
  }
  int n = 0;
  for (auto deadline = std::chrono::steady_clock::now() + 2s; n < 3 && std::chrono::steady_clock::now() < deadline;) {
    int more = receive_batch(receiver.get(), got.data() + n, static_cast<unsigned>(4 - n));
    if (more > 0) n += more;
    else readable(receiver.get(), 100);
  }
  REQUIRE(n == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(std::string(slots[i].data(), got[i].msg_len) == payloads[i]);
  errno = 0;
  CHECK(receive_batch(receiver.get(), got.data(), 4) == -1);  // nothing more waiting
  CHECK((errno == EAGAIN || errno == EWOULDBLOCK));
}

TEST_CASE("kernel drops are a number only where the system counts them", "[platform]") {
  sockaddr_in where{};
  UniqueFd fd = bound_udp(where);
  std::optional<std::uint32_t> drops = kernel_drops(fd.get());
  CHECK(drops.has_value() == features().kernel_drops);  // never a made-up 0
  if (drops) CHECK(*drops == 0);
}

TEST_CASE("a WakeFd is readable after notify until cleared", "[platform]") {
  WakeFd wake;
  CHECK_FALSE(readable(wake.handle(), 0));
  wake.notify();
  wake.notify();
  CHECK(readable(wake.handle(), 0));
  CHECK(readable(wake.handle(), 0));  // polling does not consume it
  wake.clear();
  CHECK_FALSE(readable(wake.handle(), 0));
}

TEST_CASE("an InputTimer wakes at its deadline, and disarm clears it", "[platform]") {
  InputTimer timer;
  CHECK_FALSE(readable(timer.handle(), 20));
  auto start = InputTimer::Clock::now();
  timer.arm(start + 30ms);
  REQUIRE(readable(timer.handle(), 2000));
  CHECK(InputTimer::Clock::now() - start >= 29ms);
  CHECK(readable(timer.handle(), 0));  // stays readable: level, not edge
  CHECK(timer.take_expired());
  CHECK_FALSE(readable(timer.handle(), 20));
  timer.arm(InputTimer::Clock::now() + 10ms);
  timer.disarm();
  CHECK_FALSE(readable(timer.handle(), 50));
  CHECK_FALSE(timer.take_expired());
}

TEST_CASE("an InputTimer is readable while its input is", "[platform]") {
  WakeFd input;
  InputTimer timer(input.handle());
  CHECK(timer.input_pollable());
  CHECK_FALSE(readable(timer.handle(), 20));
  input.notify();
  REQUIRE(readable(timer.handle(), 2000));
  // The owner read its input dry and waits again: no wake-up left over.
  input.clear();
  timer.rearm();
  CHECK_FALSE(readable(timer.handle(), 50));
  // A deadline wakes it while the input stays quiet.
  timer.arm(InputTimer::Clock::now() + 20ms);
  REQUIRE(readable(timer.handle(), 2000));
  timer.disarm();
  CHECK_FALSE(readable(timer.handle(), 50));
}

TEST_CASE("wait_readable returns at the timeout, or at once when readable", "[platform]") {
  WakeFd wake;
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(wait_readable(wake.handle(), 5ms));
  CHECK(std::chrono::steady_clock::now() - start >= 4ms);
  wake.notify();
  CHECK(wait_readable(wake.handle(), 10s));
}
