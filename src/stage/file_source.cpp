#include "stage/file_source.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "net/error.h"

namespace netdisp::stage {
namespace {

constexpr std::size_t kReadBlock = 1 << 20;

// About 1 MiB per read, a whole number of datagrams, at most kMaxBatch of them.
std::size_t block_size_for(std::size_t datagram_size) {
  std::size_t datagrams = std::clamp<std::size_t>(kReadBlock / datagram_size, 1, kMaxBatch);
  return datagrams * datagram_size;
}

net::UniqueFd open_input(const std::string& path) {
  struct stat info{};
  if (path != "-" && ::stat(path.c_str(), &info) == 0 && S_ISFIFO(info.st_mode))
    spdlog::info("file {}: a fifo; waiting for a writer to open it", path);
  int fd = path == "-" ? ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) net::throw_errno("open --path " + path);
  return net::UniqueFd(fd);
}

}  // namespace

FileSource::FileSource(const std::string& path, std::size_t datagram_size)
    : path_(path),
      fd_(open_input(path)),
      datagram_size_(datagram_size),
      block_size_(block_size_for(datagram_size)),
      arena_(block_size_) {
  struct stat info{};
  if (::fstat(fd_.get(), &info) != 0) net::throw_errno("stat --path " + path);
  if (S_ISDIR(info.st_mode)) throw net::Error("open --path " + path + ": Is a directory");
  always_ready_ = S_ISREG(info.st_mode) || S_ISBLK(info.st_mode);
  if (S_ISREG(info.st_mode)) total_size_ = static_cast<std::uint64_t>(info.st_size);
  out_.reserve(block_size_ / datagram_size_ + 1);
}

ReadStatus FileSource::read(Batch& batch) {
  if (!always_ready_) {
    // Pipes, fifos, terminals: read only what is there, so a stop request is
    // noticed while the writer is quiet.
    pollfd ready{fd_.get(), POLLIN, 0};
    if (::poll(&ready, 1, 0) == 0) return ReadStatus::kWouldBlock;
  }
  ssize_t n = ::read(fd_.get(), arena_.data(), block_size_);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) return ReadStatus::kWouldBlock;
    net::throw_errno("read --path " + path_);
  }
  if (n == 0) {
    reached_end_ = true;
    return ReadStatus::kEnd;
  }
  auto length = static_cast<std::size_t>(n);
  out_.clear();
  for (std::size_t offset = 0; offset < length; offset += datagram_size_)
    out_.push_back({arena_.data() + offset, std::min(datagram_size_, length - offset)});
  add(datagrams_, out_.size());
  add(bytes_, length);
  batch = Batch{out_, length};
  return ReadStatus::kData;
}

std::string FileSource::stats() const {
  std::string of = total_size_ ? fmt::format(" of {}", *total_size_) : "";
  return fmt::format("file {}: read {}{} bytes into {} datagrams{}", path_, get(bytes_), of, get(datagrams_),
                     reached_end_ ? " (end of input)" : "");
}

}  // namespace netdisp::stage
