#include "transports/srt/srt_common.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/syslog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <utility>
#include <cstring>
#include <forward_list>
#include <map>
#include <mutex>

#include "net/error.h"

namespace netdisp::transports::srt {
namespace {

[[noreturn]] void bad(const stage::Endpoint& endpoint, const std::string& why) {
  throw net::UsageError(endpoint.text + ": " + why);
}

std::string only(const stage::Endpoint& endpoint, const std::string& name) {
  auto values = endpoint.values(name);
  if (values.size() > 1) bad(endpoint, name + "= is given more than once");
  return values.empty() ? std::string() : values.front();
}

std::int64_t number(const stage::Endpoint& endpoint, const std::string& name, const std::string& text,
                    std::int64_t low, std::int64_t high, const char* unit) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high)
    bad(endpoint, fmt::format("{}={}: not a number of {} from {} to {}", name, text, unit, low, high));
  return value;
}

// Which listener a connection being set up belongs to, so that the library's
// refusal of a wrong passphrase (only ever a log line of its own) can name the
// caller: the listen callback sees the new socket and its peer first.
std::mutex pending_mutex;
std::map<SRTSOCKET, std::string> pending;  // new socket -> "caller 127.0.0.1:40000"
std::forward_list<std::string> listener_streamids;  // each listener's stream id, for on_listen

// Refusals, one warning per caller host and interval: a caller that retries
// at once (srt-live-transmit does, 30 times a second, from a new port each
// time) is named once, and the refusals after it are counted into one more
// line when the interval is over (show_held_refusals), never left unsaid.
// The interval starts at a second and doubles up to a minute while the
// refusals go on.
constexpr auto kFirstInterval = std::chrono::seconds(1);
constexpr auto kLongestInterval = std::chrono::seconds(60);
struct HostRefusals {
  std::chrono::steady_clock::time_point shown{};  // when a line was last written
  std::chrono::seconds interval = kFirstInterval;
  std::uint64_t held = 0;                         // refusals since, not yet in a line
  std::string caller, why;                        // the last of them
};
std::mutex refusals_mutex;
std::map<std::string, HostRefusals> refusals;  // host -> its refusals

void show_refusal(const std::string& caller, const std::string& why, std::uint64_t more) {
  if (more == 0) spdlog::warn("srt: refused {}: {}", caller, why);
  else spdlog::warn("srt: refused {}: {} (and {} calls from the same host before it)", caller, why, more);
}

void refused(const std::string& caller, const std::string& why) {
  std::string host = caller.substr(0, caller.rfind(':'));
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(refusals_mutex);
  HostRefusals& host_refusals = refusals[host];
  if (now - host_refusals.shown < host_refusals.interval) {
    ++host_refusals.held;
    host_refusals.caller = caller;
    host_refusals.why = why;
    return;
  }
  if (host_refusals.held) host_refusals.interval = std::min(2 * host_refusals.interval, kLongestInterval);
  show_refusal(caller, why, std::exchange(host_refusals.held, 0));
  host_refusals.shown = now;
}

std::string refusal_reason(std::string_view text) {
  if (text.find("BADSECRET") != std::string_view::npos) return "wrong passphrase";
  if (text.find("UNSECURE") != std::string_view::npos) return "one side has a passphrase, the other none";
  auto due = text.find("due to:");
  return std::string(due == std::string_view::npos ? text : text.substr(due + 8));
}

void log_from_library(void*, int level, const char*, int, const char*, const char* message) {
  std::string_view text(message);
  if (text.find("rsp(REJECT)") == std::string_view::npos && text.find("connection rejected") != std::string_view::npos) {
    // "@263631239:newConnection: connection rejected due to: INTERNAL REJECTION - ERROR:BADSECRET"
    SRTSOCKET socket = SRT_INVALID_SOCK;
    if (auto at = text.find('@'); at != std::string_view::npos)
      std::from_chars(text.data() + at + 1, text.data() + text.size(), socket);
    std::string peer = "a caller";
    {
      std::lock_guard lock(pending_mutex);
      if (auto it = pending.find(socket); it != pending.end()) {
        peer = it->second;
        pending.erase(it);
      }
    }
    refused(peer, refusal_reason(text));
    return;
  }
  if (level <= LOG_ERR) spdlog::debug("libsrt: {}", text);
  else spdlog::trace("libsrt: {}", text);
}

}  // namespace

