#pragma once
// FileSource: a regular file, device, fifo or stdin ("-") read in large
// blocks and sliced into datagrams of at most datagram_size bytes. A read
// that returns less (a pipe, a terminal line) is sent at once, not held back
// to fill a datagram: a line typed is a line sent.
#include <optional>
#include <string>
#include <vector>

#include "net/unique_fd.h"
#include "stage/io.h"
#include "stage/source.h"

namespace netdisp::stage {

class FileSource final : public Source {
 public:
  // Throws net::Error when the path cannot be opened or is a directory.
  // Opening a fifo waits for its writer (logged, so the wait is visible).
  FileSource(const std::string& path, std::size_t datagram_size);

  ReadStatus read(Batch& batch) override;
  int poll_fd() const override { return fd_.get(); }
  std::string stats() const override;
  std::string name() const override { return "file " + path_; }

  // For the client's verdict once the pipe ended (read them after it joined).
  bool reached_end() const { return reached_end_; }
  std::optional<std::uint64_t> total_size() const { return total_size_; }  // regular files only

 private:
  std::string path_;
  net::UniqueFd fd_;  // stdin is dup()ed, so it is owned like any other file
  bool always_ready_ = false;  // regular files and block devices never block
  std::atomic<bool> reached_end_{false};  // read by stats() on the main thread
  std::optional<std::uint64_t> total_size_;
  std::size_t datagram_size_;
  std::size_t block_size_;
  Arena arena_;
  std::vector<iovec> out_;
  Counter datagrams_{0}, bytes_{0};
};

}  // namespace netdisp::stage
