#pragma once
// FileSink: appends every datagram's payload to a log file with writev().
// The file is created if missing and never truncated. After SIGHUP
// (Control::request_reopen) the file is reopened by path before the next
// write, so logrotate can move it away. A write error (ENOSPC, EIO) is logged
// once with the path, the bytes that could not be written are counted, and
// the file is reopened and tried again on the next batch.
//
// A reopen that fails (the directory is gone, no permission) keeps the file
// opened before, so no data is dropped, and is retried on every batch and on
// the idle tick until it succeeds. While that file is no longer at the path
// (deleted or moved), a warning repeats (rate-limited) and the bytes written
// to it are counted apart in stats(): they are not where the user looks.
#include <string>

#include "net/unique_fd.h"
#include "stage/control.h"
#include "stage/io.h"
#include "stage/sink.h"

namespace netdisp::stage {

class FileSink final : public Sink {
 public:
  // Throws net::Error when the file cannot be opened for appending.
  // With exit_on_write_error, a write error throws instead of being retried.
  FileSink(std::string path, const Control& control, bool exit_on_write_error);

  bool write(const Batch& batch) override;
  // Reopens after SIGHUP, or retries a failed reopen, while no data flows.
  bool on_ready(short revents) override;
  // "  -> file PATH: wrote ...; L bytes lost to E write errors", then, only
  // when it happened, "; N bytes written to a file no longer at PATH (reopen failed)".
  void report(StatsRows& rows) const override;

 private:
  void reopen(const char* why);
  bool reopen_if_asked();
  void retry_reopen();
  void note_failure(int error, std::size_t lost);
  void note_detached(std::size_t written);

  std::string path_;
  net::UniqueFd fd_;
  const Control& control_;
  unsigned generation_;
  bool exit_on_write_error_;
  bool failing_ = false;
  bool reopen_failed_ = false;  // retry the reopen on every batch and tick
  bool detached_ = false;       // fd_ is no longer the file at path_
  LogLimit detached_log_;
  Counter datagrams_{0}, bytes_{0}, lost_bytes_{0}, write_errors_{0}, detached_bytes_{0};
};

// Opens `path` for appending (O_APPEND | O_CREAT, mode 0644).
net::UniqueFd open_for_append(const std::string& path);

}  // namespace netdisp::stage
