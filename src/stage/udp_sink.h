#pragma once
// UdpSink: every datagram of a batch to each destination, one sendmmsg() per
// destination per batch, each destination on its own connected socket so an
// ICMP error from one never reaches the others.
//
// With GSO (UDP_SEGMENT), runs of equal-sized datagrams travel through the
// stack as one message that the kernel (or the NIC) cuts into exactly the
// same datagrams: the receiver sees the boundaries it would see without it.
// Segmentation never fragments, so only datagrams that fit every
// destination's route MTU unfragmented are grouped; larger ones go singly
// and the kernel fragments them as usual.
//
// ICMP errors arrive after the datagram that caused them. While sending, the
// next send returns them; at end of input (flush) a sender with a linger time
// waits that long for the reports still on their way, so a short transfer
// to nobody is not taken for a success.
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/platform.h"
#include "net/udp_socket.h"
#include "stage/control.h"
#include "stage/io.h"
#include "stage/sink.h"

namespace netdisp::stage {

class UdpSink final : public Sink {
 public:
  // Throws for setup errors (socket options); a destination with no route yet
  // is not an error: it is retried while the pipe runs.
  UdpSink(const std::vector<net::Address>& destinations, const net::SocketOptions& options, bool gso = false);

  // At flush, wait up to `linger` for ICMP reports on every destination that
  // was sent to and has reported none yet; a stop request on `control` ends
  // or skips the wait. Call before the pipe runs; `control` must outlive it.
  void set_linger(std::chrono::milliseconds linger, const Control& control);
  // Warns once per destination whose route carries fewer than `size` bytes
  // per datagram unfragmented: now, or when it connects. Call before the pipe runs.
  void expect_datagram_size(std::size_t size);

  bool write(const Batch& batch) override;
  void flush() override;  // the linger wait, see set_linger
  void report(StatsRows& rows) const override;
  // One line per destination that refused (port unreachable reports: nobody
  // listening), could not be sent to, or reported another ICMP error.
  std::vector<std::string> undelivered() const override;

 private:
  struct Destination {
    net::Address address;
    net::UniqueFd fd;
    bool connected = false;
    std::size_t max_segment = 0;  // largest unfragmented payload on the route; 0: unknown
    std::chrono::steady_clock::time_point next_connect{};
    Counter datagrams{0}, bytes{0}, errors{0}, refused{0}, other_reports{0};
    LogLimit log;
  };
  using SegmentControl = std::array<char, net::kSegmentControlSize>;

  std::size_t gso_segment_limit() const;
  void build_messages(const Batch& batch);
  void send_all(Destination& destination);
  void send_one_by_one(Destination& destination, const net::BatchMessage& message);
  bool wait_for_room(Destination& destination, std::chrono::steady_clock::time_point& until);
  bool ensure_connected(Destination& destination);
  void note_refused(Destination& destination);
  void note_report(Destination& destination, int error);
  void check_fragmentation(Destination& destination);
  void count_error(Destination& destination, int error, std::size_t lost);

  std::vector<std::unique_ptr<Destination>> destinations_;
  bool gso_;
  std::size_t datagram_size_ = 0;  // expect_datagram_size; 0: not checked
  std::chrono::milliseconds linger_{0};
  const Control* control_ = nullptr;
  // Rebuilt per batch, shared by every destination (connected sockets: no
  // message names an address). segments_[i]: datagrams in messages_[i].
  std::vector<net::BatchMessage> messages_;
  std::vector<std::size_t> segments_;
  std::vector<SegmentControl> controls_;
};

}  // namespace netdisp::stage
