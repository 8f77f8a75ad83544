#include "transports/srt/srt_sink.h"

#include <spdlog/spdlog.h>

#include <map>
#include <thread>

#include "net/error.h"

namespace netdisp::transports::srt {

using stage::add;
using stage::get;
namespace {

constexpr int kWaitMs = 100;  // a waiting send looks at the stop flag this often
constexpr auto kRetry = std::chrono::seconds(1);
constexpr auto kAckTimeout = std::chrono::seconds(30);  // flush: the receiver acknowledges nothing for this long

bool would_block(int error) { return error == SRT_EASYNCSND || error == SRT_ETIMEOUT; }

// Waits until the socket connected or failed; false when a stop came first.
bool wait_connected(SRTSOCKET socket, const stage::Control& control) {
  int epoll = srt_epoll_create();
  int events = SRT_EPOLL_OUT | SRT_EPOLL_ERR;
  srt_epoll_add_usock(epoll, socket, &events);
  SRT_EPOLL_EVENT event{};
  int got = 0;
  while (!control.stop_requested() && got == 0) got = srt_epoll_uwait(epoll, &event, 1, kWaitMs);
  srt_epoll_release(epoll);
  return !control.stop_requested();
}

// Waits until what the peer acknowledged was handed on at its end, or a
// stop. SRT acknowledges a packet when it arrives and hands it out only at
// its delivery time, the latency after it was sent; a receiver that stops
// reading at the close loses what it held then (netdisp's own receiver reads
// its buffer empty after a close, see SrtSource::end; srt-live-transmit lost
// half of a 0.2 s stream without this wait). Twice the latency plus a margin:
// the receiver's clock for delivery is set at the handshake and runs late by
// as much as its host was busy then.
void linger(SRTSOCKET socket, const stage::Control& control) {
  int latency = 0;
  int size = sizeof latency;
  srt_getsockflag(socket, SRTO_PEERLATENCY, &latency, &size);
  SRT_TRACEBSTATS stats{};
  srt_bstats(socket, &stats, 0);
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(2 * latency + 4 * static_cast<int>(stats.msRTT) + 200);
  while (!control.stop_requested() && std::chrono::steady_clock::now() < until &&
         srt_getsockstate(socket) == SRTS_CONNECTED)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
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
    if (srt_sendmsg2(link_.peer.socket, kTailProbe.data(), static_cast<int>(kTailProbe.size()), nullptr) != SRT_ERROR) {
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

// Waits until the receiver acknowledged everything sent (SRT's send buffer
// keeps a packet until its acknowledgement), then lingers; returns the bytes
// not acknowledged when a stop, a break or kAckTimeout without progress
// ended the wait, plus what the sender dropped as too late. `probe`: file
// mode's end-of-data probes (above).
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
  linger(socket, control);
  return dropped;
}

}  // namespace

Link::Sent Link::send(const iovec& datagram, int message, bool wait, const stage::Control& control) {
  const char* data = static_cast<const char*>(datagram.iov_base);
  std::size_t left = datagram.iov_len;
  bool first = true;
  while (left > 0) {
    int piece = static_cast<int>(std::min<std::size_t>(left, static_cast<std::size_t>(message)));
    if (file && is_tail_probe(data, static_cast<std::size_t>(piece))) --piece;  // never a data message equal to it
    int sent = srt_sendmsg2(peer.socket, data, piece, nullptr);
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

// ---- caller, rendezvous ----

SrtCallerSink::SrtCallerSink(const stage::Endpoint& endpoint, const Settings& settings,
                             const stage::OutputSettings& outputs)
    : settings_(settings), address_(endpoint.address), wait_(outputs.wait_for_streams), control_(*outputs.control) {
  link_.label = settings_.where;
  link_.file = settings_.file;
  link_.peer.address = address_;
  link_.peer.socket = start_connect(settings_, address_);
  if (!wait_) return;  // live input: write() finds the connection made (or not) later
  if (!wait_connected(link_.peer.socket, control_)) return;
  if (srt_getsockstate(link_.peer.socket) != SRTS_CONNECTED) {
    std::string why = reject_text(link_.peer.socket);
    srt_close(link_.peer.socket);
    link_.peer.socket = SRT_INVALID_SOCK;
    throw net::Error("connect " + settings_.where + ": " + why);
  }
  // The client: sends wait (in slices of kWaitMs, to see a stop request).
  bool yes = true;
  int timeout = kWaitMs;
  srt_setsockflag(link_.peer.socket, SRTO_SNDSYN, &yes, sizeof yes);
  srt_setsockflag(link_.peer.socket, SRTO_SNDTIMEO, &timeout, sizeof timeout);
  up_ = true;
  spdlog::info("srt connected to {}", settings_.where);
}

SrtCallerSink::~SrtCallerSink() {
  std::lock_guard lock(mutex_);
  if (link_.peer.socket != SRT_INVALID_SOCK) srt_close(link_.peer.socket);
}

bool SrtCallerSink::connected() {
  if (up_) return true;
  if (failed_) return false;
  auto now = std::chrono::steady_clock::now();
  if (link_.peer.socket == SRT_INVALID_SOCK) {
    if (now < retry_at_) return false;
    SRTSOCKET socket = start_connect(settings_, address_);
    std::lock_guard lock(mutex_);
    link_.peer.socket = socket;
    return false;
  }
  SRT_SOCKSTATUS state = srt_getsockstate(link_.peer.socket);
  if (state == SRTS_CONNECTED) {
    up_ = true;
    spdlog::info("srt connected to {}", settings_.where);
    return true;
  }
  if (state == SRTS_CONNECTING || state == SRTS_OPENED) return false;
  broke(reject_text(link_.peer.socket).c_str());
  return false;
}

// The connection failed or broke: live input tries again in a second.
void SrtCallerSink::broke(const char* why) {
  bool permanent = permanent_reject(link_.peer.socket);
  if (log_.allow())
    spdlog::warn("{}: {}{}", settings_.where, why, wait_ || permanent ? "" : "; connecting again every second");
  {
    std::lock_guard lock(mutex_);
    srt_close(link_.peer.socket);
    link_.peer.socket = SRT_INVALID_SOCK;
  }
  if (up_) add(reconnects_, 1);
  up_ = false;
  failed_ = wait_ || permanent;
  retry_at_ = std::chrono::steady_clock::now() + kRetry;
}

bool SrtCallerSink::write(const stage::Batch& batch) {
  if (failed_) return false;
  if (!connected()) {
    add(away_datagrams_, batch.datagrams.size());
    add(away_bytes_, batch.bytes);
    return !failed_;
  }
  for (const iovec& datagram : batch.datagrams) {
    switch (link_.send(datagram, settings_.message_size(), wait_, control_)) {
      case Link::Sent::kAll:
      case Link::Sent::kDropped: break;
      case Link::Sent::kStopped: return true;
      case Link::Sent::kBroken:
        broke(("connection broke: " + last_error()).c_str());
        return !failed_;
    }
  }
  return true;
}

bool SrtCallerSink::on_ready(short) {
  if (!wait_) connected();
  return !failed_;
}

// The client's end: wait until the receiver acknowledged every byte.
void SrtCallerSink::flush() {
  if (!wait_ || !up_) return;
  unacknowledged_ = wait_acknowledged(link_, settings_.file, control_);
}

void SrtCallerSink::report(stage::StatsRows& rows) const {
  std::lock_guard lock(mutex_);
  stage::StageStats& row = rows.emplace_back();
  row.role = stage::StageStats::Role::kSink;
  row.endpoint = settings_.where;
  row.text = "  -> " + settings_.where + ": " + link_.describe(row);
  row.set(stage::Stat::kAwayDatagrams, get(away_datagrams_)).set(stage::Stat::kAwayBytes, get(away_bytes_));
  row.set(stage::Stat::kReconnects, get(reconnects_));
  row.set(stage::Stat::kNotSentBytes, link_.not_sent + unacknowledged_);
  if (get(away_datagrams_))
    row.text += fmt::format("; {} messages ({} bytes) dropped while connecting", get(away_datagrams_),
                            get(away_bytes_));
}

std::vector<std::string> SrtCallerSink::undelivered() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> lines;
  if (link_.not_sent + unacknowledged_)
    lines.push_back(fmt::format("{}: {} bytes not delivered", settings_.where, link_.not_sent + unacknowledged_));
  if (failed_ && !up_ && link_.not_sent == 0) lines.push_back(settings_.where + ": the connection failed");
  return lines;
}

// ---- listener ----

std::shared_ptr<SharedListener> SharedListener::open(const stage::Endpoint& endpoint, const Settings& settings,
                                                     const stage::OutputSettings& outputs) {
  static std::mutex registry_mutex;
  static std::map<std::string, std::weak_ptr<SharedListener>> registry;  // endpoint text -> its listener
  std::lock_guard lock(registry_mutex);
  std::weak_ptr<SharedListener>& slot = registry[endpoint.text];
  std::shared_ptr<SharedListener> listener = slot.lock();
  if (!listener) {
    listener = std::make_shared<SharedListener>(endpoint, settings, outputs);
    slot = listener;
  }
  return listener;
}

SharedListener::SharedListener(const stage::Endpoint& endpoint, const Settings& settings,
                               const stage::OutputSettings& outputs)
    : settings_(settings), wait_(outputs.wait_for_streams), control_(*outputs.control) {
  Listening listening = listen_on(settings_, endpoint.address, 64);
  listener_ = listening.socket;
  name_ = "srt " + listening.bound.to_string();
  endpoint_name_ = stage::endpoint_name("srt", listening.bound.to_string());
  spdlog::info("listening on {} for callers to send to ({})", name_, settings_.file ? "file" : "live");
}

SharedListener::~SharedListener() {
  std::lock_guard lock(mutex_);
  for (Link& caller : callers_) srt_close(caller.peer.socket);
  srt_close(listener_);
}

void SharedListener::join(const void* sink) {
  std::lock_guard lock(mutex_);
  members_.push_back(sink);
}

void SharedListener::leave(const void* sink) {
  std::lock_guard lock(mutex_);
  std::erase(members_, sink);
}

void SharedListener::accept_callers() {
  for (;;) {
    sockaddr_storage peer{};
    int length = sizeof peer;
    SRTSOCKET socket = srt_accept(listener_, reinterpret_cast<sockaddr*>(&peer), &length);
    if (socket == SRT_INVALID_SOCK) return;
    auto address = net::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), static_cast<socklen_t>(length));
    if (wait_) {
      bool yes = true;
      int timeout = kWaitMs;
      srt_setsockflag(socket, SRTO_SNDSYN, &yes, sizeof yes);
      srt_setsockflag(socket, SRTO_SNDTIMEO, &timeout, sizeof timeout);
    }
    std::size_t count;
    {
      std::lock_guard lock(mutex_);
      Link& link = callers_.emplace_back();
      link.peer = {socket, address};
      link.label = name_ + " -> " + address.to_string();
      link.file = settings_.file;
      count = callers_.size();
    }
    add(accepted_, 1);
    spdlog::info("srt caller {} connected to {} ({} callers)", address.to_string(), name_, count);
  }
}

bool SharedListener::wait_for_caller() {
  int epoll = srt_epoll_create();
  int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
  srt_epoll_add_usock(epoll, listener_, &events);
  SRT_EPOLL_EVENT event{};
  spdlog::info("{}: waiting for a caller", name_);
  while (!control_.stop_requested() && callers_.empty()) {
    srt_epoll_uwait(epoll, &event, 1, kWaitMs);
    accept_callers();
    show_held_refusals();
  }
  srt_epoll_release(epoll);
  return !callers_.empty();
}

void SharedListener::drop(std::list<Link>::iterator it, const char* why) {
  if (wait_) given_up_ += it->not_sent;
  std::string peer = it->peer.address.to_string();
  std::string text;
  std::size_t count;
  {
    std::lock_guard lock(mutex_);
    stage::StageStats row;
    text = it->describe(row);
    srt_close(it->peer.socket);
    for (const auto& [stat, value] : row.values)
      if (!stage::info(stat).gauge) left_.set(stat, left_.get(stat) + value);
    callers_.erase(it);
    count = callers_.size();
  }
  spdlog::info("srt caller {} {} ({} callers): {}", peer, why, count, text);
}

bool SharedListener::write(const stage::Batch& batch) {
  std::lock_guard use(use_mutex_);
  accept_callers();
  show_held_refusals();
  if (wait_ && callers_.empty() && !wait_for_caller()) return true;
  for (auto it = callers_.begin(); it != callers_.end();) {
    auto next = std::next(it);
    bool gone = false;
    for (const iovec& datagram : batch.datagrams) {
      Link::Sent sent = it->send(datagram, settings_.message_size(), wait_, control_);
      if (sent == Link::Sent::kBroken) {
        drop(it, "left");
        gone = true;
        break;
      }
      if (sent == Link::Sent::kStopped) return true;
    }
    if (!gone) {
      std::lock_guard lock(mutex_);
      it->look();
    }
    it = next;
  }
  return true;
}

// The client's end: every caller acknowledged everything.
void SharedListener::flush() {
  if (!wait_) return;
  std::lock_guard use(use_mutex_);
  for (Link& caller : callers_)
    given_up_ += wait_acknowledged(caller, settings_.file, control_);
}

// Idle input: take new callers, let go of those who left.
bool SharedListener::on_ready() {
  std::lock_guard use(use_mutex_);
  accept_callers();
  show_held_refusals();
  for (auto it = callers_.begin(); it != callers_.end();) {
    auto next = std::next(it);
    SRT_SOCKSTATUS state = srt_getsockstate(it->peer.socket);
    if (state != SRTS_CONNECTED) {
      drop(it, "left");
    } else {
      std::lock_guard lock(mutex_);
      it->look();
    }
    it = next;
  }
  return true;
}

void SharedListener::report(stage::StatsRows& rows, const void* sink) const {
  std::lock_guard lock(mutex_);
  if (!reports(sink)) return;  // another sink shows it
  stage::StageStats& row = rows.emplace_back(left_);  // callers that left: their totals
  row.role = stage::StageStats::Role::kListener;
  row.endpoint = endpoint_name_;
  row.set(stage::Stat::kClients, callers_.size()).set(stage::Stat::kAccepted, get(accepted_));
  row.text = fmt::format("  -> {}: {} callers now, {} in all", name_, callers_.size(), get(accepted_));
  if (get(accepted_) > callers_.size())
    row.text += fmt::format("; to those that left: {} messages ({} bytes), {} dropped ({} bytes)",
                            left_.get(stage::Stat::kDatagrams), left_.get(stage::Stat::kBytes),
                            left_.get(stage::Stat::kDroppedDatagrams), left_.get(stage::Stat::kDroppedBytes));
  for (const Link& caller : callers_) {
    stage::StageStats& peer = rows.emplace_back();
    peer.role = stage::StageStats::Role::kSink;
    peer.endpoint = endpoint_name_;
    peer.peer = caller.peer.address.to_string();
    peer.text = "    -> " + caller.peer.address.to_string() + ": " + caller.describe(peer);
  }
}

std::vector<std::string> SharedListener::undelivered(const void* sink) const {
  std::lock_guard lock(mutex_);
  if (!reports(sink)) return {};
  std::uint64_t lost = given_up_;
  for (const Link& caller : callers_) lost += caller.not_sent;
  if (!lost) return {};
  return {fmt::format("{}: {} bytes not delivered to callers that left", name_, lost)};
}

}  // namespace netdisp::transports::srt
