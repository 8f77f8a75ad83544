#pragma once
// UdpSource: datagrams from one listening UDP socket (unicast, broadcast or a
// joined multicast group), up to kUdpBatch per recvmmsg() call. With UDP_GRO
// on the socket, one message may carry several datagrams of one sender
// (coalesced by the kernel); they are split back into the same datagrams.
#include <sys/socket.h>

#include <array>
#include <vector>

#include "net/cidr.h"
#include "net/udp_socket.h"
#include "stage/io.h"
#include "stage/source.h"

namespace netdisp::stage {

// Datagrams taken per syscall: enough to keep up with 8 Gbit/s of 8 KiB datagrams.
inline constexpr std::size_t kUdpBatch = 64;
// Every slot holds the largest UDP payload (65507 over IPv4, 65527 over IPv6): nothing is truncated.
inline constexpr std::size_t kSlotSize = 65536;
// The kernel coalesces at most this many datagrams into one GRO message.
inline constexpr std::size_t kMaxGroSegments = 64;

class UdpSource final : public Source {
 public:
  // Datagrams from peers outside `allow` are dropped and counted.
  UdpSource(net::UdpListener listener, net::AccessList allow);

  ReadStatus read(Batch& batch) override;
  int poll_fd() const override { return fd_.get(); }
  std::string stats() const override;
  const net::Address& bound() const { return bound_; }

 private:
  void prepare();
  bool allowed(const msghdr& header, std::size_t datagrams);
  std::size_t read_control(const msghdr& header);

  net::UniqueFd fd_;
  net::Address bound_;
  net::AccessList allow_;
  Arena arena_{kUdpBatch * kSlotSize};
  std::array<mmsghdr, kUdpBatch> messages_{};
  std::array<iovec, kUdpBatch> slots_{};
  std::vector<iovec> out_;  // capacity for every datagram GRO may pack into a batch
  std::array<sockaddr_storage, kUdpBatch> peers_{};
  // Room for the SO_RXQ_OVFL drop counter and the UDP_GRO segment size.
  std::array<std::array<char, 2 * CMSG_SPACE(sizeof(std::uint32_t))>, kUdpBatch> control_{};
  Counter datagrams_{0}, bytes_{0}, kernel_drops_{0}, refused_{0};
  LogLimit refused_log_;
};

}  // namespace netdisp::stage
