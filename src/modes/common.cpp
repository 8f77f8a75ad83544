#include "modes/common.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <iostream>

#include "net/error.h"
#include "modes/supervisor.h"
#include "stage/pipe.h"
#include "stage/stdout_sink.h"
#include "stage/udp_source.h"

namespace netdisp::modes {
namespace {

constexpr std::size_t kMaxArgument = 4096;  // PATH_MAX

}  // namespace

cxxopts::Options make_options(const std::string& program, const std::string& help) {
  cxxopts::Options options(program, help);
  options.custom_help("[OPTION...]");
  options.set_width(100);
  options.add_options("logging")
      ("h,help", "show this help and exit")
      ("v,verbose", "log per-batch detail (debug)")
      ("q,quiet", "log warnings and errors only");
  return options;
}

void add_socket_options(cxxopts::Options& options, bool listens) {
  auto adder = options.add_options("sockets");
  if (listens) {
    adder("rcvbuf", "receive buffer to ask for, in bytes (default " + std::to_string(kDefaultRcvbuf >> 20) + " MiB)",
          cxxopts::value<std::string>(), "BYTES")
        ("allow", "accept only peers in this range (repeatable); others are dropped and counted",
         cxxopts::value<std::vector<std::string>>(), "CIDR")
        ("reuse-port,reuse_port", "set SO_REUSEPORT (let other sockets share the port)")
        ("gro", "accept datagrams the kernel coalesced (UDP_GRO): on|off (default " + std::string(kDefaultGro ? "on" : "off") + ")",
         cxxopts::value<std::string>(), "on|off")
        ("drain-timeout,drain_timeout", "on SIGINT/SIGTERM, keep writing what the socket already received for up "
                                        "to this long; what is left is counted as discarded at stop (default 1, "
                                        "0: count only)", cxxopts::value<std::string>(), "SECONDS");
  }
  adder("gso", "send runs of equal-sized datagrams as one message the kernel cuts up (UDP_SEGMENT): on|off "
              "(default " + std::string(kDefaultGso ? "on" : "off") + "); datagrams on the wire are the same either way",
        cxxopts::value<std::string>(), "on|off");
  adder("sndbuf", "send buffer to ask for, in bytes (default: the kernel's)", cxxopts::value<std::string>(), "BYTES")
      ("bind-device,bind_device", "bind sockets to this interface (SO_BINDTODEVICE)", cxxopts::value<std::string>(),
       "IFACE");
}

void add_multicast_options(cxxopts::Options& options) {
  options.add_options("multicast")
      ("multicast-if,multicast_if", "interface for joins and sends: name, index or local address",
       cxxopts::value<std::string>(), "IFACE")
      ("multicast-ttl,multicast_ttl", "TTL / hop limit of sent multicast (default 1)", cxxopts::value<std::string>(), "N")
      ("multicast-loop,multicast_loop", "deliver sent multicast to local listeners too (default on)",
       cxxopts::value<std::string>(), "on|off");
}

bool parse(cxxopts::Options& options, int argc, char** argv, cxxopts::ParseResult& result) {
  // cxxopts matches every argument with std::regex, whose recursion overflows
  // the stack on arguments of some 20 KB; no path or address is that long.
  for (int i = 1; i < argc; ++i) {
    std::size_t length = std::strlen(argv[i]);
    if (length > kMaxArgument)
      throw net::UsageError("argument " + std::to_string(i) + " is " + std::to_string(length) +
                            " bytes long; the limit is " + std::to_string(kMaxArgument));
  }
  try {
    result = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    throw net::UsageError(std::string(e.what()) + " (see --help)");
  }
  if (result.count("help")) {
    std::cout << options.help() << "\nEvery --dashed-option may also be spelled --underscored_option.\n";
    return false;
  }
  if (!result.unmatched().empty())
    throw net::UsageError("unexpected argument '" + result.unmatched().front() + "' (see --help)");
  if (result.count("verbose")) spdlog::set_level(spdlog::level::debug);
  if (result.count("quiet")) spdlog::set_level(spdlog::level::warn);
  return true;
}

std::string required(const cxxopts::ParseResult& result, const std::string& name) {
  if (!result.count(name)) throw net::UsageError("--" + name + " is required (see --help)");
  return single(result, name, "");
}

std::string single(const cxxopts::ParseResult& result, const std::string& name, const std::string& fallback) {
  if (result.count(name) > 1) throw net::UsageError("--" + name + " is given more than once");
  return result.count(name) ? result[name].as<std::string>() : fallback;
}

double number(const cxxopts::ParseResult& result, const std::string& name, double fallback, double min, double max) {
  std::string text = single(result, name, "");
  if (text.empty() && !result.count(name)) return fallback;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !(value >= min && value <= max))
    throw net::UsageError(fmt::format("--{} {}: expected a number from {} to {}", name, text, min, max));
  return value;
}

std::vector<std::string> required_list(const cxxopts::ParseResult& result, const std::string& name) {
  if (!result.count(name)) throw net::UsageError("--" + name + " is required (see --help)");
  return result[name].as<std::vector<std::string>>();
}

