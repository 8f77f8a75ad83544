// The platform seam on Windows (net/platform.h), built with MinGW-w64 and
// tested under Wine, and the POSIX layer that net/win32/posix.h declares.
// - Handles are ints: a socket's is its SOCKET, a file's its HANDLE (both
//   kernel handles, so one value never means both); 0, 1 and 2 are the
//   standard handles. Files are opened and written here (CreateFile,
//   WriteFile), not through the CRT, whose descriptors would collide.
// - poll() is WSAPoll over the sockets; a pipe or console in the set (stdin)
//   is looked at every 10 ms (PeekNamedPipe), a disk file is always ready.
// - The stop wake-up and the signal descriptor are loopback TCP socket
//   pairs; Ctrl-C, Ctrl-Break and closing the console are SIGINT, SIGBREAK
//   and SIGTERM (SetConsoleCtrlHandler). No SIGHUP, no SIGUSR1.
// - No batch calls (a loop of WSARecvFrom/WSASendTo), no kernel drop counter,
//   no GSO/GRO, no SO_RCVBUFFORCE, no SO_BINDTODEVICE, no SO_REUSEPORT.
#define NETDISP_WIN32_IMPL 1
#undef socket
#undef bind
#undef connect
#undef listen
#undef accept
#undef send
#undef recv
#undef sendto
#undef recvfrom
#undef sendmsg
#undef recvmsg
#undef setsockopt
#undef getsockopt
#undef getsockname
#undef getpeername
#undef shutdown
#undef fstat

#include <ifaddrs.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "net/error.h"
#include "net/platform.h"
#include "net/wake_pair.h"

namespace {

// --- which handles are sockets -------------------------------------------------
// A bit per handle value / 4 (handles are multiples of 4), set while the
// socket is open; larger values are asked of Winsock.
constexpr std::size_t kTracked = 1 << 20;
std::atomic<std::uint8_t> socket_bits[kTracked / 8];

void mark_socket(int h, bool on) {
  auto index = static_cast<std::size_t>(h) / 4;
  if (h < 0 || index >= kTracked) return;
  auto bit = static_cast<std::uint8_t>(1u << (index % 8));
  if (on)
    socket_bits[index / 8].fetch_or(bit);
  else
    socket_bits[index / 8].fetch_and(static_cast<std::uint8_t>(~bit));
}

bool is_socket(int h) {
  if (h <= 2) return false;
  auto index = static_cast<std::size_t>(h) / 4;
  if (index < kTracked) return socket_bits[index / 8].load() & (1u << (index % 8));
  int type = 0;
  int size = sizeof type;
  return ::getsockopt(static_cast<SOCKET>(h), SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &size) == 0;
}

HANDLE os_handle(int h) {
  switch (h) {
    case 0: return GetStdHandle(STD_INPUT_HANDLE);
    case 1: return GetStdHandle(STD_OUTPUT_HANDLE);
    case 2: return GetStdHandle(STD_ERROR_HANDLE);
    default: return reinterpret_cast<HANDLE>(static_cast<intptr_t>(h));
  }
}

int errno_of_wsa(int error) {
  switch (error) {
    case WSAEWOULDBLOCK: return EAGAIN;
    case WSAEINTR: return EINTR;
    case WSAEBADF: case WSAENOTSOCK: return EBADF;
    case WSAEACCES: return EACCES;
    case WSAEFAULT: return EFAULT;
    case WSAEINVAL: return EINVAL;
    case WSAEMFILE: return EMFILE;
    case WSAEINPROGRESS: case WSAEALREADY: return EINPROGRESS;
    case WSAEMSGSIZE: return EMSGSIZE;
    case WSAENOPROTOOPT: return ENOPROTOOPT;
    case WSAEPROTONOSUPPORT: case WSAESOCKTNOSUPPORT: case WSAEPFNOSUPPORT: return EPROTONOSUPPORT;
    case WSAEOPNOTSUPP: return EOPNOTSUPP;
    case WSAEAFNOSUPPORT: return EAFNOSUPPORT;
    case WSAEADDRINUSE: return EADDRINUSE;
    case WSAEADDRNOTAVAIL: return EADDRNOTAVAIL;
    case WSAENETDOWN: return ENETDOWN;
    case WSAENETUNREACH: return ENETUNREACH;
    case WSAENETRESET: return ENETRESET;
    case WSAECONNABORTED: return ECONNABORTED;
    case WSAECONNRESET: return ECONNRESET;
    case WSAENOBUFS: return ENOBUFS;
    case WSAEISCONN: return EISCONN;
    case WSAENOTCONN: return ENOTCONN;
    case WSAESHUTDOWN: return EPIPE;
    case WSAETIMEDOUT: return ETIMEDOUT;
    case WSAECONNREFUSED: return ECONNREFUSED;
    case WSAEHOSTUNREACH: return EHOSTUNREACH;
    default: return EIO;
  }
}

int errno_of_win(DWORD error) {
  switch (error) {
    case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: case ERROR_INVALID_NAME: return ENOENT;
    case ERROR_ACCESS_DENIED: case ERROR_SHARING_VIOLATION: return EACCES;
    case ERROR_FILE_EXISTS: case ERROR_ALREADY_EXISTS: return EEXIST;
    case ERROR_BROKEN_PIPE: case ERROR_NO_DATA: return EPIPE;
    case ERROR_DISK_FULL: case ERROR_HANDLE_DISK_FULL: return ENOSPC;
    case ERROR_INVALID_HANDLE: return EBADF;
    case ERROR_DIRECTORY: return ENOTDIR;
    default: return EIO;
  }
}

int fail_wsa() {
  errno = errno_of_wsa(WSAGetLastError());
  return -1;
}

// A datagram socket reports an ICMP port unreachable as WSAECONNRESET
// (when SIO_UDP_CONNRESET is on); POSIX says ECONNREFUSED.
int fail_wsa_on(int fd) {
  int error = WSAGetLastError();
  errno = errno_of_wsa(error);
  if (error == WSAECONNRESET) {
    int type = 0;
    int size = sizeof type;
    if (::getsockopt(static_cast<SOCKET>(fd), SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &size) == 0 &&
        type == SOCK_DGRAM)
      errno = ECONNREFUSED;
  }
  return -1;
}

// Sockets take no part in the process's handle inheritance (SOCK_CLOEXEC).
int adopt_socket(SOCKET s, int type) {
  if (s == INVALID_SOCKET) return fail_wsa();
  SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0);
  int fd = static_cast<int>(s);
  mark_socket(fd, true);
  if (type & SOCK_NONBLOCK) {
    u_long on = 1;
    ::ioctlsocket(s, FIONBIO, &on);
  }
  if ((type & 0xFF) == SOCK_DGRAM) {
    // Off, as POSIX has it: a port-unreachable from one destination must not
    // fail the next receive. (A stub under Wine, which never reports it.)
    BOOL report = FALSE;
    DWORD bytes = 0;
    ::WSAIoctl(s, SIO_UDP_CONNRESET, &report, sizeof report, nullptr, 0, &bytes, nullptr, nullptr);
  }
  return fd;
}

