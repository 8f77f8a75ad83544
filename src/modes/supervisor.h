#pragma once
// Supervisor: the main thread of every mode. It starts one thread per worker
// (a pipe, an acceptor) and then waits for signals. SIGINT/SIGTERM stop every
// worker; SIGHUP asks file sinks to reopen; SIGUSR1 prints the counters.
// When every worker has finished (the client at EOF) it returns by itself.
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "net/unique_fd.h"
#include "stage/control.h"

namespace netdisp::modes {

// Must run in main() before any thread exists: the handled signals are
// blocked everywhere and read from a signalfd; SIGPIPE is ignored so a closed
// peer is an EPIPE to count, never a dead process.
void block_signals();

class Supervisor {
 public:
  using Stats = std::function<std::vector<std::string>()>;

  explicit Supervisor(stage::Control& control);
  ~Supervisor();

  // Runs `body` on its own thread. An exception from it is logged under
  // `name`, stops the other workers and makes run() return 1.
  void spawn(std::string name, std::function<void()> body);

  // Waits as described above, joins every worker, prints the summary.
  // Returns the exit code: 0, or 1 when a worker failed.
  int run(const Stats& stats);

 private:
  void finished(bool failed);
  void print(const Stats& stats, const char* title);

  stage::Control& control_;
  net::UniqueFd signals_;
  net::UniqueFd done_;  // eventfd: a worker finished
  std::vector<std::thread> threads_;
  std::atomic<int> running_{0};
  std::atomic<bool> failed_{false};
};

}  // namespace netdisp::modes
