#pragma once
// UdpSink: every datagram of a batch to each destination, one sendmmsg() per
// destination per batch, each destination on its own connected socket so an
// ICMP error from one never reaches the others.
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <vector>

#include "net/udp_socket.h"
#include "stage/io.h"
#include "stage/sink.h"

namespace netdisp::stage {

class UdpSink final : public Sink {
 public:
  // Throws for setup errors (socket options); a destination with no route yet
  // is not an error: it is retried while the pipe runs.
  UdpSink(const std::vector<net::Address>& destinations, const net::SocketOptions& options);

  bool write(const Batch& batch) override;
  std::string stats() const override;

 private:
  struct Destination {
    net::Address address;
    net::UniqueFd fd;
    bool connected = false;
    std::chrono::steady_clock::time_point next_connect{};
    Counter datagrams{0}, bytes{0}, errors{0}, refused{0};
    LogLimit log;
  };

  void send_all(Destination& destination, std::size_t count);
  bool ensure_connected(Destination& destination);
  void note_refused(Destination& destination);
  void count_error(Destination& destination, int error, std::size_t lost);

  std::vector<std::unique_ptr<Destination>> destinations_;
  std::vector<mmsghdr> messages_;
};

}  // namespace netdisp::stage
