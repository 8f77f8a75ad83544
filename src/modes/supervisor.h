#pragma once
// Supervisor: the main thread of every mode. It starts one thread per worker
// (a pipe, an acceptor) and then waits for signals. SIGINT/SIGTERM stop every
// worker; SIGHUP does what the mode says (OnHangup); SIGUSR1 prints the
// counters. When every worker has finished (the client at EOF) it returns by
// itself.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "modes/monitor.h"
#include "net/platform.h"
#include "stage/control.h"
#include "stage/stats.h"

namespace netdisp::modes {

// Runs first in main(). Until a Supervisor exists, the process is setting up
// and may wait in calls no flag can interrupt (opening a fifo that has no
// writer yet, a slow name lookup): SIGINT, SIGTERM and SIGHUP then end it at
// once with one line on stderr and `exit_code`, or 128 + the signal number
// when `exit_code` is kSignalExitCode. SIGPIPE is ignored from here on, so a
// closed peer is an EPIPE to count, never a dead process.
inline constexpr int kSignalExitCode = -1;
void stop_on_signals_during_setup(const char* program, int exit_code);

// Output the user asked for (the summary, SIGUSR1's counters, an exit
// status explained): printed with the log's format whatever -q says.
void report(const std::string& line);

// What SIGHUP means to a mode.
enum class OnHangup {
  kReopen,            // the server: reopen the log files (logrotate)
  kStop,              // the client: a closed terminal ends it, like SIGINT
  kNothingToReopen,   // proxies: say so and go on
};

class MetricsServer;

class Supervisor {
 public:
  using Stats = std::function<stage::StatsRows()>;

  // Blocks the handled signals (every thread started later inherits that)
  // and reads them from a signalfd from now on; binds --metrics-addr
  // (throws net::Error when it cannot). Create it before any thread.
  Supervisor(stage::Control& control, OnHangup on_hangup, const Monitoring& monitoring);
  ~Supervisor();

  // Calls `tick` on the supervisor's thread every `period` while run()
  // waits (the client's progress line). Call before run().
  void every(std::chrono::milliseconds period, std::function<void()> tick);

  // Runs `body` on its own thread. An exception from it is logged under
  // `name`, stops the other workers and makes run() return 1.
  void spawn(std::string name, std::function<void()> body);

  // Waits as described above (printing the counters every
  // --stats-interval, serving them at --metrics-addr), joins every worker,
  // prints the summary. Returns the exit code: 0, or 1 when a worker failed.
  int run(const Stats& stats);

  // The signal that requested the stop (SIGINT, SIGTERM, SIGHUP), 0 if none did.
  int stop_signal() const { return stop_signal_; }

 private:
  struct Ticker {
    std::chrono::milliseconds period;
    std::function<void()> tick;
    std::chrono::steady_clock::time_point due;
  };

  void finished(bool failed);
  void on_signal(int signal, const Stats& stats);
  int run_tickers();  // runs those due; returns the poll timeout until the next, -1: none
  void print(const Stats& stats, const char* event);

  stage::Control& control_;
  OnHangup on_hangup_;
  int stop_signal_ = 0;
  std::unique_ptr<net::SignalFd> signals_;  // the handled signals, blocked (net/platform.h)
  net::WakeFd done_;                        // a worker finished
  std::vector<std::thread> threads_;
  std::atomic<int> running_{0};
  std::atomic<bool> failed_{false};
  std::chrono::milliseconds stats_interval_;
  StatsPrinter printer_;
  std::vector<Ticker> tickers_;
  std::unique_ptr<MetricsServer> metrics_;
};

}  // namespace netdisp::modes
