#include "stage/udp_sink.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/error.h"

namespace netdisp::stage {
namespace {

constexpr auto kReconnectInterval = std::chrono::seconds(1);
// A GSO message carries at most 64 segments and one IP packet's worth of payload.
constexpr std::size_t kMaxGsoSegments = 64;
constexpr std::size_t kMaxGsoPayload = 65507;
// How long one batch may wait for room in a full unixgram receiver queue
// before the rest is counted as not sent: short enough for a prompt stop.
constexpr auto kFullQueueWait = std::chrono::milliseconds(200);

}  // namespace

UdpSink::UdpSink(const std::vector<net::Address>& destinations, const net::SocketOptions& options, bool gso)
    : gso_(gso && net::features().gso) {  // no GSO: the same datagrams, one send each
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
    destination.max_segment = net::unfragmented_payload(destination.fd.get(), destination.address.family());
    if (datagram_size_ > 0) check_fragmentation(destination);
    return true;
  }
  destination.next_connect = now + kReconnectInterval;
  if (destination.log.allow())
    spdlog::warn("udp {}: cannot send yet: {}", destination.address.to_string(), net::errno_text(error));
  return false;
}

void UdpSink::expect_datagram_size(std::size_t size) {
  datagram_size_ = size;
  for (auto& destination : destinations_)
    if (destination->connected) check_fragmentation(*destination);
}

// IP fragments are what firewalls, NATs and lossy links drop first, and one
// lost fragment loses the whole datagram: say so once, with the size that fits.
void UdpSink::check_fragmentation(Destination& destination) {
  std::size_t fits = destination.max_segment;
  if (fits == 0 || datagram_size_ <= fits) return;
  spdlog::warn("udp {}: {}-byte datagrams exceed the route MTU and travel as IP fragments, which many networks "
               "drop; --datagram-size {} or less avoids it",
               destination.address.to_string(), datagram_size_, fits);
}

void UdpSink::set_linger(std::chrono::milliseconds linger, const Control& control) {
  linger_ = linger;
  control_ = &control;
}

// The largest datagram that may travel in a GSO message: it must fit the
// route MTU of every destination, since one message list serves them all.
std::size_t UdpSink::gso_segment_limit() const {
  if (!gso_) return 0;
  std::size_t limit = kMaxGsoPayload;
  for (const auto& destination : destinations_) {
    // A Unix datagram socket ignores UDP_SEGMENT and would send the message as one datagram.
    if (destination->address.is_unix()) return 0;
    if (destination->connected) limit = std::min(limit, destination->max_segment);
  }
  return limit;
}

void UdpSink::build_messages(const Batch& batch) {
  std::size_t count = batch.datagrams.size();
  std::size_t segment_limit = gso_segment_limit();
  messages_.clear();
  segments_.clear();
  controls_.resize(count);
  for (std::size_t i = 0; i < count;) {
    std::size_t size = batch.datagrams[i].iov_len;
    std::size_t run = 1;
    if (size > 0 && size <= segment_limit) {
      // Equal sizes, and the last may be shorter: that is what GSO can cut.
      std::size_t limit = std::min(kMaxGsoSegments, kMaxGsoPayload / size);
      while (run < limit && i + run < count && batch.datagrams[i + run].iov_len == size) ++run;
      if (run < limit && i + run < count && batch.datagrams[i + run].iov_len < size &&
          batch.datagrams[i + run].iov_len > 0)
        ++run;
    }
    net::BatchMessage message{};
    message.msg_hdr.msg_iov = const_cast<iovec*>(&batch.datagrams[i]);
    message.msg_hdr.msg_iovlen = run;
    if (run > 1) {
      net::set_segment_control(message.msg_hdr, controls_[messages_.size()].data(), static_cast<std::uint16_t>(size));
    }
    messages_.push_back(message);
    segments_.push_back(run);
    i += run;
  }
}

bool UdpSink::write(const Batch& batch) {
  if (batch.datagrams.empty()) return true;
  build_messages(batch);
  for (auto& destination : destinations_) {
    if (!ensure_connected(*destination)) {
      count_error(*destination, ENETUNREACH, batch.datagrams.size());
      continue;
    }
    send_all(*destination);
  }
  return true;
}

// Sends every message in order. A message the kernel refuses is counted and
// skipped; the rest still go out.
void UdpSink::send_all(Destination& destination) {
  std::size_t next = 0;
  std::size_t count = messages_.size();
  bool retried = false;
  auto wait_until = std::chrono::steady_clock::time_point{};  // for room in a unixgram receiver queue
  while (next < count) {
    int n = net::send_batch(destination.fd.get(), &messages_[next], static_cast<unsigned>(count - next));
    if (n > 0) {
      for (std::size_t i = next; i < next + static_cast<std::size_t>(n); ++i) {
        add(destination.bytes, messages_[i].msg_len);
        add(destination.datagrams, segments_[i]);
      }
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
    bool unix_full = error == EAGAIN && destination.address.is_unix();
    if (unix_full && wait_for_room(destination, wait_until)) continue;
    if (!retried && !unix_full && (error == ECONNREFUSED || error == ENOBUFS || error == EAGAIN)) {
      retried = true;
      if (error != ECONNREFUSED) ::poll(nullptr, 0, 1);
      continue;
    }
    // A unixgram receiver closed its socket: connect again (at the next
    // batch) to whoever binds the path next.
    if (error == ENOTCONN) destination.connected = false;
    if (segments_[next] > 1 && error == EMSGSIZE) {
      // The route's MTU shrank (path MTU discovery): learn the new one; these go singly.
      destination.max_segment = net::unfragmented_payload(destination.fd.get(), destination.address.family());
      send_one_by_one(destination, messages_[next]);
    } else if (segments_[next] > 1 && (error == EIO || error == EINVAL || error == EOPNOTSUPP)) {
      // The route cannot segment (no checksum offload): send datagram by datagram from now on.
      if (gso_) spdlog::warn("udp {}: GSO refused ({}); sending datagrams one by one", destination.address.to_string(), net::errno_text(error));
      gso_ = false;
      send_one_by_one(destination, messages_[next]);
    } else {
      count_error(destination, error, segments_[next]);
    }
    ++next;
    retried = false;
  }
}

// A unixgram receiver's queue is full (its sender is non-blocking, so a
// stalled reader cannot hold this thread where a stop never reaches it):
// wait for room, at most kFullQueueWait per batch. Whether room came.
bool UdpSink::wait_for_room(Destination& destination, std::chrono::steady_clock::time_point& until) {
  auto now = std::chrono::steady_clock::now();
  if (until == std::chrono::steady_clock::time_point{}) until = now + kFullQueueWait;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now);
  if (left.count() <= 0) return false;
  pollfd room{destination.fd.get(), POLLOUT, 0};
  return ::poll(&room, 1, static_cast<int>(left.count())) > 0;
}

