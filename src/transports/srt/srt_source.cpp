#include "transports/srt/srt_source.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "net/error.h"

namespace netdisp::transports::srt {

using stage::add;
using stage::get;
namespace {

constexpr std::size_t kQueueBytes = 8 << 20;
constexpr int kWaitMs = 100;              // the thread looks at its stop flag this often
constexpr int kReadsPerTurn = 256;        // messages from one connection before looking at the others
constexpr auto kRetry = std::chrono::seconds(1);
constexpr int kEndingPollMs = 10;         // an ending connection is read this often (it has no event)
constexpr auto kLookEvery = std::chrono::milliseconds(500);  // a connection's counters are read this often

// Messages (packets) SRT still holds for the socket; 0 when it has none or is gone.
int waiting_in_library(SRTSOCKET socket) {
  int packets = 0;
  int size = sizeof packets;
  if (srt_getsockflag(socket, SRTO_RCVDATA, &packets, &size) < 0) return 0;
  return packets;
}

}  // namespace

SrtSource::SrtSource(const stage::Endpoint& endpoint, const Settings& settings, const stage::InputSettings& inputs,
                     bool log_listening)
    : settings_(settings),
      address_(endpoint.address),
      allow_(inputs.allow),
      max_clients_(inputs.max_clients),
      queue_(kQueueBytes),
      buffer_(SRT_LIVE_MAX_PLSIZE + 64) {
  start_library();
  name_ = "srt " + address_.to_string();
  endpoint_name_ = endpoint.to_string();
  ended_.role = stage::StageStats::Role::kSource;
  epoll_ = srt_epoll_create();
  if (epoll_ < 0) throw net::Error(settings_.where + ": srt_epoll_create: " + last_error());
  srt_epoll_set(epoll_, SRT_EPOLL_ENABLE_EMPTY);
  if (settings_.mode == Mode::kListener) {
    try {
      Listening listening = listen_on(settings_, address_, 64);
      listener_ = listening.socket;
      address_ = listening.bound;
    } catch (...) {
      srt_epoll_release(epoll_);
      throw;
    }
    name_ = "srt " + address_.to_string();
    endpoint_name_ = stage::endpoint_name("srt", address_.to_string());
    int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
    srt_epoll_add_usock(epoll_, listener_, &events);
    if (log_listening) {
      spdlog::info("listening on {} ({}, latency {} ms{})", name_, settings_.file ? "file" : "live",
                   settings_.latency_ms.value_or(settings_.file ? 1000 : 120),
                   settings_.passphrase.empty() ? "" : ", encrypted");
      if (!inputs.label.empty()) spdlog::info("{} -> {}", name_, inputs.label);
    }
  } else if (log_listening) {
    spdlog::info("receiving from {} ({}{})", settings_.where,
                 settings_.mode == Mode::kCaller ? "caller" : "rendezvous", settings_.file ? ", file" : "");
  }
  BlockSignals blocked;  // our thread takes no signal: the Supervisor's signalfd does
  thread_ = std::thread([this] { run(); });
}

void SrtSource::stop_thread() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

SrtSource::~SrtSource() {
  stop_thread();
  for (Connection& connection : connections_) srt_close(connection.peer.socket);
  if (listener_ != SRT_INVALID_SOCK) srt_close(listener_);
  srt_epoll_release(epoll_);
}

stage::ReadStatus SrtSource::read(stage::Batch& batch) {
  stage::ReadStatus status = queue_.read(batch);
  if (status == stage::ReadStatus::kData) {
    add(datagrams_, batch.datagrams.size());
    add(bytes_, batch.bytes);
  } else if (status == stage::ReadStatus::kEnd && !failure_.empty()) {
    throw net::Error(failure_);
  }
  return status;
}

void SrtSource::discard_queued() {
  stop_thread();
  stage::Batch batch;
  while (queue_.read(batch) == stage::ReadStatus::kData) {
    add(discarded_datagrams_, batch.datagrams.size());
    add(discarded_bytes_, batch.bytes);
  }
  if (get(discarded_datagrams_))
    spdlog::warn("{}: {} messages ({} bytes) received but not written at stop: discarded", name_,
                 get(discarded_datagrams_), get(discarded_bytes_));
}

void SrtSource::run() {
  try {
    std::vector<SRT_EPOLL_EVENT> events(64);
    while (!stop_.load()) {
      if (settings_.mode != Mode::kListener && connections_.empty()) {
        connect();
        continue;
      }
      int wait = any_ending() ? kEndingPollMs : kWaitMs;
      int count = srt_epoll_uwait(epoll_, events.data(), static_cast<int>(events.size()), wait);
      if (count < 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait));  // never a busy loop
      for (int i = 0; i < count && !stop_.load(); ++i) {
        if (events[i].fd == listener_) {
          accept_callers();
          if (events[i].events & SRT_EPOLL_ERR) std::this_thread::sleep_for(std::chrono::milliseconds(kWaitMs));
          continue;
        }
        auto it = connections_.begin();
        while (it != connections_.end() && it->peer.socket != events[i].fd) ++it;
        if (it == connections_.end()) {
          srt_epoll_remove_usock(epoll_, events[i].fd);  // not ours (any more): never report it again
          continue;
        }
        bool alive = true;
        if (events[i].events & SRT_EPOLL_IN) alive = read_from(*it);
        if (!alive || (events[i].events & SRT_EPOLL_ERR)) end(it);
      }
      read_ending();
      for (Connection& connection : connections_)
        if (!connection.ending) look_at(connection);
      if (listener_ != SRT_INVALID_SOCK) show_held_refusals();
    }
  } catch (const std::exception& e) {
    failure_ = e.what();
  }
  queue_.close();
}

