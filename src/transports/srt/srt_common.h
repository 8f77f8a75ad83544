#pragma once
// What every srt:// stage shares: the endpoint's settings (its query
// parameters, checked once), the library's start, socket options, connecting
// and listening, the library's statistics as counters, and its error texts.
//
// libsrt runs threads of its own (a garbage collector, one sender and one
// receiver per UDP port). They inherit the signal mask of the thread that
// makes them; the Supervisor takes SIGINT/SIGTERM through a signalfd only if
// no thread leaves them unblocked, so every call that may start a library
// thread runs under a BlockSignals.
#include <srt/srt.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/address.h"
#include "stage/schemes.h"
#include "stage/stats.h"

namespace netdisp::transports::srt {

enum class Mode { kCaller, kListener, kRendezvous };

struct Settings {
  Mode mode = Mode::kCaller;
  bool file = false;                // ?transtype=file: every byte arrives, nothing is dropped as too late
  std::optional<int> latency_ms;    // SRTO_LATENCY
  std::string passphrase;           // SRTO_PASSPHRASE (10 to 79 characters)
  int pbkeylen = 0;                 // SRTO_PBKEYLEN: 0 (default), 16, 24 or 32
  std::string streamid;             // SRTO_STREAMID (a caller's; a listener accepts only callers that give it)
  std::int64_t maxbw = 0;           // SRTO_MAXBW in bytes/s; 0: the library's default for the type
  int rcvbuf = 0;                   // SRTO_RCVBUF in bytes; 0: the library's default
  int payloadsize = 0;              // SRTO_PAYLOADSIZE; 0: 1316 (live), 1456 (file)
  std::string where;                // "srt://host:port" for messages

  // The largest message one srt_sendmsg2 takes.
  int message_size() const { return payloadsize ? payloadsize : (file ? SRT_LIVE_MAX_PLSIZE : SRT_LIVE_DEF_PLSIZE); }
  // File mode: the receive buffer (rcvbuf=, at least kFileReceiveBuffer) and latency.
  int file_receive_buffer() const { return std::max(rcvbuf, kFileReceiveBuffer); }
  int file_latency_ms() const { return latency_ms.value_or(kFileLatencyMs); }

  static constexpr int kFileReceiveBuffer = 64 << 20;
  static constexpr int kFileLatencyMs = 1000;
};

// transtype=file's end-of-data probe: a message a sender adds after its
// input while the tail of what it sent is unacknowledged (see
// srt_link.cpp), so that the receiver sees a lost last packet as a gap and
// asks for it again; a file-mode receiver drops every probe. No data message
// is ever equal to it: Link::send splits such a piece in two.
inline constexpr char kTailProbeText[] = "\0netdisp srt end-of-data probe";
inline constexpr std::string_view kTailProbe{kTailProbeText, sizeof kTailProbeText};  // 31 bytes, both NULs
inline bool is_tail_probe(const char* data, std::size_t size) {
  return size == kTailProbe.size() && std::string_view(data, size) == kTailProbe;
}

// Reads and checks the endpoint's parameters for `role` (throws
// net::UsageError naming the endpoint and the value).
Settings settings_of(const stage::Endpoint& endpoint, stage::Role role);

// Blocks every signal in this thread for its lifetime (see above).
class BlockSignals {
 public:
  BlockSignals();
  ~BlockSignals();
  BlockSignals(const BlockSignals&) = delete;
  BlockSignals& operator=(const BlockSignals&) = delete;

 private:
  sigset_t old_;
};

// srt_startup() once per process, with signals blocked; routes the library's
// warnings to spdlog (debug), and a listener's refusal of a wrong passphrase
// to a warning naming the caller.
void start_library();

// Writes the refusals held back by the one-line-a-second-per-host limit
// (see start_library) once their second is over. Called by every thread that
// owns a listener, at each turn of its loop.
void show_held_refusals();

// The library's last error as text: "Connection setup failure: connection timed out".
std::string last_error();
// Why a connection attempt was rejected, for the socket: "wrong passphrase ...".
std::string reject_text(SRTSOCKET socket);
// Whether a rejection will not change by trying again (a passphrase, a stream id).
bool permanent_reject(SRTSOCKET socket);

// A new socket with the endpoint's options set (those that must be set
// before connecting or listening). Throws net::Error.
SRTSOCKET make_socket(const Settings& settings, const net::Address& address);

// Binds and listens (mode=listener): throws net::Error "bind srt://...: ...".
// Returns the socket and the bound address (the real port for port 0).
struct Listening {
  SRTSOCKET socket = SRT_INVALID_SOCK;
  net::Address bound;
};
Listening listen_on(const Settings& settings, const net::Address& address, int backlog);

// Starts a non-blocking connection (caller, or rendezvous from the same port):
// the socket reports SRT_EPOLL_OUT when connected, SRT_EPOLL_ERR when it failed.
SRTSOCKET start_connect(const Settings& settings, const net::Address& address);

// The address a connected socket's peer has.
net::Address peer_of(SRTSOCKET socket);

// A connection's counters, from srt_bistats, into `row` (sender or receiver
// side), and the same as text: "sent 10 packets, 1 retransmitted, ...".
// `held`: the bytes in the receive buffer now, behind gaps too. "" when the
// library has no statistics for the socket (it broke, or is gone).
std::string add_stats(SRTSOCKET socket, bool sender, stage::StageStats& row, std::uint64_t* held = nullptr);

// One caller or peer of a stage: its socket, its address, and the counters
// kept when it is gone.
struct Peer {
  SRTSOCKET socket = SRT_INVALID_SOCK;
  net::Address address;
};

}  // namespace netdisp::transports::srt
