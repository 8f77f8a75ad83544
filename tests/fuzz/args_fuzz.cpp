// <mode>_args_fuzz: one mode's command line through its <mode>_main with
// Run::kCheckOnly, which parses and validates it exactly like the mode but
// opens nothing. The input is the arguments after argv[0], separated by NUL
// bytes; ND_FUZZ_MODE and ND_FUZZ_MAIN (set by meson.build) name the mode.
// Properties:
//   - only net::UsageError (exit 2) or net::Error (exit 1, e.g. a name that
//     does not resolve) come out: any other exception would reach main() as
//     a runtime failure with a message the user cannot act on, so it breaks;
//   - success returns 0;
//   - no file descriptor is left open.
#include <unistd.h>

#include <exception>

#include "fuzz_util.h"
#include "modes/modes.h"
#include "net/error.h"

using namespace netdisp;

namespace {

// The lowest free descriptor: it moves when a call leaves one open.
int lowest_free_fd() {
  int fd = ::dup(2);
  ::close(fd);
  return fd;
}

std::string shown(const std::vector<std::string>& args) {
  std::string line = "nd" ND_FUZZ_MODE;
  for (const std::string& arg : args) line += " '" + fuzz::printable(arg) + "'";
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args = fuzz::split(fuzz::as_text(data, size), '\0');
  std::string program = "nd" ND_FUZZ_MODE;
  std::vector<char*> argv{program.data()};
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int fd_before = lowest_free_fd();
  try {
    int rc = modes::ND_FUZZ_MAIN(static_cast<int>(argv.size() - 1), argv.data(), modes::Run::kCheckOnly);
    FUZZ_EXPECT(rc == 0, shown(args) + ": check returned " + std::to_string(rc));
  } catch (const net::UsageError&) {
  } catch (const net::Error&) {
  } catch (const std::exception& e) {
    fuzz::broken(shown(args) + ": unexpected exception: " + e.what());
  }
  FUZZ_EXPECT(lowest_free_fd() == fd_before, shown(args) + ": a file descriptor was left open");
  return 0;
}
