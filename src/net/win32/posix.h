#pragma once
// The Windows build's POSIX layer (MinGW-w64 only; meson.build forces this
// header into every file of that build, before anything else). The shared
// code is written against POSIX sockets; here those names are Winsock's,
// wrapped so that they take an int handle, set errno (not WSAGetLastError)
// and take POSIX argument types. Only net/platform_win32.cpp defines them.
//
// Handles: an int, as everywhere else. A socket's int is its SOCKET value
// (Windows keeps handles in 32 bits so that they can be truncated); sockets
// are made >= kFirstSocket (net/platform_win32.cpp parks lower ones), CRT
// file descriptors are below it (msvcrt allows 2048), so one int says which
// it is. net::close_handle, net::read_handle and poll() use that.
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#define NOGDI  // wingdi.h's ERROR macro
#define _CRT_RAND_S
#include <stdlib.h>
// Winsock's struct pollfd holds a SOCKET; ours an int (below).
#define pollfd netdisp_winsock_pollfd
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>
#include <afunix.h>
#include <iphlpapi.h>
#include <netioapi.h>
#undef pollfd
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <time.h>

#undef interface  // objbase.h's, where some header pulled it in
#undef near       // minwindef.h's, empty: `std::string near` is a variable
#undef far

#ifdef __cplusplus
extern "C++" {
#endif

inline constexpr int kFirstSocket = 2048;

// --- types and constants POSIX has and Winsock names otherwise -----------------
typedef unsigned long nfds_t;
typedef _sigset_t sigset_t;  // sys/types.h has it with _POSIX only
typedef unsigned short sa_family_t;
struct pollfd {
  int fd;
  short events;
  short revents;
};
#ifndef POLLRDHUP
#define POLLRDHUP 0x2000  // never reported here; WSAPoll is asked for POLLIN
#endif
struct iovec {
  void* iov_base;
  size_t iov_len;
};
#ifndef IOV_MAX
#define IOV_MAX 1024
#endif
struct msghdr {
  void* msg_name;
  socklen_t msg_namelen;
  struct iovec* msg_iov;
  size_t msg_iovlen;
  void* msg_control;
  size_t msg_controllen;
  int msg_flags;
};
struct cmsghdr {
  size_t cmsg_len;
  int cmsg_level;
  int cmsg_type;
};
#define NETDISP_CMSG_ALIGN(n) (((n) + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1))
#undef CMSG_DATA  // wincrypt.h's
#define CMSG_SPACE(n) (NETDISP_CMSG_ALIGN(sizeof(struct cmsghdr)) + NETDISP_CMSG_ALIGN(n))
#define CMSG_LEN(n) (NETDISP_CMSG_ALIGN(sizeof(struct cmsghdr)) + (n))
#define CMSG_DATA(c) ((unsigned char*)(c) + NETDISP_CMSG_ALIGN(sizeof(struct cmsghdr)))
#define CMSG_FIRSTHDR(m) \
  ((m)->msg_controllen >= sizeof(struct cmsghdr) ? (struct cmsghdr*)(m)->msg_control : (struct cmsghdr*)0)
#define CMSG_NXTHDR(m, c) ((struct cmsghdr*)0)  // no ancillary data is ever received here

// Flags of the wrappers below (stripped before Winsock sees them).
#define MSG_DONTWAIT 0x1000000
#define MSG_NOSIGNAL 0
#ifndef MSG_TRUNC
#define MSG_TRUNC 0x0100
#endif
#define SOCK_NONBLOCK 0x0800
#define SOCK_CLOEXEC 0x80000
#define SHUT_RD SD_RECEIVE
#define SHUT_WR SD_SEND
#define SHUT_RDWR SD_BOTH
#define O_CLOEXEC _O_NOINHERIT
#define O_NOCTTY 0
#define O_NONBLOCK 0x40000000  // fcntl(F_SETFL) on a socket: FIONBIO
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC 1
#define S_IFSOCK 0xC000
#ifndef S_ISSOCK
#define S_ISSOCK(m) (((m) & 0xF000) == S_IFSOCK)
#endif
#ifndef S_ISBLK
#define S_ISBLK(m) 0
#endif
#ifndef S_ISFIFO
#define S_ISFIFO(m) (((m) & _S_IFMT) == _S_IFIFO)
#endif
#define EAI_SYSTEM (-11)
#ifndef IF_NAMESIZE
#define IF_NAMESIZE 256  // the names this layer gives (net/if.h) are adapters' FriendlyName
#endif

// Signals Windows has no equivalent of: never delivered, named so that code
// can list them. The console's Ctrl-C, Ctrl-Break and close become SIGINT,
// SIGBREAK and SIGTERM (net/platform_win32.cpp).
#define SIGHUP 1
#define SIGQUIT 3
#define SIGUSR1 10
#define SIGUSR2 12
#define SIGPIPE 13
struct sigaction {
  void (*sa_handler)(int);
  sigset_t sa_mask;
  int sa_flags;
};
inline int sigemptyset(sigset_t* set) { *set = 0; return 0; }
inline int sigfillset(sigset_t* set) { *set = ~sigset_t(0); return 0; }
inline int sigaddset(sigset_t* set, int signal) { *set |= sigset_t(1) << signal; return 0; }
inline int sigdelset(sigset_t* set, int signal) { *set &= ~(sigset_t(1) << signal); return 0; }
inline int sigismember(const sigset_t* set, int signal) { return (*set >> signal) & 1; }
int sigaction(int signal, const struct sigaction* action, struct sigaction* old);

struct winsize {
  unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel;
};
#define TIOCGWINSZ 0x5413

// No SO_REUSEPORT on Windows (SO_REUSEADDR there is what Linux calls
// SO_REUSEPORT, without its balancing): a number Winsock refuses, so that
// --reuse-port fails with one line naming the option.
#define SO_REUSEPORT 0x7F0F

// --- the calls --------------------------------------------------------------
inline struct tm* gmtime_r(const time_t* time, struct tm* out) { return gmtime_s(out, time) == 0 ? out : nullptr; }
inline struct tm* localtime_r(const time_t* time, struct tm* out) { return localtime_s(out, time) == 0 ? out : nullptr; }
inline int lstat(const char* path, struct stat* info) { return stat(path, info); }  // no symlinks to tell apart
int poll(struct pollfd* fds, nfds_t count, int timeout_ms);
ssize_t writev(int fd, const struct iovec* parts, int count);
ssize_t readv(int fd, const struct iovec* parts, int count);
int fcntl(int fd, int command, ...);
int ioctl(int fd, unsigned long request, ...);
int socketpair(int family, int type, int protocol, int fds[2]);
ssize_t getrandom(void* buffer, size_t length, unsigned flags);

int netdisp_w32_socket(int family, int type, int protocol);
int netdisp_w32_bind(int fd, const sockaddr* address, socklen_t length);
int netdisp_w32_connect(int fd, const sockaddr* address, socklen_t length);
int netdisp_w32_listen(int fd, int backlog);
int netdisp_w32_accept(int fd, sockaddr* address, socklen_t* length);
ssize_t netdisp_w32_send(int fd, const void* data, size_t length, int flags);
ssize_t netdisp_w32_recv(int fd, void* data, size_t length, int flags);
ssize_t netdisp_w32_sendto(int fd, const void* data, size_t length, int flags, const sockaddr* to, socklen_t to_length);
ssize_t netdisp_w32_recvfrom(int fd, void* data, size_t length, int flags, sockaddr* from, socklen_t* from_length);
ssize_t netdisp_w32_sendmsg(int fd, const struct msghdr* message, int flags);
ssize_t netdisp_w32_recvmsg(int fd, struct msghdr* message, int flags);
int netdisp_w32_setsockopt(int fd, int level, int name, const void* value, socklen_t length);
int netdisp_w32_getsockopt(int fd, int level, int name, void* value, socklen_t* length);
int netdisp_w32_getsockname(int fd, sockaddr* address, socklen_t* length);
int netdisp_w32_getpeername(int fd, sockaddr* address, socklen_t* length);
int netdisp_w32_shutdown(int fd, int how);
int netdisp_w32_fstat(int fd, struct stat* info);

#ifdef __cplusplus
}
#endif

#ifndef NETDISP_WIN32_IMPL
#define socket netdisp_w32_socket
#define bind netdisp_w32_bind
#define connect netdisp_w32_connect
#define listen netdisp_w32_listen
#define accept netdisp_w32_accept
#define send netdisp_w32_send
#define recv netdisp_w32_recv
#define sendto netdisp_w32_sendto
#define recvfrom netdisp_w32_recvfrom
#define sendmsg netdisp_w32_sendmsg
#define recvmsg netdisp_w32_recvmsg
#define setsockopt netdisp_w32_setsockopt
#define getsockopt netdisp_w32_getsockopt
#define getsockname netdisp_w32_getsockname
#define getpeername netdisp_w32_getpeername
#define shutdown netdisp_w32_shutdown
#undef fstat
#define fstat netdisp_w32_fstat
#endif
