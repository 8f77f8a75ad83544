// reverse-proxy: any number of TCP clients subscribe to a UDP stream, routed
// through a multicast channel, so client threads share nothing and several
// reverse-proxies (processes or hosts) can serve clients from one upstream.
//   per --udp_listen_addr: its input (scheme table: a UDP socket, or one pipe per
//     tcp:// / unix:// connection, cut into 8192-byte datagrams) --batch--> UdpSink(--multicast_addr) [+ StdoutSink]
//   per --tcp_listen_addr: TcpAcceptor; per client: UdpSource(join group) --batch--> TcpSink(client)
#include <spdlog/spdlog.h>

#include "modes/common.h"
#include "modes/framing.h"
#include "modes/modes.h"
#include "modes/supervisor.h"
#include "net/error.h"
#include "stage/framing.h"
#include "stage/pipe.h"
#include "stage/schemes.h"
#include "stage/tcp_acceptor.h"
#include "stage/tcp_sink.h"
#include "stage/udp_source.h"

namespace netdisp::modes {
namespace {

constexpr const char* kHelp =
    "Let TCP clients subscribe to a UDP stream through a multicast channel, any number of them.\n"
    "\n"
    "Datagrams received on --udp_listen_addr are sent to the --multicast_addr group; every TCP\n"
    "client (nc, socat, ...) gets its own socket joined to that group and receives the payloads\n"
    "concatenated, from the moment it connects. A client too slow to keep up loses datagrams\n"
    "(counted), never the others. Runs until SIGINT/SIGTERM (exit 0).\n"
    "\n"
    "Examples:\n"
    "  # TCP clients ('nc HOST 9921') subscribe to a UDP stream, through a group on eth0\n"
    "  ndreverse-proxy --udp_listen_addr 0.0.0.0:9921 --tcp_listen_addr 0.0.0.0:9921 \\\n"
    "                  --multicast_addr 239.255.0.1:9922 --multicast-if eth0\n"
    "  # an upstream fed over TCP (ffmpeg, socat, ndclient tcp://) instead of UDP\n"
    "  ndreverse-proxy --udp_listen_addr tcp://0.0.0.0:9920 --tcp_listen_addr 0.0.0.0:9921 \\\n"
    "                  --multicast_addr 239.255.0.1:9922\n"
    "  # a second host serving the same channel to its own clients, and playing it (--tee)\n"
    "  ndreverse-proxy --tcp_listen_addr 0.0.0.0:9921 --multicast_addr 239.255.0.1:9922 --tee | ffplay -\n"
    "  # the channel on a NATS cluster: reverse-proxies in any network serve one upstream\n"
    "  ndreverse-proxy --tcp_listen_addr 0.0.0.0:9921 --channel nats://n1:4222,n2:4222/live.feed\n";

constexpr int kClientRcvbuf = 4 << 20;
// A stream upstream (tcp://, unix://) is cut into datagrams of this size for the channel.
constexpr std::size_t kUpstreamChunk = 8192;  // per client socket: a burst while its TCP peer catches up

cxxopts::Options reverse_proxy_options(const std::string& program) {
  cxxopts::Options options = make_options(program, kHelp);
  options.add_options()
      ("tcp-listen-addr,tcp_listen_addr", "accept TCP clients on this host:port (required, repeatable)",
       cxxopts::value<std::vector<std::string>>(), "ADDR")
      ("multicast-addr,multicast_addr,channel", "the channel (required; also --channel): a multicast "
                                                "group:port, or a norm:// or nats:// endpoint "
                                                "(nats://host:port/SUBJECT: reverse-proxies anywhere serve "
                                                "the subject)",
       cxxopts::value<std::string>(), "CHANNEL")
      ("udp-listen-addr,udp_listen_addr", "receive the upstream on this endpoint and send it to the group "
                                          "(repeatable): [udp://]host:port, tcp://host:port, unix:///path "
                                          "(default: none, others send to the group)",
       cxxopts::value<std::vector<std::string>>(), "ENDPOINT")
      ("t,tee", "copy the stream to stdout; a reader more than 1 MiB behind loses whole datagrams (counted), "
                "it never holds up the stream")
      ("max-clients,max_clients", "TCP clients at once; more are closed at once (default 256)",
       cxxopts::value<std::string>(), "N")
      ("client-timeout,client_timeout", "disconnect a client that could not be written to for this long "
                                        "(default 30)", cxxopts::value<std::string>(), "SECONDS")
      ("client-buffer,client_buffer", "bytes kept for a slow client before its datagrams are dropped "
                                      "(default 1M)", cxxopts::value<std::string>(), "BYTES");
  add_socket_options(options, {.listens = true, .sends = true});
  add_multicast_options(options, {.listens = true, .sends = true});
  add_receive_framing_options(options, /*stream_inputs=*/false);  // for the subscribers
  return options;
}

// The channel, as a destination (upstreams send to it); every subscriber
// reads it on its own: a socket joined to the multicast group, or its own
// receiver of a norm:// session or nats:// subject.
stage::Endpoint channel_endpoint(const cxxopts::ParseResult& args) {
  std::string text = required(args, "multicast-addr");
  stage::Endpoint channel = stage::parse_endpoint(text, stage::Role::kSend, "multicast-addr");
  if (!channel.channel())
    throw net::UsageError("--multicast-addr " + text +
                          " is not a multicast group (224.0.0.0/4 or ff00::/8), nor a norm:// or nats:// channel");
  return channel;
}

struct ClientSettings {
  stage::Endpoint channel;
  stage::InputSettings inputs;  // how each subscriber reads the channel
  net::SocketOptions sockets;
  std::chrono::milliseconds timeout;
  std::size_t buffer;
  stage::Framing framing;  // --lines, --prefix: what each subscriber receives
};

// The pipe of one subscriber: its own socket joined to the group, into its TCP connection.
std::unique_ptr<stage::Pipe> subscriber_pipe(const ClientSettings& settings, net::Accepted client) {
  auto source = stage::frame_lines_out(stage::open_source(settings.channel, settings.inputs), settings.framing,
                                       kUpstreamChunk);
  std::vector<std::unique_ptr<stage::Sink>> sinks;
  sinks.push_back(std::make_unique<stage::TcpSink>(std::move(client.fd), client.peer, settings.timeout, settings.buffer));
  sinks = stage::frame_sinks(std::move(sinks), settings.framing);
  auto pipe = std::make_unique<stage::Pipe>(std::move(source), std::move(sinks));
  pipe->set_peer(client.peer.to_string());  // every client's pipe reads the same group
  pipe->set_drain_timeout(settings.sockets.drain_seconds);
  return pipe;
}

}  // namespace

int reverse_proxy_main(int argc, char** argv, Run run) {
  cxxopts::Options options = reverse_proxy_options(argv[0]);
  cxxopts::ParseResult args;
  if (!parse(options, argc, argv, args)) return 0;
  Monitoring monitor = monitoring(args, argv[0]);

  // Check the whole command line before opening anything.
  stage::Endpoint channel = channel_endpoint(args);
  ClientSettings settings{channel, {}, socket_options(args), {}, 0, {}};
  read_receive_framing(args, settings.framing);
  settings.inputs.sockets = settings.sockets;
  settings.inputs.sockets.rcvbuf = std::min(settings.sockets.rcvbuf, kClientRcvbuf);
  // The group's port is shared through SO_REUSEADDR, set for every group listener.
  settings.inputs.sockets.reuse_port = false;
  settings.inputs.framing = settings.framing;
  auto tcp_listens = parse_addresses(required_list(args, "tcp-listen-addr"), net::PortRule::kZeroAllowed,
                                     "tcp-listen-addr");
  std::vector<std::string> upstream_texts;
  if (args.count("udp-listen-addr")) upstream_texts = args["udp-listen-addr"].as<std::vector<std::string>>();
  auto upstreams = stage::parse_endpoints(upstream_texts, stage::Role::kListen, "udp-listen-addr");
  double timeout = number(args, "client-timeout", 30, 0.001, 86400);
  settings.timeout = std::chrono::milliseconds(static_cast<long>(timeout * 1000));
  settings.buffer = static_cast<std::size_t>(bytes_option(args, "client-buffer", 1 << 20, 65536, 1 << 30));
  stage::InputSettings inputs = input_settings(args, kUpstreamChunk);
  stage::OutputSettings outputs;
  outputs.sockets = settings.sockets;
  outputs.gso = gso_enabled(args);
  bool tee = args.count("tee") > 0;

  if (run == Run::kCheckOnly) return 0;

  // Upstream: each --udp_listen_addr (or a tcp://, unix:// one) feeds the
  // group. With --tee and no upstream of our own, a member of the group
  // copies the channel to stdout.
  stage::Control control;
  std::vector<std::unique_ptr<stage::Worker>> workers;
  auto to_group = [&outputs, &channel] { return stage::open_outputs({channel}, outputs); };
  for (const stage::Endpoint& upstream : upstreams) workers.push_back(open_listener(upstream, inputs, to_group, tee));
  if (tee && upstreams.empty()) {
    auto nothing = [] { return std::vector<std::unique_ptr<stage::Sink>>{}; };
    stage::InputSettings member = inputs;
    member.allow = {};
    workers.push_back(open_listener(channel, member, nothing, true));
  }

  // Downstream: one acceptor per --tcp_listen_addr, one thread per client.
  for (const net::Address& listen : tcp_listens) {
    net::TcpListener listener = net::open_tcp_listener(listen, settings.sockets);
    spdlog::info("listening on tcp {} for subscribers of {}", listener.bound.to_string(), channel.to_string());
    workers.push_back(std::make_unique<stage::TcpAcceptor>(
        std::move(listener), inputs.allow, inputs.max_clients,
        [&settings](net::Accepted client) { return subscriber_pipe(settings, std::move(client)); }));
  }

  // Run until a signal stops every thread.
  return run_workers(control, workers, OnHangup::kNothingToReopen, monitor);
}

}  // namespace netdisp::modes
