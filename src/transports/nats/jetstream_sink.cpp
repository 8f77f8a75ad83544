// JetStreamSink (jetstream.h): every datagram published to the stream with
// an acknowledgement, and published again while the cluster has no answer.
//
// Each publication carries a Nats-Msg-Id header, this sink's run id plus the
// datagram's sequence number: the stream stores an id once within its
// duplicate window (2 minutes unless configured otherwise), so a publication
// sent again after an ack that never came (its node stopped, a stream leader
// being elected) is not stored twice.
//
// The library calls on_ack() on its own thread. A success is an atomic
// increment; a failure that may heal (no answer in kPublishAckWaitMs, no
// responders during an election, the cluster temporarily unavailable) hands
// the message to the retry thread, which publishes it again after a pause,
// until `retry_for` passed since its first failure: then it counts as
// failed. Locks are taken only there, on the failure path.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "transports/nats/jetstream.h"

namespace netdisp::transports::nats {
namespace {

using Clock = std::chrono::steady_clock;

// Publications in flight without their ack; the sink waits (or gives up a
// datagram) beyond it. Each keeps a copy of its datagram in the library.
constexpr std::int64_t kMaxPublishPending = 4096;
constexpr std::int64_t kStallWaitMs = 200;
// Unacknowledged in all, those waiting to be published again included.
constexpr std::uint64_t kMaxUnacknowledged = 2 * kMaxPublishPending;
// A publication without its ack after this long is published again.
constexpr std::int64_t kPublishAckWaitMs = 3000;
// After "no responders" (no stream leader now) or a refusal of the library
// (too many in flight), the next try of that message waits this long.
constexpr auto kRetryPause = std::chrono::milliseconds(250);
// At a stop: how long flush() waits for the last acks.
constexpr std::int64_t kStopWaitMs = 400;
// JSClusterNotAvailErr: "JetStream system temporarily unavailable".
constexpr int kClusterNotAvailable = 10008;
// JSClusterNotLeaderErr: "JetStream cluster can not handle request".
constexpr int kClusterNotLeader = 10009;

// Whether a failed publication may be stored if sent again (with the same
// Nats-Msg-Id, so the stream keeps it once). A leader election answers with
// timeouts, "no responders", the two cluster codes, or a bare 503 without a
// JetStream code: nats-server 2.9 passes its raft layer's "raft: not leader"
// through that way (seen in a CI run). Every refusal that stays (stream full,
// wrong subject ...) carries a JetStream code, and fails at once.
bool may_heal(const jsPubAckErr& error) {
  if (error.Err == NATS_TIMEOUT || error.Err == NATS_NO_RESPONDERS) return true;
  if (error.Err != NATS_ERR) return false;
  return error.ErrCode == 0 || error.ErrCode == kClusterNotAvailable ||
         error.ErrCode == kClusterNotLeader;
}

// The server's text and its JetStream code, so a refusal can be looked up.
std::string describe(const jsPubAckErr& error) {
  std::string text = error.ErrText && *error.ErrText ? error.ErrText : natsStatus_GetText(error.Err);
  if (error.ErrCode != 0) text += fmt::format(" (JetStream error {})", static_cast<int>(error.ErrCode));
  return text;
}

std::string run_id() {
  std::random_device random;
  std::uint64_t value = (std::uint64_t{random()} << 32) ^ random();
  return fmt::format("nd{:016x}.", value);
}

class JetStreamSink final : public stage::Sink {
 public:
  JetStreamSink(std::unique_ptr<Connection> connection, const JetStreamOptions& options,
                const stage::OutputSettings& settings)
      : connection_(std::move(connection)),
        options_(options),
        name_(connection_->target().shown),
        waits_(settings.wait_for_streams),
        control_(settings.control),
        acks_(std::make_shared<Acks>()),
        id_prefix_(run_id()) {
    acks_->name = name_;
    acks_->retry_for = options.retry_for;
    jsPubOptions_Init(&publish_);
    publish_.MaxWait = kPublishAckWaitMs;
    acks_->publish = publish_;
    jsOptions js;
    jsOptions_Init(&js);
    js.PublishAsync.MaxPending = kMaxPublishPending;
    js.PublishAsync.StallWait = kStallWaitMs;
    js.PublishAsync.AckHandler = on_ack;
    js.PublishAsync.AckHandlerClosure = acks_.get();
    SignalsBlocked blocked;  // the subscription for the acks and the retry thread start here
    context_ = make_context(*connection_, &js);
    auto window = ensure_stream(context_.get(), connection_->target(), options_);
    if (window.count() > 0 && window < options_.retry_for)
      spdlog::warn("{}: retry_for={} s is longer than stream {}'s duplicate window ({} s): a publication sent "
                   "again after that may be stored twice", name_, options_.retry_for.count() / 1000.0,
                   options_.stream, window.count() / 1000.0);
    acks_->context = context_.get();
    retry_thread_ = std::thread([acks = acks_] { acks->retry_loop(); });
  }

