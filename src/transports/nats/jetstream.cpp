#include "transports/nats/jetstream.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <unordered_set>
#include <vector>

#include "net/error.h"
#include "net/platform.h"
#include "stage/io.h"

namespace netdisp::transports::nats {

std::string js_error(natsStatus status, jsErrCode code) {
  std::string text = status_text(status);
  if (code != 0) text += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  return text;
}

Context make_context(Connection& connection, jsOptions* options) {
  jsCtx* context = nullptr;
  if (natsStatus status = natsConnection_JetStream(&context, connection.get(), options); status != NATS_OK)
    throw net::Error(connection.target().shown + ": JetStream context: " + status_text(status));
  return Context(context);
}

namespace {
std::chrono::milliseconds duplicate_window(const jsStreamInfo* info) {
  if (info == nullptr || info->Config == nullptr) return {};
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(info->Config->Duplicates));
}
}  // namespace

std::chrono::milliseconds ensure_stream(jsCtx* context, const Target& target, const JetStreamOptions& options) {
  jsStreamInfo* info = nullptr;
  jsErrCode code{};
  natsStatus status = js_GetStreamInfo(&info, context, options.stream.c_str(), nullptr, &code);
  if (status == NATS_OK) {
    auto window = duplicate_window(info);
    jsStreamInfo_Destroy(info);
    return window;
  }
  const std::string where = target.shown + ": JetStream stream '" + options.stream + "'";
  if (status == NATS_NO_RESPONDERS || status == NATS_TIMEOUT)
    throw net::Error(target.shown + ": JetStream does not answer (is it enabled on the server? nats-server -js): " +
                     status_text(status));
  if (status != NATS_NOT_FOUND) throw net::Error(where + ": " + js_error(status, code));
  if (!options.create) throw net::Error(where + " does not exist (?create=1 creates it)");
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = options.stream.c_str();
  const char* subjects[] = {target.subject.c_str()};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = options.replicas;
  code = {};
  status = js_AddStream(&info, context, &config, nullptr, &code);
  if (status != NATS_OK) throw net::Error(where + ": cannot create it: " + js_error(status, code));
  auto window = duplicate_window(info);
  jsStreamInfo_Destroy(info);
  spdlog::info("{}: created the JetStream stream '{}' (subject {}, {} replicas)", target.shown, options.stream,
               target.subject, options.replicas);
  return window;
}

namespace {

// Messages a consumer made with create=1 (or an ephemeral one) may have
// delivered and not acknowledged; the source's ring holds at least that many.
constexpr std::int64_t kMaxAckPending = 8192;
constexpr std::size_t kMaxRing = 1 << 16;
// At a stop: how long the source waits for its subscription to drain and
// its acks to reach the server.
constexpr int kStopWaitMs = 400;

// A stream or consumer name: one token, no white space, no '.', '*', '>' or path characters.
bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name)
    if (static_cast<unsigned char>(c) <= ' ' || c == '.' || c == '*' || c == '>' || c == '/' || c == '\\')
      return false;
  return true;
}

bool parse_switch(const std::string& text, bool& value) {
  if (text == "1" || text == "on" || text == "yes" || text == "true") return value = true, true;
  if (text == "0" || text == "off" || text == "no" || text == "false") return value = false, true;
  return false;
}

// The delivery count of a JetStream message, from its reply subject
// ($JS.ACK.<stream>.<consumer>.<delivered>.<sseq>... or, with a domain,
// $JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>...); 1 when unknown.
struct Delivery {
  std::uint64_t count = 1;   // times delivered
  std::uint64_t sequence = 0;  // in the stream; 0 when unknown
};

// The delivery count and stream sequence of a JetStream message, from its
// reply subject ($JS.ACK.<stream>.<consumer>.<delivered>.<sseq>... or, with
// a domain, $JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.<sseq>...).
Delivery delivery_of(natsMsg* message) {
  Delivery delivery;
  const char* reply = natsMsg_GetReply(message);
  if (reply == nullptr) return delivery;
  std::string_view text(reply);
  std::size_t dots = 0;
  for (char c : text) dots += c == '.';
  std::size_t index = dots == 8 ? 4 : dots >= 10 ? 6 : 0;  // 9 tokens, or 11 and more
  if (index == 0) return delivery;
  std::size_t start = 0;
  for (std::size_t token = 0; token < index; ++token) start = text.find('.', start) + 1;
  std::size_t end = text.find('.', start);
  std::from_chars(text.data() + start, text.data() + end, delivery.count);
  std::size_t next = text.find('.', end + 1);
  std::from_chars(text.data() + end + 1, text.data() + next, delivery.sequence);
  return delivery;
}

