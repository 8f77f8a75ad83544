// server: append everything received on every --listen_addr to log files.
//   per --listen_addr: UdpSource(listen) --batch--> FileSink(log file) [+ StdoutSink]   one thread each
// One listen address writes --path itself; several write one file each (log_name.h).
#include <spdlog/spdlog.h>

#include "modes/common.h"
#include "modes/log_name.h"
#include "modes/modes.h"
#include "net/error.h"
#include "stage/file_sink.h"
#include "stage/pipe.h"
#include "stage/stdout_sink.h"

namespace netdisp::modes {
namespace {

constexpr const char* kHelp =
    "Append every datagram received on the --listen_addr sockets to log files, unchanged, until\n"
    "SIGINT/SIGTERM. SIGHUP reopens the files (for logrotate); SIGUSR1 prints the counters.\n"
    "With several --listen_addr, each writes its own file: the address goes before --path's\n"
    "extension, with '[' ']' removed and ':' '%' turned into '_':\n"
    "  --path logs/app.log --listen_addr 0.0.0.0:9921 --listen_addr [::1]:9922\n"
    "  writes logs/app.0.0.0.0_9921.log and logs/app.__1_9922.log\n"
    "--path - writes everything received, on every --listen_addr, to stdout instead: a reader\n"
    "more than 1 MiB behind loses whole datagrams (counted), it never holds up the sockets.";

cxxopts::Options server_options(const std::string& program) {
  cxxopts::Options options = make_options(program, kHelp);
  options.add_options()
      ("path", "log file to append to, or - for stdout (required; created if missing, never truncated)",
       cxxopts::value<std::string>(), "FILE")
      ("listen-addr,listen_addr", "receive on this host:port or multicast group:port (required, repeatable)",
       cxxopts::value<std::vector<std::string>>(), "ADDR")
      ("t,tee", "copy everything received to stdout; a reader more than 1 MiB behind loses whole datagrams "
                "(counted), it never holds up the log file")
      ("exit-on-write-error,exit_on_write_error", "exit 1 when the log file cannot be written (default: keep "
                                                  "receiving, count the loss, retry)");
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

  // Check the whole command line before opening anything.
  std::string path = required(args, "path");
  std::vector<std::string> texts = required_list(args, "listen-addr");
  auto addresses = parse_addresses(texts, net::PortRule::kZeroAllowed, "listen-addr");
  net::SocketOptions sockets = socket_options(args);
  net::AccessList allow = access_list(args);
  bool tee = args.count("tee") > 0;
  bool exit_on_write_error = args.count("exit-on-write-error") > 0;
  bool to_stdout = path == "-";  // as "-" means stdin for the client
  if (to_stdout && tee) throw net::UsageError("--tee with --path -: everything already goes to stdout");
  std::vector<std::string> files = to_stdout ? std::vector<std::string>{} : log_files(path, texts);

  if (run == Run::kCheckOnly) return 0;

  // Bind every socket and open every file first, so a failure exits before any data is taken.
  stage::Control control;
  std::vector<std::unique_ptr<stage::Pipe>> pipes;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    if (to_stdout) {
      pipes.push_back(udp_pipe(addresses[i], sockets, allow, std::make_unique<stage::StdoutSink>(), false, "stdout"));
      continue;
    }
    auto file = std::make_unique<stage::FileSink>(files[i], control, exit_on_write_error);
    pipes.push_back(udp_pipe(addresses[i], sockets, allow, std::move(file), tee, "file " + files[i]));
  }

  // One thread per listen socket, until a signal stops them.
  return run_pipes(control, pipes, to_stdout ? OnHangup::kNothingToReopen : OnHangup::kReopen);
}

}  // namespace netdisp::modes