void show_held_refusals() {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(refusals_mutex);
  for (auto it = refusals.begin(); it != refusals.end();) {
    HostRefusals& host_refusals = it->second;
    if (now - host_refusals.shown < host_refusals.interval) {
      ++it;
    } else if (host_refusals.held) {
      show_refusal(host_refusals.caller, host_refusals.why, host_refusals.held - 1);
      host_refusals.held = 0;
      host_refusals.shown = now;
      host_refusals.interval = std::min(2 * host_refusals.interval, kLongestInterval);
      ++it;
    } else {
      it = refusals.erase(it);  // quiet for an interval: forgotten
    }
  }
}

Settings settings_of(const stage::Endpoint& endpoint, stage::Role role) {
  Settings settings;
  settings.where = endpoint.to_string();
  std::string mode = only(endpoint, "mode");
  if (mode.empty()) {
    settings.mode = role == stage::Role::kListen ? Mode::kListener : Mode::kCaller;
  } else if (mode == "caller" || mode == "client") {
    settings.mode = Mode::kCaller;
  } else if (mode == "listener" || mode == "server") {
    settings.mode = Mode::kListener;
  } else if (mode == "rendezvous") {
    settings.mode = Mode::kRendezvous;
  } else {
    bad(endpoint, "mode=" + mode + ": not caller, listener or rendezvous");
  }
  if (endpoint.address.is_multicast()) bad(endpoint, "srt:// is point to point; multicast needs udp:// or norm://");
  if (settings.mode != Mode::kListener) {
    if (endpoint.address.port() == 0) bad(endpoint, "a caller or rendezvous address needs a port");
    if (endpoint.address.is_unspecified()) bad(endpoint, "a caller or rendezvous address needs a host to connect to");
  }
  std::string transtype = only(endpoint, "transtype");
  if (transtype == "file") settings.file = true;
  else if (!transtype.empty() && transtype != "live") bad(endpoint, "transtype=" + transtype + ": not live or file");
  if (auto text = only(endpoint, "latency"); !text.empty())
    settings.latency_ms = static_cast<int>(number(endpoint, "latency", text, 0, 60000, "milliseconds"));
  settings.passphrase = only(endpoint, "passphrase");
  if (!endpoint.values("passphrase").empty() && (settings.passphrase.size() < 10 || settings.passphrase.size() > 79))
    bad(endpoint, "passphrase=...: must be 10 to 79 characters long (it has " +
                      std::to_string(settings.passphrase.size()) + ")");
  if (auto text = only(endpoint, "pbkeylen"); !text.empty()) {
    settings.pbkeylen = static_cast<int>(number(endpoint, "pbkeylen", text, 0, 32, "bytes"));
    if (settings.pbkeylen != 0 && settings.pbkeylen != 16 && settings.pbkeylen != 24 && settings.pbkeylen != 32)
      bad(endpoint, "pbkeylen=" + text + ": not 16, 24 or 32 (AES-128, -192, -256)");
    if (settings.passphrase.empty()) bad(endpoint, "pbkeylen= needs a passphrase=");
  }
  settings.streamid = only(endpoint, "streamid");
  if (settings.streamid.size() > 512) bad(endpoint, "streamid=...: longer than 512 characters");
  if (auto text = only(endpoint, "maxbw"); !text.empty())
    settings.maxbw = number(endpoint, "maxbw", text, 0, std::int64_t{1} << 40, "bytes per second");
  if (auto text = only(endpoint, "rcvbuf"); !text.empty())
    settings.rcvbuf = static_cast<int>(number(endpoint, "rcvbuf", text, 1 << 16, 1 << 30, "bytes"));
  if (auto text = only(endpoint, "payloadsize"); !text.empty())
    settings.payloadsize = static_cast<int>(number(endpoint, "payloadsize", text, 188, SRT_LIVE_MAX_PLSIZE, "bytes"));
  return settings;
}