  ~JetStreamSink() override {
    acks_->stopping.store(true);
    {
      std::lock_guard lock(acks_->mutex);
      acks_->quit = true;
    }
    acks_->wake.notify_all();
    retry_thread_.join();
    // The acks still on their way are not waited for (flush() did); taking
    // the pending list makes the library drop them instead of calling back.
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, context_.get()) == NATS_OK) natsMsgList_Destroy(&pending);
    context_.reset();
    connection_.reset();  // closed (its threads done) before the counters go; Acks frees what it still queues
  }

  bool write(const stage::Batch& batch) override {
    const char* subject = connection_->target().subject.c_str();
    for (const iovec& datagram : batch.datagrams) {
      if (!room()) {
        give_up_datagram(NATS_TIMEOUT);
        continue;
      }
      set_next_id();
      while (true) {
        natsStatus status = js_PublishAsync(context_.get(), subject, datagram.iov_base,
                                            static_cast<int>(datagram.iov_len), &publish_);
        if (status == NATS_OK) {
          stage::add(datagrams_, 1);
          stage::add(bytes_, datagram.iov_len);
          break;
        }
        // NATS_TIMEOUT: kMaxPublishPending unacknowledged for kStallWaitMs.
        // The client waits for the stream (as for a slow TCP peer); live
        // input gives the datagram up, counted.
        if (status == NATS_TIMEOUT && waits_ && !(control_ && control_->stop_requested())) continue;
        give_up_datagram(status);
        break;
      }
    }
    return true;
  }

  // At end of input (and at a stop, briefly): wait for every ack, the
  // publications sent again included, at most their retry time and one ack wait.
  void flush() override {
    bool stopping = control_ && control_->stop_requested();
    auto budget = stopping ? std::chrono::milliseconds(kStopWaitMs)
                           : options_.retry_for + std::chrono::milliseconds(2 * kPublishAckWaitMs);
    auto deadline = Clock::now() + budget;
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = 100;
    while (acks_pending() > 0 && Clock::now() < deadline) {
      // OK at once while the retry thread holds the rest: then a short pause.
      if (js_PublishAsyncComplete(context_.get(), &wait) == NATS_OK)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (!stopping && control_ && control_->stop_requested()) {
        stopping = true;
        deadline = std::min(deadline, Clock::now() + std::chrono::milliseconds(kStopWaitMs));
      }
    }
    acks_->stopping.store(true);  // no more publishing again: what is unacknowledged now is counted
    if (std::uint64_t pending = acks_pending())
      spdlog::warn("{}: {} publications to JetStream stream {} still without an acknowledgement", name_, pending,
                   options_.stream);
  }

  std::vector<std::string> undelivered() const override {
    std::uint64_t errors = publish_errors(), pending = acks_pending();
    if (errors == 0 && pending == 0) return {};
    return {fmt::format("{}: {} datagrams not stored by JetStream stream {} ({} publish errors, {} without an "
                        "acknowledgement)",
                        name_, errors + pending, options_.stream, errors, pending)};
  }

