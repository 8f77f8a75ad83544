#include "transports/norm/norm_session.h"

#include <dirent.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <charconv>
#include <cmath>

#include <spdlog/fmt/fmt.h>

#include "net/error.h"
#include "net/udp_socket.h"

namespace netdisp::transports::norm {
namespace {

// The value of `name`, given at most once.
const std::string* single(const stage::Endpoint& endpoint, const char* name, const auto& bad) {
  const std::string* found = nullptr;
  for (const auto& [key, value] : endpoint.params) {
    if (key != name) continue;
    if (found) bad(std::string(name) + "= is given more than once");
    found = &value;
  }
  return found;
}

// "10M" -> 10e6; k, M, G are powers of 1000 (bits), or of 1024 for bytes (KiB ...).
double number_with_unit(const std::string& text, bool bytes, bool* ok) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  *ok = ec == std::errc() && std::isfinite(value);
  std::string_view unit(end, text.data() + text.size() - end);
  if (!unit.empty()) {
    char prefix = unit.front();
    double scale = prefix == 'k' || prefix == 'K' ? 1e3 : prefix == 'M' ? 1e6 : prefix == 'G' ? 1e9 : 0;
    if (bytes) scale = prefix == 'k' || prefix == 'K' ? 1 << 10 : prefix == 'M' ? 1 << 20 : prefix == 'G' ? 1 << 30 : 0;
    unit.remove_prefix(1);
    if (scale == 0 || !(unit.empty() || unit == (bytes ? "iB" : "bit") || unit == (bytes ? "B" : "bps"))) *ok = false;
    value *= scale;
  }
  return value;
}

std::atomic<std::uint32_t> g_node_counter{0};

std::uint32_t random_base() {
  std::uint32_t value = 0;
  if (::getrandom(&value, sizeof value, 0) != sizeof value) value = static_cast<std::uint32_t>(::getpid()) << 10;
  return value;
}

}  // namespace

Params read_params(const stage::Endpoint& endpoint, stage::Role role) {
  auto bad = [&](const std::string& why) -> void {
    throw net::UsageError(endpoint.to_string() + ": " + why);
  };
  Params params;
  auto integer = [&](const char* name, std::uint64_t low, std::uint64_t high, auto& into) {
    const std::string* text = single(endpoint, name, bad);
    if (!text) return;
    bool ok = false;
    double value = number_with_unit(*text, true, &ok);
    if (!ok || value != std::floor(value) || value < static_cast<double>(low) || value > static_cast<double>(high))
      bad(fmt::format("{}={}: expected a whole number from {} to {}", name, *text, low, high));
    into = static_cast<std::remove_reference_t<decltype(into)>>(value);
  };
  if (const std::string* text = single(endpoint, "rate", bad)) {
    bool ok = false;
    params.rate = number_with_unit(*text, false, &ok);
    if (!ok || !(params.rate >= 1000) || params.rate > 100e9)
      bad("rate=" + *text + ": expected bits per second from 1k to 100G, e.g. 50M");
  }
  if (const std::string* text = single(endpoint, "grtt_max", bad)) {
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), params.grtt_max);
    if (ec != std::errc() || end != text->data() + text->size() || !(params.grtt_max >= 0.001) ||
        params.grtt_max > 60)
      bad("grtt_max=" + *text + ": expected seconds from 0.001 to 60, e.g. 0.2");
  }
  if (const std::string* text = single(endpoint, "cc", bad)) {
    if (*text != "on" && *text != "off") bad("cc=" + *text + ": expected on or off");
    params.cc = *text == "on";
  }
  integer("buffer", 64 << 10, std::uint64_t{1} << 30, params.buffer);
  integer("segment", 64, 8952, params.segment);
  integer("block", 1, 254, params.block);
  integer("parity", 0, 254, params.parity);
  integer("autoparity", 0, 254, params.autoparity);
  integer("id", 1, 0xfffffffe, params.id);
  // Reed-Solomon over GF(2^8): a block and its parity are at most 255 segments.
  if (params.block + params.parity > 255)
    bad(fmt::format("block={} with parity={}: a block and its parity are at most 255 segments", params.block,
                    params.parity));
  if (params.autoparity > params.parity)
    bad(fmt::format("autoparity={} is more than parity={}", params.autoparity, params.parity));
  if (endpoint.address.port() == 0) bad("a NORM session needs a port");
  (void)role;  // the scheme table already refused the other role's parameters
  return params;
}

