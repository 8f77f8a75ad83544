#include "transports/srt/srt_listener_sink.h"

#include <spdlog/spdlog.h>

#include <map>

namespace netdisp::transports::srt {

using stage::add;
using stage::get;

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
    if (wait_) make_sends_wait(socket);  // the client's sends wait: lossless
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
    srt_epoll_uwait(epoll, &event, 1, kSendWaitMs);
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
      it->sent_at = std::chrono::steady_clock::now();
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
