#include "transports/norm/norm_sink.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/random.h>

#include <algorithm>
#include <cerrno>

#include "net/error.h"

namespace netdisp::transports::norm {
namespace {

using Clock = std::chrono::steady_clock;

// How long a write or a wait sleeps at most between looks at the stream:
// the library posts TX_QUEUE_VACANCY only after a write it refused, so a
// missed event costs this much, never a hang.
constexpr int kWaitSliceMs = 100;
// While a receiver catches up, the library completes a watermark only after
// asking it NORM's robust factor (20) times: the acknowledgements of the
// others are looked at this often instead.
constexpr int kAckPollMs = 10;

// Without --expect, how long the end of a transfer is still repaired.
constexpr auto kRepairLinger = std::chrono::seconds(5);

// How long a receiver may leave a flow-control watermark unanswered before
// the client stops waiting for it.
constexpr auto kReceiverTimeout = std::chrono::seconds(10);

constexpr double kInitialGrtt = 0.01;  // seconds
constexpr unsigned kGroupSize = 16;

// Probes (NORM_CMD(CC)) every 0.1 s at first, then ever less often up to
// every 0.5 s: receivers answer them, so the sender hears of each one within a
// fraction of a second, long before any loss would make it NACK (the
// library's 1 s first interval left a receiver unheard through a short
// transfer, and so outside flow control and --expect). Not every receiver
// answers every probe: with probes every 2 s, a reverse-proxy's second
// subscriber was heard 1.7 s after the first; a probe is one small packet.
constexpr double kProbeIntervalMin = 0.1;
constexpr double kProbeIntervalMax = 0.5;

}  // namespace

NormSink::NormSink(const stage::Endpoint& endpoint, const Params& params, const stage::OutputSettings& settings)
    : label_(endpoint.to_string()),
      session_(endpoint.address, params.id ? params.id : next_node_id(), label_),
      lossless_(settings.wait_for_streams),
      control_(settings.control),
      expect_(settings.expect_receivers),
      expect_timeout_(settings.expect_timeout),
      segment_size_(params.segment),
      block_size_(params.block),
      held_segments_(NormGetStreamBufferSegmentCount(params.buffer, params.segment, params.block)),
      block_starts_(2 * held_segments_ / block_size_, 0) {
  NormSessionHandle session = session_.handle();
  // The sender only sends from an ephemeral port; receivers send their NACKs
  // and ACKs there (unicast NACKs, norm_source.cpp), so it never binds the
  // session's port: a receiver in the same process or host can.
  NormSetTxOnly(session, true);
  if (endpoint.address.is_multicast()) session_.apply_multicast(settings.sockets.multicast);
  NormSetTxRate(session, params.rate);
  if (params.cc) {
    NormSetCongestionControl(session, true);
    NormSetTxRateBounds(session, -1.0, params.rate);
  }
  // Repairs start within a few round trips: the library's first guess of the
  // group's round trip (0.25 s) and of its size (1000 receivers) would hold
  // every NACK back for seconds; probing corrects the round trip from here.
  NormSetGrttEstimate(session, kInitialGrtt);
  // The library measures the round trip with its probes and takes the peak;
  // its own cap is 10 s. A receiver's thread held up by a busy host inflated
  // it to 0.3-1 s on a link of well under 1 ms, and every acknowledgement
  // (NORM completes a watermark 2 round trips after asking) and repair
  // round then took that long: 0.38-0.43 of rate=100M to one receiver at no
  // loss, 0.81-0.83 with a 50 ms cap. grtt_max= raises it for slower paths.
  NormSetGrttMax(session, params.grtt_max);
  NormSetGroupSize(session, kGroupSize);
  // Receivers NACK and ACK unicast to the sender (norm_source.cpp), so they
  // cannot suppress each other's NACKs: holding them back only slows repairs.
  NormSetBackoffFactor(session, 0.0);
  NormSetGrttProbingInterval(session, kProbeIntervalMin, kProbeIntervalMax);
  // Every receiver heard from (a NACK, an ACK, a probe's answer) is asked to
  // acknowledge the end of the stream.
  NormSetAutoAckingNodes(session, NORM_TRACK_RECEIVERS);
  std::uint16_t instance = 0;
  if (::getrandom(&instance, sizeof instance, 0) != sizeof instance) instance = NormGetRandomSessionId();
  if (!NormStartSender(session, instance, params.buffer, params.segment, params.block, params.parity))
    throw net::Error(label_ + ": cannot start a NORM sender (buffer=" + std::to_string(params.buffer) + ")");
  NormSetAutoParity(session, static_cast<unsigned char>(params.autoparity));
  stream_ = NormStreamOpen(session, params.buffer);
  window_ = held_segments_ / 4 * 3;
  step_ = std::max<std::uint64_t>(window_ / 8, 1);
  if (stream_ == NORM_OBJECT_INVALID) throw net::Error(label_ + ": cannot open a NORM stream");
  spdlog::info("{}: NORM sender node {} at {} bit/s{}", label_, node_name(session_.id()), params.rate,
               params.cc ? " at most (NORM-CC)" : "");
}

NormSink::~NormSink() {
  if (stream_ != NORM_OBJECT_INVALID) NormStreamClose(stream_, false);
}

// The library's events for this session: receivers heard, room in the
// stream, the watermark's outcome.
void NormSink::take_events() {
  NormEvent event;
  while (NormGetNextEvent(NormGetInstance(session_.handle()), &event, false)) {
    switch (event.type) {
      case NORM_ACKING_NODE_NEW: on_receiver(NormNodeGetId(event.sender)); break;
      case NORM_TX_WATERMARK_COMPLETED:
        watermark_done_ = true;
        on_watermark(true);
        break;
      case NORM_TX_FLUSH_COMPLETED: flush_done_ = true; break;
      case NORM_SEND_ERROR:
        stage::add(send_errors_, 1);
        if (drop_log_.allow()) spdlog::warn("{}: a send failed (logged at most every 10 s)", label_);
        break;
      case NORM_TX_RATE_CHANGED:
        spdlog::debug("{}: NORM-CC rate now {:.0f} bit/s", label_, NormGetTxRate(session_.handle()));
        break;
      default: break;
    }
  }
}

NormSink::Receiver* NormSink::find_receiver(NormNodeId id) {
  for (Receiver& receiver : receivers_)
    if (receiver.id == id) return &receiver;
  return nullptr;
}

std::size_t NormSink::waited_for() const {
  return static_cast<std::size_t>(
      std::count_if(receivers_.begin(), receivers_.end(), [](const Receiver& r) { return r.waited_for; }));
}

// One buffer's segments, not the two the library holds (oldest_held_byte):
// a late joiner asks back only its own window, so the second buffer's worth
// of start is not known to reach it.
bool NormSink::start_held() const { return segments_ + (segment_fill_ > 0) + block_size_ <= held_segments_; }

// Segments completed since `segments_before` (all full but one a flush
// closed, which ends at stream_bytes_): the stream byte where each block
// begun among them starts.
void NormSink::note_blocks(std::uint64_t segments_before) {
  for (std::uint64_t k = segments_before / block_size_ * block_size_ + block_size_; k <= segments_; k += block_size_)
    block_starts_[(k / block_size_) % block_starts_.size()] =
        stream_bytes_ - segment_fill_ - (segments_ - k) * segment_size_;
}

// The library keeps the last blocks it wrote, the one being written
// included, and recycles the oldest for a new one: twice the blocks of
// buffer= (NormStreamOpen opens its stream double-buffered; seen: a server
// that joined when 39.3 MB were written got the stream from 14.6 MB, with
// 16.7 MB in one buffer). A late joiner is repaired from this byte or later:
// a NORM receiver asks back at most its own window from the first packet it
// hears, and a receiver that reads late skips what the library gave up.
std::uint64_t NormSink::oldest_held_byte() const {
  std::uint64_t used = segments_ + (segment_fill_ > 0);
  std::uint64_t blocks = block_starts_.size();
  if (used == 0 || (used - 1) / block_size_ < blocks) return 0;
  return block_starts_[((used - 1) / block_size_ - blocks + 1) % blocks];
}

// A receiver heard for the first time (or again, after it was dropped from
// flow control: the library adds it back when it hears from it).
void NormSink::on_receiver(NormNodeId id) {
  if (find_receiver(id)) {
    spdlog::info("{}: receiver {} heard again", label_, node_name(id));
    return;
  }
  bool at_start = stream_bytes_ == 0;
  receivers_.push_back({id, stream_bytes_, at_start, at_start});
  stage::add(receivers_seen_, 1);
  if (at_start || !lossless_) {  // live input has no flow control
    spdlog::info("{}: receiver {} joined{}", label_, node_name(id),
                 at_start ? "" : fmt::format(" {} bytes into the stream", stream_bytes_));
  } else {
    spdlog::info("{}: receiver {} joined {} bytes into the stream: repaired from byte {} at the earliest (the oldest "
                 "this sender holds), not waited for until it has caught up", label_, node_name(id), stream_bytes_,
                 oldest_held_byte());
  }
}

// A receiver not waited for acknowledged: from now on it is. Whether it has
// the stream from its first byte is decided at its first acknowledgement:
// only if the sender still holds that byte (nothing it may lack was dropped).
void NormSink::caught_up(Receiver& receiver) {
  receiver.waited_for = true;
  if (!receiver.dropped) receiver.whole = start_held();
  spdlog::info("{}: receiver {} caught up ({} bytes acknowledged): waited for from now on{}", label_,
               node_name(receiver.id), watermark_bytes_,
               receiver.whole ? "" : receiver.dropped ? "; it fell behind before and may lack bytes"
                                                      : "; it joined after this sender had dropped the stream's start");
}

void NormSink::drop(Receiver& receiver) {
  spdlog::warn("{}: receiver {} did not acknowledge for {} s: not waited for any more (it may lack bytes and does "
               "not count for --expect)", label_, node_name(receiver.id), kReceiverTimeout.count());
  receiver.waited_for = false;
  receiver.whole = false;
  receiver.dropped = true;
  NormRemoveAckingNode(session_.handle(), receiver.id);
}

bool NormSink::on_ready(short) {
  take_events();
  return true;
}

bool NormSink::wait_for_room() {
  pollfd fds[2] = {{session_.fd(), POLLIN, 0}, {control_ ? control_->stop_fd() : -1, POLLIN, 0}};
  bool catching_up = watermark_pending_ && waited_for() < receivers_.size();
  int rc = ::poll(fds, 2, catching_up ? kAckPollMs : kWaitSliceMs);
  if (rc < 0 && errno != EINTR) return false;
  take_events();
  return !(control_ && control_->stop_requested());
}

bool NormSink::write_all(const char* data, std::size_t size) {
  while (size > 0) {
    unsigned int taken = NormStreamWrite(stream_, data, static_cast<unsigned int>(size));
    data += taken;
    size -= taken;
    std::uint64_t before = segments_;
    stream_bytes_ += taken;
    segment_fill_ += taken;
    segments_ += segment_fill_ / segment_size_;
    segment_fill_ %= segment_size_;
    note_blocks(before);
    if (size > 0 && !wait_for_room()) return false;
  }
  return true;
}

// A NORM stream forgets what it sent once its buffer wraps, repaired or not
// (NormStreamWrite recycles the oldest block unless a repair of it is
// pending or was asked for lately: acknowledgements are not its concern):
// input read from a file may run only window_ (3/4 of the buffer's
// segments) ahead of what every receiver acknowledged. Counted in bytes,
// input read in small pieces (a flushed segment each) ran many buffers
// ahead: 3/4 of 1 MiB is 5,000 pieces of 150 bytes against 1,408 segments
// held. Watermarks (ACK requests) follow each
// other: as soon as one is answered, the next asks for what was written
// since (at least step_ = window_/8), so acknowledgements move in small steps
// and the sender waits only when a whole window is unanswered, not for every
// round trip. A receiver that stops answering holds the transfer up to the
// point where it is dropped from flow control (kReceiverTimeout, logged).
// Only receivers waited for hold it up: a late joiner catching up is not
// (norm_sink.h). `completed`: the library's NORM_TX_WATERMARK_COMPLETED;
// otherwise a look at the acknowledgements so far, which moves on as soon
// as every receiver waited for answered.
void NormSink::on_watermark(bool completed) {
  NormSessionHandle session = session_.handle();
  // A receiver not waited for that answered the library's last watermark
  // (flow control may have moved on without it) has caught up.
  for (Receiver& receiver : receivers_)
    if (!receiver.waited_for && NormGetAckingStatus(session, receiver.id) == NORM_ACK_SUCCESS) caught_up(receiver);
  if (completed) asking_ = false;
  if (!watermark_pending_) {
    next_watermark();
    return;
  }
  bool all = true;
  for (const Receiver& receiver : receivers_)
    all &= !receiver.waited_for || NormGetAckingStatus(session, receiver.id) == NORM_ACK_SUCCESS;
  // Nobody waited for: nothing holds the stream up; the library's own
  // completion decides when the next watermark replaces this one.
  if (all && !completed && waited_for() == 0) return;
  // (The library may never complete a watermark: while repairs before it
  // are pending it does not even ask. The timeout is checked here too.)
  if (!all && Clock::now() - watermark_since_ <= kReceiverTimeout) {
    if (completed) NormResetWatermark(session);  // ask the ones that did not answer again
    return;
  }
  if (!all) {
    for (Receiver& receiver : receivers_)
      if (receiver.waited_for && NormGetAckingStatus(session, receiver.id) != NORM_ACK_SUCCESS) drop(receiver);
  }
  acked_ = watermark_at_;
  watermark_pending_ = false;
  next_watermark();
}

// Asks for the next acknowledgement when none is pending and enough was
// written, or, while a receiver catches up, when the library finished
// asking for the last one (an idle stream still finds out when it did).
void NormSink::next_watermark() {
  if (!lossless_ || watermark_pending_ || finished_ || receivers_.empty()) return;
  bool catching_up = waited_for() < receivers_.size();
  if (segments_ + (segment_fill_ > 0) < acked_ + step_ && !(catching_up && !asking_)) return;
  NormSetWatermark(session_.handle(), stream_, false);
  asking_ = true;
  watermark_at_ = segments_;  // the library's watermark: the last segment closed
  watermark_bytes_ = stream_bytes_ - segment_fill_;
  watermark_pending_ = true;
  watermark_since_ = Clock::now();
}

bool NormSink::wait_for_window(std::size_t framed) {
  take_events();
  for (;;) {
    // Nobody waited for (none heard from yet, or only late joiners catching
    // up): nothing holds the stream up (--expect waited for its receivers first).
    if (waited_for() == 0) acked_ = segments_ + (segment_fill_ > 0);
    next_watermark();
    // The segments in use once this datagram is in (a flush closes the last).
    if (segments_ + (segment_fill_ + framed + segment_size_ - 1) / segment_size_ <= acked_ + window_) return true;
    if (!wait_for_room()) return false;
    on_watermark(false);
  }
}

// --expect N: the stream starts once N receivers are heard from (they answer
// the sender's first probes), so that each gets it from its first byte and
// flow control waits for every one of them; after --expect-timeout it starts
// with those there are (the end's wait then names who is missing).
void NormSink::await_receivers() {
  auto until = Clock::now() + expect_timeout_;
  take_events();
  while (receivers_.size() < expect_ && Clock::now() < until && wait_for_room()) {
  }
  if (receivers_.size() < expect_)
    spdlog::warn("{}: {} of {} expected receivers heard from after {} s: sending to those", label_,
                 receivers_.size(), expect_, expect_timeout_.count() / 1000);
}

bool NormSink::write(const stage::Batch& batch) {
  take_events();
  if (!started_) {
    started_ = true;
    if (lossless_ && expect_ > 0) await_receivers();
  }
  for (std::size_t i = 0; i < batch.datagrams.size(); ++i) {
    const iovec& datagram = batch.datagrams[i];
    auto length = static_cast<std::uint32_t>(datagram.iov_len);
    char header[kFrameHeader] = {static_cast<char>(length >> 24), static_cast<char>(length >> 16),
                                 static_cast<char>(length >> 8), static_cast<char>(length)};
    std::size_t framed = kFrameHeader + datagram.iov_len;
    if (!lossless_) {
      // Live: a datagram goes whole or not at all, never blocking the pipe.
      // (NormStreamGetVacancy answered 0 with an empty buffer in libnorm
      // 1.5.9: HasVacancy, then at most a short wait for the frame's rest.)
      if (!NormStreamHasVacancy(stream_)) {
        stage::add(dropped_datagrams_, 1);
        stage::add(dropped_bytes_, datagram.iov_len);
        if (drop_log_.allow())
          spdlog::warn("{}: the stream buffer is full (rate= too low for the input?): {} datagrams dropped so far "
                       "(logged at most every 10 s)", label_, stage::get(dropped_datagrams_));
        continue;
      }
    }
    if (lossless_ && !wait_for_window(framed)) {
      std::uint64_t rest = 0;
      for (std::size_t j = i; j < batch.datagrams.size(); ++j) rest += batch.datagrams[j].iov_len;
      stage::add(not_sent_bytes_, rest);
      return false;
    }
    if (!write_all(header, kFrameHeader) || !write_all(static_cast<const char*>(datagram.iov_base), datagram.iov_len)) {
      std::uint64_t rest = 0;
      for (std::size_t j = i; j < batch.datagrams.size(); ++j) rest += batch.datagrams[j].iov_len;
      stage::add(not_sent_bytes_, rest);  // stopped while waiting for room
      return false;
    }
    NormStreamMarkEom(stream_);
    stage::add(datagrams_, 1);
    stage::add(bytes_, datagram.iov_len);
  }
  // What is written leaves now, not when a segment fills: live input keeps its
  // pace; for live input the flush is active (NORM_CMD(FLUSH) follows), so a
  // receiver that lost the last packets before a pause asks for them.
  flush_stream(false, lossless_ ? NORM_FLUSH_PASSIVE : NORM_FLUSH_ACTIVE);
  return true;
}

void NormSink::flush_stream(bool eos, NormFlushMode mode) {
  NormStreamFlush(stream_, eos, mode);
  std::uint64_t before = segments_;
  if (segment_fill_ > 0) ++segments_;  // the partial segment goes as it is
  segment_fill_ = 0;
  note_blocks(before);
}

bool NormSink::wait_for(Clock::time_point until, bool (NormSink::*done)()) {
  take_events();
  while (!(this->*done)()) {
    if (control_ && control_->stop_requested()) return false;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return false;
    pollfd fds[2] = {{session_.fd(), POLLIN, 0}, {control_ ? control_->stop_fd() : -1, POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(std::min<long>(left, kWaitSliceMs))) < 0 && errno != EINTR) return false;
    take_events();
  }
  return true;
}

// Receivers that acknowledged the end and have the stream from its first
// byte (norm_sink.h); a late joiner's first acknowledgement decides that.
std::size_t NormSink::count_acknowledged() {
  std::size_t count = 0;
  for (Receiver& receiver : receivers_) {
    if (!receiver.acknowledged && NormGetAckingStatus(session_.handle(), receiver.id) == NORM_ACK_SUCCESS) {
      receiver.acknowledged = true;
      if (!receiver.waited_for && !receiver.dropped) receiver.whole = start_held();
      if (receiver.whole) {
        spdlog::info("{}: receiver {} acknowledged the whole stream ({} bytes)", label_, node_name(receiver.id),
                     stage::get(bytes_));
      } else {
        spdlog::info("{}: receiver {} acknowledged the end of the stream, but {}", label_, node_name(receiver.id),
                     not_whole(receiver));
      }
    }
    count += receiver.acknowledged && receiver.whole;
  }
  if (count > stage::get(acknowledged_)) stage::add(acknowledged_, count - stage::get(acknowledged_));
  return count;
}

std::string NormSink::not_whole(const Receiver& receiver) const {
  if (receiver.dropped) return "it fell behind (not waited for after it was silent): it may lack bytes";
  return fmt::format("it joined {} bytes into the stream and this sender no longer held the stream's start when it "
                     "first acknowledged: it may lack bytes", receiver.joined_at);
}

// --expect can still be met: a receiver with the whole stream has not
// acknowledged yet, or one heard from now could still get the whole stream.
bool NormSink::expect_open() const {
  if (start_held()) return true;
  return std::any_of(receivers_.begin(), receivers_.end(),
                     [](const Receiver& r) { return r.whole && !r.acknowledged; });
}

// The end's watermark completed. (A flow-control watermark the library
// completed after the sender had moved on posts its event late: the
// library's own state tells.)
bool NormSink::watermark_done() {
  return watermark_done_ && NormGetAckingStatus(session_.handle(), NORM_NODE_ANY) != NORM_ACK_PENDING;
}

// The end's acknowledgements are in: the library's watermark completed,
// enough receivers have the whole stream, or none other can (the sender no
// longer holds the stream's start) and every receiver waited for answered
// (a late joiner that caught up is repaired to the end too).
bool NormSink::end_settled() {
  if (watermark_done() || count_acknowledged() >= expect_) return true;
  return !start_held() && std::none_of(receivers_.begin(), receivers_.end(),
                                       [](const Receiver& r) { return r.waited_for && !r.acknowledged; });
}

// --expect N: the watermark (an ACK request for the end of the stream) is
// repeated until N receivers acknowledged it, the timeout passes, or no
// other receiver can have the whole stream.
void NormSink::await_acknowledgements() {
  auto until = Clock::now() + expect_timeout_;
  watermark_pending_ = false;  // the end's watermark replaces flow control's
  watermark_done_ = false;
  NormSetWatermark(session_.handle(), stream_, true);
  while (count_acknowledged() < expect_) {
    if (!wait_for(until, &NormSink::end_settled)) break;
    if (count_acknowledged() >= expect_ || !expect_open()) break;
    // Completed, but not by enough receivers (some not heard from yet): ask again.
    watermark_done_ = false;
    NormResetWatermark(session_.handle());
  }
  std::size_t acknowledged = count_acknowledged();
  if (acknowledged >= expect_) return;
  for (const Receiver& receiver : receivers_) {
    if (receiver.acknowledged && receiver.whole) continue;
    if (receiver.dropped || (receiver.acknowledged && !receiver.whole))
      undelivered_.push_back(fmt::format("{}: receiver {}: {}", label_, node_name(receiver.id), not_whole(receiver)));
    else if (receiver.joined_at > 0)
      undelivered_.push_back(fmt::format("{}: receiver {} joined {} bytes into the stream and did not acknowledge "
                                         "its end", label_, node_name(receiver.id), receiver.joined_at));
    else
      undelivered_.push_back(fmt::format("{}: receiver {} did not acknowledge the whole stream", label_,
                                         node_name(receiver.id)));
  }
  std::size_t unknown = expect_ > receivers_.size() ? expect_ - receivers_.size() : 0;
  std::string why = control_ && control_->stop_requested() ? "stopped"
                    : expect_open() ? "after " + std::to_string(expect_timeout_.count() / 1000) + " s"
                                    : "(no other can: this sender no longer holds the stream's start)";
  undelivered_.push_back(fmt::format("{}: {} of {} expected receivers acknowledged the whole stream {}{}", label_,
                                     acknowledged, expect_, why,
                                     unknown ? fmt::format(" ({} never heard from)", unknown) : ""));
}

// Without --expect: the receivers heard from are asked to acknowledge the
// end, and repaired meanwhile, for a bounded time.
void NormSink::linger_for_repairs() {
  auto started = Clock::now();
  watermark_pending_ = false;  // the end's watermark replaces flow control's
  watermark_done_ = false;
  NormSetWatermark(session_.handle(), stream_, true);
  bool all = wait_for(started + kRepairLinger, &NormSink::watermark_done) && count_acknowledged() == receivers_.size();
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  if (all && !receivers_.empty()) {
    spdlog::info("{}: all {} receivers heard from acknowledged the whole stream ({} ms after end of input)", label_,
                 receivers_.size(), waited);
  } else {
    spdlog::info("{}: lingered {} ms for repairs after end of input; {} of {} receivers heard from acknowledged the "
                 "whole stream (--expect N waits for N receivers)", label_, waited, count_acknowledged(),
                 receivers_.size());
  }
}

void NormSink::flush() {
  if (finished_) return;
  finished_ = true;
  flush_stream(true, NORM_FLUSH_ACTIVE);
  if (!lossless_ || (control_ && control_->stop_requested())) return;  // live input, or stopped: no wait
  if (expect_ > 0) {
    await_acknowledgements();
  } else {
    linger_for_repairs();
  }
}

void NormSink::report(stage::StatsRows& rows) const {
  stage::StageStats& row = rows.emplace_back();
  row.role = stage::StageStats::Role::kSink;
  row.endpoint = label_;
  row.set(stage::Stat::kDatagrams, stage::get(datagrams_)).set(stage::Stat::kBytes, stage::get(bytes_));
  row.set(stage::Stat::kDroppedDatagrams, stage::get(dropped_datagrams_));
  row.set(stage::Stat::kDroppedBytes, stage::get(dropped_bytes_));
  row.set(stage::Stat::kNotSentBytes, stage::get(not_sent_bytes_));
  row.set(stage::Stat::kSendErrors, stage::get(send_errors_));
  row.set(stage::Stat::kNormReceivers, stage::get(receivers_seen_));
  row.set(stage::Stat::kNormAcknowledged, stage::get(acknowledged_));
  row.text = fmt::format("  -> {}: sent {} datagrams, {} bytes; {} receivers heard from, {} acknowledged the whole stream",
                         label_, stage::get(datagrams_), stage::get(bytes_), stage::get(receivers_seen_),
                         stage::get(acknowledged_));
  if (std::uint64_t dropped = stage::get(dropped_datagrams_))
    row.text += fmt::format("; {} datagrams ({} bytes) dropped: stream buffer full", dropped,
                            stage::get(dropped_bytes_));
  if (std::uint64_t not_sent = stage::get(not_sent_bytes_)) row.text += fmt::format("; {} bytes not sent", not_sent);
}

std::vector<std::string> NormSink::undelivered() const {
  std::vector<std::string> lines = undelivered_;
  if (std::uint64_t not_sent = stage::get(not_sent_bytes_))
    lines.push_back(fmt::format("{}: {} bytes not sent (stopped)", label_, not_sent));
  return lines;
}

}  // namespace netdisp::transports::norm
