#include "transports/norm/norm_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "net/error.h"

namespace netdisp::transports::norm {
namespace {

constexpr std::size_t kArenaSize = 1 << 20;
// A stream is read into the arena only while this much room is left: the
// largest datagram with its header fits, so a read always makes progress.
constexpr std::size_t kReadRoom = 128 << 10;
constexpr std::uint32_t kMaxDatagram = 65535;
// Without --rcvbuf (a reverse-proxy's subscribers ask for 4 MiB).
constexpr int kDefaultRcvbuf = 4 << 20;
// How often a stream not at a message start, or still active, is read again
// without an event from the library (the poll step of that wait; see read()).
constexpr auto kSeekRetry = std::chrono::milliseconds(20);
// How long after its last bytes a stream is still read every kSeekRetry.
constexpr auto kStallWindow = std::chrono::seconds(1);

std::uint32_t frame_length(const char* p) {
  auto byte = [p](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])); };
  return byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
}

}  // namespace

NormSource::NormSource(const stage::Endpoint& endpoint, const Params& params, const net::SocketOptions& sockets,
                       Join join)
    : label_(endpoint.to_string()),
      join_(join),
      session_(endpoint.address, params.id ? params.id : next_node_id(), label_),
      wake_(session_.fd()),
      arena_(kArenaSize) {
  NormSessionHandle session = session_.handle();
  // Several receivers of one group may run on a host, or in one process (a
  // reverse-proxy's subscribers): the port is shared, bound to the group
  // (not a scoped IPv6 one, ff02::1%eth0: the library binds without the
  // scope, which the kernel refuses; the port alone then).
  bool bind_address = endpoint.address.scope_id() == 0 &&
                      (endpoint.address.is_multicast() || !endpoint.address.is_unspecified());
  std::string bind = bind_address ? host_of(endpoint.address) : "";
  NormSetRxPortReuse(session, true, bind.empty() ? nullptr : bind.c_str());
  // NACKs and ACKs go to the sender's own address (norm_sink.cpp: it only
  // sends), which also works for a unicast session.
  NormSetDefaultUnicastNack(session, true);
  // NORM_SYNC_CURRENT starts at the first packet heard: a receiver whose
  // first packets of a new stream were lost started a datagram or more into
  // it, silently, and still acknowledged the whole stream (seen at 5 % loss:
  // one of three servers without the file's first 8192 bytes).
  // NORM_SYNC_STREAM asks for the stream from its start; what the sender no
  // longer holds it refuses (NORM_CMD(SQUELCH)), and the receiver starts at
  // the oldest byte it still has.
  NormSetDefaultSyncPolicy(session, join == Join::kFromStart ? NORM_SYNC_STREAM : NORM_SYNC_CURRENT);
  if (endpoint.address.is_multicast()) session_.apply_multicast(sockets.multicast);
  if (!NormStartReceiver(session, params.buffer))
    throw net::Error(label_ + ": cannot start a NORM receiver (is the port in use by something else?)");
  int asked = sockets.rcvbuf > 0 ? sockets.rcvbuf : kDefaultRcvbuf;
  int granted = session_.grow_receive_buffer(asked);
  if (granted < asked)
    spdlog::debug("{}: receive buffer {} bytes of the {} asked for", label_, granted, asked);
  spdlog::debug("{}: NORM receiver node {}", label_, node_name(session_.id()));
}

NormSource::~NormSource() {
  for (Stream& stream : streams_) NormObjectRelease(stream.handle);
}

NormSource::Stream* NormSource::find(NormObjectHandle handle) {
  for (Stream& stream : streams_)
    if (stream.handle == handle) return &stream;
  return nullptr;
}

void NormSource::forget(NormObjectHandle handle) {
  auto it = std::find_if(streams_.begin(), streams_.end(), [&](const Stream& s) { return s.handle == handle; });
  if (it == streams_.end()) return;
  if (!it->partial.empty()) {
    stage::add(skipped_bytes_, it->partial.size());  // a datagram cut off by the end of its stream
    stage::add(breaks_, 1);
  }
  NormObjectRelease(it->handle);
  streams_.erase(it);
}

void NormSource::take_events() {
  NormEvent event;
  while (NormGetNextEvent(NormGetInstance(session_.handle()), &event, false)) {
    spdlog::trace("{}: event {}", label_, static_cast<int>(event.type));
    switch (event.type) {
      case NORM_REMOTE_SENDER_NEW:
        stage::add(senders_, 1);
        spdlog::info("{}: NORM sender {} heard", label_, node_name(NormNodeGetId(event.sender)));
        break;
      case NORM_RX_OBJECT_NEW: {
        if (NormObjectGetType(event.object) != NORM_OBJECT_STREAM) {
          NormObjectCancel(event.object);  // files and data objects are not ours
          break;
        }
        NormObjectRetain(event.object);
        Stream stream{};
        stream.handle = event.object;
        stream.sender = NormNodeGetId(event.sender);
        streams_.push_back(std::move(stream));
        break;
      }
      case NORM_RX_OBJECT_UPDATED:
        if (Stream* stream = find(event.object)) stream->readable = true;
        break;
      case NORM_RX_OBJECT_COMPLETED:
        // The sender closed its stream: what it sent before is still read
        // (read() forgets a closed stream once it is empty).
        if (Stream* stream = find(event.object)) stream->readable = stream->closed = true;
        break;
      case NORM_RX_OBJECT_ABORTED:
        stage::add(breaks_, 1);
        if (break_log_.allow()) spdlog::warn("{}: a NORM stream was aborted (its sender left)", label_);
        forget(event.object);
        break;
      default: break;
    }
  }
}