  void report(stage::StatsRows& rows) const override {
    stage::StageStats& row = rows.emplace_back();
    row.role = stage::StageStats::Role::kSink;
    row.endpoint = name_;
    row.set(stage::Stat::kDatagrams, stage::get(datagrams_)).set(stage::Stat::kBytes, stage::get(bytes_));
    row.set(stage::Stat::kPublishErrors, publish_errors()).set(stage::Stat::kJsAcksPending, acks_pending());
    row.set(stage::Stat::kReconnects, connection_->reconnects());
    row.text = fmt::format("  -> {}: published {} datagrams, {} bytes to JetStream stream {}; {} acknowledged, {} "
                           "acks pending, {} publish errors",
                           name_, stage::get(datagrams_), stage::get(bytes_), options_.stream,
                           acks_->acked.load(std::memory_order_relaxed), acks_pending(), publish_errors());
    if (std::uint64_t retried = acks_->retried.load(std::memory_order_relaxed))
      row.text += fmt::format("; {} published again (no acknowledgement in time), {} of them stored already",
                              retried, acks_->duplicates.load(std::memory_order_relaxed));
  }

 private:
  // What the library's thread (on_ack) and the retry thread share; shared,
  // so that a late callback never touches a destroyed sink.
  struct Acks {
    struct Retry {
      natsMsg* message;
      Clock::time_point due;
    };

    ~Acks() {
      for (Retry& retry : queue) natsMsg_Destroy(retry.message);
    }

    void retry_loop();
    bool expired(natsMsg* message, Clock::time_point now);  // under mutex
    void give_up(natsMsg* message, std::string_view why);

    std::string name;
    std::chrono::milliseconds retry_for{30000};
    jsPubOptions publish;
    jsCtx* context = nullptr;
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> acked{0}, failed{0}, retried{0}, duplicates{0};
    std::mutex mutex;  // the failure path only: the rest of Acks
    std::condition_variable wake;
    std::deque<Retry> queue;
    std::unordered_map<std::string, Clock::time_point> first_failure;  // by message id
    bool quit = false;
    stage::LogLimit log;
  };

