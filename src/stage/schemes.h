#pragma once
// The scheme table: every transport netdisp speaks, in one place. An endpoint
// is [scheme://]address[?name=value&...] (the URI form srt-live-transmit,
// ffmpeg and gstreamer users know); no scheme means udp://, so every address
// that worked before keeps working. A row says what the address is (host:port
// or a path), which query parameters it takes, and how it opens an input (a
// listen endpoint) and outputs (destinations). Modes parse their endpoints
// here and wire what the table opens; they never name a transport. A new
// scheme is one row in schemes.cpp plus its stage files. Transports built on
// a library of their own (srt, norm, nats) live in loadable modules
// (src/transports/NAME, netdisp-NAME.so; stage/transport.h): the library is
// loaded only when an endpoint of its scheme is used, so a plain UDP process
// does not carry it.
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/address.h"
#include "net/cidr.h"
#include "net/udp_socket.h"
#include "stage/control.h"
#include "stage/framing.h"
#include "stage/sink.h"
#include "stage/source.h"
#include "stage/worker.h"

namespace netdisp::stage {

// kEither only in the table: a query parameter both roles take.
enum class Role { kListen, kSend, kEither };

struct Scheme;

struct Endpoint {
  const Scheme* scheme = nullptr;
  net::Address address;  // host:port, or a unix path; unset for schemes whose transport parses `target`
  std::string target;    // the address as written, between "scheme://" and '?' ("h:p", "/path", "srv/subject")
  std::vector<std::pair<std::string, std::string>> params;
  std::string text;  // as the user wrote it, credentials hidden (net::redact_endpoint): for messages, log file names

  // "udp://127.0.0.1:9921", "tcp://[::1]:9921", "unix:///run/x.sock".
  std::string to_string() const;
  // The values of a query parameter, in order (repeatable ones have several).
  std::vector<std::string> values(std::string_view name) const;
  bool stream() const;  // a byte stream (tcp, unix) rather than datagrams
  // Whether it can carry a reverse-proxy channel (a udp multicast group,
  // norm://, nats://): a destination that many listeners can each receive.
  bool channel() const;
};

// Parses one endpoint given to `option` ("listen-addr"): the scheme, its
// query parameters and its address. Throws net::UsageError naming what is
// wrong (unknown scheme with the known ones, unknown or malformed parameter,
// a multicast address on a stream scheme ...), net::Error when a host name
// does not resolve.
Endpoint parse_endpoint(std::string_view text, Role role, const std::string& option);
std::vector<Endpoint> parse_endpoints(const std::vector<std::string>& texts, Role role, const std::string& option);

// How a mode wants its inputs opened.
struct InputSettings {
  net::SocketOptions sockets;        // per endpoint, its query parameters are applied on top
  net::AccessList allow;             // --allow: peers (datagrams) or clients (streams)
  std::size_t max_clients = 256;     // stream listeners: connections at once
  std::size_t datagram_size = 8192;  // stream input is cut into datagrams of at most this (framing: how)
  Framing framing;  // --lines, --prefix ... (framing.h): applied to every input's source and first sink
  std::string label;  // where the input goes, logged as "SCHEME BOUND -> label" when not empty
};

// The sinks for one input: a datagram socket's, or one stream connection's.
using SinkMaker = std::function<std::vector<std::unique_ptr<Sink>>()>;

// Opens the input of a listen endpoint: a Pipe for a datagram socket, an
// acceptor starting one Pipe per connection for a stream listener. Logs
// "listening on SCHEME ADDRESS". Throws for setup failures (bind ...).
std::unique_ptr<Worker> open_input(const Endpoint& endpoint, const InputSettings& settings,
                                   const SinkMaker& make_sinks);

// One source reading a listen endpoint, without logging: what each
// reverse-proxy subscriber reads the channel with. Throws as open_input does.
std::unique_ptr<Source> open_source(const Endpoint& endpoint, const InputSettings& settings);

// How a mode wants its destinations served.
struct OutputSettings {
  net::SocketOptions sockets;
  bool gso = true;
  // The client waits for a slow stream destination (lossless backpressure);
  // live input (the proxy) gives it `stream_buffer` bytes, then drops whole
  // datagrams for it alone.
  bool wait_for_streams = false;
  std::size_t stream_buffer = 4 << 20;
  std::size_t datagram_size = 0;                      // the client's: warns when it would fragment
  std::chrono::milliseconds linger{0};                // at end of input, wait for late error reports
  std::chrono::milliseconds reconnect_timeout{60000};  // streams: give up after this long
  const Control* control = nullptr;                   // stop requests end every wait
  // The client's --expect N: a norm:// destination ends only when N receivers
  // acknowledged the whole stream, or after expect_timeout (then undelivered).
  std::size_t expect_receivers = 0;
  std::chrono::milliseconds expect_timeout{30000};
};

// The sinks serving `destinations`, in order of their schemes.
std::vector<std::unique_ptr<Sink>> open_outputs(const std::vector<Endpoint>& destinations,
                                                const OutputSettings& settings);

// One line for --help: the endpoint syntax and the schemes of the table.
std::string endpoint_help();

// For --version: "transports: udp, tcp, ..., srt, norm (not built), nats
// (cannot load: REASON)". Loads every module, to say whether it loads.
std::string transports_summary();

}  // namespace netdisp::stage