// Whether `fd` has something to read (or its end) without waiting.
bool non_socket_ready(int fd, short events) {
  HANDLE h = os_handle(fd);
  if (events & POLLOUT) return true;  // files, pipes and consoles take writes (blocking)
  switch (GetFileType(h)) {
    case FILE_TYPE_PIPE: {
      DWORD available = 0;
      if (!PeekNamedPipe(h, nullptr, 0, nullptr, &available, nullptr)) return true;  // broken: EOF to read
      return available > 0;
    }
    case FILE_TYPE_CHAR: return WaitForSingleObject(h, 0) == WAIT_OBJECT_0;
    default: return true;  // a disk file
  }
}

// Winsock is started, and stdin/stdout/stderr are binary (no \r\n, no
// stop at 0x1A), before main() runs.
struct Startup {
  Startup() {
    WSADATA data;
    WSAStartup(MAKEWORD(2, 2), &data);
    _setmode(0, _O_BINARY);
    _setmode(1, _O_BINARY);
    _setmode(2, _O_BINARY);  // files are opened here with CreateFile: no CRT text mode there
  }
} startup;

}  // namespace

// --- the POSIX layer (net/win32/posix.h) ------------------------------------

int netdisp_w32_socket(int family, int type, int protocol) {
  return adopt_socket(::socket(family, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), protocol), type);
}

int netdisp_w32_bind(int fd, const sockaddr* address, socklen_t length) {
  return ::bind(static_cast<SOCKET>(fd), address, length) == 0 ? 0 : fail_wsa();
}

int netdisp_w32_connect(int fd, const sockaddr* address, socklen_t length) {
  if (::connect(static_cast<SOCKET>(fd), address, length) == 0) return 0;
  fail_wsa();
  if (errno == EAGAIN) errno = EINPROGRESS;  // a non-blocking connect under way
  return -1;
}

int netdisp_w32_listen(int fd, int backlog) { return ::listen(static_cast<SOCKET>(fd), backlog) == 0 ? 0 : fail_wsa(); }

int netdisp_w32_accept(int fd, sockaddr* address, socklen_t* length) {
  return adopt_socket(::accept(static_cast<SOCKET>(fd), address, length), SOCK_STREAM);
}

namespace {

bool would_block(int fd, short events) {
  WSAPOLLFD one{static_cast<SOCKET>(fd), events, 0};
  return ::WSAPoll(&one, 1, 0) == 0;
}

}  // namespace