  // Whether another publication may go out: the unacknowledged ones, those
  // the retry thread holds included, stay below kMaxUnacknowledged (during
  // an election the library's own limit does not see those). The client
  // waits for room; live input does not.
  bool room() {
    while (acks_pending() >= kMaxUnacknowledged) {
      if (!waits_ || (control_ && control_->stop_requested())) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  void give_up_datagram(natsStatus status) {
    stage::add(not_published_, 1);
    if (publish_log_.allow())
      spdlog::warn("{}: publish to JetStream stream {} failed: {} (logged at most every 10 s)", name_,
                   options_.stream, status == NATS_TIMEOUT ? "too many unacknowledged" : status_text(status));
  }

  void set_next_id() {
    id_.assign(id_prefix_);
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, ++sequence_).ptr;
    id_.append(digits, end);
    publish_.MsgId = id_.c_str();
  }

  static void on_ack(jsCtx*, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    auto* acks = static_cast<Acks*>(closure);
    if (error == nullptr) {
      acks->acked.fetch_add(1, std::memory_order_relaxed);
      if (ack && ack->Duplicate) acks->duplicates.fetch_add(1, std::memory_order_relaxed);
      natsMsg_Destroy(message);
      return;
    }
    if (!may_heal(*error) || acks->stopping.load()) {
      acks->give_up(message, describe(*error));
      return;
    }
    {
      std::lock_guard lock(acks->mutex);
      auto now = Clock::now();
      if (!acks->expired(message, now)) {
        // A timeout waited already; no responders come back at once.
        acks->queue.push_back({message, error->Err == NATS_TIMEOUT ? now : now + kRetryPause});
        message = nullptr;
      }
    }
    if (message == nullptr)
      acks->wake.notify_one();
    else
      acks->give_up(message, "no acknowledgement within retry_for");
  }

  std::uint64_t publish_errors() const {
    return stage::get(not_published_) + acks_->failed.load(std::memory_order_relaxed);
  }
  std::uint64_t acks_pending() const {
    std::uint64_t done = acks_->acked.load(std::memory_order_relaxed) + acks_->failed.load(std::memory_order_relaxed);
    std::uint64_t sent = stage::get(datagrams_);
    return sent > done ? sent - done : 0;
  }

  std::unique_ptr<Connection> connection_;
  JetStreamOptions options_;
  std::string name_;
  bool waits_;
  const stage::Control* control_;
  std::shared_ptr<Acks> acks_;
  Context context_;
  std::thread retry_thread_;
  jsPubOptions publish_;  // MsgId points into id_
  std::string id_prefix_, id_;
  std::uint64_t sequence_ = 0;
  stage::Counter datagrams_{0}, bytes_{0}, not_published_{0};
  stage::LogLimit publish_log_;
};

// True when `message` failed first more than retry_for ago (then forgotten);
// else remembers its first failure.
bool JetStreamSink::Acks::expired(natsMsg* message, Clock::time_point now) {
  const char* id = nullptr;
  if (natsMsgHeader_Get(message, "Nats-Msg-Id", &id) != NATS_OK || id == nullptr) return true;
  auto entry = first_failure.try_emplace(id, now).first;
  if (retry_for.count() > 0 && now - entry->second <= retry_for) return false;
  first_failure.erase(entry);
  return true;
}

void JetStreamSink::Acks::give_up(natsMsg* message, std::string_view why) {
  failed.fetch_add(1, std::memory_order_relaxed);
  natsMsg_Destroy(message);
  std::lock_guard lock(mutex);
  if (!log.allow()) return;
  std::uint64_t held = log.take_suppressed();
  spdlog::warn("{}: JetStream did not store a publication: {}{}", name, why,
               held ? fmt::format(" ({} more in the last 10 s)", held) : std::string(" (logged at most every 10 s)"));
}

// The retry thread: publishes the failed messages again when due; forgets
// first failures older than retry_for (their messages were stored or given up).
void JetStreamSink::Acks::retry_loop() {
  std::unique_lock lock(mutex);
  auto next_prune = Clock::now() + retry_for;
  while (!quit) {
    if (queue.empty()) {
      wake.wait_for(lock, std::chrono::seconds(1));
    } else if (queue.front().due > Clock::now()) {
      wake.wait_until(lock, queue.front().due);
    }
    auto now = Clock::now();
    if (now >= next_prune) {
      std::erase_if(first_failure, [&](const auto& entry) { return now - entry.second > 2 * retry_for; });
      next_prune = now + retry_for;
    }
    if (quit || queue.empty() || queue.front().due > now) continue;
    Retry retry = queue.front();
    queue.pop_front();
    lock.unlock();
    if (retried.fetch_add(1, std::memory_order_relaxed) == 0)
      spdlog::warn("{}: JetStream did not acknowledge a publication (no stream leader or no answer in {} ms); "
                   "publishing it again for up to {} s", name, kPublishAckWaitMs, retry_for.count() / 1000.0);
    // The message keeps its Nats-Msg-Id header: the stream stores it once.
    natsStatus status = stopping.load() ? NATS_ILLEGAL_STATE : js_PublishMsgAsync(context, &retry.message, &publish);
    lock.lock();
    if (status == NATS_OK) continue;  // the library owns it again
    if (!stopping.load() && !expired(retry.message, Clock::now())) {
      queue.push_back({retry.message, Clock::now() + kRetryPause});
      continue;
    }
    lock.unlock();
    give_up(retry.message, stopping.load() ? "stopped before it was acknowledged" : natsStatus_GetText(status));
    lock.lock();
  }
}

}  // namespace

std::unique_ptr<stage::Sink> open_jetstream_sink(std::unique_ptr<Connection> connection,
                                                 const JetStreamOptions& options,
                                                 const stage::OutputSettings& settings) {
  return std::make_unique<JetStreamSink>(std::move(connection), options, settings);
}

}  // namespace netdisp::transports::nats
