#pragma once
// The platform seam (ninja's subprocess-posix.cc / subprocess-win32.cc): the
// few calls that differ between systems, with one interface. Two
// implementations, meson builds one:
// - platform_linux.cpp: Linux's fast paths (recvmmsg/sendmmsg, eventfd,
//   signalfd, timerfd+epoll, SO_MEMINFO, UDP_GRO/UDP_SEGMENT, accept4 ...);
// - platform_posix.cpp: plain POSIX, what macOS and the BSDs get (a loop of
//   recvmsg/sendmsg, pipes, a sigwait thread, no kernel drop counter, no
//   GSO/GRO). -Dportable=true builds it on Linux too, so it is tested there.
// #if lives in platform files only (here and the two .cpp files), never in a
// mode or a stage: they ask features() and get one line to show when a
// feature is missing.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "net/unique_fd.h"

#if !defined(NETDISP_PORTABLE) && defined(__linux__)
#define NETDISP_PLATFORM_LINUX 1
#endif

namespace netdisp::net {

// One message of a batch: Linux's mmsghdr, the same layout elsewhere.
#if NETDISP_PLATFORM_LINUX
using BatchMessage = ::mmsghdr;
#else
struct BatchMessage {
  msghdr msg_hdr;
  unsigned int msg_len;
};
#endif

// What this build has. Stages and modes decide with these, never with #if.
struct Features {
  const char* flavour;   // "linux" or "portable": `netdisp --version` prints it
  const char* system;    // for refusals: "this portable POSIX build"
  bool gso;              // UDP_SEGMENT
  bool gro;              // UDP_GRO
  bool kernel_drops;     // a per-socket drop counter (SO_RXQ_OVFL, SO_MEMINFO)
  bool bind_device;      // SO_BINDTODEVICE
  bool reuse_port;       // SO_REUSEPORT that balances unicast among the sockets
};
const Features& features();

// --- descriptors and sockets -------------------------------------------------
// A close-on-exec socket, non-blocking when asked; -1 and errno on failure.
Handle open_socket(int family, int type, bool nonblocking);
// accept() giving a close-on-exec, non-blocking socket; -1 and errno.
Handle accept_socket(Handle listener, sockaddr* peer, socklen_t* length);
// Asks for `bytes` of SO_RCVBUF/SO_SNDBUF past the system's cap where the
// process may (SO_RCVBUFFORCE); false when not done (the caller asks plainly).
bool force_buffer_size(Handle fd, int optname, int bytes);
// The SO_RCVBUF/SO_SNDBUF size a socket has, in the bytes one asks for
// (Linux reports twice that: its bookkeeping); 0 when it will not say.
int buffer_size(Handle fd, int optname);
// How to let a receive buffer of `bytes` past the system's cap, for the
// warning that one was capped: "Raise it with: sysctl -w ..." ("" where the
// system has no cap to raise, or none this build knows).
std::string receive_buffer_hint(int bytes);
// SO_BINDTODEVICE; 0 or errno (ENOPROTOOPT where the system has none).
int bind_to_device(Handle fd, const std::string& device);
// Only this socket's groups are delivered to it, not every group the host
// joined (IP_MULTICAST_ALL off; other systems do so already).
int deliver_own_groups_only(Handle fd);
// IPv4 any-source join / sending interface, by interface address and index.
int join_group_v4(Handle fd, in_addr group, in_addr interface_address, unsigned index);
int multicast_interface_v4(Handle fd, in_addr interface_address, unsigned index);
// The route MTU of a connected socket; 0 when the system will not say.
int path_mtu(Handle fd, int family);
// The file of the running executable ("" when unknown).
std::string executable_path();
// Bytes a stream socket's kernel holds that its peer has not acknowledged
// (TCP) or read (Unix): SIOCOUTQ, FIONWRITE; nullopt where the system cannot
// say (Windows), never a made-up 0: the caller must bound it another way.
std::optional<std::uint64_t> send_queue_bytes(Handle fd);
// A pipe's buffer size (F_SETPIPE_SZ), best effort.
void grow_pipe(Handle fd, int bytes);

// --- files ---------------------------------------------------------------------
// open(2) and read(2), for files, pipes and (read) sockets alike: -1 and
// errno on failure. On Windows a file is a HANDLE, not a CRT descriptor
// (net/platform_win32.cpp), so files are opened and read through these.
#if defined(_WIN32)
Handle open_file(const char* path, int flags, int mode = 0);
ssize_t read_handle(Handle fd, void* buffer, std::size_t length);
#else
inline Handle open_file(const char* path, int flags, int mode = 0) { return ::open(path, flags, mode); }
inline ssize_t read_handle(Handle fd, void* buffer, std::size_t length) { return ::read(fd, buffer, length); }
#endif

// --- the data path -----------------------------------------------------------
// Receives up to `count` messages without blocking; msg_len is set for each.
// Returns how many (>0), or -1 with errno (EAGAIN: none waiting).
int receive_batch(Handle fd, BatchMessage* messages, unsigned count);
// Sends up to `count` messages; returns how many went (>0), or -1 with errno
// for the first one.
int send_batch(Handle fd, BatchMessage* messages, unsigned count);
// Ancillary data the receive path asks for: the socket's drop counter and
// the GRO segment size. Only with features().kernel_drops / .gro. Systems
// without these offloads share net/no_offload.cpp.
void request_drop_reports(Handle fd);
int enable_gro(Handle fd);
constexpr std::size_t kReceiveControlSize = 2 * CMSG_SPACE(sizeof(std::uint32_t));
struct ReceivedControl {
  std::optional<std::uint32_t> drops;  // the socket's running total
  std::size_t segment = 0;             // GRO segment size; 0: one datagram
};
ReceivedControl read_receive_control(const msghdr& header);
// Writes a UDP_SEGMENT header for `segment`-byte datagrams into `control`
// (kSegmentControlSize bytes) and points the header at it.
constexpr std::size_t kSegmentControlSize = CMSG_SPACE(sizeof(std::uint16_t));
void set_segment_control(msghdr& header, void* control, std::uint16_t segment);
// Datagrams the kernel dropped on this socket's receive queue so far;
// nullopt when the system keeps no such counter (never a made-up 0).
std::optional<std::uint32_t> kernel_drops(Handle fd);
// Waits until `fd` is readable or `timeout` passed (sub-millisecond where the
// system allows); true when readable.
bool wait_readable(Handle fd, std::chrono::nanoseconds timeout);

// --- wake-ups ----------------------------------------------------------------
// A descriptor one thread makes readable for others (eventfd; a pipe).
// notify() from any thread; clear() makes it unreadable again.
class WakeFd {
 public:
  WakeFd();  // throws Error
  Handle handle() const { return read_.get(); }
  void notify() const;
  void clear() const;