ssize_t netdisp_w32_send(int fd, const void* data, size_t length, int flags) {
  if ((flags & MSG_DONTWAIT) && would_block(fd, POLLOUT)) {
    errno = EAGAIN;
    return -1;
  }
  int n = ::send(static_cast<SOCKET>(fd), static_cast<const char*>(data), static_cast<int>(length), flags & ~MSG_DONTWAIT);
  return n >= 0 ? n : fail_wsa_on(fd);
}

ssize_t netdisp_w32_recv(int fd, void* data, size_t length, int flags) {
  if ((flags & MSG_DONTWAIT) && would_block(fd, POLLIN)) {
    errno = EAGAIN;
    return -1;
  }
  int n = ::recv(static_cast<SOCKET>(fd), static_cast<char*>(data), static_cast<int>(length), flags & ~MSG_DONTWAIT);
  return n >= 0 ? n : fail_wsa_on(fd);
}

ssize_t netdisp_w32_sendto(int fd, const void* data, size_t length, int flags, const sockaddr* to, socklen_t to_length) {
  if ((flags & MSG_DONTWAIT) && would_block(fd, POLLOUT)) {
    errno = EAGAIN;
    return -1;
  }
  int n = ::sendto(static_cast<SOCKET>(fd), static_cast<const char*>(data), static_cast<int>(length),
                   flags & ~MSG_DONTWAIT, to, to_length);
  return n >= 0 ? n : fail_wsa_on(fd);
}

ssize_t netdisp_w32_recvfrom(int fd, void* data, size_t length, int flags, sockaddr* from, socklen_t* from_length) {
  if ((flags & MSG_DONTWAIT) && would_block(fd, POLLIN)) {
    errno = EAGAIN;
    return -1;
  }
  int n = ::recvfrom(static_cast<SOCKET>(fd), static_cast<char*>(data), static_cast<int>(length),
                     flags & ~MSG_DONTWAIT, from, from_length);
  return n >= 0 ? n : fail_wsa_on(fd);
}

namespace {

constexpr std::size_t kMaxParts = 64;

std::size_t to_wsabufs(const iovec* parts, std::size_t count, WSABUF* out) {
  count = std::min(count, kMaxParts);
  for (std::size_t i = 0; i < count; ++i) {
    out[i].buf = static_cast<char*>(parts[i].iov_base);
    out[i].len = static_cast<ULONG>(parts[i].iov_len);
  }
  return count;
}

}  // namespace

ssize_t netdisp_w32_sendmsg(int fd, const msghdr* message, int flags) {
  if ((flags & MSG_DONTWAIT) && would_block(fd, POLLOUT)) {
    errno = EAGAIN;
    return -1;
  }
  WSABUF bufs[kMaxParts];
  DWORD count = static_cast<DWORD>(to_wsabufs(message->msg_iov, message->msg_iovlen, bufs));
  DWORD sent = 0;
  int rc = ::WSASendTo(static_cast<SOCKET>(fd), bufs, count, &sent, 0, static_cast<const sockaddr*>(message->msg_name),
                       message->msg_name ? static_cast<int>(message->msg_namelen) : 0, nullptr, nullptr);
  return rc == 0 ? static_cast<ssize_t>(sent) : fail_wsa_on(fd);
}

ssize_t netdisp_w32_recvmsg(int fd, msghdr* message, int flags) {
  if ((flags & MSG_DONTWAIT) && would_block(fd, POLLIN)) {
    errno = EAGAIN;
    return -1;
  }
  WSABUF bufs[kMaxParts];
  DWORD count = static_cast<DWORD>(to_wsabufs(message->msg_iov, message->msg_iovlen, bufs));
  DWORD got = 0;
  DWORD in_flags = 0;
  INT name_length = static_cast<INT>(message->msg_namelen);
  int rc = ::WSARecvFrom(static_cast<SOCKET>(fd), bufs, count, &got, &in_flags,
                         static_cast<sockaddr*>(message->msg_name), message->msg_name ? &name_length : nullptr,
                         nullptr, nullptr);
  message->msg_flags = 0;
  message->msg_controllen = 0;  // no ancillary data here
  if (rc != 0) {
    if (WSAGetLastError() != WSAEMSGSIZE) return fail_wsa_on(fd);
    // Cut to the buffer: what POSIX calls MSG_TRUNC, with the buffer full.
    message->msg_flags = MSG_TRUNC;
    got = 0;
    for (DWORD i = 0; i < count; ++i) got += bufs[i].len;
  }
  if (message->msg_name) message->msg_namelen = static_cast<socklen_t>(name_length);
  return static_cast<ssize_t>(got);
}

int netdisp_w32_setsockopt(int fd, int level, int name, const void* value, socklen_t length) {
  return ::setsockopt(static_cast<SOCKET>(fd), level, name, static_cast<const char*>(value), length) == 0 ? 0
                                                                                                      : fail_wsa();
}