// Where this receiver starts in a sender's stream, said once, at the first
// message start it found. What libnorm (1.5.9) tells a receiver differs by
// sync policy (normObject.cpp): under NORM_SYNC_CURRENT the read offset
// starts at the stream offset that the first packet heard carries, so it is
// the sender's figure, short by the segments skipped to the first message
// start (less than a datagram). Under NORM_SYNC_STREAM it starts at 0 at the
// block the receiver synced to, whatever the sender's offset there, and
// blocks skipped because the sender no longer held them never add to it: a
// late joiner cannot learn from the library where it joined. The line used
// to print that offset as the join point (a few bytes, for a server that
// joined megabytes in); now it says what is known and points at the figure
// the sender logs for this receiver's node id.
void NormSource::log_join(Stream& stream) {
  if (stream.joined) return;
  stream.joined = true;
  if (join_ == Join::kFromNow) {
    std::uint32_t offset = NormStreamGetReadOffset(stream.handle);
    spdlog::info("{}: joined sender {}'s stream {} bytes in (the first datagram start heard; node {})", label_,
                 node_name(stream.sender), offset, node_name(session_.id()));
    return;
  }
  spdlog::info("{}: joined sender {}'s stream after its start (the sender no longer held its first bytes): from the "
               "oldest datagram it still held; NORM tells a receiver no stream offset, the sender logs where "
               "receiver {} joined", label_, node_name(stream.sender), node_name(session_.id()));
}

// After a gap the library could not repair: on to the next message start;
// the bytes skipped (with the datagram cut by the gap) are counted, as a
// lower bound: the read offset's step, and segments the library skipped
// to get past the gap never add to that offset (normObject.cpp,
// ReadPrivate: seen, "0 bytes skipped" for 54 breaks that lost 45,627).
// NORM says nothing more of what it skipped.
void NormSource::resync(Stream& stream, const char* why) {
  std::uint32_t from = NormStreamGetReadOffset(stream.handle);
  std::uint64_t skipped = stream.partial.size();
  stream.partial.clear();
  stream.synced = NormStreamSeekMsgStart(stream.handle);
  if (stream.synced) skipped += static_cast<std::uint32_t>(NormStreamGetReadOffset(stream.handle) - from);
  if (!stream.delivered) {
    // Not a loss: where a receiver joining a running stream starts (the
    // sender no longer held its start), before it handed out any datagram.
    if (join_ == Join::kFromStart) log_join(stream);
    return;
  }
  stage::add(breaks_, 1);
  stage::add(skipped_bytes_, skipped);
  if (break_log_.allow())
    spdlog::warn("{}: {} from sender {}: at least {} bytes skipped ({} breaks so far; logged at most every 10 s)",
                 label_, why, node_name(stream.sender), skipped, stage::get(breaks_));
}

// Reads the stream into the arena from `used` on, appending a view per
// whole datagram; the start of a datagram not read whole waits in `partial`.
void NormSource::fill(Stream& stream, std::size_t& used) {
  char* arena = reinterpret_cast<char*>(arena_.data());
  while (stream.readable && arena_.size() - used >= kReadRoom) {
    if (!stream.synced) {
      if (!(stream.synced = NormStreamSeekMsgStart(stream.handle))) {
        stream.readable = false;  // no message start yet: wait for more
        return;
      }
      if (!stream.delivered && join_ == Join::kFromNow) log_join(stream);
    }
    char* start = arena + used;
    std::copy(stream.partial.begin(), stream.partial.end(), start);  // memcpy may not take an empty vector's null
    std::size_t have = stream.partial.size();
    stream.partial.clear();
    auto room = static_cast<unsigned int>(arena_.size() - used - have);
    unsigned int got = room;
    if (!NormStreamRead(stream.handle, start + have, &got)) {
      stream.partial.assign(start, start + have);
      resync(stream, "a gap NORM could not repair");
      continue;
    }
    spdlog::trace("{}: read {} bytes of {}", label_, got, room);
    if (got == 0) stream.readable = false;
    else stream.last_data = stage::WakeTimer::Clock::now();
    const char* p = start;
    const char* end = start + have + got;
    while (end - p >= static_cast<std::ptrdiff_t>(kFrameHeader)) {
      std::uint32_t length = frame_length(p);
      if (length > kMaxDatagram) break;
      if (end - p < static_cast<std::ptrdiff_t>(kFrameHeader + length)) break;
      views_.push_back({const_cast<char*>(p) + kFrameHeader, length});
      stream.delivered = true;
      p += kFrameHeader + length;
    }
    used = static_cast<std::size_t>(p - arena);
    stream.partial.assign(p, end);
    if (stream.partial.size() >= kFrameHeader && frame_length(stream.partial.data()) > kMaxDatagram)
      resync(stream, "a message that is not a netdisp datagram");
  }
}

