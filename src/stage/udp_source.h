#pragma once
// UdpSource: datagrams from one listening UDP socket (unicast, broadcast or a
// joined multicast group), up to kUdpBatch per recvmmsg() call.
#include <sys/socket.h>

#include <array>

#include "net/cidr.h"
#include "net/udp_socket.h"
#include "stage/io.h"
#include "stage/source.h"

namespace netdisp::stage {

// Datagrams taken per syscall: enough to keep up with 8 Gbit/s of 8 KiB datagrams.
inline constexpr std::size_t kUdpBatch = 64;
// Every slot holds the largest UDP payload (65507 over IPv4, 65527 over IPv6): nothing is truncated.
inline constexpr std::size_t kSlotSize = 65536;

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
  bool accept(const mmsghdr& message);

  net::UniqueFd fd_;
  net::Address bound_;
  net::AccessList allow_;
  Arena arena_{kUdpBatch * kSlotSize};
  std::array<mmsghdr, kUdpBatch> messages_{};
  std::array<iovec, kUdpBatch> slots_{};
  std::array<iovec, kUdpBatch> out_{};
  std::array<sockaddr_storage, kUdpBatch> peers_{};
  // Room for the SO_RXQ_OVFL drop counter each datagram carries.
  std::array<std::array<char, CMSG_SPACE(sizeof(std::uint32_t))>, kUdpBatch> control_{};
  Counter datagrams_{0}, bytes_{0}, kernel_drops_{0}, refused_{0};
  LogLimit refused_log_;
};

}  // namespace netdisp::stage
