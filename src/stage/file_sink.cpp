#include "stage/file_sink.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include "net/error.h"

namespace netdisp::stage {

net::UniqueFd open_for_append(const std::string& path) {
  net::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
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
    // A retry after a write error is already covered by the error's own line.
    if (!failing_) spdlog::info("file {}: reopened ({})", path_, why);
  } catch (const net::Error& e) {
    // Keep the old fd: writing to a moved-away file beats losing the data.
    spdlog::error("{} ({}); still writing to the file opened before", e.what(), why);
  }
}

bool FileSink::on_ready(short /*revents*/) {
  reopen_if_asked();
  return true;
}

bool FileSink::reopen_if_asked() {
  unsigned generation = control_.reopen_generation();
  if (generation == generation_) return false;
  generation_ = generation;
  reopen("SIGHUP");
  return true;
}

bool FileSink::write(const Batch& batch) {
  if (!reopen_if_asked() && failing_) reopen("retry after write error");
  WriteResult result = write_all(fd_.get(), batch.datagrams);
  add(bytes_, result.written);
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

void FileSink::note_failure(int error, std::size_t lost) {
  add(write_errors_, 1);
  add(lost_bytes_, lost);
  std::string what = "write " + path_ + ": " + net::errno_text(error);
  if (exit_on_write_error_) throw net::Error(what + " (--exit-on-write-error)");
  // Once per episode: the next successful write says how much was lost.
  if (!failing_) spdlog::error("{}; {} bytes received could not be written; retrying on every batch", what, lost);
  failing_ = true;
}

std::string FileSink::stats() const {
  return fmt::format("  -> file {}: wrote {} bytes, {} datagrams; {} bytes lost to {} write errors", path_, get(bytes_),
                     get(datagrams_), get(lost_bytes_), get(write_errors_));
}

}  // namespace netdisp::stage