BlockSignals::BlockSignals() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old_);
}

BlockSignals::~BlockSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

void start_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    BlockSignals blocked;
    if (srt_startup() < 0) throw net::Error("srt: cannot start the library: " + last_error());
    srt_setloghandler(nullptr, log_from_library);
    srt_setlogflags(SRT_LOGF_DISABLE_TIME | SRT_LOGF_DISABLE_THREADNAME | SRT_LOGF_DISABLE_SEVERITY |
                    SRT_LOGF_DISABLE_EOL);
    srt_setloglevel(LOG_WARNING);
  });
}

std::string last_error() { return srt_getlasterror_str(); }

std::string reject_text(SRTSOCKET socket) {
  int reason = srt_getrejectreason(socket);
  switch (reason) {
    case SRT_REJ_BADSECRET: return "connection rejected: wrong passphrase";
    case SRT_REJ_UNSECURE: return "connection rejected: one side has a passphrase, the other none";
    case SRT_REJ_TIMEOUT: return "no answer (connection timed out)";
    case SRT_REJ_PEER: return "connection rejected by the peer (stream id refused?)";
    case SRT_REJ_UNKNOWN: return last_error();
    default: return std::string("connection rejected: ") + srt_rejectreason_str(reason);
  }
}

bool permanent_reject(SRTSOCKET socket) {
  int reason = srt_getrejectreason(socket);
  return reason == SRT_REJ_BADSECRET || reason == SRT_REJ_UNSECURE || reason == SRT_REJ_PEER ||
         reason == SRT_REJ_CONGESTION || reason == SRT_REJ_MESSAGEAPI || reason == SRT_REJ_VERSION ||
         reason == SRT_REJ_FILTER;
}

namespace {

template <typename T>
void set(SRTSOCKET socket, SRT_SOCKOPT option, const T& value, const char* name, const Settings& settings) {
  if (srt_setsockflag(socket, option, &value, sizeof value) < 0)
    throw net::Error(fmt::format("{}: setting {}: {}", settings.where, name, last_error()));
}

void set_text(SRTSOCKET socket, SRT_SOCKOPT option, const std::string& value, const char* name,
              const Settings& settings) {
  if (srt_setsockflag(socket, option, value.data(), static_cast<int>(value.size())) < 0)
    throw net::Error(fmt::format("{}: setting {}: {}", settings.where, name, last_error()));
}

}  // namespace

