// server: append everything received on every --listen_addr to log files.
//   per --listen_addr (udp, unixgram): UdpSource(listen) --batch--> FileSink(log file) [+ StdoutSink]   one thread each
//   per --listen_addr (tcp, unix): acceptor; per connection: StreamSource --batch--> FileSink [+ StdoutSink]
// One listen address writes --path itself; several write one file each (log_name.h).
#include <spdlog/spdlog.h>

#include "modes/common.h"
#include "modes/framing.h"
#include "modes/log_name.h"
#include "modes/modes.h"
#include "net/error.h"
#include "stage/file_sink.h"
#include "stage/schemes.h"
#include "stage/stdout_sink.h"

namespace netdisp::modes {
namespace {

// A stream connection's bytes are appended in reads of up to this much.
constexpr std::size_t kStreamChunk = 64 << 10;

constexpr const char* kHelp =
    "Append everything received on UDP, TCP or Unix sockets to log files, until stopped.\n"
    "\n"
    "Payloads are written unchanged (--lines: whole lines). A tcp:// or unix:// listen address\n"
    "takes any number of senders, one thread each. SIGINT/SIGTERM stop it (exit 0), SIGHUP\n"
    "reopens the files (for logrotate), SIGUSR1 prints the counters.\n"
    "With several --listen_addr, each writes its own file: the address goes before --path's\n"
    "extension, '[' and ']' removed, characters other than letters, digits, '.' and '-' made '_':\n"
    "  --path logs/app.log --listen_addr 0.0.0.0:9921 --listen_addr [::1]:9922\n"
    "  writes logs/app.0.0.0.0_9921.log and logs/app.__1_9922.log\n"
    "--path - writes everything received, on every --listen_addr, to stdout instead: a reader\n"
    "more than 1 MiB behind loses whole datagrams (counted), it never holds up the sockets.\n"
    "\n"
    "Examples:\n"
    "  # a log server for UDP and TCP senders: app.0.0.0.0_9921.log, app.tcp___0.0.0.0_9921.log\n"
    "  ndserver --path logs/app.log --listen-addr 0.0.0.0:9921 --listen-addr tcp://0.0.0.0:9921\n"
    "  # syslog over UDP, whole lines prefixed with time and sender; errors shown live (--tee)\n"
    "  ndserver --path logs/syslog.log --listen-addr 0.0.0.0:514 --lines --prefix time,peer --tee \\\n"
    "      | grep --line-buffered error\n"
    "  # a multicast group joined on eth1\n"
    "  ndserver --path logs/mc.log --listen-addr 239.1.2.3:5000 --multicast-if eth1\n";

cxxopts::Options server_options(const std::string& program) {
  cxxopts::Options options = make_options(program, kHelp);
  options.add_options()
      ("path", "log file to append to, or - for stdout (required; created if missing, never truncated)",
       cxxopts::value<std::string>(), "FILE")
      ("listen-addr,listen_addr", "receive on this endpoint (required, repeatable): [udp://]host:port or "
                                  "group:port, tcp://host:port, unix:///path, unixgram:///path",
       cxxopts::value<std::vector<std::string>>(), "ENDPOINT")
      ("max-clients,max_clients", "stream connections at once per tcp:// or unix:// listen address; more are "
                                  "closed at once (default 256)", cxxopts::value<std::string>(), "N")
      ("t,tee", "copy everything received to stdout; a reader more than 1 MiB behind loses whole datagrams "
                "(counted), it never holds up the log file")
      ("exit-on-write-error,exit_on_write_error", "exit 1 when the log file cannot be written (default: keep "
                                                  "receiving, count the loss, retry)");
  add_receive_framing_options(options, /*stream_inputs=*/true);
  add_socket_options(options, {.listens = true});
  add_multicast_options(options, {.listens = true});
  return options;
}

// One file per listen address (log_name.h); two addresses may not share one.
std::vector<std::string> log_files(const std::string& path, const std::vector<std::string>& texts) {
  std::vector<std::string> files;
  for (const std::string& text : texts) {
    std::string file = texts.size() == 1 ? path : log_path_for(path, text);
    for (const std::string& earlier : files)
      if (earlier == file) throw net::UsageError("--listen-addr " + text + " would share the log file " + file);
    files.push_back(file);
  }
  return files;
}

}  // namespace

int server_main(int argc, char** argv, Run run) {
  cxxopts::Options options = server_options(argv[0]);
  cxxopts::ParseResult args;
  if (!parse(options, argc, argv, args)) return 0;
  Monitoring monitor = monitoring(args, argv[0]);

  // Check the whole command line before opening anything.
  std::string path = required(args, "path");
  std::vector<std::string> texts = required_list(args, "listen-addr");
  auto endpoints = stage::parse_endpoints(texts, stage::Role::kListen, "listen-addr");
  stage::InputSettings inputs = input_settings(args, kStreamChunk);
  read_receive_framing(args, inputs.framing);
  bool tee = args.count("tee") > 0;
  bool exit_on_write_error = args.count("exit-on-write-error") > 0;
  bool to_stdout = path == "-";  // as "-" means stdin for the client
  if (to_stdout && tee) throw net::UsageError("--tee with --path -: everything already goes to stdout");
  if (to_stdout && exit_on_write_error)
    throw net::UsageError("--exit-on-write-error is for log files; --path - writes to stdout");
  std::vector<std::string> files = to_stdout ? std::vector<std::string>{} : log_files(path, texts);

  if (run == Run::kCheckOnly) return 0;

  // Bind every socket and open every file first, so a failure exits before any data is taken.
  // A stream listener opens the file again for each connection (O_APPEND).
  stage::Control control;
  std::vector<std::unique_ptr<stage::Worker>> workers;
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    if (to_stdout) {
      auto to_stdout_only = [] {
        std::vector<std::unique_ptr<stage::Sink>> sinks;
        sinks.push_back(std::make_unique<stage::StdoutSink>());
        return sinks;
      };
      workers.push_back(open_listener(endpoints[i], inputs, to_stdout_only, false, "stdout"));
      continue;
    }
    stage::open_for_append(files[i]);
    auto to_file = [&control, file = files[i], exit_on_write_error] {
      std::vector<std::unique_ptr<stage::Sink>> sinks;
      sinks.push_back(std::make_unique<stage::FileSink>(file, control, exit_on_write_error));
      return sinks;
    };
    workers.push_back(open_listener(endpoints[i], inputs, to_file, tee, "file " + files[i]));
  }

  // One thread per listen socket (and per stream connection), until a signal stops them.
  return run_workers(control, workers, to_stdout ? OnHangup::kNothingToReopen : OnHangup::kReopen, monitor);
}

}  // namespace netdisp::modes
