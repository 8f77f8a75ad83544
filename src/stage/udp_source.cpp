#include "stage/udp_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/platform.h"

namespace netdisp::stage {

UdpSource::UdpSource(net::UdpListener listener, net::AccessList allow)
    : fd_(std::move(listener.fd)), bound_(listener.bound), allow_(std::move(allow)), gro_(listener.gro) {
  for (std::size_t i = 0; i < kUdpBatch; ++i) slots_[i] = {arena_.data() + i * kSlotSize, kSlotSize};
  out_.reserve(kUdpBatch * kMaxGroSegments);
}

void UdpSource::keep_peers() {
  keep_peers_ = true;
  out_peers_.reserve(out_.capacity());
}

// receive_batch() (recvmmsg) overwrites the lengths it is given, so they are set before each call.
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
  net::ReceivedControl got = net::read_receive_control(header);
  // The socket's running total, as the kernel counts it.
  if (got.drops) kernel_drops_.store(*got.drops, std::memory_order_relaxed);
  return got.segment;
}

// `datagrams`: how many the message holds (GRO coalesces a peer's datagrams).
bool UdpSource::allowed(const msghdr& header, std::size_t datagrams) {
  if (allow_.empty()) return true;
  auto peer = net::Address::from_sockaddr(static_cast<const sockaddr*>(header.msg_name), header.msg_namelen);
  if (allow_.allows(peer)) return true;
  add(refused_, datagrams);
  if (refused_log_.allow())
    spdlog::warn("{}: refused datagram from {} (not in --allow)", name(), peer.to_string());
  return false;
}

void UdpSource::note_truncated() {
  add(truncated_, 1);
  if (refused_log_.allow())
    spdlog::warn("{}: a datagram longer than {} bytes was cut to that size (counted)", name(), kSlotSize);
}

// One receive_batch() (recvmmsg) into the arena: out_ gets every datagram of the allowed messages.
UdpSource::Received UdpSource::receive() {
  prepare();
  int n = net::receive_batch(fd_.get(), messages_.data(), kUdpBatch);
  if (n < 0) {
    // EAGAIN: nothing waiting. Other errors on a listening UDP socket are
    // transient (e.g. a pending ICMP error); the socket stays usable.
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && refused_log_.allow())
      spdlog::warn("{}: receive: {}", name(), std::strerror(errno));
    return {};
  }
  out_.clear();
  out_peers_.clear();
  Received got{static_cast<std::size_t>(n), 0};
  for (std::size_t i = 0; i < got.messages; ++i) {
    const msghdr& header = messages_[i].msg_hdr;
    std::size_t segment = read_control(header);
    std::size_t length = messages_[i].msg_len;
    bool coalesced = segment != 0 && segment < length;
    if (!allowed(header, coalesced ? (length + segment - 1) / segment : 1)) continue;
    auto* data = static_cast<std::byte*>(slots_[i].iov_base);
    got.bytes += length;
    // Only a Unix datagram can outgrow a slot (a UDP payload always fits).
    if (header.msg_flags & MSG_TRUNC) note_truncated();
    if (keep_peers_) {
      auto peer = net::Address::from_sockaddr(static_cast<const sockaddr*>(header.msg_name), header.msg_namelen,
                                              bound_.family());
      out_peers_.insert(out_peers_.end(), coalesced ? (length + segment - 1) / segment : 1, peer);
    }
    if (!coalesced) {
      out_.push_back({data, length});
      continue;
    }
    for (std::size_t offset = 0; offset < length; offset += segment)
      out_.push_back({data + offset, std::min(segment, length - offset)});
  }
  return got;
}

ReadStatus UdpSource::read(Batch& batch) {
  Received got = receive();
  if (got.messages == 0) return ReadStatus::kWouldBlock;
  add(datagrams_, out_.size());
  add(bytes_, got.bytes);
  batch = Batch{out_, got.bytes, out_peers_};
  return ReadStatus::kData;
}

// Reads until nothing is waiting. A sender still sending could keep the
// queue full for ever, so it also ends once more has been read than the
// queue could hold when we began: the kernel charges every datagram its
// payload and more than kMinCharge bytes of bookkeeping, so by then every
// datagram queued at the stop has been read and counted.
void UdpSource::discard_queued() {
  constexpr std::uint64_t kMinCharge = 256;        // below sizeof(sk_buff) + skb_shared_info
  constexpr std::uint64_t kSlack = 2 * kSlotSize;  // a message the kernel let in past the limit
  std::uint64_t limit = net::receive_queue_limit(fd_.get()) + kSlack;
  for (std::uint64_t charged = 0; charged <= limit;) {
    Received got = receive();
    if (got.messages == 0) return;
    add(discarded_, out_.size());
    add(discarded_bytes_, got.bytes);
    charged += got.bytes + got.messages * kMinCharge;
  }
}

// The kernel's drop counter. With GRO on, it counts a dropped coalesced
// message as one, and nobody can tell afterwards how many datagrams it held:
// the line says so and gives the most it may stand for, so a reader never
// takes the loss for smaller than it was.
std::optional<std::uint64_t> UdpSource::kernel_drops() const {
  std::optional<std::uint32_t> now = net::kernel_drops(fd_.get());
  if (!now) return std::nullopt;  // the system keeps no counter: unknown, never 0
  return std::max<std::uint64_t>(get(kernel_drops_), *now);
}

std::string UdpSource::kernel_drops_text(std::optional<std::uint64_t> known) const {
  if (!known) return fmt::format("kernel drops unknown ({} keeps no per-socket counter)", net::features().system);
  std::uint64_t dropped = *known;
  if (!gro_ || dropped == 0) return fmt::format("{} dropped by the kernel", dropped);
  return fmt::format("{} dropped by the kernel (with --gro on, each is a datagram or a coalesced message of up to {} "
                     "datagrams: up to {} datagrams; --gro off counts datagrams exactly)",
                     dropped, kMaxGroSegments, dropped * kMaxGroSegments);
}

void UdpSource::report(StatsRows& rows) const {
  std::optional<std::uint64_t> dropped = kernel_drops();
  StageStats& row = rows.emplace_back();
  row.endpoint = endpoint_name(bound_.is_unix() ? "unixgram" : "udp", bound_.to_string());
  row.set(Stat::kDatagrams, get(datagrams_)).set(Stat::kBytes, get(bytes_));
  if (dropped) row.set(Stat::kKernelDrops, *dropped);  // unknown: left out of JSON and metrics
  row.set(Stat::kRefused, get(refused_)).set(Stat::kTruncated, get(truncated_));
  row.set(Stat::kDiscardedDatagrams, get(discarded_)).set(Stat::kDiscardedBytes, get(discarded_bytes_));
  std::string& line = row.text;
  line = fmt::format("{}: received {} datagrams, {} bytes; {}; {} refused by --allow", name(), get(datagrams_),
                     get(bytes_), kernel_drops_text(dropped), get(refused_));
  if (std::uint64_t truncated = get(truncated_))
    line += fmt::format("; {} datagrams cut to {} bytes (longer than a receive slot)", truncated, kSlotSize);
  if (std::uint64_t discarded = get(discarded_); discarded > 0)
    line += fmt::format("; {} datagrams ({} bytes) discarded at stop after --drain-timeout", discarded,
                        get(discarded_bytes_));
}

}  // namespace netdisp::stage