NormNodeId next_node_id() {
  static const std::uint32_t base = random_base();
  for (;;) {
    std::uint32_t id = base + g_node_counter.fetch_add(1) * 0x9e3779b1u;  // distinct for 2^32 sessions
    if (id != 0 && id != NORM_NODE_ANY && id != NORM_NODE_NONE) return id;
  }
}

std::string node_name(NormNodeId id) { return fmt::format("{:#010x}", id); }

std::string host_of(const net::Address& address) {
  std::string text = address.to_string();
  text = text.substr(0, text.rfind(':'));
  if (text.size() > 2 && text.front() == '[') text = text.substr(1, text.size() - 2);
  // The library's address parser takes no %scope (an IPv6 link-local
  // group's interface): apply_multicast gives it the interface instead.
  return text.substr(0, text.find('%'));
}

Session::Session(const net::Address& address, NormNodeId id, const std::string& label)
    : port_(address.port()), scope_(address.scope_id()), id_(id), label_(label) {
  // The library starts its thread here: it must not take SIGINT/SIGTERM,
  // which the Supervisor reads from a signalfd (blocked in every thread).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  // NETDISP_NORM_DEBUG=N: the library's own trace on stderr (its levels,
  // 0-12), where the library was built with it: Debian's libnorm 1.5.9 was
  // not (its messages are compiled out; nothing is printed at any level).
  if (const char* level = std::getenv("NETDISP_NORM_DEBUG"); level && *level)
    NormSetDebugLevel(static_cast<unsigned>(std::atoi(level)));
  instance_ = NormCreateInstance(false);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (instance_ == NORM_INSTANCE_INVALID) throw net::Error(label + ": cannot start the NORM library");
  std::string host = host_of(address);
  session_ = NormCreateSession(instance_, host.c_str(), address.port(), id);
  if (session_ == NORM_SESSION_INVALID) {
    NormDestroyInstance(instance_);
    throw net::Error(label + ": the NORM library refused the session address");
  }
  fd_ = NormGetDescriptor(instance_);
}

Session::~Session() {
  NormDestroySession(session_);
  NormDestroyInstance(instance_);  // stops and joins the library's thread
}

void Session::apply_multicast(const net::MulticastOptions& options) {
  char name[IF_NAMESIZE] = {};
  std::string text;
  if (options.interface) {
    text = options.interface->index && ::if_indextoname(options.interface->index, name) ? std::string(name)
                                                                                          : options.interface->text;
  } else if (scope_ && ::if_indextoname(scope_, name)) {
    text = name;  // [ff02::1%eth0]: the group's own interface
  }
  if (!text.empty() && !NormSetMulticastInterface(session_, text.c_str()))
    throw net::Error(label_ + ": cannot use the multicast interface " + text);
  NormSetTTL(session_, static_cast<unsigned char>(options.ttl));
  NormSetMulticastLoopback(session_, options.loop);
}

// The library keeps its sockets to itself: they are found among the
// process's descriptors (/proc/self/fd, or /dev/fd elsewhere) as the UDP
// sockets bound to the session's port, and get the size the way a udp://
// listener does, forced past the system's cap where the process may. Another
// NORM receiver of this process on the same port gets it too: it asked for
// the same. Without this the receive buffer stayed at the system's default
// (208 KiB here), and a receiver whose thread was held up for a few
// milliseconds lost packets in its own socket, each one repaired.
int Session::grow_receive_buffer(int bytes) {
  NormSetRxSocketBuffer(session_, static_cast<unsigned int>(bytes));
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) dir = ::opendir("/dev/fd");
  if (!dir) return 0;
  int granted = 0;
  int own = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir)) {
    int fd = std::atoi(entry->d_name);
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9' || fd == own) continue;
    int type = 0;
    socklen_t size = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 || type != SOCK_DGRAM) continue;
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) continue;
    std::uint16_t port = local.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port)
                         : local.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port)
                                                       : 0;
    if (port != port_) continue;
    net::BufferGrant grant = net::set_buffer_size(fd, SO_RCVBUF, bytes);
    granted = granted ? std::min(granted, grant.granted) : grant.granted;
  }
  ::closedir(dir);
  return granted;
}

}  // namespace netdisp::transports::norm