std::vector<net::Address> parse_addresses(const std::vector<std::string>& texts, net::PortRule rule,
                                          const std::string& option) {
  std::vector<net::Address> addresses;
  for (const std::string& text : texts) {
    net::Address address = net::parse_address(text, rule);
    for (const net::Address& earlier : addresses) {
      bool same = earlier.length() == address.length() && std::memcmp(earlier.get(), address.get(), address.length()) == 0;
      if (same && address.port() != 0) throw net::UsageError("--" + option + " " + text + " is given twice");
    }
    addresses.push_back(address);
  }
  return addresses;
}

namespace {

int parse_switch(const std::string& text, const std::string& option) {
  if (text == "on" || text == "1" || text == "yes" || text == "true") return 1;
  if (text == "off" || text == "0" || text == "no" || text == "false") return 0;
  throw net::UsageError("--" + option + " " + text + ": expected on or off");
}

int buffer_size(const cxxopts::ParseResult& result, const std::string& name, int fallback) {
  return static_cast<int>(number(result, name, fallback, 1024, 1 << 30));
}

}  // namespace

net::SocketOptions socket_options(const cxxopts::ParseResult& result) {
  net::SocketOptions options;
  options.rcvbuf = buffer_size(result, "rcvbuf", kDefaultRcvbuf);
  options.sndbuf = buffer_size(result, "sndbuf", 0);
  options.reuse_port = result.count("reuse-port") > 0;
  options.gro = result.count("gro") ? parse_switch(single(result, "gro", ""), "gro") : kDefaultGro;
  options.drain_seconds = number(result, "drain-timeout", stage::kDefaultDrainSeconds, 0, 3600);
  if (result.count("bind-device")) {
    options.bind_device = single(result, "bind-device", "");
    net::parse_interface(options.bind_device);  // fail early, with the name in the message
  }
  if (result.count("multicast-if"))
    options.multicast.interface = net::parse_interface(single(result, "multicast-if", ""));
  options.multicast.ttl = static_cast<int>(number(result, "multicast-ttl", 1, 0, 255));
  if (result.count("multicast-loop"))
    options.multicast.loop = parse_switch(single(result, "multicast-loop", ""), "multicast-loop");
  return options;
}

bool gso_enabled(const cxxopts::ParseResult& result) {
  return result.count("gso") ? parse_switch(single(result, "gso", ""), "gso") : kDefaultGso;
}

net::AccessList access_list(const cxxopts::ParseResult& result) {
  std::vector<net::Cidr> ranges;
  if (result.count("allow"))
    for (const std::string& text : result["allow"].as<std::vector<std::string>>()) ranges.push_back(net::parse_cidr(text));
  return net::AccessList(std::move(ranges));
}

double parse_rate(const std::string& text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  double scale = suffix.empty() ? 1 : suffix == "k" || suffix == "K" ? 1e3 : suffix == "M" ? 1e6 : suffix == "G" ? 1e9 : 0;
  if (ec != std::errc() || scale == 0 || !(value > 0) || !std::isfinite(value))
    throw net::UsageError("--rate " + text + ": expected bits per second, e.g. 800M or 2.5G");
  return value * scale;
}

net::UdpListener listen_udp(const net::Address& address, const net::SocketOptions& options) {
  net::UdpListener listener = net::open_udp_listener(address, options);
  const net::BufferGrant& grant = listener.rcvbuf;
  spdlog::info("listening on udp {} (receive buffer {} KiB)", listener.bound.to_string(), grant.granted / 1024);
  if (grant.granted < grant.asked) {
    spdlog::warn("udp {}: asked for a {} KiB receive buffer, the kernel granted {} KiB; bursts may be dropped. "
                 "Raise it with: sysctl -w net.core.rmem_max={} (or run as root)",
                 listener.bound.to_string(), grant.asked / 1024, grant.granted / 1024, grant.asked);
  }
  return listener;
}

std::unique_ptr<stage::Pipe> udp_pipe(const net::Address& listen, const net::SocketOptions& options,
                                      const net::AccessList& allow, std::unique_ptr<stage::Sink> sink, bool tee,
                                      const std::string& label) {
  std::vector<std::unique_ptr<stage::Sink>> sinks;
  sinks.push_back(std::move(sink));
  if (tee) sinks.push_back(std::make_unique<stage::StdoutSink>());
  auto source = std::make_unique<stage::UdpSource>(listen_udp(listen, options), allow);
  if (!label.empty()) spdlog::info("udp {} -> {}", source->bound().to_string(), label);
  auto pipe = std::make_unique<stage::Pipe>(std::move(source), std::move(sinks));
  pipe->set_drain_timeout(options.drain_seconds);
  return pipe;
}

int run_pipes(stage::Control& control, std::vector<std::unique_ptr<stage::Pipe>>& pipes) {
  Supervisor supervisor(control);
  for (auto& pipe : pipes) supervisor.spawn("pipe", [&control, &pipe] { pipe->run(control); });
  return supervisor.run([&] { return all_stats(pipes); });
}

std::vector<std::string> all_stats(const std::vector<std::unique_ptr<stage::Pipe>>& pipes) {
  std::vector<std::string> lines;
  for (const auto& pipe : pipes)
    for (std::string& line : pipe->stats()) lines.push_back(std::move(line));
  return lines;
}

}  // namespace netdisp::modes
