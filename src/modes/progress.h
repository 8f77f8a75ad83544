#pragma once
// The client's live progress line on stderr, in pv's units and order:
//   5.00MiB of 16.0MiB 0:00:01 [4.95MiB/s] [4.97MiB/s]  31% ETA 0:00:02   a regular file
//   1.50MiB 0:00:03 [ 512KiB/s] [ 505KiB/s]                               stdin, fifo, device
// bytes sent, the file's size, the time so far, the rate over about the last
// second, the average rate, then the percentage and the time left at the
// average rate. On a terminal the line is redrawn in place ten times a second
// and erased before every log line and at the end; with --progress to a file
// or pipe each update is a line of its own, once a second. stdout never
// carries any of it.
#include <chrono>
#include <cstdint>
#include <cxxopts.hpp>
#include <optional>
#include <string>

namespace netdisp::stage {
class Pipe;
}

namespace netdisp::modes {

class Supervisor;

// Every line progress_text() makes fits this many columns (80 minus the
// last, where a terminal would wrap).
inline constexpr std::size_t kProgressWidth = 79;

// pv's units: 3 significant digits in 4 columns, powers of 1024:
// "0.00 B", " 512 B", "1.50KiB", "12.3MiB", " 230MiB", "1023KiB".
std::string format_bytes(double bytes);
// format_bytes() per second: "12.3MiB/s".
std::string format_rate(double bytes_per_second);
// H:MM:SS, as pv: "0:00:05", "26:03:00"; above 99999 hours shows 99999:59:59.
std::string format_duration(double seconds);

struct ProgressState {
  std::uint64_t bytes = 0;               // sent so far
  std::optional<std::uint64_t> total;    // a regular file's size
  double seconds = 0;                    // since the start
  double rate = 0;                       // bytes per second over about the last second
};
// The line for `state`, without "\r" or newline.
std::string progress_text(const ProgressState& state);

// --progress, --no-progress.
void add_progress_options(cxxopts::Options& options);
// Whether to show the line: --progress yes, --no-progress or -q no, else
// when stderr is a terminal. Throws net::UsageError for both options at once.
bool progress_wanted(const cxxopts::ParseResult& result);

// Draws the line of `pipe`'s delivered bytes from the supervisor's thread
// (Supervisor::every) until it is destroyed, which erases it. One at a time
// per process.
class ProgressLine {
 public:
  ProgressLine(Supervisor& supervisor, const stage::Pipe& pipe, std::optional<std::uint64_t> total);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  struct Sample {
    double seconds = 0;
    std::uint64_t bytes = 0;
  };
  static constexpr int kSamples = 11;  // a second of ticks at 10 a second, plus now

  void tick();
  double recent_rate(const Sample& now) const;

  const stage::Pipe& pipe_;
  std::optional<std::uint64_t> total_;
  bool terminal_;
  int window_;  // how many ticks back "the last second" starts
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  Sample samples_[kSamples];
  int next_ = 0;   // where the next sample goes
  int count_ = 0;  // samples held
};

// Erases the progress line if a terminal shows one (e.g. before a line
// written on stderr without the log, as the JSON stats lines are). Does
// nothing when no line is shown. Call it from the supervisor's thread.
void erase_progress_line();

}  // namespace netdisp::modes
