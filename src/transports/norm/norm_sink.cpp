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
      block_starts_(2 * held_segments_ / block_size_, 0),
      receivers_(session_.handle(), label_) {
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
  // loss, 0.81-0.83 with a 50 ms cap. Under loss that cap still cost half the
  // rate: on the bench's lossy rig (ping 0.05 ms) the measure sat at 20-50 ms
  // and each acknowledged window waited 0.4-1 s; the default cap of 10 ms
  // took 3 receivers at 5 % loss from 0.22 to 0.48 of the rate, 1 receiver
  // from 0.53 to 0.69 (docs/benchmarks.md section 7, medians of 5 runs).
  // grtt_max= raises it for slower paths.
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
      case NORM_ACKING_NODE_NEW:
        if (receivers_.heard(NormNodeGetId(event.sender), stream_bytes_, oldest_held_byte(), lossless_))
          stage::add(receivers_seen_, 1);
        break;
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

bool NormSink::on_ready(short) {
  take_events();
  return true;
}

bool NormSink::wait_for_room() {
  pollfd fds[2] = {{session_.fd(), POLLIN, 0}, {control_ ? control_->stop_fd() : -1, POLLIN, 0}};
  bool catching_up = watermark_pending_ && receivers_.waited_for() < receivers_.size();
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
  // A receiver not waited for that answered the library's last watermark
  // (flow control may have moved on without it) has caught up.
  receivers_.catch_up(start_held(), watermark_bytes_);
  if (completed) asking_ = false;
  if (!watermark_pending_) {
    next_watermark();
    return;
  }
  bool all = receivers_.all_acknowledged();
  // Nobody waited for: nothing holds the stream up; the library's own
  // completion decides when the next watermark replaces this one.
  if (all && !completed && receivers_.waited_for() == 0) return;
  // (The library may never complete a watermark: while repairs before it
  // are pending it does not even ask. The timeout is checked here too.)
  if (!all && Clock::now() - watermark_since_ <= kReceiverTimeout) {
    if (completed) NormResetWatermark(session_.handle());  // ask the ones that did not answer again
    return;
  }
  if (!all) receivers_.drop_unacknowledged(kReceiverTimeout);
  acked_ = watermark_at_;
  watermark_pending_ = false;
  next_watermark();
}

// Asks for the next acknowledgement when none is pending and enough was
// written, or, while a receiver catches up, when the library finished
// asking for the last one (an idle stream still finds out when it did).
void NormSink::next_watermark() {
  if (!lossless_ || watermark_pending_ || finished_ || receivers_.empty()) return;
  bool catching_up = receivers_.waited_for() < receivers_.size();
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
    if (receivers_.waited_for() == 0) acked_ = segments_ + (segment_fill_ > 0);
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

}  // namespace netdisp::transports::norm
