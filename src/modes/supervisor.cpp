#include "modes/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#include "modes/metrics.h"
#include "modes/service.h"
#include "net/error.h"

namespace netdisp::modes {
namespace {

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaddset(&set, signal);
  return set;
}

// Set once before the handlers are installed; read by them.
const char* setup_program = "netdisp";
int setup_exit_code = 0;

void write_stderr(const char* text) {
  [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, text, std::strlen(text));
}

// Async-signal-safe: write(2) and _exit(2) only. Nothing has been sent or
// written yet (setup opens, it does not move data), so there is nothing to flush.
void stop_during_setup(int signal) {
  const char* name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "SIGHUP";
  write_stderr(setup_program);
  write_stderr(": ");
  write_stderr(name);
  write_stderr(" during start-up: stopping\n");
  ::_exit(setup_exit_code == kSignalExitCode ? 128 + signal : setup_exit_code);
}

}  // namespace

void stop_on_signals_during_setup(const char* program, int exit_code) {
  setup_program = program;
  setup_exit_code = exit_code;
  ::signal(SIGPIPE, SIG_IGN);
  struct sigaction action{};
  action.sa_handler = stop_during_setup;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signal, &action, nullptr);
}

void report(const std::string& line) {
  // A copy of the default logger (same sinks, same format) that -q does not quiet.
  static const std::shared_ptr<spdlog::logger> reporter = [] {
    auto logger = spdlog::default_logger()->clone(spdlog::default_logger()->name());
    logger->set_level(spdlog::level::info);
    return logger;
  }();
  reporter->info("{}", line);
}

Supervisor::Supervisor(stage::Control& control, OnHangup on_hangup, const Monitoring& monitoring)
    : control_(control), on_hangup_(on_hangup), stats_interval_(monitoring.interval), printer_(monitoring) {
  signals_ = std::make_unique<net::SignalFd>(handled_signals());
  if (monitoring.metrics) metrics_ = std::make_unique<MetricsServer>(*monitoring.metrics, monitoring.mode);
}

void Supervisor::every(std::chrono::milliseconds period, std::function<void()> tick) {
  tickers_.push_back({period, std::move(tick), std::chrono::steady_clock::now() + period});
}

int Supervisor::run_tickers() {
  auto now = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration wait = std::chrono::hours(1);
  for (Ticker& ticker : tickers_) {
    if (ticker.due <= now) {
      ticker.tick();
      // Late ticks are not made up: the next is one period from now.
      ticker.due = std::max(ticker.due + ticker.period, now + ticker.period / 2);
    }
    wait = std::min(wait, ticker.due - now);
  }
  if (tickers_.empty()) return -1;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
}

Supervisor::~Supervisor() {
  // Only reached without run() when setup failed part way: stop what started.
  control_.request_stop();
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
}

void Supervisor::spawn(std::string name, std::function<void()> body) {
  running_.fetch_add(1);
  threads_.emplace_back([this, name = std::move(name), body = std::move(body)] {
    bool failed = false;
    try {
      body();
    } catch (const std::exception& e) {
      spdlog::error("{}: {}", name, e.what());
      failed = true;
    }
    finished(failed);
  });
}

void Supervisor::finished(bool failed) {
  if (failed) {
    failed_.store(true);
    control_.request_stop();
  }
  running_.fetch_sub(1);
  done_.notify();
}

int Supervisor::run(const Stats& stats) {
  if (stats_interval_.count() > 0) every(stats_interval_, [&] { print(stats, "interval"); });
  if (metrics_) metrics_->start(stats);
  notify_ready();  // every socket is bound and every file open (the modes open them before run())
  while (running_.load() > 0) {
    pollfd fds[2] = {{signals_->handle(), POLLIN, 0}, {done_.handle(), POLLIN, 0}};
    if (::poll(fds, 2, run_tickers()) < 0) continue;  // EINTR
    if (fds[1].revents) done_.clear();
    if (!fds[0].revents) continue;
    if (int signal = signals_->take()) on_signal(signal, stats);
  }
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  print(stats, "summary");
  metrics_.reset();  // served until the summary is out: a last scrape sees the final counters
  return failed_.load() ? 1 : 0;
}

void Supervisor::on_signal(int signal, const Stats& stats) {
  if (signal == SIGHUP && on_hangup_ == OnHangup::kReopen) {
    control_.request_reopen();
    spdlog::info("SIGHUP: reopening log files");
  } else if (signal == SIGHUP && on_hangup_ == OnHangup::kNothingToReopen) {
    spdlog::info("SIGHUP: nothing to reopen (no log files in this mode); going on");
  } else if (signal == SIGUSR1) {
    print(stats, "counters");
  } else {
    spdlog::info("{}: stopping", net::signal_name(signal));
    if (!stop_signal_) stop_signal_ = signal;
    notify_stopping();
    control_.request_stop();
  }
}

// event: "summary", "counters" (SIGUSR1), "interval" (--stats-interval).
void Supervisor::print(const Stats& stats, const char* event) {
  printer_.print(stats(), event);
}

}  // namespace netdisp::modes
