#include "stage/file_source.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/error.h"
#include "net/platform.h"

namespace netdisp::stage {
namespace {

net::UniqueFd open_input(const std::string& path) {
  struct stat info{};
  if (path != "-" && ::stat(path.c_str(), &info) == 0 && S_ISFIFO(info.st_mode))
    spdlog::info("file {}: a fifo; waiting for a writer to open it", path);
  int fd = path == "-" ? ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0) : net::open_file(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) net::throw_errno("open --path " + path);
  return net::UniqueFd(fd);
}

std::optional<std::uint64_t> regular_size(int fd, const std::string& path) {
  struct stat info{};
  if (::fstat(fd, &info) != 0) net::throw_errno("stat --path " + path);
  if (S_ISDIR(info.st_mode)) throw net::Error("open --path " + path + ": Is a directory");
  if (!S_ISREG(info.st_mode)) return std::nullopt;
  return static_cast<std::uint64_t>(info.st_size);
}

}  // namespace

FileSource::FileSource(const std::string& path, std::size_t datagram_size, std::chrono::milliseconds flush_after)
    : FileSource(path, open_input(path), datagram_size, flush_after) {}

FileSource::FileSource(const std::string& path, net::UniqueFd fd, std::size_t datagram_size,
                       std::chrono::milliseconds flush_after)
    : path_(path),
      total_size_(regular_size(fd.get(), path)),
      stream_(std::move(fd), "file " + path, datagram_size, flush_after) {}

void FileSource::report(StatsRows& rows) const {
  StageStats& row = rows.emplace_back();
  row.endpoint = path_ == "-" ? "stdin" : "file:" + path_;
  row.set(Stat::kDatagrams, stream_.datagrams()).set(Stat::kBytes, stream_.bytes_read());
  std::string of = total_size_ ? fmt::format(" of {}", *total_size_) : "";
  std::string idle = stream_.idle_flushes()
                         ? fmt::format(" ({} sent short after --flush-after idle)", stream_.idle_flushes())
                         : "";
  row.text = fmt::format("file {}: read {}{} bytes into {} datagrams{}{}", path_, stream_.bytes_read(), of,
                     stream_.datagrams(), idle, stream_.reached_end() ? " (end of input)" : "");
}

}  // namespace netdisp::stage