// The stream sequences this process handed to the pipe lately: a message
// delivered again because its acknowledgement was lost (with a node of the
// cluster) is acknowledged and skipped instead of written twice.
class RecentSequences {
 public:
  bool seen(std::uint64_t sequence) const { return set_.contains(sequence); }
  void add(std::uint64_t sequence) {
    if (order_.size() == kKeep) {
      set_.erase(order_[next_]);
      order_[next_] = sequence;
      next_ = (next_ + 1) % kKeep;
    } else {
      order_.push_back(sequence);
    }
    set_.insert(sequence);
  }

 private:
  static constexpr std::size_t kKeep = 1 << 17;
  std::unordered_set<std::uint64_t> set_;
  std::vector<std::uint64_t> order_;
  std::size_t next_ = 0;
};

// A single-producer ring of messages from the library's delivery thread to
// the pipe's thread, with a descriptor to poll while it is empty (the protocol
// of stage::HandoffQueue, for pointers instead of copies: a message stays
// alive until it is acknowledged).
class MessageRing {
 public:
  explicit MessageRing(std::size_t capacity) : slots_(capacity) {}
  std::size_t capacity() const { return slots_.size(); }
  net::Handle fd() const { return wake_.handle(); }

  bool push(natsMsg* message) {  // producer
    std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_.load(std::memory_order_acquire) >= slots_.size()) return false;
    slots_[tail % slots_.size()] = message;
    tail_.store(tail + 1, std::memory_order_seq_cst);
    if (waiting_.load(std::memory_order_seq_cst) && waiting_.exchange(false)) wake_.notify();
    return true;
  }

  // Consumer: moves up to `most` messages to `out`; 0 when empty.
  std::size_t pop(std::vector<natsMsg*>& out, std::size_t most) {
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    std::uint64_t tail = tail_.load(std::memory_order_acquire);
    std::size_t count = 0;
    for (; head != tail && count < most; ++head, ++count) out.push_back(slots_[head % slots_.size()]);
    head_.store(head, std::memory_order_release);
    return count;
  }

  // Consumer, after pop() found nothing: true when it may poll fd() now (a
  // push after this sees the flag and notifies fd()).
  bool may_sleep() {
    wake_.clear();
    waiting_.store(true, std::memory_order_seq_cst);
    if (tail_.load(std::memory_order_seq_cst) != head_.load(std::memory_order_relaxed)) {
      waiting_.store(false, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

 private:
  std::vector<natsMsg*> slots_;
  net::WakeFd wake_;  // an eventfd, or a pipe (net/platform.h)
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  alignas(64) std::atomic<std::uint64_t> head_{0};
  std::atomic<bool> waiting_{false};
};

// ---- receiving ---------------------------------------------------------------

class JetStreamSource final : public stage::Source {
 public:
  JetStreamSource(std::unique_ptr<Connection> connection, const JetStreamOptions& options)
      : connection_(std::move(connection)), options_(options), name_(connection_->target().shown) {
    SignalsBlocked blocked;  // the subscription's delivery thread starts here
    context_ = make_context(*connection_, nullptr);
    ensure_stream(context_.get(), target(), options_);
    std::size_t capacity = kMaxAckPending;
    if (!options_.durable.empty()) capacity = ensure_consumer();
    ring_ = std::make_unique<MessageRing>(capacity);
    subscribe();
    views_.reserve(stage::kMaxBatch);
    handed_.reserve(stage::kMaxBatch);
  }

  ~JetStreamSource() override {
    // Written messages were acknowledged by discard_queued() at a stop; when
    // the pipe ended otherwise (its sinks failed), the last batch may not be
    // written: it is left to a redelivery like the rest.
    stopping_.store(true);
    nak(handed_);
    if (subscription_) {
      natsSubscription_Drain(subscription_);  // what the library holds still comes to on_message: left too
      natsSubscription_WaitForDrainCompletion(subscription_, kStopWaitMs);
    }
    nak_queued();
    natsConnection_FlushTimeout(connection_->get(), kStopWaitMs);  // the acks and naks reach the server
    if (subscription_) natsSubscription_Destroy(subscription_);
    nak_queued();  // a message the library handed over after a drain that timed out
    context_.reset();
    connection_.reset();  // closed (its threads done) while the ring is still there
    if (std::uint64_t left = stage::get(left_))
      spdlog::info("{}: {} messages received but not written are left to the stream (redelivered to the next "
                   "subscriber)", name_, left);
  }

  // The previous batch was written by every sink (the pipe reads again only
  // after that): acknowledge it now, then hand out the next.
  stage::ReadStatus read(stage::Batch& batch) override {
    ack_handed();
    if (ring_->pop(handed_, stage::kMaxBatch) == 0) {
      if (ring_->may_sleep()) return stage::ReadStatus::kWouldBlock;
      if (ring_->pop(handed_, stage::kMaxBatch) == 0) return stage::ReadStatus::kWouldBlock;
    }
    views_.clear();
    std::size_t bytes = 0, kept = 0;
    std::uint64_t again = 0;
    for (natsMsg* message : handed_) {
      Delivery delivery = delivery_of(message);
      if (delivery.count > 1) ++again;
      // Handed out already: not again (a redelivery after a lost ack, or a
      // message the cluster delivered twice while its routes were remade).
      if (delivery.sequence && recent_.seen(delivery.sequence)) {
        duplicates_.push_back(message);  // acknowledged with this batch, once it was written
        continue;
      }
      if (delivery.sequence) recent_.add(delivery.sequence);
      handed_[kept++] = message;
      auto length = static_cast<std::size_t>(natsMsg_GetDataLength(message));
      views_.push_back(iovec{const_cast<char*>(natsMsg_GetData(message)), length});
      bytes += length;
    }
    handed_.resize(kept);
    stage::add(skipped_, duplicates_.size());
    handed_.insert(handed_.end(), duplicates_.begin(), duplicates_.end());
    duplicates_.clear();
    if (again) stage::add(redelivered_, again);
    if (kept == 0) return read(batch);  // only messages written before: acknowledged now, then the next ones
    stage::add(datagrams_, handed_.size());
    stage::add(bytes_, bytes);
    batch = stage::Batch{std::span<const iovec>(views_.data(), views_.size()), bytes};
    return stage::ReadStatus::kData;
  }

  net::Handle poll_fd() const override { return ring_->fd(); }

  // On a stop the pipe writes what was delivered already (up to
  // --drain-timeout), then calls discard_queued(): the last batch it wrote
  // is acknowledged; the rest is left to the stream (negatively
  // acknowledged: redelivered at once to the next subscriber), not lost.
  bool drains() const override { return true; }
  void discard_queued() override {
    ack_handed();
    stopping_.store(true);
    nak_queued();
  }

  void report(stage::StatsRows& rows) const override {
    stage::StageStats& row = rows.emplace_back();
    row.endpoint = name_;
    row.set(stage::Stat::kDatagrams, stage::get(datagrams_)).set(stage::Stat::kBytes, stage::get(bytes_));
    row.set(stage::Stat::kRedelivered, stage::get(redelivered_)).set(stage::Stat::kReconnects, connection_->reconnects());
    row.text = fmt::format("{}: received {} datagrams, {} bytes from JetStream stream {}{}; {} redelivered; {} "
                           "reconnects",
                           name_, stage::get(datagrams_), stage::get(bytes_), options_.stream,
                           options_.durable.empty() ? "" : " (durable " + options_.durable + ")",
                           stage::get(redelivered_), connection_->reconnects());
    if (std::uint64_t skipped = stage::get(skipped_))
      row.text += fmt::format(" ({} written already: acknowledged, not written again)", skipped);
    if (std::uint64_t failed = stage::get(ack_errors_))
      row.text += fmt::format("; {} acknowledgements failed (those come again)", failed);
  }

  std::string name() const override { return name_; }

 private:
  const Target& target() const { return connection_->target(); }

  // Checks the durable consumer, or creates it with create=1; returns the
  // ring size its MaxAckPending needs.
  std::size_t ensure_consumer() {
    const std::string where = target().shown + ": durable consumer '" + options_.durable + "' of JetStream stream '" +
                              options_.stream + "'";
    jsConsumerInfo* info = nullptr;
    jsErrCode code{};
    bool created = false;
    natsStatus status = js_GetConsumerInfo(&info, context_.get(), options_.stream.c_str(), options_.durable.c_str(),
                                           nullptr, &code);
    if (status == NATS_NOT_FOUND) {
      if (!options_.create) throw net::Error(where + " does not exist (?create=1 creates it)");
      natsInbox* inbox = nullptr;
      if (natsInbox_Create(&inbox) != NATS_OK) throw net::Error(where + ": inbox: " + status_text(NATS_NO_MEMORY));
      jsConsumerConfig config;
      jsConsumerConfig_Init(&config);
      config.Durable = options_.durable.c_str();
      config.DeliverSubject = inbox;
      config.DeliverPolicy = js_DeliverAll;
      config.AckPolicy = js_AckExplicit;
      config.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.ack_wait).count();
      config.MaxAckPending = kMaxAckPending;
      config.FilterSubject = target().subject.c_str();
      code = {};
      status = js_AddConsumer(&info, context_.get(), options_.stream.c_str(), &config, nullptr, &code);
      natsInbox_Destroy(inbox);
      if (status != NATS_OK) throw net::Error(where + ": cannot create it: " + js_error(status, code));
      created = true;
      spdlog::info("{}: created the durable consumer '{}' of JetStream stream '{}'", target().shown,
                   options_.durable, options_.stream);
    } else if (status != NATS_OK) {
      throw net::Error(where + ": " + js_error(status, code));
    }
    std::int64_t pending = info->Config->MaxAckPending;
    bool pull = info->Config->DeliverSubject == nullptr;
    if (!pull) deliver_subject_ = info->Config->DeliverSubject;
    if (info->Config->DeliverGroup) deliver_group_ = info->Config->DeliverGroup;
    bool bound = info->PushBound && !created;
    jsConsumerInfo_Destroy(info);
    if (pull) throw net::Error(where + " is a pull consumer; netdisp reads push consumers (with a deliver subject)");
    if (bound && deliver_group_.empty())
      throw net::Error(where + " is read by another subscriber already (one reader per durable consumer)");
    if (pending <= 0 || static_cast<std::size_t>(pending) > kMaxRing) return kMaxRing;
    return std::max<std::size_t>(static_cast<std::size_t>(pending), stage::kMaxBatch);
  }

  // A durable consumer: a plain subscription on its deliver subject (the
  // acks are ours, see respond()); an ephemeral one through js_Subscribe.
  void subscribe() {
    natsStatus status = NATS_OK;
    jsErrCode code{};
    if (!options_.durable.empty()) {
      natsConnection* connection = connection_->get();
      status = deliver_group_.empty()
                   ? natsConnection_Subscribe(&subscription_, connection, deliver_subject_.c_str(), on_message, this)
                   : natsConnection_QueueSubscribe(&subscription_, connection, deliver_subject_.c_str(),
                                                   deliver_group_.c_str(), on_message, this);
    } else {
      jsSubOptions options;
      jsSubOptions_Init(&options);
      options.Stream = options_.stream.c_str();
      options.ManualAck = true;
      options.Config.DeliverPolicy = js_DeliverNew;
      options.Config.AckPolicy = js_AckExplicit;
      options.Config.MaxAckPending = kMaxAckPending;
      status = js_Subscribe(&subscription_, context_.get(), target().subject.c_str(), on_message, this, nullptr,
                            &options, &code);
    }
    if (status != NATS_OK)
      throw net::Error(target().shown + ": cannot subscribe to JetStream stream '" + options_.stream + "'" +
                       (options_.durable.empty() ? "" : " through durable '" + options_.durable + "'") + ": " +
                       js_error(status, code));
    // JetStream bounds what is in flight (MaxAckPending): no limit of the library's own drops one.
    natsSubscription_SetPendingLimits(subscription_, -1, -1);
  }

  // "+ACK" (written) or "-NAK" (redeliver now) to the message's ack subject.
  natsStatus respond(natsMsg* message, const char* what) {
    return natsConnection_PublishString(connection_->get(), natsMsg_GetReply(message), what);
  }

  // A consumer's own messages on the deliver subject: idle heartbeats (no
  // reply) and flow control requests (answered empty); not data.
  static bool control_message(natsConnection* connection, natsMsg* message) {
    const char* reply = natsMsg_GetReply(message);
    if (reply != nullptr && std::string_view(reply).starts_with("$JS.ACK.")) return false;
    if (reply != nullptr && *reply) natsConnection_Publish(connection, reply, nullptr, 0);
    return true;
  }

  // The library's delivery thread.
  static void on_message(natsConnection* connection, natsSubscription*, natsMsg* message, void* closure) {
    auto* self = static_cast<JetStreamSource*>(closure);
    if (control_message(connection, message)) {
      natsMsg_Destroy(message);
      return;
    }
    if (self->stopping_.load() || !self->ring_->push(message)) {
      // Stopping, or more than MaxAckPending in flight (a consumer changed
      // on the server): back to the stream, for a redelivery.
      self->respond(message, "-NAK");
      natsMsg_Destroy(message);
      self->left_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void ack_handed() {
    for (natsMsg* message : handed_) {
      if (natsStatus status = respond(message, "+ACK"); status != NATS_OK) {
        stage::add(ack_errors_, 1);
        if (ack_log_.allow())
          spdlog::warn("{}: acknowledgement failed: {} (the message will come again; logged at most every 10 s)",
                       name_, status_text(status));
      }
      natsMsg_Destroy(message);
    }
    handed_.clear();
  }

  void nak(std::vector<natsMsg*>& messages) {
    for (natsMsg* message : messages) {
      respond(message, "-NAK");
      natsMsg_Destroy(message);
    }
    left_.fetch_add(messages.size(), std::memory_order_relaxed);
    messages.clear();
  }

  void nak_queued() {
    std::vector<natsMsg*> rest;
    while (ring_ && ring_->pop(rest, stage::kMaxBatch) > 0) nak(rest);
  }

  std::unique_ptr<Connection> connection_;
  JetStreamOptions options_;
  std::string name_;
  Context context_;
  std::unique_ptr<MessageRing> ring_;
  natsSubscription* subscription_ = nullptr;
  std::string deliver_subject_, deliver_group_;  // a durable consumer's
  std::atomic<bool> stopping_{false};
  std::vector<natsMsg*> handed_;  // the batch the pipe has: acknowledged at the next read
  std::vector<iovec> views_;
  stage::Counter datagrams_{0}, bytes_{0}, redelivered_{0}, ack_errors_{0}, skipped_{0};
  RecentSequences recent_;
  std::vector<natsMsg*> duplicates_;
  std::atomic<std::uint64_t> left_{0};
  stage::LogLimit ack_log_;
};

}  // namespace

std::optional<JetStreamOptions> parse_jetstream(const stage::Endpoint& endpoint, stage::Role role) {
  const std::string shown = endpoint.to_string();
  auto bad = [&](const std::string& why) { throw net::UsageError(shown + ": " + why); };
  JetStreamOptions options;
  bool has_stream = false, has_replicas = false, has_ack_wait = false;
  auto seconds = [&](const std::string& name, const std::string& value, double least, double most) {
    double number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(number) || number < least ||
        number > most)
      bad(fmt::format("{}={}: expected seconds from {} to {}", name, value, least, most));
    return std::chrono::milliseconds(static_cast<std::int64_t>(number * 1000));
  };
  for (const auto& [name, value] : endpoint.params) {
    if (name == "stream") {
      if (has_stream) bad("stream= is given more than once");
      if (!valid_name(value)) bad("stream=" + value + ": a stream name is one word (no '.', spaces, *, > or /)");
      options.stream = value;
      has_stream = true;
    } else if (name == "durable") {
      if (!options.durable.empty()) bad("durable= is given more than once");
      if (!valid_name(value)) bad("durable=" + value + ": a consumer name is one word (no '.', spaces, *, > or /)");
      options.durable = value;
    } else if (name == "create") {
      if (!parse_switch(value, options.create)) bad("create=" + value + ": expected 1 or 0");
    } else if (name == "replicas") {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), options.replicas);
      if (ec != std::errc() || end != value.data() + value.size() || options.replicas < 1 || options.replicas > 5)
        bad("replicas=" + value + ": expected 1 to 5");
      has_replicas = true;
    } else if (name == "ack_wait") {
      options.ack_wait = seconds(name, value, 0.1, 86400);
      has_ack_wait = true;
    } else if (name == "retry_for") {
      options.retry_for = seconds(name, value, 0, 3600);
    }
  }
  if (!has_stream) {
    for (const char* name : {"durable", "create", "replicas", "ack_wait", "retry_for"})
      if (!endpoint.values(name).empty()) bad(std::string(name) + "= needs stream=NAME (JetStream)");
    return std::nullopt;
  }
  if (has_replicas && !options.create) bad("replicas= applies to a stream made with create=1");
  if (has_ack_wait && !(options.create && !options.durable.empty()))
    bad("ack_wait= applies to a durable consumer made with create=1");
  if (role == stage::Role::kListen && !endpoint.values("queue").empty())
    bad("queue= and stream= together: a JetStream consumer is read by one subscriber");
  return options;
}

std::unique_ptr<stage::Source> open_jetstream_source(std::unique_ptr<Connection> connection,
                                                     const JetStreamOptions& options) {
  return std::make_unique<JetStreamSource>(std::move(connection), options);
}

}  // namespace netdisp::transports::nats
