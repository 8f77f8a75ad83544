#pragma once
// The four modes. Each takes the command line with argv[0] naming the mode
// ("ndclient"), returns the exit code, and throws net::UsageError (exit 2) or
// another exception (exit 1) for setup failures; main() maps those.

namespace netdisp::modes {

int client_main(int argc, char** argv);
int proxy_main(int argc, char** argv);
int reverse_proxy_main(int argc, char** argv);
int server_main(int argc, char** argv);

}  // namespace netdisp::modes