int netdisp_w32_getsockopt(int fd, int level, int name, void* value, socklen_t* length) {
  int rc = ::getsockopt(static_cast<SOCKET>(fd), level, name, static_cast<char*>(value), length);
  if (rc != 0) return fail_wsa();
  if (level == SOL_SOCKET && name == SO_ERROR && value) {  // a Winsock code: make it an errno
    int* error = static_cast<int*>(value);
    if (*error) *error = errno_of_wsa(*error);
  }
  return 0;
}

int netdisp_w32_getsockname(int fd, sockaddr* address, socklen_t* length) {
  return ::getsockname(static_cast<SOCKET>(fd), address, length) == 0 ? 0 : fail_wsa();
}

int netdisp_w32_getpeername(int fd, sockaddr* address, socklen_t* length) {
  return ::getpeername(static_cast<SOCKET>(fd), address, length) == 0 ? 0 : fail_wsa();
}

int netdisp_w32_shutdown(int fd, int how) { return ::shutdown(static_cast<SOCKET>(fd), how) == 0 ? 0 : fail_wsa(); }

int netdisp_w32_fstat(int fd, struct stat* info) {
  std::memset(info, 0, sizeof *info);
  if (is_socket(fd)) {
    info->st_mode = S_IFSOCK;
    return 0;
  }
  HANDLE h = os_handle(fd);
  switch (GetFileType(h)) {
    case FILE_TYPE_PIPE: info->st_mode = _S_IFIFO; return 0;
    case FILE_TYPE_CHAR: info->st_mode = _S_IFCHR; return 0;
    case FILE_TYPE_DISK: break;
    default:
      errno = EBADF;
      return -1;
  }
  BY_HANDLE_FILE_INFORMATION file{};
  if (!GetFileInformationByHandle(h, &file)) {
    errno = errno_of_win(GetLastError());
    return -1;
  }
  info->st_mode = (file.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? _S_IFDIR : _S_IFREG;
  info->st_size = static_cast<decltype(info->st_size)>((std::uint64_t(file.nFileSizeHigh) << 32) | file.nFileSizeLow);
  info->st_nlink = static_cast<decltype(info->st_nlink)>(file.nNumberOfLinks);
  info->st_dev = file.dwVolumeSerialNumber;
  info->st_ino = static_cast<decltype(info->st_ino)>(file.nFileIndexLow);
  return 0;
}

int poll(pollfd* fds, nfds_t count, int timeout_ms) {
  std::vector<WSAPOLLFD> sockets;
  std::vector<std::size_t> where;
  bool others = false;
  for (nfds_t i = 0; i < count; ++i) {
    fds[i].revents = 0;
    if (fds[i].fd < 0) continue;
    if (is_socket(fds[i].fd)) {
      // WSAPoll refuses flags beyond these (POLLPRI, POLLRDHUP).
      sockets.push_back({static_cast<SOCKET>(fds[i].fd), static_cast<SHORT>(fds[i].events & (POLLIN | POLLOUT)), 0});
      where.push_back(i);
    } else {
      others = true;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int ready = 0;
    for (nfds_t i = 0; i < count; ++i)
      if (fds[i].fd >= 0 && !is_socket(fds[i].fd) && non_socket_ready(fds[i].fd, fds[i].events)) {
        fds[i].revents = static_cast<short>(fds[i].events & (POLLIN | POLLOUT));
        if (!fds[i].revents) fds[i].revents = POLLHUP;
        ++ready;
      }
    int step = timeout_ms;
    if (ready > 0) {
      step = 0;
    } else if (others) {
      step = timeout_ms < 0 ? 10 : std::min(timeout_ms, 10);
    }
    if (timeout_ms >= 0 && ready == 0) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      step = std::clamp(static_cast<int>(left), 0, step < 0 ? INT_MAX : step);
    }
    if (!sockets.empty()) {
      int rc = ::WSAPoll(sockets.data(), static_cast<ULONG>(sockets.size()), step);
      if (rc < 0) return fail_wsa();
      for (std::size_t j = 0; j < sockets.size(); ++j)
        if (sockets[j].revents) {
          fds[where[j]].revents = sockets[j].revents;
          ++ready;
        }
    } else if (step != 0) {
      Sleep(step < 0 ? INFINITE : static_cast<DWORD>(step));
    }
    if (ready > 0) return ready;
    if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) return 0;
    if (!others && !sockets.empty() && timeout_ms < 0) continue;
  }
}

