#include "stage/schemes.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "net/endpoint.h"
#include "net/error.h"
#include "net/platform.h"
#include "net/stream_socket.h"
#include "stage/modules.h"
#include "stage/pipe.h"
#include "stage/stream_sink.h"
#include "stage/stream_source.h"
#include "stage/tcp_acceptor.h"
#include "stage/udp_sink.h"
#include "stage/udp_source.h"

namespace netdisp::stage {

struct Param {
  std::string_view name;
  Role role;
  std::string_view help;
};

// What the text between "scheme://" and '?' is.
enum class AddressKind {
  kHostPort,  // resolved here into Endpoint::address
  kPath,      // a unix socket path, into Endpoint::address
  kTarget,    // the transport module reads Endpoint::target itself (nats://servers/subject)
};

struct Scheme {
  std::string_view name;
  std::string_view summary;
  bool stream;  // a byte stream (tcp, unix) rather than datagrams
  AddressKind address;
  bool channel;  // can carry a reverse-proxy channel (udp: multicast groups only)
  std::span<const Param> params;
  std::unique_ptr<Worker> (*open_input)(const Endpoint&, const InputSettings&, const SinkMaker&);
  std::unique_ptr<Source> (*open_source)(const Endpoint&, const InputSettings&);
  void (*open_outputs)(std::span<const Endpoint>, const OutputSettings&, std::vector<std::unique_ptr<Sink>>&);
  bool module = false;  // served by netdisp-NAME.so (stage/transport.h), loaded on first use
};

namespace {

// ---- datagram schemes (udp, unixgram): one socket, one Pipe ----

// A parameter's address ("10.0.0.5", "[fd00::5]:4000"); `port`: whether it may carry one.
net::Address param_address(const Endpoint& endpoint, const std::string& name, const std::string& value, bool port) {
  net::Address address;
  try {
    address = net::parse_address_port_optional(value);
  } catch (const net::UsageError& e) {
    throw net::UsageError(endpoint.text + ": " + name + "=" + value + ": " + e.what());
  }
  if (!port && address.port() != 0)
    throw net::UsageError(endpoint.text + ": " + name + "=" + value + " takes no port");
  return address;
}

// Applies an endpoint's query parameters to the mode's socket options.
net::SocketOptions options_for(const Endpoint& endpoint, net::SocketOptions options) {
  for (const std::string& source : endpoint.values("source"))
    options.multicast.sources.push_back(param_address(endpoint, "source", source, false));
  for (const std::string& bind : endpoint.values("bind")) options.bind_from = param_address(endpoint, "bind", bind, true);
  return options;
}

// "listening on udp 127.0.0.1:41234": the line tests and users read the real port from.
void log_listening(const std::string& where, const std::string& details, const InputSettings& settings) {
  spdlog::info("listening on {}{}", where, details);
  if (!settings.label.empty()) spdlog::info("{} -> {}", where, settings.label);
}

net::UdpListener listen_datagrams(const Endpoint& endpoint, const InputSettings& settings) {
  net::UdpListener listener = net::open_udp_listener(endpoint.address, options_for(endpoint, settings.sockets));
  const net::BufferGrant& grant = listener.rcvbuf;
  std::string where = std::string(endpoint.scheme->name) + " " + listener.bound.to_string();
  log_listening(where, fmt::format(" (receive buffer {} KiB)", grant.granted / 1024), settings);
  if (grant.granted < grant.asked) {
    std::string hint = net::receive_buffer_hint(grant.asked);  // the system's knob, if it has one
    spdlog::warn("{}: asked for a {} KiB receive buffer, the kernel granted {} KiB; bursts may be dropped.{}{}",
                 where, grant.asked / 1024, grant.granted / 1024, hint.empty() ? "" : " ", hint);
  }
  return listener;
}

std::unique_ptr<Worker> open_datagram_input(const Endpoint& endpoint, const InputSettings& settings,
                                            const SinkMaker& make_sinks) {
  auto udp = std::make_unique<UdpSource>(listen_datagrams(endpoint, settings), settings.allow);
  auto source = frame_datagram_input(std::move(udp), settings.framing, settings.datagram_size);
  auto pipe = std::make_unique<Pipe>(std::move(source), frame_sinks(make_sinks(), settings.framing));
  pipe->set_drain_timeout(settings.sockets.drain_seconds);
  return pipe;
}

std::unique_ptr<Source> open_datagram_source(const Endpoint& endpoint, const InputSettings& settings) {
  auto source = std::make_unique<UdpSource>(
      net::open_udp_listener(endpoint.address, options_for(endpoint, settings.sockets)), settings.allow);
  if (settings.framing.receive_lines && settings.framing.prefix.peer) source->keep_peers();
  return source;
}

// Destinations without bind= share one UdpSink (one message list per batch for
// all of them); each with bind= has its own, since its sockets differ.
void open_datagram_outputs(std::span<const Endpoint> endpoints, const OutputSettings& settings,
                           std::vector<std::unique_ptr<Sink>>& sinks) {
  auto add_sink = [&](const std::vector<net::Address>& addresses, const net::SocketOptions& options) {
    bool gso = settings.gso && addresses.front().family() != AF_UNIX;  // GSO is for UDP only
    auto sink = std::make_unique<UdpSink>(addresses, options, gso);
    if (settings.control) sink->set_linger(settings.linger, *settings.control);
    if (settings.datagram_size) sink->expect_datagram_size(settings.datagram_size);
    sinks.push_back(std::move(sink));
  };
  std::vector<net::Address> shared;
  for (const Endpoint& endpoint : endpoints) {
    if (endpoint.values("bind").empty()) {
      shared.push_back(endpoint.address);
    } else {
      add_sink({endpoint.address}, options_for(endpoint, settings.sockets));
    }
  }
  if (!shared.empty()) add_sink(shared, settings.sockets);
}

// ---- stream schemes (tcp, unix): an acceptor, one Pipe per connection ----

std::unique_ptr<Worker> open_stream_input(const Endpoint& endpoint, const InputSettings& settings,
                                          const SinkMaker& make_sinks) {
  net::StreamListener listener = net::open_stream_listener(endpoint.address, settings.sockets);
  std::string name = std::string(endpoint.scheme->name) + " " + listener.bound.to_string();
  log_listening(name, "", settings);
  std::string listen_endpoint = endpoint_name(endpoint.scheme->name, listener.bound.to_string());
  auto factory = [name, listen_endpoint, settings, make_sinks](net::Accepted client) {
    auto source = frame_stream_input(std::move(client.fd), name + " <- " + client.peer.to_string(), listen_endpoint,
                                     client.peer, settings.framing, settings.datagram_size);
    return std::make_unique<Pipe>(std::move(source), frame_sinks(make_sinks(), settings.framing));
  };
  return std::make_unique<TcpAcceptor>(std::move(listener), settings.allow, settings.max_clients, factory);
}

void open_stream_outputs(std::span<const Endpoint> endpoints, const OutputSettings& settings,
                         std::vector<std::unique_ptr<Sink>>& sinks) {
  for (const Endpoint& endpoint : endpoints) {
    StreamSink::Settings stream;
    stream.when_behind = settings.wait_for_streams ? StreamSink::WhenBehind::kWait : StreamSink::WhenBehind::kDrop;
    stream.buffer_limit = settings.stream_buffer;
    stream.reconnect = settings.reconnect_timeout.count() > 0;
    if (stream.reconnect) stream.reconnect_timeout = settings.reconnect_timeout;
    sinks.push_back(std::make_unique<StreamSink>(endpoint.address, endpoint.to_string(), stream, *settings.control));
  }
}

// ---- schemes served by a transport module (stage/transport.h) ----

std::unique_ptr<Worker> open_module_input(const Endpoint& endpoint, const InputSettings& settings,
                                          const SinkMaker& make_sinks) {
  const Transport& transport = load_transport(endpoint.scheme->name);
  if (transport.open_input) return transport.open_input(endpoint, settings, make_sinks);
  auto source = frame_lines_out(transport.open_source(endpoint, settings), settings.framing, settings.datagram_size);
  log_listening(endpoint.to_string(), "", settings);
  return std::make_unique<Pipe>(std::move(source), frame_sinks(make_sinks(), settings.framing));
}

[[noreturn]] void refuse_shared_reading(const Endpoint& endpoint) {
  throw net::UsageError(endpoint.to_string() + ": " + std::string(endpoint.scheme->name) +
                        ":// cannot be read by several listeners at once");
}

std::unique_ptr<Source> open_module_source(const Endpoint& endpoint, const InputSettings& settings) {
  const Transport& transport = load_transport(endpoint.scheme->name);
  if (!transport.open_source) refuse_shared_reading(endpoint);
  return transport.open_source(endpoint, settings);
}

void open_module_outputs(std::span<const Endpoint> endpoints, const OutputSettings& settings,
                         std::vector<std::unique_ptr<Sink>>& sinks) {
  load_transport(endpoints.front().scheme->name).open_outputs(endpoints, settings, sinks);
}

constexpr std::array kUdpParams = {
    Param{"source", Role::kListen, "source-specific multicast: receive the group only from this sender (repeatable)"},
    Param{"bind", Role::kSend, "send from this local ADDR or ADDR:PORT (nc -s/-p, socat bind=)"},
};

// Each module's parameters; their values are checked by the module (Transport::check).
constexpr std::array kSrtParams = {
    Param{"mode", Role::kEither, "caller, listener or rendezvous (default: caller to send, listener to receive)"},
    Param{"transtype", Role::kEither, "live (default: messages with a latency bound) or file (every byte arrives)"},
    Param{"latency", Role::kEither, "live: MS the receiver holds packets for repair (default 120)"},
    Param{"passphrase", Role::kEither, "encrypt with this secret (10 to 79 characters; both sides alike)"},
    Param{"pbkeylen", Role::kEither, "the key length: 16, 24 or 32 bytes (AES-128/192/256; default 16)"},
    Param{"streamid", Role::kEither, "the caller's stream id; a listener accepts only callers giving it"},
    Param{"maxbw", Role::kEither, "the sending rate cap in bytes/s, retransmissions included (0: default)"},
    Param{"rcvbuf", Role::kEither, "the library's receive buffer in bytes"},
    Param{"payloadsize", Role::kEither, "bytes per packet, at most 1456 (default 1316: 7 MPEG-TS packets)"},
};

constexpr std::array kNormParams = {
    Param{"rate", Role::kSend, "the sending rate in bits/s, e.g. 50M (default 10M); with cc=on, the highest"},
    Param{"cc", Role::kSend, "on: NORM-CC congestion control adapts the rate (default off: fixed rate=)"},
    Param{"buffer", Role::kEither, "bytes of the sender's stream buffer, or a receiver's per sender (default 16M)"},
    Param{"segment", Role::kSend, "payload bytes per NORM packet (default 1400: fits a 1500-byte MTU)"},
    Param{"block", Role::kSend, "source packets per FEC block (default 64)"},
    Param{"parity", Role::kSend, "Reed-Solomon parity packets per block for repairs (default 0: lost packets are resent)"},
    Param{"autoparity", Role::kSend, "parity packets per block sent before any NACK (default 0)"},
    Param{"grtt_max", Role::kSend, "the longest round trip in seconds NORM's timers assume (default 0.01)"},
    Param{"id", Role::kEither, "this node's NORM id, 1 to 4294967294 (default: unique per process, random)"},
};

constexpr std::array kNatsParams = {
    Param{"queue", Role::kListen, "a queue group: each message goes to one member of the group"},
    Param{"token", Role::kEither, "authenticate with this token (or nats://TOKEN@host:port)"},
    Param{"user", Role::kEither, "authenticate as this user (or nats://USER:PASSWORD@host:port)"},
    Param{"password", Role::kEither, "the user's password"},
    Param{"creds", Role::kEither, "a credentials FILE (JWT and NKey seed, as nsc writes it)"},
    Param{"tls", Role::kEither, "1: TLS to the servers (implied by ca= and cert=)"},
    Param{"ca", Role::kEither, "TLS: trust the servers' certificates signed by this CA FILE (PEM)"},
    Param{"cert", Role::kEither, "TLS: the client's certificate FILE (PEM), with key="},
    Param{"key", Role::kEither, "TLS: the client's private key FILE (PEM)"},
    Param{"name", Role::kEither, "the connection's name in the servers' monitoring (default netdisp)"},
    Param{"stream", Role::kEither, "JetStream: publish to this stream with acknowledgements, or read it"},
    Param{"durable", Role::kListen, "JetStream: read through this durable consumer (resumes after a restart)"},
    Param{"create", Role::kEither, "JetStream: 1 creates a missing stream (and durable consumer); else an error"},
    Param{"replicas", Role::kEither, "JetStream: the replicas of a stream made with create=1 (default 1)"},
    Param{"ack_wait", Role::kListen, "JetStream: seconds before an unacknowledged message comes again (create=1)"},
    Param{"retry_for", Role::kSend, "JetStream: seconds an unacknowledged publication is sent again (default 30)"},
};

constexpr std::array kSchemes = {
    Scheme{"udp", "datagrams, unicast, multicast or broadcast (the default)", false, AddressKind::kHostPort, true,
           kUdpParams, open_datagram_input, open_datagram_source, open_datagram_outputs},
    Scheme{"tcp", "a byte stream; one thread per connection", true, AddressKind::kHostPort, false, {},
           open_stream_input, nullptr, open_stream_outputs},
    Scheme{"unix", "a local byte stream (unix:///path/to.sock)", true, AddressKind::kPath, false, {},
           open_stream_input, nullptr, open_stream_outputs},
    Scheme{"unixgram", "local datagrams (unixgram:///dev/log)", false, AddressKind::kPath, false, {},
           open_datagram_input, open_datagram_source, open_datagram_outputs},
    Scheme{"srt", "SRT (Secure Reliable Transport): live streams with repair, or files (?transtype=file)", false,
           AddressKind::kHostPort, false, kSrtParams, open_module_input, open_module_source, open_module_outputs,
           true},
    Scheme{"norm", "NORM (RFC 5740): reliable multicast (or unicast) to many receivers", false,
           AddressKind::kHostPort, true, kNormParams, open_module_input, open_module_source, open_module_outputs,
           true},
    Scheme{"nats", "NATS subjects (nats://[user:pass@]host:port[,host:port]/subject)", false, AddressKind::kTarget,
           true, kNatsParams, open_module_input, open_module_source, open_module_outputs, true},
};

std::string known_schemes() {
  std::string list;
  for (const Scheme& scheme : kSchemes) list += (list.empty() ? "" : ", ") + std::string(scheme.name);
  return list;
}

const Scheme& find_scheme(const std::string& name, std::string_view text, const std::string& option) {
  for (const Scheme& scheme : kSchemes)
    if (scheme.name == name) return scheme;
  throw net::UsageError("--" + option + " " + std::string(text) + ": unknown scheme '" + name + "://' (known: " +
                        known_schemes() + ")");
}

// Every parameter must be one the scheme takes in this role, with a value that parses.
void check_params(const Endpoint& endpoint, Role role, const std::string& option) {
  auto bad = [&](const std::string& why) {
    throw net::UsageError("--" + option + " " + endpoint.text + ": " + why);
  };
  std::string where = std::string(endpoint.scheme->name) + (role == Role::kListen ? ":// listen" : ":// destination");
  for (const auto& param_pair : endpoint.params) {
    const std::string& name = param_pair.first;  // not a structured binding: clang 14 cannot capture one
    auto takes = [role](const Param& param) { return param.role == role || param.role == Role::kEither; };
    auto known = std::find_if(endpoint.scheme->params.begin(), endpoint.scheme->params.end(),
                              [&](const Param& param) { return param.name == name && takes(param); });
    if (known == endpoint.scheme->params.end()) {
      std::string list;
      for (const Param& param : endpoint.scheme->params)
        if (takes(param)) list += (list.empty() ? "" : ", ") + std::string(param.name);
      bad("unknown parameter '" + name + "' for " + where + " addresses (known: " + (list.empty() ? "none" : list) +
          ")");
    }
  }
  if (endpoint.scheme->module) {
    if (auto check = load_transport(endpoint.scheme->name).check) check(endpoint, role);
    return;
  }
  if (!endpoint.values("source").empty() && !endpoint.address.is_multicast())
    bad("source= is for multicast groups (source-specific multicast)");
  if (endpoint.values("bind").size() > 1) bad("bind= is given more than once");
  options_for(endpoint, {});  // the values parse, or throw naming them
}

}  // namespace

std::string Endpoint::to_string() const {
  if (scheme->address != AddressKind::kTarget) return std::string(scheme->name) + "://" + address.to_string();
  // Credentials (user:pass@host) are never shown: messages and logs name the rest.
  std::string shown = target;
  for (std::size_t at = shown.find('@'); at != std::string::npos; at = shown.find('@')) {
    std::size_t start = shown.rfind(',', at);
    start = start == std::string::npos ? 0 : start + 1;
    shown.erase(start, at + 1 - start);
  }
  return std::string(scheme->name) + "://" + shown;
}

bool Endpoint::stream() const { return scheme->stream; }

bool Endpoint::channel() const {
  return scheme->channel && (scheme->address == AddressKind::kTarget || scheme->name != "udp" ||
                             address.is_multicast());
}

std::vector<std::string> Endpoint::values(std::string_view name) const {
  std::vector<std::string> found;
  for (const auto& [key, value] : params)
    if (key == name) found.push_back(value);
  return found;
}

Endpoint parse_endpoint(std::string_view text, Role role, const std::string& option) {
  net::EndpointText parts = net::split_endpoint(text);
  Endpoint endpoint;
  endpoint.text = net::redact_endpoint(text);  // no credentials in a message or a log file name
  endpoint.scheme = &find_scheme(parts.scheme, endpoint.text, option);
  endpoint.params = std::move(parts.params);
  endpoint.target = parts.rest;
  if (endpoint.scheme->module) load_transport(endpoint.scheme->name);  // a build without it says so first
  if (endpoint.scheme->address == AddressKind::kPath) {
    endpoint.address = net::parse_unix_endpoint_path(parts.rest, endpoint.scheme->name);
  } else if (endpoint.scheme->address == AddressKind::kHostPort) {
    endpoint.address = net::parse_address(parts.rest, role == Role::kListen ? net::PortRule::kZeroAllowed
                                                                            : net::PortRule::kNonZero);
  }
  bool broadcast = endpoint.address.family() == AF_INET && endpoint.address.v4().sin_addr.s_addr == INADDR_BROADCAST;
  if (endpoint.scheme->stream && (endpoint.address.is_multicast() || broadcast))
    throw net::UsageError("--" + option + " " + endpoint.text + ": " + std::string(endpoint.scheme->name) +
                          ":// is point to point; multicast and broadcast need udp://");
  check_params(endpoint, role, option);
  return endpoint;
}

std::vector<Endpoint> parse_endpoints(const std::vector<std::string>& texts, Role role, const std::string& option) {
  std::vector<Endpoint> endpoints;
  for (const std::string& text : texts) {
    Endpoint endpoint = parse_endpoint(text, role, option);
    for (const Endpoint& earlier : endpoints) {
      bool same = earlier.scheme == endpoint.scheme && earlier.address.length() == endpoint.address.length() &&
                  std::memcmp(earlier.address.get(), endpoint.address.get(), endpoint.address.length()) == 0;
      if (endpoint.scheme->address == AddressKind::kTarget) same = earlier.text == endpoint.text;
      if (same && (endpoint.scheme->address != AddressKind::kHostPort || endpoint.address.port() != 0))
        throw net::UsageError("--" + option + " " + endpoint.text + " is given twice");
    }
    endpoints.push_back(std::move(endpoint));
  }
  return endpoints;
}

std::unique_ptr<Worker> open_input(const Endpoint& endpoint, const InputSettings& settings,
                                   const SinkMaker& make_sinks) {
  return endpoint.scheme->open_input(endpoint, settings, make_sinks);
}

std::unique_ptr<Source> open_source(const Endpoint& endpoint, const InputSettings& settings) {
  if (!endpoint.scheme->open_source) refuse_shared_reading(endpoint);
  return endpoint.scheme->open_source(endpoint, settings);
}

std::vector<std::unique_ptr<Sink>> open_outputs(const std::vector<Endpoint>& destinations,
                                                const OutputSettings& settings) {
  std::vector<std::unique_ptr<Sink>> sinks;
  for (const Scheme& scheme : kSchemes) {
    std::vector<Endpoint> mine;
    for (const Endpoint& endpoint : destinations)
      if (endpoint.scheme == &scheme) mine.push_back(endpoint);
    if (!mine.empty()) scheme.open_outputs(mine, settings, sinks);
  }
  return sinks;
}

namespace {
std::string_view role_name(Role role) {
  switch (role) {
    case Role::kListen: return "listen";
    case Role::kSend: return "destination";
    case Role::kEither: break;
  }
  return "listen, destination";
}
}  // namespace

std::string endpoint_help() {
  std::string help = "Addresses are endpoints, [scheme://]address[?name=value&...]:\n";
  for (const Scheme& scheme : kSchemes) {
    help += "  " + std::string(scheme.name) + "://  " + std::string(scheme.summary) + "\n";
    for (const Param& param : scheme.params)
      help += "      ?" + std::string(param.name) + "=...  (" + std::string(role_name(param.role)) + ") " +
              std::string(param.help) + "\n";
  }
  return help;
}

std::string transports_summary() {
  std::string summary = "transports:";
  for (const Scheme& scheme : kSchemes) {
    summary += (&scheme == kSchemes.data() ? " " : ", ") + std::string(scheme.name);
    if (!scheme.module) continue;
    try {
      load_transport(scheme.name);
    } catch (const net::UsageError&) {
      summary += " (not built)";
    } catch (const net::Error& e) {  // "srt://: cannot load ...": the scheme is named already
      std::string why = e.what();
      summary += " (" + why.substr(why.find(": ") + 2) + ")";
    }
  }
  return summary;
}

}  // namespace netdisp::stage
