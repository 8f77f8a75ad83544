#include "modes/common.h"

#include <spdlog/spdlog.h>

#include <algorithm>
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
      ("v,verbose", "log debug detail too: socket set-up, and per socket at most one line a second on the "
                    "batches it moves")
      ("q,quiet", "log warnings and errors only (the summary and SIGUSR1 counters are still printed)");
  add_monitoring_options(options);
  return options;
}

void add_socket_options(cxxopts::Options& options, SocketRoles roles) {
  auto adder = options.add_options("sockets");
  if (roles.listens) {
    adder("rcvbuf", "receive buffer to ask for, in bytes, k/M/G suffixes allowed (default " +
                        std::to_string(kDefaultRcvbuf >> 20) + "M)",
          cxxopts::value<std::string>(), "BYTES")
        ("allow", "accept only peers in this range (repeatable; default: every peer); others are dropped and "
                  "counted",
         cxxopts::value<std::vector<std::string>>(), "CIDR")
        ("reuse-port,reuse_port", "set SO_REUSEPORT (let other sockets share the port)")
        ("gro", "accept datagrams the kernel coalesced (UDP_GRO): on|off (default " + std::string(kDefaultGro ? "on" : "off") + ")",
         cxxopts::value<std::string>(), "on|off")
        ("drain-timeout,drain_timeout", "on SIGINT/SIGTERM, keep writing what the socket already received for up "
                                        "to this long; what is left is counted as discarded at stop (default 1, "
                                        "0: count only)", cxxopts::value<std::string>(), "SECONDS");
  }
  if (roles.sends) {
    adder("gso", "send runs of equal-sized datagrams as one message the kernel cuts up (UDP_SEGMENT): on|off "
                "(default " + std::string(kDefaultGso ? "on" : "off") + "); datagrams on the wire are the same either way",
          cxxopts::value<std::string>(), "on|off")
        ("sndbuf", "send buffer to ask for, in bytes, k/M/G suffixes allowed (default: the kernel's)",
         cxxopts::value<std::string>(), "BYTES");
  }
  adder("bind-device,bind_device", "bind sockets to this interface (SO_BINDTODEVICE; default: none, routing "
                                   "decides)", cxxopts::value<std::string>(), "IFACE");
}

void add_multicast_options(cxxopts::Options& options, SocketRoles roles) {
  auto adder = options.add_options("multicast");
  adder("multicast-if,multicast_if", std::string("interface for ") + (roles.listens ? "joins" : "") +
                                         (roles.listens && roles.sends ? " and " : "") + (roles.sends ? "sends" : "") +
                                         ": name, index or local address (default: the %scope of an IPv6 "
                                         "address, else the one the routing table picks)",
        cxxopts::value<std::string>(), "IFACE");
  if (!roles.sends) return;
  adder("multicast-ttl,multicast_ttl", "TTL / hop limit of sent multicast (default 1)", cxxopts::value<std::string>(), "N")
      ("multicast-loop,multicast_loop", "deliver sent multicast to local listeners too (default on)",
       cxxopts::value<std::string>(), "on|off");
}

namespace {

// The first text between cxxopts' quotes (‘’): the option or argument its
// message is about, without dashes.
std::string quoted(const std::string& message) {
  static const std::string kOpen = "\u2018", kClose = "\u2019";
  auto start = message.find(kOpen);
  if (start == std::string::npos) return "";
  start += kOpen.size();
  return message.substr(start, message.find(kClose, start) - start);
}

std::string dashed(const std::string& name) { return (name.size() == 1 ? "-" : "--") + name; }

// Levenshtein distance: how many letters to insert, delete or change.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

// The known long option closest to `name` (underscores read as dashes), if
// it is close enough to be a likely typo.
std::string closest_option(const cxxopts::Options& options, std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, name.size() / 3) + 1;
  for (const std::string& group : options.groups())
    for (const auto& option : options.group_help(group).options)
      for (const std::string& known : option.l) {
        if (known.find('_') != std::string::npos) continue;  // the underscored twin of a dashed name
        std::size_t distance = edit_distance(name, known);
        // A prefix ("--listen" for "--listen-addr") is a likely meaning too.
        if (known.starts_with(name) && name.size() >= 3) distance = std::min<std::size_t>(distance, 1);
        if (distance < best_distance) best_distance = distance, best = known;
      }
  return best;
}

