// proxy: every datagram received on a --listen_addr goes, unchanged and in
// order, to every --downstream_addr.
//   per --listen_addr: UdpSource(listen) --batch--> UdpSink(every downstream) [+ StdoutSink]   one thread each
#include <spdlog/spdlog.h>

#include <cstring>

#include "modes/common.h"
#include "modes/modes.h"
#include "net/error.h"
#include "stage/pipe.h"
#include "stage/udp_sink.h"

namespace netdisp::modes {
namespace {

constexpr const char* kHelp =
    "Forward every UDP datagram received on the --listen_addr sockets (unicast, or multicast\n"
    "groups to join) to every --downstream_addr (unicast, multicast or broadcast), unchanged.\n"
    "A dead downstream is counted and logged, and never stops delivery to the others.\n"
    "  ndproxy --listen_addr 0.0.0.0:9921 --downstream_addr [::1]:9922 --downstream_addr 239.1.2.3:9923";

cxxopts::Options proxy_options(const std::string& program) {
  cxxopts::Options options = make_options(program, kHelp);
  options.add_options()
      ("listen-addr,listen_addr", "receive on this host:port or multicast group:port (required, repeatable)",
       cxxopts::value<std::vector<std::string>>(), "ADDR")
      ("downstream-addr,downstream_addr", "forward to this host:port (required, repeatable)",
       cxxopts::value<std::vector<std::string>>(), "ADDR")
      ("t,tee", "copy every datagram's payload to stdout; a reader more than 1 MiB behind loses whole "
                "datagrams (counted), it never holds up the downstreams");
  add_socket_options(options, {.listens = true, .sends = true});
  add_multicast_options(options, {.listens = true, .sends = true});
  return options;
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

  // Check the whole command line before opening anything.
  auto listens = parse_addresses(required_list(args, "listen-addr"), net::PortRule::kZeroAllowed, "listen-addr");
  auto downstreams =
      parse_addresses(required_list(args, "downstream-addr"), net::PortRule::kNonZero, "downstream-addr");
  net::SocketOptions sockets = socket_options(args);
  bool gso = gso_enabled(args);
  net::AccessList allow = access_list(args);
  bool tee = args.count("tee") > 0;
  refuse_loops(listens, downstreams);

  if (run == Run::kCheckOnly) return 0;
  warn_possible_loops(listens, downstreams);

  // Each listen thread gets its own sending sockets: threads share nothing.
  std::vector<std::unique_ptr<stage::Pipe>> pipes;
  for (const net::Address& listen : listens)
    pipes.push_back(udp_pipe(listen, sockets, allow, std::make_unique<stage::UdpSink>(downstreams, sockets, gso), tee));
  for (const net::Address& downstream : downstreams) spdlog::info("forwarding to udp {}", downstream.to_string());

  // One thread per listen socket, until a signal stops them.
  stage::Control control;
  return run_pipes(control, pipes, OnHangup::kNothingToReopen);
}

}  // namespace netdisp::modes