SRTSOCKET make_socket(const Settings& settings, const net::Address& address) {
  start_library();
  SRTSOCKET socket = srt_create_socket();
  if (socket == SRT_INVALID_SOCK) throw net::Error(settings.where + ": cannot make an SRT socket: " + last_error());
  try {
    if (settings.file) {
      // File transfers: the live profile (messages, a fixed rate: SRT's file
      // congestion control reads random loss as congestion and collapses),
      // made lossless: no packet is ever dropped as too late. Delivery by
      // timestamp (TSBPD) is off, messages go in order (Link::send): the
      // receiver hands data on as soon as it is contiguous instead of holding
      // every packet for the latency. With TSBPD, the 1000 ms latency alone
      // held goodput at 0.83 of the paced rate (256 MiB at 400 Mbit/s, bench
      // section 7), and an unpaced sender (up to 1 Gbit/s) overflowed the
      // receiver's 64 MiB holding a latency's worth, and libsrt 1.5.1 never
      // recovered (stalled for good after 61-87 MB). Without: 0.93-0.98 at 0
      // to 5 % loss, and 256 MiB unpaced on loopback whole in 2.2 s.
      set(socket, SRTO_TRANSTYPE, SRTT_LIVE, "transtype", settings);
      set(socket, SRTO_TLPKTDROP, false, "tlpktdrop", settings);
      set(socket, SRTO_TSBPDMODE, false, "tsbpdmode", settings);
      set(socket, SRTO_LATENCY, settings.file_latency_ms(), "latency", settings);
      set(socket, SRTO_PAYLOADSIZE, settings.message_size(), "payloadsize", settings);
      int window = 1 << 16;  // packets in flight; the library's 25600 caps a long fat link
      set(socket, SRTO_FC, window, "flow window", settings);
      int buffer = settings.file_receive_buffer();
      // The sender's buffer stays small: a message's timestamp is when it
      // was handed over, and one that waits for seconds behind a slow link
      // ages past what the receiver expects.
      set(socket, SRTO_SNDBUF, 8 << 20, "sndbuf", settings);
      set(socket, SRTO_RCVBUF, buffer, "rcvbuf", settings);
    } else {
      set(socket, SRTO_TRANSTYPE, SRTT_LIVE, "transtype", settings);
      if (settings.latency_ms) set(socket, SRTO_LATENCY, *settings.latency_ms, "latency", settings);
      if (settings.payloadsize) set(socket, SRTO_PAYLOADSIZE, settings.payloadsize, "payloadsize", settings);
      if (settings.rcvbuf) set(socket, SRTO_RCVBUF, settings.rcvbuf, "rcvbuf", settings);
    }
    if (settings.maxbw) set(socket, SRTO_MAXBW, settings.maxbw, "maxbw", settings);
    if (!settings.passphrase.empty()) set_text(socket, SRTO_PASSPHRASE, settings.passphrase, "passphrase", settings);
    if (settings.pbkeylen) set(socket, SRTO_PBKEYLEN, settings.pbkeylen, "pbkeylen", settings);
    if (!settings.streamid.empty() && settings.mode != Mode::kListener)
      set_text(socket, SRTO_STREAMID, settings.streamid, "streamid", settings);
    if (settings.mode == Mode::kRendezvous) set(socket, SRTO_RENDEZVOUS, true, "rendezvous", settings);
    if (address.family() == AF_INET6) set(socket, SRTO_IPV6ONLY, address.both_families() ? 0 : 1, "ipv6only", settings);
    set(socket, SRTO_RCVSYN, false, "rcvsyn", settings);
    set(socket, SRTO_SNDSYN, false, "sndsyn", settings);
  } catch (...) {
    srt_close(socket);
    throw;
  }
  return socket;
}

namespace {

// The listen callback: remembers the caller of each new connection (for the
// wrong-passphrase warning), refuses callers without the listener's stream id.
int on_listen(void* opaque, SRTSOCKET socket, int, const sockaddr* peer, const char* streamid) {
  auto* wanted = static_cast<const std::string*>(opaque);
  std::string caller = "caller " + net::Address::from_sockaddr(peer, sizeof(sockaddr_in6)).to_string();
  if (!wanted->empty() && *wanted != streamid) {
    spdlog::warn("srt: refused {}: stream id '{}', not '{}'", caller, streamid, *wanted);
    srt_setrejectreason(socket, SRT_REJ_PEER);
    return -1;
  }
  std::lock_guard lock(pending_mutex);
  if (pending.size() > 1024) pending.clear();  // refusals not logged by the library: forget them
  pending[socket] = caller;
  return 0;
}

}  // namespace

Listening listen_on(const Settings& settings, const net::Address& address, int backlog) {
  BlockSignals blocked;  // binding starts the port's sender and receiver threads
  Listening listening;
  listening.socket = make_socket(settings, address);
  // Lives as long as the process: the callback may run until the socket is
  // gone, and sockets close in the library's own time. A static list keeps
  // each text reachable (a bare `new` was reported as a leak at exit).
  const std::string* streamid;
  {
    std::lock_guard lock(pending_mutex);
    streamid = &listener_streamids.emplace_front(settings.streamid);
  }
  if (srt_bind(listening.socket, address.get(), static_cast<int>(address.length())) < 0 ||
      srt_listen_callback(listening.socket, on_listen, const_cast<std::string*>(streamid)) < 0 || srt_listen(listening.socket, backlog) < 0) {
    std::string why = last_error();
    srt_close(listening.socket);
    throw net::Error("bind srt://" + address.to_string() + ": " + why);
  }
  sockaddr_storage bound{};
  int length = sizeof bound;
  srt_getsockname(listening.socket, reinterpret_cast<sockaddr*>(&bound), &length);
  listening.bound = net::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&bound), static_cast<socklen_t>(length));
  return listening;
}