// cxxopts' message in our words: plain quotes, options with their dashes.
std::string usage_message(const cxxopts::Options& options, const cxxopts::exceptions::exception& e) {
  std::string name = quoted(e.what());
  if (dynamic_cast<const cxxopts::exceptions::no_such_option*>(&e)) {
    std::string message = "unknown option " + dashed(name);
    std::string near = closest_option(options, name);
    if (!near.empty()) message += "; did you mean --" + near + "?";
    return message + " (see --help)";
  }
  if (dynamic_cast<const cxxopts::exceptions::missing_argument*>(&e) ||
      dynamic_cast<const cxxopts::exceptions::option_requires_argument*>(&e))
    return dashed(name) + " needs a value (see --help)";
  if (dynamic_cast<const cxxopts::exceptions::gratuitous_argument_for_option*>(&e))
    return dashed(name) + " takes no value (see --help)";
  std::string message = e.what();
  for (const char* curly : {"\u2018", "\u2019"})
    for (auto at = message.find(curly); at != std::string::npos; at = message.find(curly)) message.replace(at, 3, "'");
  return message + " (see --help)";
}

}  // namespace

void add_stream_options(cxxopts::Options& options, bool live_input) {
  auto adder = options.add_options("streams (tcp://, unix:// destinations)");
  adder("reconnect", "after a broken connection, connect again (first after 100 ms, then at most every 5 s): "
                     "on|off (default on)", cxxopts::value<std::string>(), "on|off")
      ("reconnect-timeout,reconnect_timeout", "give up on a destination that could not be reached for this long "
                                              "(default 60)", cxxopts::value<std::string>(), "SECONDS");
  if (live_input)
    adder("stream-buffer,stream_buffer", "bytes kept for a slow stream destination before its datagrams are "
                                         "dropped (default 4M)", cxxopts::value<std::string>(), "BYTES");
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
    throw net::UsageError(usage_message(options, e));
  }
  if (result.count("help")) {
    std::cout << options.help() << "\n"
              << stage::endpoint_help() << "\nEvery --dashed-option may also be spelled --underscored_option.\n";
    return false;
  }
  if (!result.unmatched().empty())
    throw net::UsageError("unexpected argument '" + result.unmatched().front() + "' (see --help)");
  if (result.count("verbose") && result.count("quiet")) throw net::UsageError("-v and -q contradict each other");
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

std::uint64_t bytes_option(const cxxopts::ParseResult& result, const std::string& name, std::uint64_t fallback,
                           std::uint64_t min, std::uint64_t max) {
  if (!result.count(name)) return fallback;
  std::string text = single(result, name, "");
  std::uint64_t value = parse_bytes(text, name);
  if (value < min || value > max)
    throw net::UsageError(fmt::format("--{} {}: expected {} to {} bytes", name, text, min, max));
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
  return static_cast<int>(bytes_option(result, name, static_cast<std::uint64_t>(fallback), 1024, 1 << 30));
}

