#include "modes/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace netdisp::modes {
namespace {

bool to_journal = false;  // set once by set_up_logging(), before any thread

// $JOURNAL_STREAM is inherited by children whose stderr may be a file or a
// pipe; only a match of device and inode (sd_journal_stream_fd(3)) says that
// our stderr is the stream systemd connected to the journal.
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (!stream) return false;
  const char* end = stream + std::strlen(stream);
  unsigned long long device = 0, inode = 0;
  auto [colon, error] = std::from_chars(stream, end, device);
  if (error != std::errc() || colon == end || *colon != ':') return false;
  auto [last, error2] = std::from_chars(colon + 1, end, inode);
  if (error2 != std::errc() || last != end) return false;
  struct stat status {};
  if (::fstat(STDERR_FILENO, &status) != 0) return false;
  return status.st_dev == device && status.st_ino == inode;
}

// The %* flag: the sd-daemon(3) priority prefix of the line's level.
class Priority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr const char* kPrefix[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
    const char* prefix = kPrefix[static_cast<int>(msg.level)];
    dest.append(prefix, prefix + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<Priority>(); }
};

std::atomic<void (*)()> erase_before_line{nullptr};

// The stderr sink behind a check for another line to erase first (above).
class Erasing final : public spdlog::sinks::sink {
 public:
  explicit Erasing(spdlog::sink_ptr inner) : inner_(std::move(inner)) {}
  void log(const spdlog::details::log_msg& msg) override {
    void (*erase)() = erase_before_line.load();
    if (!erase) return inner_->log(msg);
    std::lock_guard lock(stderr_line_lock());
    erase();
    inner_->log(msg);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  spdlog::sink_ptr inner_;
};

}  // namespace

void erase_before_log_lines(void (*erase)()) { erase_before_line.store(erase); }

std::mutex& stderr_line_lock() {
  static std::mutex lock;
  return lock;
}

void set_up_logging(const std::string& program) {
  to_journal = stderr_is_journal();
  auto logger = spdlog::stderr_logger_mt(program);
  logger->sinks()[0] = std::make_shared<Erasing>(logger->sinks()[0]);  // before any thread logs
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (to_journal)
    formatter->add_flag<Priority>('*').set_pattern("%*%n %l: %v");
  else
    formatter->set_pattern("%Y-%m-%d %H:%M:%S.%e %n %l: %v");
  logger->set_formatter(std::move(formatter));
  spdlog::set_default_logger(logger);
}

void print_error(const std::string& program, const std::string& message) {
  std::fprintf(stderr, "%s%s: %s\n", to_journal ? "<3>" : "", program.c_str(), message.c_str());
}

}  // namespace netdisp::modes