ssize_t writev(int fd, const iovec* parts, int count) {
  if (is_socket(fd)) {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(parts);
    message.msg_iovlen = static_cast<std::size_t>(count);
    return netdisp_w32_sendmsg(fd, &message, 0);
  }
  HANDLE h = os_handle(fd);
  ssize_t total = 0;
  for (int i = 0; i < count; ++i) {
    DWORD written = 0;
    if (!WriteFile(h, parts[i].iov_base, static_cast<DWORD>(parts[i].iov_len), &written, nullptr)) {
      if (total > 0) return total;
      errno = errno_of_win(GetLastError());
      return -1;
    }
    total += written;
    if (written < parts[i].iov_len) break;
  }
  return total;
}

ssize_t readv(int fd, const iovec* parts, int count) {
  ssize_t total = 0;
  for (int i = 0; i < count; ++i) {
    ssize_t n = netdisp::net::read_handle(fd, parts[i].iov_base, parts[i].iov_len);
    if (n < 0) return total > 0 ? total : n;
    total += n;
    if (static_cast<std::size_t>(n) < parts[i].iov_len) break;
  }
  return total;
}

int fcntl(int fd, int command, ...) {
  va_list args;
  va_start(args, command);
  long value = va_arg(args, long);
  va_end(args);
  switch (command) {
    case F_GETFD: return FD_CLOEXEC;
    case F_SETFD:
      SetHandleInformation(os_handle(fd), HANDLE_FLAG_INHERIT, 0);
      return 0;
    case F_GETFL: return 0;
    case F_SETFL: {
      if (!is_socket(fd)) return 0;  // files and pipes stay blocking
      u_long on = (value & O_NONBLOCK) ? 1 : 0;
      return ::ioctlsocket(static_cast<SOCKET>(fd), FIONBIO, &on) == 0 ? 0 : fail_wsa();
    }
    case F_DUPFD_CLOEXEC: {
      HANDLE copy = nullptr;
      if (!DuplicateHandle(GetCurrentProcess(), os_handle(fd), GetCurrentProcess(), &copy, 0, FALSE,
                           DUPLICATE_SAME_ACCESS)) {
        errno = errno_of_win(GetLastError());
        return -1;
      }
      return static_cast<int>(reinterpret_cast<intptr_t>(copy));
    }
    default:
      errno = EINVAL;
      return -1;
  }
}

int ioctl(int fd, unsigned long request, ...) {
  va_list args;
  va_start(args, request);
  void* argument = va_arg(args, void*);
  va_end(args);
  if (request == TIOCGWINSZ) {
    CONSOLE_SCREEN_BUFFER_INFO info{};
    if (!GetConsoleScreenBufferInfo(os_handle(fd), &info)) {
      errno = ENOTTY;
      return -1;
    }
    auto* size = static_cast<winsize*>(argument);
    size->ws_col = static_cast<unsigned short>(info.srWindow.Right - info.srWindow.Left + 1);
    size->ws_row = static_cast<unsigned short>(info.srWindow.Bottom - info.srWindow.Top + 1);
    return 0;
  }
  if (!is_socket(fd)) {
    errno = ENOTTY;
    return -1;
  }
  return ::ioctlsocket(static_cast<SOCKET>(fd), static_cast<long>(request), static_cast<u_long*>(argument)) == 0
             ? 0
             : fail_wsa();
}

