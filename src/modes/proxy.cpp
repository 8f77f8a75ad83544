// proxy: every datagram received on a --listen_addr goes, unchanged and in
// order, to every --downstream_addr.
//   per --listen_addr (udp, unixgram): UdpSource(listen) --batch--> sinks of every downstream [+ StdoutSink]
//   per --listen_addr (tcp, unix): acceptor; per connection: StreamSource (chunks of --datagram-size)
//                                  --batch--> sinks of every downstream [+ StdoutSink]
// Every input has sinks of its own (its own sockets, its own connections):
// threads share nothing. A stream downstream never holds up live input: it
// gets --stream-buffer, then loses whole datagrams (counted).
#include <spdlog/spdlog.h>

#include <cstring>

#include "modes/common.h"
#include "modes/framing.h"
#include "modes/modes.h"
#include "net/error.h"
#include "stage/schemes.h"

namespace netdisp::modes {
namespace {

constexpr const char* kHelp =
    "Forward datagrams from many listen sockets to many destinations, unchanged.\n"
    "\n"
    "Listen addresses are unicast, multicast groups to join, or tcp:// and unix:// streams cut\n"
    "into datagrams; destinations are unicast, multicast or broadcast, or streams that receive\n"
    "the payloads concatenated. A dead downstream is counted and logged, and never stops delivery\n"
    "to the others. Runs until SIGINT/SIGTERM (exit 0).\n"
    "\n"
    "Examples:\n"
    "  # one stream to an IPv6 host and a multicast group\n"
    "  ndproxy --listen_addr 0.0.0.0:9921 --downstream_addr [::1]:9922 --downstream_addr 239.1.2.3:9923\n"
    "  # NMEA sentences to a group, watched as they pass (--tee)\n"
    "  ndproxy --listen-addr 0.0.0.0:10110 --downstream-addr 239.1.2.3:10110 --tee | grep GGA\n"
    "  # a TCP stream cut into MPEG-TS-sized datagrams for UDP receivers\n"
    "  ndproxy --listen_addr tcp://0.0.0.0:9921 --downstream_addr 239.1.2.3:9923 --datagram-size 1316\n"
    "  # a syslog relay: what local programs log to /dev/log goes to a log host\n"
    "  ndproxy --listen_addr unixgram:///dev/log --downstream_addr udp://loghost:514\n";

constexpr std::size_t kMaxDatagram = 65507;  // the IPv4 UDP payload limit

cxxopts::Options proxy_options(const std::string& program) {
  cxxopts::Options options = make_options(program, kHelp);
  options.add_options()
      ("listen-addr,listen_addr", "receive on this endpoint (required, repeatable): [udp://]host:port or "
                                  "group:port, tcp://host:port, unix:///path, unixgram:///path",
       cxxopts::value<std::vector<std::string>>(), "ENDPOINT")
      ("downstream-addr,downstream_addr", "forward to this endpoint (required, repeatable); a tcp:// or unix:// "
                                          "one receives the payloads concatenated",
       cxxopts::value<std::vector<std::string>>(), "ENDPOINT")
      ("datagram-size,datagram_size", "a stream listen address's bytes become datagrams of at most this many "
                                      "bytes (default 8192)", cxxopts::value<std::string>(), "N")
      ("max-clients,max_clients", "stream connections at once per tcp:// or unix:// listen address (default 256)",
       cxxopts::value<std::string>(), "N")
      ("t,tee", "copy every datagram's payload to stdout; a reader more than 1 MiB behind loses whole "
                "datagrams (counted), it never holds up the downstreams");
  add_socket_options(options, {.listens = true, .sends = true});
  add_multicast_options(options, {.listens = true, .sends = true});
  add_stream_options(options, true);
  add_send_framing_options(options, SendInput::kDatagrams);
  return options;
}

// The addresses of the endpoints that carry datagrams, or of those that carry streams.
std::vector<net::Address> addresses(const std::vector<stage::Endpoint>& endpoints, bool streams) {
  std::vector<net::Address> found;
  for (const stage::Endpoint& endpoint : endpoints)
    if (endpoint.stream() == streams) found.push_back(endpoint.address);
  return found;
}

bool same_address(const net::Address& a, const net::Address& b) {
  return a.length() == b.length() && std::memcmp(a.get(), b.get(), a.length()) == 0;
}

// A downstream that is one of our own listen addresses sends every datagram
// back to this proxy, which forwards it again: one datagram loops forever at
// full speed (632,191 datagrams in a second were seen).
void refuse_loops(const std::vector<net::Address>& listens, const std::vector<net::Address>& downstreams) {
  for (const net::Address& downstream : downstreams)
    for (const net::Address& listen : listens)
      if (same_address(downstream, listen))
        throw net::UsageError("--downstream-addr " + downstream.to_string() + " is also a --listen-addr " +
                              listen.to_string() + ": every datagram would come back to this proxy and loop forever");
}

// The same loop through a wildcard listen socket: a downstream on this host
// at its port (listen 0.0.0.0:P, downstream 127.0.0.1:P) may reach it too.
// Only a warning: --allow, --bind-device or another socket may make it fine.
void warn_possible_loops(const std::vector<net::Address>& listens, const std::vector<net::Address>& downstreams) {
  for (const net::Address& downstream : downstreams) {
    if (!net::is_local_address(downstream)) continue;
    for (const net::Address& listen : listens) {
      // [::] listens on IPv6 only; a bare port (both_families) takes IPv4 too.
      bool family_matches = listen.family() == downstream.family() || listen.both_families();
      if (listen.port() == downstream.port() && listen.is_unspecified() && family_matches)
        spdlog::warn("--downstream-addr {} is an address of this host at the port of --listen-addr {}: if that "
                     "socket receives what is forwarded there, every datagram loops back to this proxy",
                     downstream.to_string(), listen.to_string());
    }
  }
}

}  // namespace

int proxy_main(int argc, char** argv, Run run) {
  cxxopts::Options options = proxy_options(argv[0]);
  cxxopts::ParseResult args;
  if (!parse(options, argc, argv, args)) return 0;
  Monitoring monitor = monitoring(args, argv[0]);

  // Check the whole command line before opening anything.
  auto listens = stage::parse_endpoints(required_list(args, "listen-addr"), stage::Role::kListen, "listen-addr");
  auto downstreams =
      stage::parse_endpoints(required_list(args, "downstream-addr"), stage::Role::kSend, "downstream-addr");
  auto chunk = static_cast<std::size_t>(number(args, "datagram-size", 8192, 1, kMaxDatagram));
  stage::InputSettings inputs = input_settings(args, chunk);
  read_send_framing(args, SendInput::kDatagrams, inputs.framing);
  stage::OutputSettings outputs;
  outputs.sockets = inputs.sockets;
  outputs.gso = gso_enabled(args);
  outputs.stream_buffer = bytes_option(args, "stream-buffer", 4 << 20, 65536, 1 << 30);
  outputs.reconnect_timeout = reconnect_timeout(args);
  bool tee = args.count("tee") > 0;
  for (bool streams : {false, true}) {
    refuse_loops(addresses(listens, streams), addresses(downstreams, streams));
    if (run == Run::kForReal) warn_possible_loops(addresses(listens, streams), addresses(downstreams, streams));
  }

  if (run == Run::kCheckOnly) return 0;

  // Each input gets its own sending sockets and connections: threads share nothing.
  stage::Control control;
  outputs.control = &control;
  auto to_downstreams = [&outputs, &downstreams] { return stage::open_outputs(downstreams, outputs); };
  std::vector<std::unique_ptr<stage::Worker>> workers;
  for (const stage::Endpoint& listen : listens) workers.push_back(open_listener(listen, inputs, to_downstreams, tee));
  for (const stage::Endpoint& downstream : downstreams) spdlog::info("forwarding to {}", downstream.to_string());

  // One thread per listen socket (and per stream connection), until a signal stops them.
  return run_workers(control, workers, OnHangup::kNothingToReopen, monitor);
}

}  // namespace netdisp::modes