void SrtSource::accept_callers() {
  for (;;) {
    sockaddr_storage peer{};
    int length = sizeof peer;
    SRTSOCKET socket = srt_accept(listener_, reinterpret_cast<sockaddr*>(&peer), &length);
    if (socket == SRT_INVALID_SOCK) return;  // none waiting (SRT_EASYNCRCV)
    net::Address address = net::Address::from_sockaddr(reinterpret_cast<sockaddr*>(&peer),
                                                       static_cast<socklen_t>(length));
    if (!allow_.allows(address)) {
      add(refused_, 1);
      spdlog::warn("{}: refused caller {} (not in --allow)", name_, address.to_string());
      srt_close(socket);
      continue;
    }
    if (connections_.size() >= max_clients_) {
      add(over_limit_, 1);
      spdlog::warn("{}: closed caller {} at once: --max-clients {} reached", name_, address.to_string(), max_clients_);
      srt_close(socket);
      continue;
    }
    int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
    srt_epoll_add_usock(epoll_, socket, &events);
    {
      std::lock_guard lock(mutex_);
      Connection& connection = connections_.emplace_back();
      connection.peer = {socket, address};
      connection.label = name_ + " <- " + address.to_string();
    }
    add(accepted_, 1);
    spdlog::info("srt caller {} connected to {} ({} callers)", address.to_string(), name_, connections_.size());
  }
}

void SrtSource::connect() {
  SRTSOCKET socket = start_connect(settings_, address_);
  int events = SRT_EPOLL_OUT | SRT_EPOLL_ERR;
  srt_epoll_add_usock(epoll_, socket, &events);
  SRT_EPOLL_EVENT event{};
  int got = 0;
  while (!stop_.load() && got == 0) got = srt_epoll_uwait(epoll_, &event, 1, kWaitMs);
  srt_epoll_remove_usock(epoll_, socket);
  if (stop_.load()) {
    srt_close(socket);
    return;
  }
  if (srt_getsockstate(socket) == SRTS_CONNECTED) {
    events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
    srt_epoll_add_usock(epoll_, socket, &events);
    {
      std::lock_guard lock(mutex_);
      Connection& connection = connections_.emplace_back();
      connection.peer = {socket, address_};
      connection.label = name_;
    }
    add(accepted_, 1);
    spdlog::info("srt connected to {}", settings_.where);
    return;
  }
  std::string why = reject_text(socket);
  bool permanent = permanent_reject(socket);
  srt_close(socket);
  if (permanent) throw net::Error(settings_.where + ": " + why);
  if (retry_log_.allow()) spdlog::warn("{}: {}; trying again every second", settings_.where, why);
  auto until = std::chrono::steady_clock::now() + kRetry;
  while (!stop_.load() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(kWaitMs));
}

