#pragma once
// UniqueFd: the one owner of a file descriptor. Move-only; the only code in
// netdisp that calls close(). -1 means "owns nothing". It holds a Handle:
// the system's native descriptor type (an int on POSIX; SOCKET on Windows,
// which is not an int), see net/platform.h.
#include <unistd.h>

#include <utility>

namespace netdisp::net {

using Handle = int;
inline constexpr Handle kNoHandle = -1;

// close(2); on Windows closesocket() or CloseHandle() (net/platform_win32.cpp).
#if defined(_WIN32)
void close_handle(Handle fd);
#else
inline void close_handle(Handle fd) { ::close(fd); }
#endif

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(Handle fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  Handle get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  Handle release() { return std::exchange(fd_, kNoHandle); }
  // close() is not retried on EINTR: on Linux the fd is gone either way.
  void reset(Handle fd = kNoHandle) {
    if (fd_ >= 0) close_handle(fd_);
    fd_ = fd;
  }

 private:
  Handle fd_ = kNoHandle;
};

}  // namespace netdisp::net
