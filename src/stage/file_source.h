#pragma once
// FileSource: a regular file, device, fifo or stdin ("-") opened by path and
// read by a StreamSource (stream_source.h): datagrams of exactly
// datagram_size bytes, short reads joined; a shorter datagram only at end of
// input or once the input has been idle for flush_after.
#include <chrono>
#include <optional>
#include <string>

#include "stage/source.h"
#include "stage/stream_source.h"

namespace netdisp::stage {

class FileSource final : public Source {
 public:
  // Throws net::Error when the path cannot be opened or is a directory.
  // Opening a fifo waits for its writer (logged, so the wait is visible).
  FileSource(const std::string& path, std::size_t datagram_size,
             std::chrono::milliseconds flush_after = kDefaultFlushAfter);

  ReadStatus read(Batch& batch) override { return stream_.read(batch); }
  int poll_fd() const override { return stream_.poll_fd(); }
  void report(StatsRows& rows) const override;
  std::string name() const override { return "file " + path_; }

  // For the client's verdict once the pipe ended (read them after it joined).
  bool reached_end() const { return stream_.reached_end(); }
  std::optional<std::uint64_t> total_size() const { return total_size_; }  // regular files only

 private:
  FileSource(const std::string& path, net::UniqueFd fd, std::size_t datagram_size,
             std::chrono::milliseconds flush_after);

  std::string path_;
  std::optional<std::uint64_t> total_size_;
  StreamSource stream_;
};

}  // namespace netdisp::stage