// A connected pair of loopback TCP sockets (Wine's AF_UNIX is not dependable).
int socketpair(int, int type, int, int fds[2]) {
  int listener = netdisp_w32_socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int a = -1, b = -1;
  bool ok = netdisp_w32_bind(listener, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
            netdisp_w32_listen(listener, 1) == 0 &&
            netdisp_w32_getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0 &&
            (a = netdisp_w32_socket(AF_INET, SOCK_STREAM, 0)) >= 0 &&
            netdisp_w32_connect(a, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
            (b = netdisp_w32_accept(listener, nullptr, nullptr)) >= 0;
  int error = errno;
  netdisp::net::close_handle(listener);
  if (!ok) {
    if (a >= 0) netdisp::net::close_handle(a);
    errno = error;
    return -1;
  }
  int one = 1;
  netdisp_w32_setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  netdisp_w32_setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (type & SOCK_NONBLOCK) {
    u_long on = 1;
    ::ioctlsocket(static_cast<SOCKET>(a), FIONBIO, &on);
    ::ioctlsocket(static_cast<SOCKET>(b), FIONBIO, &on);
  }
  fds[0] = a;
  fds[1] = b;
  return 0;
}

ssize_t getrandom(void* buffer, size_t length, unsigned) {
  auto* out = static_cast<unsigned char*>(buffer);
  for (size_t i = 0; i < length;) {
    unsigned value = 0;
    if (rand_s(&value) != 0) {
      errno = EIO;
      return -1;
    }
    for (int k = 0; k < 4 && i < length; ++k, ++i) out[i] = static_cast<unsigned char>(value >> (8 * k));
  }
  return static_cast<ssize_t>(length);
}

int sigaction(int signal, const struct sigaction* action, struct sigaction* old) {
  if (old) *old = {};
  // The CRT knows SIGINT (Ctrl-C), SIGBREAK and SIGTERM; the others never come.
  if (action && (signal == SIGINT || signal == SIGTERM || signal == SIGBREAK)) ::signal(signal, action->sa_handler);
  return 0;
}

// Interfaces: every unicast address of every adapter, named as
// if_nametoindex() takes them (ConvertInterfaceLuidToNameA).
int getifaddrs(ifaddrs** list) {
  ULONG size = 16 * 1024;
  std::vector<unsigned char> buffer;
  ULONG rc = ERROR_BUFFER_OVERFLOW;
  for (int attempt = 0; attempt < 3 && rc == ERROR_BUFFER_OVERFLOW; ++attempt) {
    buffer.resize(size);
    rc = GetAdaptersAddresses(AF_UNSPEC, GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER,
                              nullptr, reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buffer.data()), &size);
  }
  if (rc != NO_ERROR) {
    errno = ENOBUFS;
    return -1;
  }
  ifaddrs* head = nullptr;
  ifaddrs** tail = &head;
  for (auto* adapter = reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buffer.data()); adapter; adapter = adapter->Next) {
    char name[IF_MAX_STRING_SIZE + 1] = "";
    if (ConvertInterfaceLuidToNameA(&adapter->Luid, name, sizeof name) != NO_ERROR) continue;
    for (auto* unicast = adapter->FirstUnicastAddress; unicast; unicast = unicast->Next) {
      auto length = static_cast<std::size_t>(unicast->Address.iSockaddrLength);
      auto* entry = static_cast<ifaddrs*>(std::calloc(1, sizeof(ifaddrs) + length + std::strlen(name) + 1));
      if (!entry) break;
      entry->ifa_addr = reinterpret_cast<sockaddr*>(entry + 1);
      std::memcpy(entry->ifa_addr, unicast->Address.lpSockaddr, length);
      entry->ifa_name = reinterpret_cast<char*>(entry + 1) + length;
      std::strcpy(entry->ifa_name, name);
      *tail = entry;
      tail = &entry->ifa_next;
    }
  }
  *list = head;
  return 0;
}

void freeifaddrs(ifaddrs* list) {
  while (list) {
    ifaddrs* next = list->ifa_next;
    std::free(list);
    list = next;
  }
}