SRTSOCKET start_connect(const Settings& settings, const net::Address& address) {
  BlockSignals blocked;  // connecting starts the port's sender and receiver threads
  SRTSOCKET socket = make_socket(settings, address);
  if (settings.mode == Mode::kRendezvous) {
    net::Address local;
    if (address.family() == AF_INET) {
      sockaddr_in any{};
      any.sin_family = AF_INET;
      any.sin_port = htons(address.port());
      local = net::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&any), sizeof any);
    } else {
      sockaddr_in6 any{};
      any.sin6_family = AF_INET6;
      any.sin6_port = htons(address.port());
      local = net::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&any), sizeof any);
    }
    if (srt_bind(socket, local.get(), static_cast<int>(local.length())) < 0) {
      std::string why = last_error();
      srt_close(socket);
      throw net::Error("bind srt://" + local.to_string() + " (rendezvous): " + why);
    }
  }
  if (srt_connect(socket, address.get(), static_cast<int>(address.length())) == SRT_ERROR) {
    std::string why = last_error();
    srt_close(socket);
    throw net::Error("connect " + settings.where + ": " + why);
  }
  return socket;
}

net::Address peer_of(SRTSOCKET socket) {
  sockaddr_storage peer{};
  int length = sizeof peer;
  if (srt_getpeername(socket, reinterpret_cast<sockaddr*>(&peer), &length) < 0) return {};
  return net::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), static_cast<socklen_t>(length));
}

std::string add_stats(SRTSOCKET socket, bool sender, stage::StageStats& row, std::uint64_t* held) {
  SRT_TRACEBSTATS stats{};
  // Instantaneous: the receive buffer as it is now (the totals are the same).
  if (socket == SRT_INVALID_SOCK || srt_bistats(socket, &stats, 0, 1) < 0) return "";
  if (held) *held = static_cast<std::uint64_t>(std::max(stats.byteRcvBuf, 0));
  using stage::Stat;
  auto rtt = static_cast<std::uint64_t>(stats.msRTT + 0.5);
  auto bandwidth = static_cast<std::uint64_t>(stats.mbpsBandwidth + 0.5);
  if (sender) {
    row.set(Stat::kSrtPacketsSent, static_cast<std::uint64_t>(stats.pktSentTotal));
    row.set(Stat::kSrtRetransmitted, static_cast<std::uint64_t>(stats.pktRetransTotal));
    row.set(Stat::kSrtLost, static_cast<std::uint64_t>(stats.pktSndLossTotal));
    row.set(Stat::kSrtDroppedTooLate, static_cast<std::uint64_t>(stats.pktSndDropTotal));
  } else {
    row.set(Stat::kSrtPacketsReceived, static_cast<std::uint64_t>(stats.pktRecvTotal));
    row.set(Stat::kSrtRetransmitted, static_cast<std::uint64_t>(stats.pktRcvRetrans));
    row.set(Stat::kSrtLost, static_cast<std::uint64_t>(stats.pktRcvLossTotal));
    row.set(Stat::kSrtDroppedTooLate, static_cast<std::uint64_t>(stats.pktRcvDropTotal));
  }
  row.set(Stat::kRttMs, rtt).set(Stat::kBandwidthMbps, bandwidth);
  return fmt::format("srt {} {} packets, {} retransmitted, {} lost, {} dropped too late, rtt {:.1f} ms, "
                     "bandwidth {:.0f} Mbit/s",
                     sender ? "sent" : "received", sender ? stats.pktSentTotal : stats.pktRecvTotal,
                     sender ? stats.pktRetransTotal : stats.pktRcvRetrans,
                     sender ? stats.pktSndLossTotal : stats.pktRcvLossTotal,
                     sender ? stats.pktSndDropTotal : stats.pktRcvDropTotal, stats.msRTT, stats.mbpsBandwidth);
}

}  // namespace netdisp::transports::srt
