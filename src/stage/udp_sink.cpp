#include "stage/udp_sink.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <cerrno>

#include "net/error.h"

namespace netdisp::stage {
namespace {

constexpr auto kReconnectInterval = std::chrono::seconds(1);

}  // namespace

UdpSink::UdpSink(const std::vector<net::Address>& destinations, const net::SocketOptions& options) {
  for (const net::Address& address : destinations) {
    auto destination = std::make_unique<Destination>();
    destination->address = address;
    destination->fd = net::open_udp_sender(address, options);
    ensure_connected(*destination);
    destinations_.push_back(std::move(destination));
  }
}

bool UdpSink::ensure_connected(Destination& destination) {
  if (destination.connected) return true;
  auto now = std::chrono::steady_clock::now();
  if (now < destination.next_connect) return false;
  int error = net::connect_udp_sender(destination.fd.get(), destination.address);
  if (error == 0) {
    destination.connected = true;
    return true;
  }
  destination.next_connect = now + kReconnectInterval;
  if (destination.log.allow())
    spdlog::warn("udp {}: cannot send yet: {}", destination.address.to_string(), net::errno_text(error));
  return false;
}

bool UdpSink::write(const Batch& batch) {
  std::size_t count = batch.datagrams.size();
  if (count == 0) return true;
  // One message list serves every destination: the sockets are connected, so
  // no message names an address.
  messages_.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    messages_[i] = mmsghdr{};
    messages_[i].msg_hdr.msg_iov = const_cast<iovec*>(&batch.datagrams[i]);
    messages_[i].msg_hdr.msg_iovlen = 1;
  }
  for (auto& destination : destinations_) {
    if (!ensure_connected(*destination)) {
      count_error(*destination, ENETUNREACH, count);
      continue;
    }
    send_all(*destination, count);
  }
  return true;
}

// Sends messages_[0..count) in order. A datagram the kernel refuses is counted
// and skipped; the rest still go out.
void UdpSink::send_all(Destination& destination, std::size_t count) {
  std::size_t next = 0;
  bool retried = false;
  while (next < count) {
    int n = ::sendmmsg(destination.fd.get(), &messages_[next], static_cast<unsigned>(count - next), 0);
    if (n > 0) {
      for (int i = 0; i < n; ++i) add(destination.bytes, messages_[next + static_cast<std::size_t>(i)].msg_len);
      add(destination.datagrams, static_cast<std::uint64_t>(n));
      next += static_cast<std::size_t>(n);
      retried = false;
      continue;
    }
    int error = errno;
    if (error == EINTR) continue;
    // ECONNREFUSED reports an ICMP error from an earlier datagram and clears
    // it: this datagram was not sent, so try it once more. ENOBUFS/EAGAIN: a
    // full device queue; give it a moment, once.
    if (error == ECONNREFUSED) note_refused(destination);
    if (!retried && (error == ECONNREFUSED || error == ENOBUFS || error == EAGAIN)) {
      retried = true;
      if (error != ECONNREFUSED) ::poll(nullptr, 0, 1);
      continue;
    }
    count_error(destination, error, 1);
    ++next;
    retried = false;
  }
}

void UdpSink::count_error(Destination& destination, int error, std::size_t lost) {
  add(destination.errors, lost);
  if (destination.log.allow()) {
    spdlog::warn("udp {}: send failed: {} ({} datagrams not sent so far; logged at most every 10 s)",
                 destination.address.to_string(), net::errno_text(error), get(destination.errors));
  }
}

// Nobody listens there (yet): not a failure of ours, but the user should know.
void UdpSink::note_refused(Destination& destination) {
  add(destination.refused, 1);
  if (destination.log.allow())
    spdlog::warn("udp {}: port unreachable (ICMP), nobody is listening there; still sending (logged at most every 10 s)",
                 destination.address.to_string());
}

std::string UdpSink::stats() const {
  std::string line;
  for (const auto& destination : destinations_) {
    if (!line.empty()) line += "\n";
    line += fmt::format("  -> udp {}: sent {} datagrams, {} bytes; {} not sent (errors); {} port unreachable reports",
                        destination->address.to_string(), get(destination->datagrams), get(destination->bytes),
                        get(destination->errors), get(destination->refused));
  }
  return line;
}

}  // namespace netdisp::stage
