#pragma once
// UdpSource: datagrams from one listening UDP socket (unicast, broadcast or a
// joined multicast group), up to kUdpBatch per receive_batch() (recvmmsg) call. With UDP_GRO
// on the socket, one message may carry several datagrams of one sender
// (coalesced by the kernel); they are split back into the same datagrams.
// On a stop it drains (Source::drains): what is still queued after the
// drain timeout is read, counted and named in stats() as lost at stop.
#include <sys/socket.h>

#include <array>
#include <optional>
#include <vector>

#include "net/cidr.h"
#include "net/platform.h"
#include "net/udp_socket.h"
#include "stage/io.h"
#include "stage/source.h"

namespace netdisp::stage {

// Datagrams taken per syscall: enough to keep up with 8 Gbit/s of 8 KiB datagrams.
inline constexpr std::size_t kUdpBatch = 64;
// Every slot holds the largest UDP payload (65507 over IPv4, 65527 over IPv6): nothing is truncated.
inline constexpr std::size_t kSlotSize = 65536;
// The most datagrams one GRO message may hold: a GSO send from this host
// reaches a GRO socket whole, and Linux 6.x takes up to 128 segments per send
// (UDP_MAX_SEGMENTS; NIC GRO coalesces at most 64).
inline constexpr std::size_t kMaxGroSegments = 128;

class UdpSource final : public Source {
 public:
  // Datagrams from peers outside `allow` are dropped and counted.
  UdpSource(net::UdpListener listener, net::AccessList allow);

  ReadStatus read(Batch& batch) override;
  net::Handle poll_fd() const override { return fd_.get(); }
  void report(StatsRows& rows) const override;
  // "udp 0.0.0.0:9921", or "unixgram /dev/log" for a Unix datagram socket.
  std::string name() const override { return (bound_.is_unix() ? "unixgram " : "udp ") + bound_.to_string(); }
  bool drains() const override { return true; }
  void discard_queued() override;
  const net::Address& bound() const { return bound_; }
  // Fill Batch::peers from now on (--prefix peer): one Address copied per
  // datagram, so only when a consumer uses it.
  void keep_peers();

 private:
  struct Received {
    std::size_t messages = 0;  // 0: nothing was waiting
    std::size_t bytes = 0;     // payload of the datagrams put in out_
  };
  Received receive();
  std::optional<std::uint64_t> kernel_drops() const;  // nullopt: the system keeps no counter
  std::string kernel_drops_text(std::optional<std::uint64_t> dropped) const;
  void note_truncated();
  void prepare();
  bool allowed(const msghdr& header, std::size_t datagrams);
  std::size_t read_control(const msghdr& header);

  net::UniqueFd fd_;
  net::Address bound_;
  net::AccessList allow_;
  bool gro_;
  Arena arena_{kUdpBatch * kSlotSize};
  std::array<net::BatchMessage, kUdpBatch> messages_{};
  std::array<iovec, kUdpBatch> slots_{};
  std::vector<iovec> out_;  // capacity for every datagram GRO may pack into a batch
  bool keep_peers_ = false;
  std::vector<net::Address> out_peers_;  // parallel to out_ with keep_peers()
  std::array<sockaddr_storage, kUdpBatch> peers_{};
  // Room for the SO_RXQ_OVFL drop counter and the UDP_GRO segment size.
  std::array<std::array<char, net::kReceiveControlSize>, kUdpBatch> control_{};
  Counter datagrams_{0}, bytes_{0}, kernel_drops_{0}, refused_{0};
  Counter discarded_{0}, discarded_bytes_{0};  // still queued after the drain timeout
  Counter truncated_{0};                       // Unix datagrams longer than a slot
  LogLimit refused_log_;
};

}  // namespace netdisp::stage