// "800M" -> {800, "M"}: a decimal number and what follows it.
std::pair<double, std::string_view> split_number(const std::string& text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (ec != std::errc() || !std::isfinite(value)) return {-1, ""};
  return {value, std::string_view(end, static_cast<std::size_t>(text.data() + text.size() - end))};
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

std::chrono::milliseconds reconnect_timeout(const cxxopts::ParseResult& result) {
  double seconds = number(result, "reconnect-timeout", 60, 0.1, 86400);
  if (result.count("reconnect") && !parse_switch(single(result, "reconnect", ""), "reconnect")) seconds = 0;
  return std::chrono::milliseconds(static_cast<long>(seconds * 1000));
}

bool gso_enabled(const cxxopts::ParseResult& result) {
  return result.count("gso") ? parse_switch(single(result, "gso", ""), "gso") : kDefaultGso;
}

net::AccessList access_list(const cxxopts::ParseResult& result) {
  std::vector<net::Cidr> ranges;
  // Option values are not split at ',' (a nats:// server list is one value),
  // but a range list is: --allow 10.0.0.0/8,192.168.0.0/16 as before.
  if (result.count("allow"))
    for (const std::string& list : result["allow"].as<std::vector<std::string>>())
      for (std::size_t start = 0; start <= list.size();) {
        std::size_t comma = std::min(list.find(',', start), list.size());
        ranges.push_back(net::parse_cidr(list.substr(start, comma - start)));
        start = comma + 1;
      }
  return net::AccessList(std::move(ranges));
}

double parse_rate(const std::string& text) {
  auto [value, unit] = split_number(text);
  auto bad = [&](const std::string& why) { throw net::UsageError("--rate " + text + ": " + why); };
  double scale = 1;
  if (!unit.empty() && std::string_view("kKMG").find(unit.front()) != std::string_view::npos) {
    scale = unit.front() == 'M' ? 1e6 : unit.front() == 'G' ? 1e9 : 1e3;
    unit.remove_prefix(1);
  } else if (!unit.empty() && unit.front() == 'm') {
    bad("'m' would mean milli; write M for megabits per second");
  }
  if (unit == "B" || unit == "B/s" || unit == "Bps" || unit == "byte" || unit == "bytes")
    bad("the rate is in bits per second (800M is 100 megabytes per second)");
  if (!(unit.empty() || unit == "bit" || unit == "bits" || unit == "bit/s" || unit == "bps" || unit == "b/s"))
    bad("expected bits per second, e.g. 800M, 800Mbit, 1.5G or 100k");
  if (!(value > 0)) bad("expected a rate above 0 bits per second, e.g. 800M");
  return value * scale;
}

std::uint64_t parse_bytes(const std::string& text, const std::string& option) {
  auto [value, unit] = split_number(text);
  struct Unit {
    std::string_view name;
    double scale;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},           {"B", 1},         {"k", 1 << 10},   {"K", 1 << 10},   {"KiB", 1 << 10}, {"kB", 1e3},
      {"KB", 1e3},       {"M", 1 << 20},   {"MiB", 1 << 20}, {"MB", 1e6},      {"G", 1 << 30},   {"GiB", 1 << 30},
      {"GB", 1e9},
  };
  for (const Unit& known : kUnits) {
    if (unit != known.name) continue;
    double bytes = value * known.scale;
    if (value < 0 || bytes != std::floor(bytes) || bytes > 1e18) break;
    return static_cast<std::uint64_t>(bytes);
  }
  throw net::UsageError("--" + option + " " + text + ": expected a whole number of bytes, e.g. 4096, 64k, 256M or 1G");
}

std::unique_ptr<stage::Worker> open_listener(const stage::Endpoint& endpoint, stage::InputSettings inputs,
                                             const SinkMaker& make_sinks, bool tee, const std::string& label) {
  auto with_tee = [make_sinks, tee] {
    std::vector<std::unique_ptr<stage::Sink>> sinks = make_sinks();
    if (tee) sinks.push_back(std::make_unique<stage::StdoutSink>());
    return sinks;
  };
  inputs.label = label;
  return stage::open_input(endpoint, inputs, with_tee);
}

int run_workers(stage::Control& control, std::vector<std::unique_ptr<stage::Worker>>& workers, OnHangup on_hangup,
                const Monitoring& monitoring) {
  Supervisor supervisor(control, on_hangup, monitoring);
  for (auto& worker : workers) supervisor.spawn("worker", [&control, &worker] { worker->run(control); });
  return supervisor.run([&] { return all_stats(workers); });
}

stage::StatsRows all_stats(const std::vector<std::unique_ptr<stage::Worker>>& workers) {
  stage::StatsRows rows;
  for (const auto& worker : workers) worker->report(rows);
  return rows;
}

stage::InputSettings input_settings(const cxxopts::ParseResult& result, std::size_t datagram_size) {
  stage::InputSettings inputs;
  inputs.sockets = socket_options(result);
  inputs.allow = access_list(result);
  inputs.max_clients = static_cast<std::size_t>(number(result, "max-clients", 256, 1, 100000));
  inputs.datagram_size = datagram_size;
  return inputs;
}

}  // namespace netdisp::modes
