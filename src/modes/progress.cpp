#include "modes/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "modes/logging.h"
#include "modes/supervisor.h"
#include "net/error.h"
#include "stage/pipe.h"

namespace netdisp::modes {
namespace {

constexpr std::chrono::milliseconds kTerminalPeriod{100};  // at most 10 redraws a second
constexpr std::chrono::milliseconds kLinesPeriod{1000};    // a file or pipe: a line a second
constexpr const char* kErase = "\r\x1b[K";                  // to the line's start, clear to its end
constexpr double kMaxSeconds = 99999.0 * 3600 + 3599;       // 99999:59:59

// Whether a terminal shows the line now; written under stderr_line_lock().
bool shown = false;

void write_stderr(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

// Runs under stderr_line_lock() (logging.h), before each log line.
void erase_locked() {
  if (!shown) return;
  write_stderr(kErase);
  shown = false;
}

// The terminal's width, or 80 when it does not say.
std::size_t columns() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

// pv's units into `text` (format_bytes() below). snprintf into buffers, not
// fmt and strings: this file's share of the binary's size budget.
void put_bytes(char (&text)[16], double bytes) {
  static constexpr char kUnits[][4] = {" B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  // Rounding must not show 4 digits where 3 are wanted, nor 1024 of a unit.
  if (bytes < 9.995)
    std::snprintf(text, sizeof text, "%.2f%s", bytes, kUnits[unit]);
  else if (bytes < 99.95)
    std::snprintf(text, sizeof text, "%.1f%s", bytes, kUnits[unit]);
  else
    std::snprintf(text, sizeof text, "%4ld%s", std::lround(std::min(bytes, 1023.0)), kUnits[unit]);
}

void put_duration(char (&text)[24], double seconds) {
  auto whole = static_cast<unsigned long>(std::clamp(seconds, 0.0, kMaxSeconds));
  std::snprintf(text, sizeof text, "%lu:%02lu:%02lu", whole / 3600, whole / 60 % 60, whole % 60);
}

}  // namespace

std::string format_bytes(double bytes) {
  char text[16];
  put_bytes(text, bytes);
  return text;
}

std::string format_rate(double bytes_per_second) { return format_bytes(bytes_per_second) + "/s"; }

std::string format_duration(double seconds) {
  char text[24];
  put_duration(text, seconds);
  return text;
}

std::string progress_text(const ProgressState& state) {
  double average = state.seconds > 0 ? static_cast<double>(state.bytes) / state.seconds : 0;
  char bytes[16], total[16], rate[16], mean[16], time[24], eta[24] = "";
  put_bytes(bytes, static_cast<double>(state.bytes));
  put_duration(time, state.seconds);
  put_bytes(rate, state.rate);
  put_bytes(mean, average);
  char line[160];  // room for every field at its widest; cut to kProgressWidth below
  if (!state.total) {
    int length = std::snprintf(line, sizeof line, "%s %s [%s/s] [%s/s]", bytes, time, rate, mean);
    return std::string(line, std::min<std::size_t>(length, kProgressWidth));
  }
  std::uint64_t size = *state.total, done = std::min(state.bytes, size);
  put_bytes(total, static_cast<double>(size));
  int percent = size ? static_cast<int>(static_cast<double>(done) * 100 / static_cast<double>(size)) : 100;
  // pv's ETA: what is left at the average rate; blank when done or unknown.
  if (done < size && average > 0) put_duration(eta, static_cast<double>(size - done) / average);
  int length = std::snprintf(line, sizeof line, "%s of %s %s [%s/s] [%s/s] %3d%%%s%s", bytes, total, time, rate,
                             mean, percent, *eta ? " ETA " : "", eta);
  return std::string(line, std::min<std::size_t>(length, kProgressWidth));
}

void add_progress_options(cxxopts::Options& options) {
  options.add_options()
      ("progress", "a live line on stderr: bytes sent [of the file's size], time, [rate over the last second] "
       "[average rate], percent, ETA (default: when stderr is a terminal and without -q; this option shows it "
       "in any case, as one line a second into a file or pipe)")
      ("no-progress", "no progress line, even on a terminal");
}

bool progress_wanted(const cxxopts::ParseResult& result) {
  if (result.count("progress") && result.count("no-progress"))
    throw net::UsageError("--progress and --no-progress contradict each other");
  if (result.count("progress")) return true;
  if (result.count("no-progress") || result.count("quiet")) return false;
  return ::isatty(STDERR_FILENO) == 1;
}

ProgressLine::ProgressLine(Supervisor& supervisor, const stage::Pipe& pipe, std::optional<std::uint64_t> total)
    : pipe_(pipe), total_(total), terminal_(::isatty(STDERR_FILENO) == 1) {
  auto period = terminal_ ? kTerminalPeriod : kLinesPeriod;
  window_ = static_cast<int>(std::clamp<long>(std::chrono::seconds(1) / period, 1, kSamples - 1));
  // Only a line drawn in place can mix with log lines; each of the others is a whole line.
  if (terminal_) erase_before_log_lines(erase_locked);
  supervisor.every(period, [this] { tick(); });
}

ProgressLine::~ProgressLine() {
  erase_progress_line();
  erase_before_log_lines(nullptr);
}

void ProgressLine::tick() {
  Sample now{std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(),
             pipe_.delivered_bytes()};
  std::string text = progress_text({now.bytes, total_, now.seconds, recent_rate(now)});
  samples_[next_] = now;
  next_ = (next_ + 1) % kSamples;
  count_ = std::min(count_ + 1, kSamples);
  if (!terminal_) return write_stderr(text + "\n");
  // A narrower terminal would wrap the line, and "\r" then redraws only its last row.
  text.resize(std::min(text.size(), columns() - 1));
  std::lock_guard lock(stderr_line_lock());
  write_stderr("\r" + text + "\x1b[K");
  shown = true;
}

// Bytes per second since the sample about a second back (or since the start).
double ProgressLine::recent_rate(const Sample& now) const {
  Sample from{};
  if (count_ > 0) from = samples_[(next_ - std::min(count_, window_) + kSamples) % kSamples];
  double seconds = now.seconds - from.seconds;
  return seconds > 0 ? static_cast<double>(now.bytes - from.bytes) / seconds : 0;
}

void erase_progress_line() {
  std::lock_guard lock(stderr_line_lock());
  erase_locked();
}

}  // namespace netdisp::modes
