// proxy: every datagram received on a --listen_addr goes, unchanged and in
// order, to every --downstream_addr.
//   per --listen_addr: UdpSource(listen) --batch--> UdpSink(every downstream) [+ StdoutSink]   one thread each
#include <spdlog/spdlog.h>

#include "modes/common.h"
#include "modes/modes.h"
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

  if (run == Run::kCheckOnly) return 0;

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
