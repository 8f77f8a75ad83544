#pragma once
// Fixtures of the unit tests that touch the system: connected descriptor
// pairs opened, written, read and closed through the platform seam
// (net::UniqueFd, net::read_handle, writev), and temporary directories, so
// that one test runs on Linux, in the portable build and on Windows. This
// and net/platform*.cpp are the only places that tell the systems apart.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "net/platform.h"
#include "net/unique_fd.h"
#include "testing.h"

namespace netdisp::test {

struct FdPair {
  net::UniqueFd read, write;
};

// A connected stream socket pair: AF_UNIX, or on Windows the seam's loopback
// TCP pair (Wine's AF_UNIX is not dependable).
inline FdPair make_socket_pair(bool nonblocking = false) {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0, fds) == 0);
  return {net::UniqueFd(fds[0]), net::UniqueFd(fds[1])};
}

// A pipe, as a program's stdin is one. Windows' anonymous pipes block
// (no O_NONBLOCK) and the seam's poll() only peeks at them every 10 ms: there
// it is a socket pair, which the seam's poll() waits on.
inline FdPair make_pipe(bool nonblocking = false) {
#if defined(_WIN32)
  return make_socket_pair(nonblocking);
#else
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  for (int fd : fds) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (nonblocking)
    for (int fd : fds) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return {net::UniqueFd(fds[0]), net::UniqueFd(fds[1])};
#endif
}

// Writes all of `text` (writev: a pipe, a file or a socket alike).
inline void put(const net::UniqueFd& fd, std::string_view text) {
  while (!text.empty()) {
    iovec part{const_cast<char*>(text.data()), text.size()};
    ssize_t n = ::writev(fd.get(), &part, 1);
    if (n < 0 && errno == EINTR) continue;
    REQUIRE(n > 0);
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Everything until EOF or an error (EAGAIN on a non-blocking descriptor).
inline std::string take_all(const net::UniqueFd& fd) {
  std::string got;
  char buffer[65536];
  for (;;) {
    ssize_t n = net::read_handle(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return got;
    got.append(buffer, static_cast<std::size_t>(n));
  }
}

// A fresh directory under the system's temporary directory, removed with
// everything in it at the end.
struct TempDir {
  std::string path;
  explicit TempDir(const char* prefix = "nd-test") {
    static std::atomic<unsigned> serial{0};
    auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    for (int attempt = 0; attempt < 100 && path.empty(); ++attempt) {
      std::filesystem::path candidate = std::filesystem::temp_directory_path() /
          (std::string(prefix) + "-" + std::to_string(stamp) + "-" + std::to_string(serial++));
      std::error_code error;
      if (std::filesystem::create_directory(candidate, error)) path = candidate.string();
    }
    REQUIRE(!path.empty());
  }
  ~TempDir() {
    std::error_code error;
    std::filesystem::remove_all(path, error);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const char* name) const { return path + "/" + name; }
};

}  // namespace netdisp::test
