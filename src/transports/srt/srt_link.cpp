#include "transports/srt/srt_link.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace netdisp::transports::srt {

using stage::add;
using stage::get;
namespace {

constexpr auto kAckTimeout = std::chrono::seconds(30);  // flush: the receiver acknowledges nothing for this long

bool would_block(int error) { return error == SRT_EASYNCSND || error == SRT_ETIMEOUT; }

// File mode delivers without timestamps (make_socket: TSBPD off): a message
// marked in order is handed on only after every earlier one.
SRT_MSGCTRL in_order_message() {
  SRT_MSGCTRL control = srt_msgctrl_default;
  control.inorder = 1;
  return control;
}

// Waits until what the peer acknowledged was handed on at its end, or a
// stop. In live mode SRT acknowledges a packet when it arrives and hands it
// out only at its delivery time, the latency after it was sent (file mode
// hands it out as soon as it is contiguous, and there the wait is short: a
// 1 MB file-mode client on loopback ends in 0.28 s in all); a receiver that stops
// reading at the close loses what it held then (netdisp's own receiver reads
// its buffer empty after a close, see SrtSource::end; srt-live-transmit lost
// half of a 0.2 s stream without this wait). Twice the latency plus a margin:
// the receiver's clock for delivery is set at the handshake and runs late by
// as much as its host was busy then. Counted from the last batch sent, as
// the delivery time is, not from the end of the wait for acknowledgements: a
// sink's destinations (a listener's callers, a client's srt:// servers) end
// one after the other, and each lingering in full after the one before made
// 5 callers of a listener take 4.3 s after the end of input. A packet
// repaired later than that was handed on when it came, before its
// acknowledgement.
void linger(const Link& link, const stage::Control& control) {
  SRTSOCKET socket = link.peer.socket;
  int latency = 0;
  int size = sizeof latency;
  srt_getsockflag(socket, SRTO_PEERLATENCY, &latency, &size);
  SRT_TRACEBSTATS stats{};
  srt_bstats(socket, &stats, 0);
  auto until = link.sent_at + std::chrono::milliseconds(2 * latency + 4 * static_cast<int>(stats.msRTT) + 200);
  // Asleep on the library's epoll until the peer closes (an error event), a
  // stop or the end: a poll step of 10 ms here, in 50 callers lingering at
  // once, made srt_churn take twice as long under ASan.
  int epoll = srt_epoll_create();
  int events = SRT_EPOLL_ERR;
  srt_epoll_add_usock(epoll, socket, &events);
  SRT_EPOLL_EVENT event{};
  while (!control.stop_requested() && srt_getsockstate(socket) == SRTS_CONNECTED) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    int wait = static_cast<int>(std::min<std::int64_t>(left.count(), kSendWaitMs));
    if (srt_epoll_uwait(epoll, &event, 1, wait) < 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));  // never a busy loop
  }
  srt_epoll_release(epoll);
}

// Bytes the sender itself gave up as too late (live mode): never delivered.
std::uint64_t dropped_by_sender(SRTSOCKET socket) {
  SRT_TRACEBSTATS stats{};
  if (srt_bstats(socket, &stats, 0) < 0) return 0;
  return stats.byteSndDropTotal;
}

// transtype=file, after the input: libsrt 1.5.1's live congestion control
// (file mode's, see make_socket) repairs a packet only when the receiver asks
// for it, and the receiver sees a loss only when a later packet arrives; with
// its periodic NAK reports on, the sender never resends blindly. So a lost
// last packet was never repaired (~5 % of 16 MiB transfers at 5 % loss).
// While the receiver's acknowledgement stands still for max(2 RTT, 20 ms),
// doubling after each up to a second, the sender adds a probe message (at
// most kMaxProbes): any one that arrives shows the gap, the receiver asks for
// it, the sender resends it. The receiver drops the probes (SrtSource).
constexpr auto kFirstProbe = std::chrono::milliseconds(20);
constexpr auto kLongestProbeWait = std::chrono::seconds(1);
constexpr int kMaxProbes = 64;

class TailProber {
 public:
  TailProber(Link& link, bool enabled) : link_(link), enabled_(enabled) { acknowledged(); }
  // The acknowledgement moved: the next probe only after a quiet interval.
  void acknowledged() {
    wait_ = first_wait();
    next_ = std::chrono::steady_clock::now() + wait_;
  }
  // Of `bytes` in `blocks` packets not yet acknowledged, those of data: the
  // probes, one packet each, were the last packets sent.
  std::size_t data_of(std::size_t blocks, std::size_t bytes) const {
    std::size_t probes = std::min(blocks, static_cast<std::size_t>(sent_)) * kTailProbe.size();
    return bytes > probes ? bytes - probes : 0;
  }
  // Sends a probe when the acknowledgement stood still for the interval.
  void poll() {
    if (!enabled_ || sent_ >= kMaxProbes || std::chrono::steady_clock::now() < next_) return;
    SRT_MSGCTRL in_order = in_order_message();
    if (srt_sendmsg2(link_.peer.socket, kTailProbe.data(), static_cast<int>(kTailProbe.size()), &in_order) !=
        SRT_ERROR) {
      ++sent_;
      add(link_.probes, 1);
      spdlog::debug("{}: tail unacknowledged for {} ms: end-of-data probe {} sent", link_.label, wait_.count(), sent_);
    }
    wait_ = std::min(2 * wait_, std::chrono::duration_cast<std::chrono::milliseconds>(kLongestProbeWait));
    next_ = std::chrono::steady_clock::now() + wait_;
  }

