#pragma once
// The four modes. Each takes the command line with argv[0] naming the mode
// ("ndclient"), returns the exit code, and throws net::UsageError (exit 2) or
// another exception (exit 1) for setup failures; main() maps those.
// With Run::kCheckOnly a mode parses and checks its command line exactly as
// it would for real, then returns 0 without opening anything (for fuzzing).
#include <string_view>

namespace netdisp::modes {

enum class Run { kForReal, kCheckOnly };

int client_main(int argc, char** argv, Run run);
int proxy_main(int argc, char** argv, Run run);
int reverse_proxy_main(int argc, char** argv, Run run);
int server_main(int argc, char** argv, Run run);

// check_args("server", argc, argv): the named mode with Run::kCheckOnly.
// Throws net::UsageError for an unknown mode.
int check_args(std::string_view mode, int argc, char** argv);

}  // namespace netdisp::modes