namespace netdisp::net {

void close_handle(Handle fd) {
  if (fd <= 2) return;  // the standard handles stay open
  if (is_socket(fd)) {
    mark_socket(fd, false);
    ::closesocket(static_cast<SOCKET>(fd));
  } else {
    CloseHandle(os_handle(fd));
  }
}

ssize_t read_handle(Handle fd, void* buffer, std::size_t length) {
  if (is_socket(fd)) return netdisp_w32_recv(fd, buffer, length, 0);
  DWORD got = 0;
  if (!ReadFile(os_handle(fd), buffer, static_cast<DWORD>(std::min<std::size_t>(length, 1u << 30)), &got, nullptr)) {
    DWORD error = GetLastError();
    if (error == ERROR_BROKEN_PIPE || error == ERROR_HANDLE_EOF) return 0;  // the writer closed: end of input
    errno = errno_of_win(error);
    return -1;
  }
  return static_cast<ssize_t>(got);
}

// Files are opened shared for reading, writing and deleting, so that a log
// file can be renamed away while it is open (as on POSIX), and appended to
// with FILE_APPEND_DATA (each write at the end, as O_APPEND).
Handle open_file(const char* path, int flags, int) {
  // /proc/self/fd/N (stdout_sink.cpp reopens stdout so): the same object again.
  if (std::strncmp(path, "/proc/self/fd/", 14) == 0 && path[14] >= '0' && path[14] <= '2' && !path[15])
    return ::fcntl(path[14] - '0', F_DUPFD_CLOEXEC, 0);
  DWORD access = GENERIC_READ;
  DWORD disposition = OPEN_EXISTING;
  if ((flags & O_ACCMODE) != O_RDONLY) access = (flags & O_APPEND) ? FILE_APPEND_DATA | SYNCHRONIZE : GENERIC_WRITE;
  if (flags & O_CREAT) disposition = (flags & O_TRUNC) ? CREATE_ALWAYS : OPEN_ALWAYS;
  HANDLE h = CreateFileA(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, disposition,
                         FILE_ATTRIBUTE_NORMAL | FILE_FLAG_BACKUP_SEMANTICS, nullptr);  // backup: a directory opens
  if (h == INVALID_HANDLE_VALUE) {
    errno = errno_of_win(GetLastError());
    return kNoHandle;
  }
  return static_cast<Handle>(reinterpret_cast<intptr_t>(h));
}

const Features& features() {
  static const Features kWindows{"windows", "Windows", false, false, false, false, false};
  return kWindows;
}

std::string errno_text(int err) {
  switch (err) {  // Linux's words, which msvcrt's strerror lacks for the socket errors
    case EAGAIN: return "Resource temporarily unavailable";
    case ECONNREFUSED: return "Connection refused";
    case ECONNRESET: return "Connection reset by peer";
    case ECONNABORTED: return "Software caused connection abort";
    case EADDRINUSE: return "Address already in use";
    case EADDRNOTAVAIL: return "Cannot assign requested address";
    case EAFNOSUPPORT: return "Address family not supported by protocol";
    case ENETUNREACH: return "Network is unreachable";
    case EHOSTUNREACH: return "No route to host";
    case ENOTCONN: return "Transport endpoint is not connected";
    case ETIMEDOUT: return "Connection timed out";
    case EMSGSIZE: return "Message too long";
    case ENOPROTOOPT: return "Protocol not available";
    case EINPROGRESS: return "Operation now in progress";
    case ENOBUFS: return "No buffer space available";
    case EPIPE: return "Broken pipe";
    case ENOENT: return "No such file or directory";
    case EACCES: return "Permission denied";
    case EISDIR: return "Is a directory";
    case ENOSPC: return "No space left on device";
    default: {
      char buf[256] = "";
      strerror_s(buf, sizeof buf, err);
      return buf;
    }
  }
}

Handle open_socket(int family, int type, bool nonblocking) {
  return netdisp_w32_socket(family, type | (nonblocking ? SOCK_NONBLOCK : 0), 0);
}

Handle accept_socket(Handle listener, sockaddr* peer, socklen_t* length) {
  return adopt_socket(::accept(static_cast<SOCKET>(listener), peer, length), SOCK_STREAM | SOCK_NONBLOCK);
}

bool force_buffer_size(Handle, int, int) { return false; }  // no SO_RCVBUFFORCE: the size asked plainly

int buffer_size(Handle fd, int optname) {
  int size = 0;
  socklen_t length = sizeof size;
  return netdisp_w32_getsockopt(fd, SOL_SOCKET, optname, &size, &length) == 0 && size > 0 ? size : 0;  // as asked
}

// Windows has no system-wide cap on a socket's buffer (no sysctl to name):
// the warning says the size granted and no more.
std::string receive_buffer_hint(int) { return ""; }
int bind_to_device(Handle, const std::string&) { return ENOPROTOOPT; }
int deliver_own_groups_only(Handle) { return 0; }  // per-socket membership already

int join_group_v4(Handle fd, in_addr group, in_addr interface_address, unsigned index) {
  if (index != 0 && interface_address.s_addr == htonl(INADDR_ANY)) {
    // Windows' ip_mreq takes an index as 0.0.0.x (RFC 3678's group_req is there too).
    interface_address.s_addr = htonl(index);
  }
  ip_mreq request{};
  request.imr_multiaddr = group;
  request.imr_interface = interface_address;
  return netdisp_w32_setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &request, sizeof request) == 0 ? 0 : errno;
}

int multicast_interface_v4(Handle fd, in_addr interface_address, unsigned index) {
  if (index != 0 && interface_address.s_addr == htonl(INADDR_ANY)) interface_address.s_addr = htonl(index);
  return netdisp_w32_setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &interface_address, sizeof interface_address) == 0
             ? 0
             : errno;
}

int path_mtu(Handle fd, int family) {
  DWORD mtu = 0;
  socklen_t size = sizeof mtu;
  bool v6 = family == AF_INET6;
  if (netdisp_w32_getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &size) != 0) return 0;
  return static_cast<int>(mtu);
}

std::string executable_path() {
  char path[MAX_PATH * 2] = "";
  DWORD length = GetModuleFileNameA(nullptr, path, sizeof path);
  return length > 0 && length < sizeof path ? std::string(path, length) : std::string();
}

// Windows has no SIOCOUTQ. SIO_IDEAL_SEND_BACKLOG_QUERY is a target, not a
// fill level; SIO_TCP_INFO (Windows 10 1703+) gives BytesInFlight (sent, not
// acknowledged) but nothing about the bytes still waiting in the socket's
// send buffer, so it cannot say what was taken and not acknowledged either;
// and Wine 8.0 does not implement it (WSAEOPNOTSUPP). The sink bounds the
// figure by what it handed over instead (stage/stream_sink.cpp).
std::optional<std::uint64_t> send_queue_bytes(Handle) { return std::nullopt; }
void grow_pipe(Handle, int) {}

int receive_batch(Handle fd, BatchMessage* messages, unsigned count) {
  unsigned got = 0;
  for (; got < count; ++got) {
    ssize_t n = netdisp_w32_recvmsg(fd, &messages[got].msg_hdr, MSG_DONTWAIT);
    if (n < 0) break;
    messages[got].msg_len = static_cast<unsigned>(n);
  }
  return got > 0 ? static_cast<int>(got) : -1;
}