 private:
  UniqueFd read_;
  UniqueFd write_;  // the pipe's other end; unused with an eventfd
};

// The signals in `set`, blocked in the calling thread (and the threads it
// starts afterwards), delivered through a descriptor: signalfd, or a thread
// in sigwait() writing to a pipe.
class SignalFd {
 public:
  explicit SignalFd(const sigset_t& set);  // throws Error
  ~SignalFd();
  SignalFd(const SignalFd&) = delete;
  SignalFd& operator=(const SignalFd&) = delete;
  Handle handle() const { return read_.get(); }
  // The next signal, or 0 when none is waiting.
  int take() const;

 private:
  UniqueFd read_;
  struct Waiter;
  std::unique_ptr<Waiter> waiter_;
};
// "SIGTERM" for SIGTERM.
std::string signal_name(int signal);

// A descriptor that is readable while `input` is readable or once a
// deadline set with arm() passed (epoll over the input and a timerfd; a pipe
// a shared helper thread writes to elsewhere). Without an input it is a
// timer. The owner calls rearm() when it found its input empty and is going
// to wait on handle() again (nothing to do on Linux).
class InputTimer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit InputTimer(Handle input = kNoHandle);  // throws Error
  ~InputTimer();
  InputTimer(const InputTimer&) = delete;
  InputTimer& operator=(const InputTimer&) = delete;
  Handle handle() const;
  // False for an input the system cannot poll (a regular file): always readable.
  bool input_pollable() const { return input_pollable_; }
  // One shot at `when`; a later arm() replaces it. disarm() also clears a
  // deadline that already passed.
  void arm(Clock::time_point when);
  void disarm();
  // A deadline is set and not yet taken (take_expired) or cleared.
  bool armed() const { return armed_; }
  // True once the deadline passed (and it is then cleared).
  bool take_expired();
  void rearm();
  struct Entry;  // the platform file's own state (elsewhere: what the helper thread watches)

 private:
  UniqueFd a_;  // Linux: the epoll set (or the timerfd alone); else: the pipe's read end
  UniqueFd b_;  // Linux: the timerfd; else: unused
  bool input_pollable_ = false;
  bool armed_ = false;
  std::shared_ptr<Entry> entry_;
};

}  // namespace netdisp::net
