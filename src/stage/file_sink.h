#pragma once
// FileSink: appends every datagram's payload to a log file with writev().
// The file is created if missing and never truncated. After SIGHUP
// (Control::request_reopen) the file is reopened by path before the next
// write, so logrotate can move it away. A write error (ENOSPC, EIO) is logged
// once with the path, the bytes that could not be written are counted, and
// the file is reopened and tried again on the next batch.
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
  bool on_ready(short revents) override;  // reopens after SIGHUP while no data flows
  std::string stats() const override;

 private:
  void reopen(const char* why);
  bool reopen_if_asked();
  void note_failure(int error, std::size_t lost);

  std::string path_;
  net::UniqueFd fd_;
  const Control& control_;
  unsigned generation_;
  bool exit_on_write_error_;
  bool failing_ = false;
  Counter datagrams_{0}, bytes_{0}, lost_bytes_{0}, write_errors_{0};
};

// Opens `path` for appending (O_APPEND | O_CREAT, mode 0644).
net::UniqueFd open_for_append(const std::string& path);

}  // namespace netdisp::stage
