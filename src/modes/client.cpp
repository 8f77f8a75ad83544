// client: stream a file, device, fifo or stdin to every --server_addr, then exit.
//   FileSource(--path) --batch--> sinks of every server (scheme table) [+ StdoutSink]   one thread
// A stream destination (tcp://, unix://) takes the input at its own pace:
// the file is read only as fast as the slowest of them, and the others get
// that pace too.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>

#include "modes/common.h"
#include "modes/framing.h"
#include "modes/modes.h"
#include "modes/progress.h"
#include "modes/supervisor.h"
#include "net/error.h"
#include "stage/file_source.h"
#include "stage/pipe.h"
#include "stage/schemes.h"
#include "stage/stdout_sink.h"

namespace netdisp::modes {
namespace {

constexpr const char* kHelp =
    "Stream a file, device, fifo or stdin to UDP, TCP or Unix-socket servers, then exit.\n"
    "\n"
    "UDP destinations get datagrams of --datagram-size bytes, tcp:// and unix:// ones a byte\n"
    "stream. Exit 0 at end of input when nothing is known lost, 1 otherwise, 128 + N when\n"
    "signal N stopped it first.\n"
    "\n"
    "Examples:\n"
    "  # a file to two servers, over IPv4 and IPv6\n"
    "  ndclient --path /var/log/syslog --server_addr 127.0.0.1:9921 --server_addr [::1]:9921\n"
    "  # a pipeline (--tee): new lines of app.log go to a server and on down the pipe\n"
    "  tail -F app.log | ndclient --path - --server-addr logs.example:9921 --tee | grep ERROR\n"
    "  # over TCP: lossless, reconnecting after a break\n"
    "  ndclient --path big.img --server-addr tcp://10.0.0.5:9921\n"
    "  # to a multicast group through eth0, one line per datagram\n"
    "  ndclient --path app.log --lines=1 --server-addr 239.1.2.3:514 --multicast-if eth0\n";

constexpr std::size_t kMaxPayloadV4 = 65507;  // 65535 - 20 (IPv4 header) - 8 (UDP header)
constexpr std::size_t kMaxPayloadV6 = 65527;  // 65535 - 8 (UDP header); the IPv6 header is not counted

cxxopts::Options client_options(const std::string& program) {
  cxxopts::Options options = make_options(program, kHelp);
  options.add_options()
      ("path", "file, device, fifo or - for stdin (required)", cxxopts::value<std::string>(), "PATH")
      ("server-addr,server_addr", "send to this endpoint (required, repeatable): [udp://]host:port or "
                                  "group:port, tcp://host:port, unix:///path, unixgram:///path",
       cxxopts::value<std::vector<std::string>>(), "ENDPOINT")
      ("t,tee", "copy the input to stdout; a slow reader slows the transfer down, as with tee(1)")
      ("datagram-size,datagram_size", "bytes per datagram (default 8192)", cxxopts::value<std::string>(), "N")
      ("rate", "send at most this many bits per second, e.g. 800M (default: as fast as possible)",
       cxxopts::value<std::string>(), "BITS")
      ("linger", "at end of input, wait up to MS milliseconds for late 'port unreachable' reports (default 200, "
       "0: no wait)", cxxopts::value<std::string>(), "MS")
      ("ignore-send-errors", "exit 0 at end of input even when a destination refused or a send failed")
      ("expect", "norm:// destinations: exit 0 only when N receivers acknowledged the whole stream, else 1 after "
       "--expect-timeout naming who did not (default none: linger up to 5 s for repairs)",
       cxxopts::value<std::string>(), "N")
      ("expect-timeout,expect_timeout", "seconds --expect waits for the acknowledgements after end of input "
       "(default 30)", cxxopts::value<std::string>(), "S");
  add_socket_options(options, {.sends = true});
  add_multicast_options(options, {.sends = true});
  add_stream_options(options, false);
  add_send_framing_options(options, SendInput::kRead);
  add_progress_options(options);
  return options;
}

// The largest payload every datagram destination can carry in one datagram.
std::size_t datagram_size(const cxxopts::ParseResult& args, const std::vector<stage::Endpoint>& servers) {
  bool any_v4 = false;
  for (const stage::Endpoint& server : servers) any_v4 |= !server.stream() && server.address.family() == AF_INET;
  std::size_t limit = any_v4 ? kMaxPayloadV4 : kMaxPayloadV6;
  std::string text = single(args, "datagram-size", "8192");
  std::size_t size = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
  if (ec != std::errc() || end != text.data() + text.size())
    throw net::UsageError("--datagram-size " + text + ": not a number of bytes");
  if (size == 0) throw net::UsageError("--datagram-size 0: must be at least 1");
  if (size > limit)
    throw net::UsageError("--datagram-size " + std::to_string(size) + ": above the " + (any_v4 ? "IPv4" : "IPv6") +
                          " UDP payload limit of " + std::to_string(limit) + " bytes");
  return size;
}

// --expect N: receivers acknowledging the whole stream, a NORM sender's
// feature (its watermark); no other scheme can count its receivers.
void read_expect(const cxxopts::ParseResult& args, const std::vector<stage::Endpoint>& servers,
                 stage::OutputSettings& outputs) {
  if (!args.count("expect")) {
    if (args.count("expect-timeout")) throw net::UsageError("--expect-timeout is for --expect");
    return;
  }
  for (const stage::Endpoint& server : servers)
    if (server.to_string().rfind("norm://", 0) != 0)
      throw net::UsageError("--expect counts NORM receivers: " + server.to_string() + " is not a norm:// destination");
  outputs.expect_receivers = static_cast<std::size_t>(number(args, "expect", 0, 1, 100000));
  outputs.expect_timeout = std::chrono::milliseconds(static_cast<long>(number(args, "expect-timeout", 30, 0.1, 86400) * 1000));
}

// At end of input: exit 1 when a destination is known to have lost data,
// naming each one on stderr (printed whatever the log level).
int exit_for_losses(const std::vector<std::string>& losses) {
  for (const std::string& loss : losses)
    std::fprintf(stderr, "ndclient: %s; exit 1 (--ignore-send-errors to exit 0)\n", loss.c_str());
  return losses.empty() ? 0 : 1;
}

// Says how far the transfer got; the status is the shell's for that signal.
int interrupted(const stage::FileSource& input, std::uint64_t sent, int signal) {
  std::string of = input.total_size() ? fmt::format(" of {}", *input.total_size()) : "";
  report(fmt::format("interrupted by {} after {}{} bytes; exit {}", net::signal_name(signal), sent, of, 128 + signal));
  return 128 + signal;
}

}  // namespace

int client_main(int argc, char** argv, Run run) {
  cxxopts::Options options = client_options(argv[0]);
  cxxopts::ParseResult args;
  if (!parse(options, argc, argv, args)) return 0;
  Monitoring monitor = monitoring(args, argv[0]);

  // Check the whole command line before opening anything.
  std::string path = required(args, "path");
  auto servers = stage::parse_endpoints(required_list(args, "server-addr"), stage::Role::kSend, "server-addr");
  std::size_t size = datagram_size(args, servers);
  double rate = args.count("rate") ? parse_rate(single(args, "rate", "")) : 0;
  stage::OutputSettings outputs;
  outputs.sockets = socket_options(args);
  outputs.gso = gso_enabled(args);
  outputs.wait_for_streams = true;  // reading a file: lossless backpressure
  outputs.datagram_size = size;
  outputs.linger = std::chrono::milliseconds(static_cast<long>(number(args, "linger", 200, 0, 60000)));
  outputs.reconnect_timeout = reconnect_timeout(args);
  read_expect(args, servers, outputs);
  bool ignore_send_errors = args.count("ignore-send-errors") > 0;
  stage::Framing framing;
  read_send_framing(args, SendInput::kRead, framing);
  bool progress = progress_wanted(args);

  if (run == Run::kCheckOnly) return 0;

  // Open the input and the sending sockets; failures here exit 1 with the reason.
  stage::Control control;
  auto file = std::make_unique<stage::FileSource>(path, size, stage::reader_flush_after(framing));
  const stage::FileSource& input = *file;  // asked after the run whether it reached the end
  std::unique_ptr<stage::Source> source = stage::frame_lines_out(std::move(file), framing, size);
  outputs.control = &control;
  std::vector<std::unique_ptr<stage::Sink>> sinks = stage::open_outputs(servers, outputs);
  // --tee waits for a slow reader like tee(1), but not past a stop request.
  if (args.count("tee")) sinks.push_back(std::make_unique<stage::StdoutSink>(control));
  stage::Pipe pipe(std::move(source), std::move(sinks));
  if (rate > 0) pipe.set_rate(rate / 8);

  // Stream until end of input or a signal.
  Supervisor supervisor(control, OnHangup::kStop, monitor);
  for (const stage::Endpoint& server : servers) spdlog::info("sending {} to {}", path, server.to_string());
  // The live progress line (modes/progress.h): drawn by the supervisor, erased when it ends.
  std::optional<ProgressLine> line;
  if (progress) line.emplace(supervisor, pipe, input.total_size());
  supervisor.spawn("client", [&] { pipe.run(control); });
  int code = supervisor.run([&] {
    stage::StatsRows rows;
    pipe.report(rows);
    return rows;
  });
  // Stopped by a signal before the end of input: not a finished transfer.
  if (code == 0 && supervisor.stop_signal() && !input.reached_end())
    return interrupted(input, pipe.delivered_bytes(), supervisor.stop_signal());
  if (code != 0) return code;
  // Every destination failed for good (a stream one gave up reconnecting)
  // before the end of input: the transfer did not happen, whatever
  // --ignore-send-errors says.
  if (!input.reached_end()) {
    report(fmt::format("stopped after {} bytes: no destination is left", pipe.delivered_bytes()));
    return std::max(1, exit_for_losses(pipe.undelivered()));
  }
  // Reached end of input (a stop during the linger too): was anything lost?
  return ignore_send_errors ? 0 : exit_for_losses(pipe.undelivered());
}

}  // namespace netdisp::modes