 private:
  std::chrono::milliseconds first_wait() const {
    SRT_TRACEBSTATS stats{};
    if (!enabled_ || srt_bstats(link_.peer.socket, &stats, 0) < 0) return kFirstProbe;
    return std::max(kFirstProbe, std::chrono::milliseconds(static_cast<int>(2 * stats.msRTT)));
  }

  Link& link_;
  bool enabled_;
  int sent_ = 0;
  std::chrono::milliseconds wait_{kFirstProbe};
  std::chrono::steady_clock::time_point next_;
};

}  // namespace

void make_sends_wait(SRTSOCKET socket) {
  bool yes = true;
  int timeout = kSendWaitMs;
  srt_setsockflag(socket, SRTO_SNDSYN, &yes, sizeof yes);
  srt_setsockflag(socket, SRTO_SNDTIMEO, &timeout, sizeof timeout);
}

bool wait_connected(SRTSOCKET socket, const stage::Control& control) {
  int epoll = srt_epoll_create();
  int events = SRT_EPOLL_OUT | SRT_EPOLL_ERR;
  srt_epoll_add_usock(epoll, socket, &events);
  SRT_EPOLL_EVENT event{};
  int got = 0;
  while (!control.stop_requested() && got == 0) got = srt_epoll_uwait(epoll, &event, 1, kSendWaitMs);
  srt_epoll_release(epoll);
  return !control.stop_requested();
}

// SRT's send buffer keeps a packet until the receiver acknowledged it: an
// empty one (but for probes) means everything arrived.
std::size_t wait_acknowledged(Link& link, bool probe, const stage::Control& control) {
  SRTSOCKET socket = link.peer.socket;
  const std::string& where = link.label;
  std::size_t last = SIZE_MAX;
  auto progress = std::chrono::steady_clock::now();
  std::uint64_t dropped = dropped_by_sender(socket);
  TailProber prober(link, probe);
  for (;;) {
    std::size_t blocks = 0, bytes = 0;
    if (srt_getsndbuffer(socket, &blocks, &bytes) < 0) {
      // The socket is gone: the last we knew (all that was sent, if nothing).
      std::size_t unknown = last == SIZE_MAX ? get(link.bytes) : last;
      spdlog::warn("{}: connection lost, {} bytes not known to be acknowledged by the receiver", where, unknown);
      return unknown + dropped;
    }
    bytes = prober.data_of(blocks, bytes);  // probes left unacknowledged are no loss
    if (bytes == 0) break;
    if (srt_getsockstate(socket) != SRTS_CONNECTED || control.stop_requested() ||
        std::chrono::steady_clock::now() - progress > kAckTimeout) {
      spdlog::warn("{}: {} bytes not acknowledged by the receiver{}", where, bytes,
                   control.stop_requested() ? " at stop" : "");
      return bytes + dropped;
    }
    if (bytes < last) {  // acknowledged
      progress = std::chrono::steady_clock::now();
      prober.acknowledged();
    }
    last = bytes;
    prober.poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  dropped = dropped_by_sender(socket);
  if (dropped) spdlog::warn("{}: {} bytes dropped by the sender as too late for the latency", where, dropped);
  linger(link, control);
  return dropped;
}


Link::Sent Link::send(const iovec& datagram, int message, bool wait, const stage::Control& control) {
  const char* data = static_cast<const char*>(datagram.iov_base);
  std::size_t left = datagram.iov_len;
  bool first = true;
  while (left > 0) {
    int piece = static_cast<int>(std::min<std::size_t>(left, static_cast<std::size_t>(message)));
    if (file && is_tail_probe(data, static_cast<std::size_t>(piece))) --piece;  // never a data message equal to it
    SRT_MSGCTRL control_of_message = in_order_message();
    int sent = srt_sendmsg2(peer.socket, data, piece, file ? &control_of_message : nullptr);
    if (sent == SRT_ERROR) {
      int error = srt_getlasterror(nullptr);
      if (!would_block(error)) {
        not_sent += left;
        return Sent::kBroken;
      }
      if (!wait && first) {
        add(dropped_datagrams, 1);
        add(dropped_bytes, datagram.iov_len);
        return Sent::kDropped;
      }
      // Waiting (or the rest of a datagram begun: the stream stays whole).
      if (control.stop_requested()) {
        not_sent += left;
        return Sent::kStopped;
      }
      continue;
    }
    first = false;
    data += piece;
    left -= static_cast<std::size_t>(piece);
  }
  add(datagrams, 1);
  add(bytes, datagram.iov_len);
  return Sent::kAll;
}

std::string Link::describe(stage::StageStats& row) const {
  row.set(stage::Stat::kDatagrams, get(datagrams)).set(stage::Stat::kBytes, get(bytes));
  row.set(stage::Stat::kDroppedDatagrams, get(dropped_datagrams)).set(stage::Stat::kDroppedBytes, get(dropped_bytes));
  std::string text = fmt::format("sent {} messages ({} bytes)", get(datagrams), get(bytes));
  if (get(dropped_datagrams))
    text += fmt::format(", dropped {} ({} bytes): too slow", get(dropped_datagrams), get(dropped_bytes));
  if (get(probes)) {
    row.set(stage::Stat::kSrtTailProbes, get(probes));
    text += fmt::format(", {} end-of-data probes", get(probes));
  }
  std::string library = add_stats(peer.socket, true, row);
  if (library.empty() && !library_text_.empty()) {  // gone: as last seen
    for (const auto& [stat, value] : library_.values) row.set(stat, value);
    library = library_text_;
  }
  return library.empty() ? text : text + "; " + library;
}

void Link::look() {
  stage::StageStats latest;
  std::string text = add_stats(peer.socket, true, latest);
  if (text.empty()) return;
  library_ = std::move(latest);
  library_text_ = std::move(text);
}

}  // namespace netdisp::transports::srt
