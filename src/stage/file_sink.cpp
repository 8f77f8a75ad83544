#include "stage/file_sink.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "net/error.h"
#include "net/platform.h"

namespace netdisp::stage {
namespace {

// Whether the open file `fd` is still the one found at `path` (not deleted,
// not moved away, not replaced).
bool still_at(int fd, const std::string& path) {
  struct stat open_file {};
  struct stat at_path {};
  if (::fstat(fd, &open_file) != 0 || open_file.st_nlink == 0) return false;
  if (::stat(path.c_str(), &at_path) != 0) return false;
  return open_file.st_dev == at_path.st_dev && open_file.st_ino == at_path.st_ino;
}

}  // namespace

net::UniqueFd open_for_append(const std::string& path) {
  net::UniqueFd fd(net::open_file(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) net::throw_errno("open log file " + path);
  return fd;
}

FileSink::FileSink(std::string path, const Control& control, bool exit_on_write_error)
    : path_(std::move(path)),
      fd_(open_for_append(path_)),
      control_(control),
      generation_(control.reopen_generation()),
      exit_on_write_error_(exit_on_write_error) {}

void FileSink::reopen(const char* why) {
  try {
    fd_ = open_for_append(path_);
  } catch (const net::Error& e) {
    // Keep the old fd: writing to a moved-away file beats losing the data.
    // Only when it is no longer at the path is a retry worth its open().
    bool first = !reopen_failed_;
    detached_ = !still_at(fd_.get(), path_);
    reopen_failed_ = detached_;
    if (first && detached_)
      spdlog::error("{} ({}); still writing to the file opened before, which is no longer at {}; retrying the "
                    "reopen on every batch and every second",
                    e.what(), why, path_);
    else if (first && !failing_)  // while failing, the write error's own line covers it, once
      spdlog::error("{} ({}); the file opened before is still at {}: writing on to it", e.what(), why, path_);
    return;
  }
  if (reopen_failed_) {
    spdlog::info("file {}: writing to {} again ({}); {} bytes went to the file no longer at that path", path_,
                 path_, why, get(detached_bytes_));
  } else if (!failing_) {
    // A retry after a write error is already covered by the error's own line.
    spdlog::info("file {}: reopened ({})", path_, why);
  }
  reopen_failed_ = detached_ = false;
}

bool FileSink::on_ready(short /*revents*/) {
  if (!reopen_if_asked()) retry_reopen();
  return true;
}

bool FileSink::reopen_if_asked() {
  unsigned generation = control_.reopen_generation();
  if (generation == generation_) return false;
  generation_ = generation;
  reopen("SIGHUP");
  return true;
}

void FileSink::retry_reopen() {
  if (failing_) {
    reopen("retry after write error");
  } else if (reopen_failed_) {
    reopen("retried after a failed reopen");
  }
}

bool FileSink::write(const Batch& batch) {
  if (!reopen_if_asked()) retry_reopen();
  WriteResult result = write_all(fd_.get(), batch.datagrams);
  add(bytes_, result.written);
  if (detached_) note_detached(result.written);
  if (result.error) {
    note_failure(result.error, batch.bytes - result.written);
    return true;
  }
  add(datagrams_, batch.datagrams.size());
  if (failing_) {
    failing_ = false;
    spdlog::info("file {}: writing again; {} bytes were lost while it failed", path_, get(lost_bytes_));
  }
  return true;
}

void FileSink::note_detached(std::size_t written) {
  add(detached_bytes_, written);
  if (detached_log_.allow())
    spdlog::warn("file {}: writing to a file that is no longer at {} (the reopen failed; retrying); {} bytes so far "
                 "(logged at most every 10 s)",
                 path_, path_, get(detached_bytes_));
}

void FileSink::note_failure(int error, std::size_t lost) {
  add(write_errors_, 1);
  add(lost_bytes_, lost);
  std::string what = "write " + path_ + ": " + net::errno_text(error);
  if (exit_on_write_error_) throw net::Error(what + " (--exit-on-write-error)");
  // Once per episode: the next successful write says how much was lost.
  if (!failing_) spdlog::error("{}; {} bytes received could not be written; retrying on every batch", what, lost);
  failing_ = true;
}

void FileSink::report(StatsRows& rows) const {
  StageStats& row = rows.emplace_back();
  row.role = StageStats::Role::kSink;
  row.endpoint = "file:" + path_;
  row.set(Stat::kDatagrams, get(datagrams_)).set(Stat::kBytes, get(bytes_));
  row.set(Stat::kWriteErrors, get(write_errors_)).set(Stat::kLostBytes, get(lost_bytes_));
  row.set(Stat::kDetachedBytes, get(detached_bytes_));
  row.text = fmt::format("  -> file {}: wrote {} bytes, {} datagrams; {} bytes lost to {} write errors", path_,
                         get(bytes_), get(datagrams_), get(lost_bytes_), get(write_errors_));
  if (std::uint64_t detached = get(detached_bytes_))
    row.text += fmt::format("; {} bytes written to a file no longer at {} (reopen failed)", detached, path_);
}

}  // namespace netdisp::stage
