#pragma once
// The four modes. Each takes the command line with argv[0] naming the mode
// ("ndclient"), returns the exit code, and throws net::UsageError (exit 2) or
// another exception (exit 1) for setup failures; main() maps those.
// With Run::kCheckOnly a mode parses and checks its command line exactly as
// it would for real, then returns 0 without opening anything (for fuzzing).

namespace netdisp::modes {

enum class Run { kForReal, kCheckOnly };

int client_main(int argc, char** argv, Run run);
int proxy_main(int argc, char** argv, Run run);
int reverse_proxy_main(int argc, char** argv, Run run);
int server_main(int argc, char** argv, Run run);

}  // namespace netdisp::modes
