// netdisp: one executable, four modes. The mode comes from the name it was
// called by (ndclient, ndproxy, ndreverse-proxy, ndserver) or from the first
// argument (netdisp client ...). This file is the mode table and the
// dispatch; it also turns exceptions into one-line errors and exit codes.
#include <array>
#include <cstdio>
#include <string_view>

#include "modes/logging.h"
#include "modes/modes.h"
#include "modes/supervisor.h"
#include "net/error.h"
#include "net/platform.h"
#include "stage/schemes.h"
#include "version.h"

namespace {

using namespace netdisp;

struct Mode {
  std::string_view name;
  std::string_view summary;
  int (*main)(int, char**, modes::Run);
  // Exit status when SIGINT/SIGTERM/SIGHUP stops it while it sets up: the
  // client's transfer did not happen (128 + signal, as shells report it);
  // the long-running modes stop as they always do on a signal (0).
  int stopped_during_setup;
};

constexpr std::array kModes = {
    Mode{"client", "stream a file, device, fifo or stdin to UDP, TCP or Unix-socket servers", modes::client_main,
         modes::kSignalExitCode},
    Mode{"proxy", "forward datagrams from many listen sockets to many destinations", modes::proxy_main, 0},
    Mode{"reverse-proxy", "let TCP clients subscribe to a UDP stream through a multicast channel",
         modes::reverse_proxy_main, 0},
    Mode{"server", "append everything received on UDP, TCP or Unix sockets to log files", modes::server_main, 0},
};

constexpr int kUsage = 2;
constexpr int kRuntime = 1;

void list_modes(std::FILE* out) {
  std::fprintf(out, "usage: netdisp <mode> [options]   (or call it as nd<mode>)\n\nmodes:\n");
  for (const Mode& mode : kModes)
    std::fprintf(out, "  %-14s %.*s\n", mode.name.data(), static_cast<int>(mode.summary.size()), mode.summary.data());
  std::fprintf(out, "\n'netdisp <mode> --help' (or 'netdisp help <mode>') shows a mode's options; "
                   "'netdisp --version' the version.\n");
}

const Mode* find_mode(std::string_view name) {
  for (const Mode& mode : kModes)
    if (mode.name == name) return &mode;
  return nullptr;
}

int unknown_mode(std::string_view name) {
  std::fprintf(stderr, "netdisp: unknown mode '%.*s'\n\n", static_cast<int>(name.size()), name.data());
  list_modes(stderr);
  return kUsage;
}

// The version, which transports this installation can load, and the
// platform flavour (net/platform.h; the e2e tests read it from here).
int print_version() {
  std::printf("netdisp %s\n%s\nplatform: %s\n", NETDISP_VERSION, netdisp::stage::transports_summary().c_str(),
              net::features().flavour);
  return 0;
}

bool is_version_flag(std::string_view arg) { return arg == "--version" || arg == "-V"; }

int run_mode(const Mode& mode, int argc, char** argv) {
  // `ndserver --version` as `netdisp --version`: one binary, one version.
  if (argc == 2 && is_version_flag(argv[1])) return print_version();
  std::string program = "nd" + std::string(mode.name);
  argv[0] = program.data();
  modes::stop_on_signals_during_setup(argv[0], mode.stopped_during_setup);
  modes::set_up_logging(program);
  try {
    return mode.main(argc, argv, modes::Run::kForReal);
  } catch (const net::UsageError& e) {
    modes::print_error(program, e.what());
    return kUsage;
  } catch (const std::exception& e) {
    modes::print_error(program, e.what());
    return kRuntime;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view called = argc > 0 ? argv[0] : "netdisp";
  called = called.substr(called.find_last_of("/\\") + 1);  // or after a Windows '\\'
  if (called.ends_with(".exe")) called.remove_suffix(4);   // ndserver.exe: copies on Windows
  if (called.starts_with("nd"))
    if (const Mode* mode = find_mode(called.substr(2))) return run_mode(*mode, argc, argv);

  std::string_view first = argc > 1 ? argv[1] : "--help";
  if (first == "help" && argc > 2) {
    // netdisp help MODE: the mode's own --help.
    const Mode* mode = find_mode(argv[2]);
    if (!mode) return unknown_mode(argv[2]);
    char help[] = "--help";
    char* args[] = {argv[2], help, nullptr};
    return run_mode(*mode, 2, args);
  }
  if (first == "--help" || first == "-h" || first == "help") {
    list_modes(stdout);
    return 0;
  }
  if (is_version_flag(first)) return print_version();
  if (const Mode* mode = find_mode(first)) return run_mode(*mode, argc - 1, argv + 1);
  return unknown_mode(first);
}
