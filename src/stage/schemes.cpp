#include "stage/schemes.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "net/endpoint.h"
#include "net/error.h"
#include "net/stream_socket.h"
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

struct Scheme {
  std::string_view name;
  std::string_view summary;
  bool stream;  // a byte stream (tcp, unix) rather than datagrams
  bool path;    // the address is a unix socket path rather than host:port
  std::span<const Param> params;
  std::unique_ptr<Worker> (*open_input)(const Endpoint&, const InputSettings&, const SinkMaker&);
  void (*open_outputs)(std::span<const Endpoint>, const OutputSettings&, std::vector<std::unique_ptr<Sink>>&);
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
    spdlog::warn("{}: asked for a {} KiB receive buffer, the kernel granted {} KiB; bursts may be dropped. "
                 "Raise it with: sysctl -w net.core.rmem_max={} (or run it with CAP_NET_ADMIN, as root)",
                 where, grant.asked / 1024, grant.granted / 1024, grant.asked);
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

constexpr std::array kUdpParams = {
    Param{"source", Role::kListen, "source-specific multicast: receive the group only from this sender (repeatable)"},
    Param{"bind", Role::kSend, "send from this local ADDR or ADDR:PORT (nc -s/-p, socat bind=)"},
};

constexpr std::array kSchemes = {
    Scheme{"udp", "datagrams, unicast, multicast or broadcast (the default)", false, false, kUdpParams,
           open_datagram_input, open_datagram_outputs},
    Scheme{"tcp", "a byte stream; one thread per connection", true, false, {}, open_stream_input,
           open_stream_outputs},
    Scheme{"unix", "a local byte stream (unix:///path/to.sock)", true, true, {}, open_stream_input,
           open_stream_outputs},
    Scheme{"unixgram", "local datagrams (unixgram:///dev/log)", false, true, {}, open_datagram_input,
           open_datagram_outputs},
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
    auto known = std::find_if(endpoint.scheme->params.begin(), endpoint.scheme->params.end(),
                              [&](const Param& param) { return param.name == name && param.role == role; });
    if (known == endpoint.scheme->params.end()) {
      std::string list;
      for (const Param& param : endpoint.scheme->params)
        if (param.role == role) list += (list.empty() ? "" : ", ") + std::string(param.name);
      bad("unknown parameter '" + name + "' for " + where + " addresses (known: " + (list.empty() ? "none" : list) +
          ")");
    }
  }
  if (!endpoint.values("source").empty() && !endpoint.address.is_multicast())
    bad("source= is for multicast groups (source-specific multicast)");
  if (endpoint.values("bind").size() > 1) bad("bind= is given more than once");
  options_for(endpoint, {});  // the values parse, or throw naming them
}

}  // namespace

std::string Endpoint::to_string() const { return std::string(scheme->name) + "://" + address.to_string(); }

bool Endpoint::stream() const { return scheme->stream; }

std::vector<std::string> Endpoint::values(std::string_view name) const {
  std::vector<std::string> found;
  for (const auto& [key, value] : params)
    if (key == name) found.push_back(value);
  return found;
}

Endpoint parse_endpoint(std::string_view text, Role role, const std::string& option) {
  net::EndpointText parts = net::split_endpoint(text);
  Endpoint endpoint;
  endpoint.text = std::string(text);
  endpoint.scheme = &find_scheme(parts.scheme, text, option);
  endpoint.params = std::move(parts.params);
  if (endpoint.scheme->path) {
    endpoint.address = net::parse_unix_endpoint_path(parts.rest, endpoint.scheme->name);
  } else {
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
      if (same && (endpoint.scheme->path || endpoint.address.port() != 0))
        throw net::UsageError("--" + option + " " + text + " is given twice");
    }
    endpoints.push_back(std::move(endpoint));
  }
  return endpoints;
}

std::unique_ptr<Worker> open_input(const Endpoint& endpoint, const InputSettings& settings,
                                   const SinkMaker& make_sinks) {
  return endpoint.scheme->open_input(endpoint, settings, make_sinks);
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

std::string endpoint_help() {
  std::string help = "Addresses are endpoints, [scheme://]address[?name=value&...]:\n";
  for (const Scheme& scheme : kSchemes) {
    help += "  " + std::string(scheme.name) + "://  " + std::string(scheme.summary) + "\n";
    for (const Param& param : scheme.params)
      help += "      ?" + std::string(param.name) + "=...  (" + (param.role == Role::kListen ? "listen" : "destination") +
              ") " + std::string(param.help) + "\n";
  }
  return help;
}

}  // namespace netdisp::stage
