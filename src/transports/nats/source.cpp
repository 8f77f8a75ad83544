#include "transports/nats/source.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <chrono>

#include "net/error.h"

namespace netdisp::transports::nats {
namespace {

// The queue between the dispatcher and the pipe: twice the largest message
// the server takes (a message never needs more than half the ring), at least
// 4 MiB; the backlog beyond it waits in the library's pending list.
constexpr std::size_t kMinQueue = 4 << 20;
// Messages the library may hold for a subscription: its bytes are the limit that counts.
constexpr int kPendingMessages = 1 << 24;

std::size_t queue_size(const Connection& connection) {
  auto max_payload = static_cast<std::size_t>(std::max<std::int64_t>(natsConnection_GetMaxPayload(connection.get()), 0));
  return std::max(kMinQueue, 2 * (max_payload + 64));
}

}  // namespace

Subscribe core_subscribe(const Target& target) {
  return [subject = target.subject, queue = target.queue](natsConnection* connection, natsSubscription** out,
                                                          natsMsgHandler handler, void* closure) {
    if (queue.empty()) return natsConnection_Subscribe(out, connection, subject.c_str(), handler, closure);
    return natsConnection_QueueSubscribe(out, connection, subject.c_str(), queue.c_str(), handler, closure);
  };
}

NatsSource::NatsSource(std::unique_ptr<Connection> connection, std::size_t pending_bytes, const Subscribe& subscribe,
                       Queued queued)
    : connection_(std::move(connection)), queued_(std::move(queued)), queue_(queue_size(*connection_)) {
  const Target& target = connection_->target();
  SignalsBlocked blocked;  // the subscription's dispatcher thread starts here
  if (natsStatus status = subscribe(connection_->get(), &subscription_, on_message, this); status != NATS_OK)
    throw net::Error(target.shown + ": cannot subscribe: " + status_text(status));
  int bytes = static_cast<int>(std::clamp<std::size_t>(pending_bytes, 1 << 20, 1u << 30));
  natsSubscription_SetPendingLimits(subscription_, kPendingMessages, bytes);
  natsSubscription_SetOnCompleteCB(subscription_, on_complete, this);
  // The server has the subscription once a round trip went through: what is
  // published from now on reaches us.
  if (natsStatus status = natsConnection_FlushTimeout(connection_->get(), kConnectTimeoutMs); status != NATS_OK)
    throw net::Error(target.shown + ": subscribing: " + status_text(status));
}

NatsSource::~NatsSource() {
  stopping_.store(true);
  unsubscribe();
  natsSubscription_Destroy(subscription_);
}

void NatsSource::on_message(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
  auto* self = static_cast<NatsSource*>(closure);
  const char* data = natsMsg_GetData(message);
  auto size = static_cast<std::size_t>(std::max(natsMsg_GetDataLength(message), 0));
  // A full queue: wait for the pipe (the backlog stays in the library's
  // pending list, within its limits), unless we are stopping.
  while (!self->queue_.push(data, size)) {
    if (self->stopping_.load(std::memory_order_relaxed)) {
      self->discarded_.fetch_add(1, std::memory_order_relaxed);
      self->discarded_bytes_.fetch_add(size, std::memory_order_relaxed);
      natsMsg_Destroy(message);
      return;
    }
    timespec pause{0, 100'000};
    ::nanosleep(&pause, nullptr);
  }
  if (self->queued_) self->queued_(message);
  natsMsg_Destroy(message);
}

void NatsSource::on_complete(void* closure) {
  auto* self = static_cast<NatsSource*>(closure);
  std::lock_guard lock(self->mutex_);
  self->completed_ = true;
  self->completed_signal_.notify_all();
}

void NatsSource::unsubscribe() {
  if (std::exchange(unsubscribed_, true)) return;
  library_drops();  // the last count, while the subscription can still say it
  if (natsSubscription_Unsubscribe(subscription_) != NATS_OK) return;  // the connection is closed: no dispatcher
  std::unique_lock lock(mutex_);
  completed_signal_.wait_for(lock, std::chrono::seconds(1), [this] { return completed_; });
}

stage::ReadStatus NatsSource::read(stage::Batch& batch) {
  stage::ReadStatus status = queue_.read(batch);
  if (status == stage::ReadStatus::kData) {
    stage::add(datagrams_, batch.datagrams.size());
    stage::add(bytes_, batch.bytes);
  }
  return status;
}

// After the drain (Pipe::drain): what the library still holds and what is
// left in our queue are counted as discarded at stop.
void NatsSource::discard_queued() {
  int messages = 0, bytes = 0;
  if (!unsubscribed_ && natsSubscription_GetPending(subscription_, &messages, &bytes) == NATS_OK) {
    discarded_.fetch_add(static_cast<std::uint64_t>(std::max(messages, 0)), std::memory_order_relaxed);
    discarded_bytes_.fetch_add(static_cast<std::uint64_t>(std::max(bytes, 0)), std::memory_order_relaxed);
  }
  stopping_.store(true);
  unsubscribe();
  stage::Batch batch;
  while (queue_.read(batch) == stage::ReadStatus::kData) {
    discarded_.fetch_add(batch.datagrams.size(), std::memory_order_relaxed);
    discarded_bytes_.fetch_add(batch.bytes, std::memory_order_relaxed);
  }
}

std::uint64_t NatsSource::library_drops() const {
  std::int64_t dropped = 0;
  if (natsSubscription_GetDropped(subscription_, &dropped) == NATS_OK && dropped > 0)
    dropped_.store(static_cast<std::uint64_t>(dropped), std::memory_order_relaxed);
  return stage::get(dropped_);
}

void NatsSource::report(stage::StatsRows& rows) const {
  const Target& target = connection_->target();
  std::uint64_t dropped = library_drops();
  stage::StageStats& row = rows.emplace_back();
  row.endpoint = target.shown;
  row.set(stage::Stat::kDatagrams, stage::get(datagrams_)).set(stage::Stat::kBytes, stage::get(bytes_));
  row.set(stage::Stat::kSlowConsumerDrops, dropped).set(stage::Stat::kReconnects, connection_->reconnects());
  row.set(stage::Stat::kDiscardedDatagrams, stage::get(discarded_));
  row.set(stage::Stat::kDiscardedBytes, stage::get(discarded_bytes_));
  row.text = fmt::format("{}: received {} messages, {} bytes; {} dropped by the library (slow consumer); {} reconnects",
                         target.shown, stage::get(datagrams_), stage::get(bytes_), dropped, connection_->reconnects());
  if (std::uint64_t discarded = stage::get(discarded_))
    row.text += fmt::format("; {} messages ({} bytes) discarded at stop", discarded, stage::get(discarded_bytes_));
}

}  // namespace netdisp::transports::nats
