#include "stage/udp_source.h"

#include <netinet/udp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace netdisp::stage {

UdpSource::UdpSource(net::UdpListener listener, net::AccessList allow)
    : fd_(std::move(listener.fd)), bound_(listener.bound), allow_(std::move(allow)) {
  for (std::size_t i = 0; i < kUdpBatch; ++i) slots_[i] = {arena_.data() + i * kSlotSize, kSlotSize};
  out_.reserve(kUdpBatch * kMaxGroSegments);
}

// recvmmsg() overwrites the lengths it is given, so they are set before each call.
void UdpSource::prepare() {
  for (std::size_t i = 0; i < kUdpBatch; ++i) {
    msghdr& header = messages_[i].msg_hdr;
    header.msg_iov = &slots_[i];
    header.msg_iovlen = 1;
    header.msg_name = &peers_[i];
    header.msg_namelen = sizeof peers_[i];
    header.msg_control = control_[i].data();
    header.msg_controllen = control_[i].size();
    header.msg_flags = 0;
  }
}

// Reads the message's ancillary data; returns its GRO segment size, 0 if it is one datagram.
std::size_t UdpSource::read_control(const msghdr& header) {
  std::size_t segment = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&header), c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
      std::uint32_t dropped = 0;  // the socket's running total, as the kernel counts it
      std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
      kernel_drops_.store(dropped, std::memory_order_relaxed);
    } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(c), sizeof size);
      segment = size > 0 ? static_cast<std::size_t>(size) : 0;
    }
  }
  return segment;
}

// `datagrams`: how many the message holds (GRO coalesces a peer's datagrams).
bool UdpSource::allowed(const msghdr& header, std::size_t datagrams) {
  if (allow_.empty()) return true;
  auto peer = net::Address::from_sockaddr(static_cast<const sockaddr*>(header.msg_name), header.msg_namelen);
  if (allow_.allows(peer)) return true;
  add(refused_, datagrams);
  if (refused_log_.allow())
    spdlog::warn("udp {}: refused datagram from {} (not in --allow)", bound_.to_string(), peer.to_string());
  return false;
}

ReadStatus UdpSource::read(Batch& batch) {
  prepare();
  int n = ::recvmmsg(fd_.get(), messages_.data(), kUdpBatch, MSG_DONTWAIT, nullptr);
  if (n < 0) {
    // EAGAIN: nothing waiting. Other errors on a listening UDP socket are
    // transient (e.g. a pending ICMP error); the socket stays usable.
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && refused_log_.allow())
      spdlog::warn("udp {}: receive: {}", bound_.to_string(), std::strerror(errno));
    return ReadStatus::kWouldBlock;
  }
  out_.clear();
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
    const msghdr& header = messages_[i].msg_hdr;
    std::size_t segment = read_control(header);
    std::size_t length = messages_[i].msg_len;
    bool coalesced = segment != 0 && segment < length;
    if (!allowed(header, coalesced ? (length + segment - 1) / segment : 1)) continue;
    auto* data = static_cast<std::byte*>(slots_[i].iov_base);
    bytes += length;
    if (!coalesced) {
      out_.push_back({data, length});
      continue;
    }
    for (std::size_t offset = 0; offset < length; offset += segment)
      out_.push_back({data + offset, std::min(segment, length - offset)});
  }
  add(datagrams_, out_.size());
  add(bytes_, bytes);
  batch = Batch{out_, bytes};
  return ReadStatus::kData;
}

std::string UdpSource::stats() const {
  std::uint64_t dropped = std::max<std::uint64_t>(get(kernel_drops_), net::socket_drops(fd_.get()));
  return fmt::format("udp {}: received {} datagrams, {} bytes; {} dropped by the kernel; {} refused by --allow",
                     bound_.to_string(), get(datagrams_), get(bytes_), dropped, get(refused_));
}

}  // namespace netdisp::stage