void UdpSink::send_one_by_one(Destination& destination, const net::BatchMessage& message) {
  for (std::size_t i = 0; i < message.msg_hdr.msg_iovlen; ++i) {
    const iovec& datagram = message.msg_hdr.msg_iov[i];
    ssize_t n = ::send(destination.fd.get(), datagram.iov_base, datagram.iov_len, 0);
    if (n < 0) {
      count_error(destination, errno, 1);
      continue;
    }
    add(destination.bytes, static_cast<std::uint64_t>(n));
    add(destination.datagrams, 1);
  }
}

// Nobody listens there (yet): not a failure of ours, but the user should know.
void UdpSink::note_refused(Destination& destination) {
  add(destination.refused, 1);
  if (destination.log.allow())
    spdlog::warn("udp {}: port unreachable (ICMP), nobody is listening there; still sending (logged at most every 10 s)",
                 destination.address.to_string());
}

// An error report read with SO_ERROR after the last send.
void UdpSink::note_report(Destination& destination, int error) {
  if (error == ECONNREFUSED) {
    note_refused(destination);
    return;
  }
  add(destination.other_reports, 1);
  if (destination.log.allow())
    spdlog::warn("udp {}: error reported after sending: {} (logged at most every 10 s)",
                 destination.address.to_string(), net::errno_text(error));
}

// At end of input: the reports of the last datagrams are still on their way
// (a round trip), and the process would exit before they arrive. A pending
// report makes a connected socket poll POLLERR; SO_ERROR reads and clears it.
void UdpSink::flush() {
  if (linger_.count() <= 0 || control_ == nullptr || control_->stop_requested()) return;
  std::vector<pollfd> fds{{control_->stop_fd(), POLLIN, 0}};
  std::vector<Destination*> waiting;
  for (auto& destination : destinations_) {
    // No ICMP comes back from a group; a destination that reported is known.
    if (!destination->connected || destination->address.is_multicast() || get(destination->datagrams) == 0 ||
        get(destination->refused) > 0 || get(destination->other_reports) > 0)
      continue;
    fds.push_back({destination->fd.get(), 0, 0});
    waiting.push_back(destination.get());
  }
  auto deadline = std::chrono::steady_clock::now() + linger_;
  while (!waiting.empty()) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    int rc = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (rc < 0 && errno != EINTR) break;
    if (fds[0].revents) break;  // stop requested
    for (std::size_t i = waiting.size(); i-- > 0;) {
      if (!(fds[i + 1].revents & POLLERR)) continue;
      if (int error = net::take_socket_error(fds[i + 1].fd)) note_report(*waiting[i], error);
      fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(i + 1));
      waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
}

std::vector<std::string> UdpSink::undelivered() const {
  std::vector<std::string> lines;
  for (const auto& destination : destinations_) {
    std::uint64_t refused = get(destination->refused), not_sent = get(destination->errors);
    std::uint64_t other = get(destination->other_reports);
    if (!refused && !not_sent && !other) continue;
    lines.push_back(fmt::format("udp {}: {} port unreachable reports (nobody listening), {} datagrams not sent{}",
                                destination->address.to_string(), refused, not_sent,
                                other ? fmt::format(", {} other ICMP error reports", other) : ""));
  }
  return lines;
}

void UdpSink::count_error(Destination& destination, int error, std::size_t lost) {
  add(destination.errors, lost);
  if (destination.log.allow()) {
    spdlog::warn("udp {}: send failed: {} ({} datagrams not sent so far; logged at most every 10 s)",
                 destination.address.to_string(), net::errno_text(error), get(destination.errors));
  }
}

void UdpSink::report(StatsRows& rows) const {
  for (const auto& destination : destinations_) {
    StageStats& row = rows.emplace_back();
    row.role = StageStats::Role::kSink;
    row.endpoint = endpoint_name("udp", destination->address.to_string());
    row.set(Stat::kDatagrams, get(destination->datagrams)).set(Stat::kBytes, get(destination->bytes));
    row.set(Stat::kSendErrors, get(destination->errors)).set(Stat::kUnreachable, get(destination->refused));
    row.set(Stat::kIcmpErrors, get(destination->other_reports));
    std::string& line = row.text;
    line = fmt::format("  -> udp {}: sent {} datagrams, {} bytes; {} not sent (errors); {} port unreachable reports",
                        destination->address.to_string(), get(destination->datagrams), get(destination->bytes),
                        get(destination->errors), get(destination->refused));
    if (std::uint64_t other = get(destination->other_reports))
      line += fmt::format("; {} other ICMP error reports", other);
  }
}

}  // namespace netdisp::stage