// The library has no statistics for a broken socket, so they are read while
// it lives: the counters, and the bytes in its receive buffer, to know at the
// end what was left behind a gap (close()).
void SrtSource::look_at(Connection& connection) {
  auto now = std::chrono::steady_clock::now();
  if (now - connection.updated < kLookEvery) return;
  connection.updated = now;
  stage::StageStats latest;
  std::uint64_t held = 0;
  std::string text = add_stats(connection.peer.socket, false, latest, &held);
  if (text.empty()) return;
  std::lock_guard lock(mutex_);
  connection.last = std::move(latest);
  connection.last_text = std::move(text);
  connection.last_held = held;
  connection.last_taken = connection.taken;
}

bool SrtSource::read_from(Connection& connection) {
  for (int i = 0; i < kReadsPerTurn; ++i) {
    int got = srt_recvmsg2(connection.peer.socket, buffer_.data(), static_cast<int>(buffer_.size()), nullptr);
    if (got == SRT_ERROR) {
      if (srt_getlasterror(nullptr) == SRT_EASYNCRCV) return true;
      spdlog::debug("{}: {}", connection.label, last_error());
      return false;
    }
    connection.taken += static_cast<std::uint64_t>(got);
    if (settings_.file && is_tail_probe(buffer_.data(), static_cast<std::size_t>(got))) {
      add(probes_, 1);  // the sender's, after its input: no data (see kTailProbe)
      continue;
    }
    if (got > 0) {
      ++connection.messages;
      if (!hand_over(buffer_.data(), static_cast<std::size_t>(got))) return true;
    }
  }
  return true;
}

// The peer closed (or the connection broke), but what it sent last may still
// be in SRT's buffer: SRT acknowledges a packet when it arrives and hands it
// out only at its delivery time (the latency after it was sent), and until
// then a read on the broken socket fails as if nothing were left. Closing now
// would discard bytes the sender was told had arrived (srt_churn lost one
// caller's packet so). So the connection leaves the epoll (its error would be
// reported at every wait) and is read every kEndingPollMs until the buffer is
// empty; a packet behind a gap that was never repaired is never handed out,
// so after twice the latency plus a second without a message what is left is
// counted as lost.
void SrtSource::end(std::list<Connection>::iterator it) {
  srt_epoll_remove_usock(epoll_, it->peer.socket);
  int latency = settings_.latency_ms.value_or(settings_.file ? 1000 : 120);
  int size = sizeof latency;
  srt_getsockflag(it->peer.socket, SRTO_RCVLATENCY, &latency, &size);
  it->ending = true;
  it->progress = std::chrono::steady_clock::now();
  it->patience = std::chrono::milliseconds(2 * latency + 1000);
}

bool SrtSource::any_ending() const {
  for (const Connection& connection : connections_)
    if (connection.ending) return true;
  return false;
}

void SrtSource::read_ending() {
  auto now = std::chrono::steady_clock::now();
  for (auto it = connections_.begin(); it != connections_.end() && !stop_.load();) {
    auto next = std::next(it);
    if (it->ending) {
      std::uint64_t before = it->messages;
      read_from(*it);
      int left = waiting_in_library(it->peer.socket);
      if (left == 0) {
        close(it, "ended");
      } else if (it->messages != before) {
        it->progress = now;
      } else if (now - it->progress > it->patience) {
        close(it, "ended");  // what is left is counted there
      }
    }
    it = next;
  }
}