int send_batch(Handle fd, BatchMessage* messages, unsigned count) {
  unsigned sent = 0;
  for (; sent < count; ++sent) {
    ssize_t n = netdisp_w32_sendmsg(fd, &messages[sent].msg_hdr, 0);
    if (n < 0) break;
    messages[sent].msg_len = static_cast<unsigned>(n);
  }
  return sent > 0 ? static_cast<int>(sent) : -1;
}

// request_drop_reports ... kernel_drops: net/no_offload.cpp.

bool wait_readable(Handle fd, std::chrono::nanoseconds timeout) {
  pollfd one{fd, POLLIN, 0};
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(std::max(timeout, std::chrono::nanoseconds(0))).count();
  return ::poll(&one, 1, static_cast<int>(ms)) > 0;
}

// --- wake-ups ----------------------------------------------------------------

namespace {

void make_pair(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (::socketpair(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) throw_errno("socket pair");
  read_end = UniqueFd(fds[0]);
  write_end = UniqueFd(fds[1]);
}

void drain(Handle fd) {
  char buf[64];
  while (netdisp_w32_recv(fd, buf, sizeof buf, 0) > 0) {
  }
}

void poke(Handle fd, unsigned char byte = 1) {
  [[maybe_unused]] auto ignored = netdisp_w32_send(fd, &byte, 1, 0);  // EAGAIN: full, so already readable
}

}  // namespace

WakeFd::WakeFd() { make_pair(read_, write_); }
void WakeFd::notify() const { poke(write_.get()); }
void WakeFd::clear() const { drain(read_.get()); }

// The console's control events, as the signals the Supervisor stops on.
// The handler runs in a thread Windows starts for it; returning TRUE ends
// the event there (the process is not killed), except for a close, after
// which Windows ends the process once the handler returns (5 s at most):
// it waits for the Supervisor to take the signal first.
struct SignalFd::Waiter {
  UniqueFd write_end;
};

namespace {

std::mutex console_mutex;
std::vector<Handle> console_targets;  // write ends of the live SignalFds

BOOL WINAPI on_console_event(DWORD event) {
  int signal = event == CTRL_C_EVENT ? SIGINT : event == CTRL_BREAK_EVENT ? SIGBREAK : SIGTERM;
  {
    std::lock_guard lock(console_mutex);
    if (console_targets.empty()) return FALSE;
    for (Handle target : console_targets) poke(target, static_cast<unsigned char>(signal));
  }
  if (event == CTRL_CLOSE_EVENT || event == CTRL_LOGOFF_EVENT || event == CTRL_SHUTDOWN_EVENT) Sleep(2000);
  return TRUE;
}

}  // namespace

SignalFd::SignalFd(const sigset_t&) : waiter_(std::make_unique<Waiter>()) {
  make_pair(read_, waiter_->write_end);
  std::lock_guard lock(console_mutex);
  if (console_targets.empty()) SetConsoleCtrlHandler(on_console_event, TRUE);
  console_targets.push_back(waiter_->write_end.get());
}

SignalFd::~SignalFd() {
  std::lock_guard lock(console_mutex);
  std::erase(console_targets, waiter_->write_end.get());
  if (console_targets.empty()) SetConsoleCtrlHandler(on_console_event, FALSE);
}

int SignalFd::take() const {
  unsigned char byte = 0;
  return netdisp_w32_recv(read_.get(), &byte, 1, 0) == 1 ? byte : 0;
}

std::string signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGBREAK: return "SIGBREAK";
    case SIGHUP: return "SIGHUP";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    default: return "signal " + std::to_string(signal);
  }
}

// --- what input_timer.cpp's helper thread needs (net/wake_pair.h) -------------

namespace wake {

void make_pair(UniqueFd& read_end, UniqueFd& write_end) { net::make_pair(read_end, write_end); }
void poke(Handle write_end) { net::poke(write_end); }
void drain(Handle read_end) { net::drain(read_end); }

// A disk file is always readable; sockets, pipes and consoles are waited on.
bool input_pollable(Handle input) {
  if (input < 0) return false;
  if (is_socket(input)) return true;
  DWORD type = GetFileType(os_handle(input));
  return type == FILE_TYPE_PIPE || type == FILE_TYPE_CHAR;
}

std::thread start_thread(std::function<void()> body) { return std::thread(std::move(body)); }

bool poll_handles(std::vector<pollfd>& fds, int timeout_ms) {
  if (::poll(fds.data(), fds.size(), timeout_ms) >= 0) return true;
  Sleep(1);  // no EINTR here: an error would come back at once
  return false;
}

}  // namespace wake

}  // namespace netdisp::net