std::size_t NormSource::collect() {
  take_events();
  views_.clear();
  std::size_t used = 0;
  for (Stream& stream : streams_) fill(stream, used);
  // A stream its sender closed is done once nothing more comes out of it.
  for (std::size_t i = streams_.size(); i-- > 0;)
    if (streams_[i].closed && !streams_[i].readable) forget(streams_[i].handle);
  std::size_t bytes = 0;
  for (const iovec& view : views_) bytes += view.iov_len;
  return bytes;
}

// A stream not at a message start (a late joiner before its first datagram,
// or after a break), or one that gave bytes within kStallWindow, is read
// again every kSeekRetry, event or not. libnorm 1.5.9 starts a
// NORM_SYNC_STREAM receiver that joins late at a block
// behind the first it hears (normNode.cpp: that block minus its pending
// window); only a read moves its read position on (normObject.cpp,
// ReadPrivate), and after a read that found nothing there the library
// posted no RX_OBJECT_UPDATED while the stream filled behind it, until its
// buffer was half full (its threshold for forcing a read forward, which
// then skips what is not complete). Waiting for that event, a server that
// joined 24 MiB into a 48 MiB transfer at rate=100M (no --expect) read
// nothing for 2.7 s and got 33-35 MB, and nothing at all when the client
// ended first (2 of 3 runs, last session); with the retry it reads its
// first datagram 36-56 ms after it was heard. The same silence came after
// the first datagram, it seems: a late server read 32 of the 64 datagrams
// sent after it joined, the client ended 1.2 s after it joined, and 3 s
// later the file still held 32 (CI, 1 run; the other explanation, a client
// that stopped repairing too soon, is fixed in NormSink's linger). Hence
// the retry while a stream is active; an idle one (no bytes for
// kStallWindow) waits for events, with no timer.
bool NormSource::retry_reads(const Stream& stream, stage::WakeTimer::Clock::time_point now) const {
  return !stream.synced || now - stream.last_data < kStallWindow;
}

stage::ReadStatus NormSource::read(stage::Batch& batch) {
  auto now = stage::WakeTimer::Clock::now();
  if (wake_.take_expired())
    for (Stream& stream : streams_) stream.readable |= retry_reads(stream, now);
  std::size_t bytes = collect();
  now = stage::WakeTimer::Clock::now();
  bool retrying = std::any_of(streams_.begin(), streams_.end(), [&](const Stream& s) { return retry_reads(s, now); });
  // Armed once per kSeekRetry, not on every read: a batch at a time while a
  // stream is active, each arm() was a syscall (a lock and a wake of the
  // timer's thread elsewhere).
  if (!retrying) {
    wake_.disarm();
  } else if (!wake_.armed()) {
    wake_.arm(now + kSeekRetry);
  }
  wake_.rearm();
  if (views_.empty()) return stage::ReadStatus::kWouldBlock;
  stage::add(datagrams_, views_.size());
  stage::add(bytes_, bytes);
  batch = stage::Batch{views_, bytes};
  return stage::ReadStatus::kData;
}

// At a stop, after the drain: what the library still holds is counted, not delivered.
void NormSource::discard_queued() {
  for (int i = 0; i < 64; ++i) {
    std::size_t bytes = collect();
    if (views_.empty()) return;
    stage::add(discarded_bytes_, bytes);
  }
}

void NormSource::report(stage::StatsRows& rows) const {
  stage::StageStats& row = rows.emplace_back();
  row.role = stage::StageStats::Role::kSource;
  row.endpoint = label_;
  row.set(stage::Stat::kDatagrams, stage::get(datagrams_)).set(stage::Stat::kBytes, stage::get(bytes_));
  row.set(stage::Stat::kDiscardedBytes, stage::get(discarded_bytes_));
  row.set(stage::Stat::kNormSenders, stage::get(senders_));
  row.set(stage::Stat::kNormBreaks, stage::get(breaks_));
  row.set(stage::Stat::kNormSkippedBytes, stage::get(skipped_bytes_));
  row.text = fmt::format("{}: received {} datagrams, {} bytes from {} NORM senders; {} breaks NORM could not repair, "
                         "at least {} bytes skipped", label_, stage::get(datagrams_), stage::get(bytes_),
                         stage::get(senders_), stage::get(breaks_), stage::get(skipped_bytes_));
  if (std::uint64_t discarded = stage::get(discarded_bytes_))
    row.text += fmt::format("; {} bytes discarded at stop", discarded);
}

}  // namespace netdisp::transports::norm