// Waits while the queue is full: not reading holds the sender back (SRT's flow control).
bool SrtSource::hand_over(const char* data, std::size_t size) {
  while (!queue_.push(data, size)) {
    if (stop_.load()) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// What the library still holds when a connection closes is lost: packets
// behind a gap that was never repaired (SRT hands out nothing past a gap, and
// in file mode never gives one up as too late). A broken socket has no
// statistics: then it is what the buffer held when last looked at, less what
// was read out since (in live mode the library may have dropped some of it as
// too late meanwhile, which the counters as last read do not show either).
void SrtSource::close(std::list<Connection>::iterator it, const char* why) {
  stage::StageStats last;
  std::uint64_t held = 0;
  std::string text = add_stats(it->peer.socket, false, last, &held);
  if (text.empty()) {
    last = it->last;
    text = it->last_text;
    std::uint64_t taken_since = it->taken - it->last_taken;
    held = it->last_held > taken_since ? it->last_held - taken_since : 0;
  }
  if (held) {
    add(lost_at_end_, held);
    text += fmt::format("; {} bytes received behind a gap never repaired: lost", held);
  }
  srt_epoll_remove_usock(epoll_, it->peer.socket);
  srt_close(it->peer.socket);
  std::string peer = it->peer.address.to_string();
  {
    std::lock_guard lock(mutex_);
    for (const auto& [stat, value] : last.values)
      if (!stage::info(stat).gauge) ended_.set(stat, ended_.get(stat) + value);
    connections_.erase(it);
  }
  if (settings_.mode == Mode::kListener) {
    spdlog::log(held ? spdlog::level::warn : spdlog::level::info, "srt caller {} {} ({} callers): {}", peer, why,
                connections_.size(), text);
  } else {
    spdlog::warn("srt connection to {} {}: {}; connecting again", settings_.where, why, text);
  }
}

void SrtSource::report(stage::StatsRows& rows) const {
  std::lock_guard lock(mutex_);
  stage::StageStats& row = rows.emplace_back(ended_);
  row.endpoint = endpoint_name_;
  row.set(stage::Stat::kDatagrams, get(datagrams_)).set(stage::Stat::kBytes, get(bytes_));
  row.set(stage::Stat::kClients, connections_.size()).set(stage::Stat::kAccepted, get(accepted_));
  row.set(stage::Stat::kRefusedClients, get(refused_)).set(stage::Stat::kOverLimitClients, get(over_limit_));
  row.set(stage::Stat::kDiscardedDatagrams, get(discarded_datagrams_));
  row.set(stage::Stat::kDiscardedBytes, get(discarded_bytes_));
  if (get(probes_)) row.set(stage::Stat::kSrtTailProbes, get(probes_));
  row.set(stage::Stat::kSrtLostAtEndBytes, get(lost_at_end_));
  row.text = fmt::format("{}: received {} messages ({} bytes); {} connections now, {} in all", name_,
                         get(datagrams_), get(bytes_), connections_.size(), get(accepted_));
  if (get(refused_) || get(over_limit_))
    row.text += fmt::format(", {} refused by --allow, {} over --max-clients", get(refused_), get(over_limit_));
  if (get(discarded_datagrams_))
    row.text += fmt::format(", {} messages ({} bytes) discarded at stop", get(discarded_datagrams_),
                            get(discarded_bytes_));
  if (get(lost_at_end_))
    row.text += fmt::format(", {} bytes lost at the end of connections (behind gaps never repaired)",
                            get(lost_at_end_));
  if (get(probes_)) row.text += fmt::format(", {} end-of-data probes dropped", get(probes_));
  for (const Connection& connection : connections_) {
    stage::StageStats& peer = rows.emplace_back();
    peer.role = stage::StageStats::Role::kSource;
    peer.endpoint = endpoint_name_;
    peer.peer = connection.peer.address.to_string();
    peer.text = "  " + connection.label + ": " + add_stats(connection.peer.socket, false, peer);
  }
}

}  // namespace netdisp::transports::srt
