#include "transports/norm/norm_receivers.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace netdisp::transports::norm {

bool Receivers::acked(const Receiver& receiver) const {
  return NormGetAckingStatus(session_, receiver.id) == NORM_ACK_SUCCESS;
}

bool Receivers::heard(NormNodeId id, std::uint64_t written, std::uint64_t oldest, bool lossless) {
  if (std::any_of(list_.begin(), list_.end(), [id](const Receiver& r) { return r.id == id; })) {
    spdlog::info("{}: receiver {} heard again", label_, node_name(id));
    return false;
  }
  bool at_start = written == 0;
  list_.push_back({id, written, at_start, at_start});
  if (at_start || !lossless) {  // live input has no flow control
    spdlog::info("{}: receiver {} joined{}", label_, node_name(id),
                 at_start ? "" : fmt::format(" {} bytes into the stream", written));
  } else {
    spdlog::info("{}: receiver {} joined {} bytes into the stream: repaired from byte {} at the earliest (the oldest "
                 "this sender holds), not waited for until it has caught up", label_, node_name(id), written, oldest);
  }
  return true;
}

std::size_t Receivers::waited_for() const {
  return static_cast<std::size_t>(
      std::count_if(list_.begin(), list_.end(), [](const Receiver& r) { return r.waited_for; }));
}

// A receiver not waited for acknowledged: from now on it is. Whether it has
// the stream from its first byte is decided at its first acknowledgement:
// only if the sender still holds that byte (nothing it may lack was dropped).
void Receivers::catch_up(bool start_held, std::uint64_t acknowledged_bytes) {
  for (Receiver& receiver : list_) {
    if (receiver.waited_for || !acked(receiver)) continue;
    receiver.waited_for = true;
    if (!receiver.dropped) receiver.whole = start_held;
    spdlog::info("{}: receiver {} caught up ({} bytes acknowledged): waited for from now on{}", label_,
                 node_name(receiver.id), acknowledged_bytes,
                 receiver.whole     ? ""
                 : receiver.dropped ? "; it fell behind before and may lack bytes"
                                    : "; it joined after this sender had dropped the stream's start");
  }
}

bool Receivers::all_acknowledged() const {
  return std::all_of(list_.begin(), list_.end(), [this](const Receiver& r) { return !r.waited_for || acked(r); });
}

void Receivers::drop_unacknowledged(std::chrono::seconds silent) {
  for (Receiver& receiver : list_) {
    if (!receiver.waited_for || acked(receiver)) continue;
    spdlog::warn("{}: receiver {} did not acknowledge for {} s: not waited for any more (it may lack bytes and does "
                 "not count for --expect)", label_, node_name(receiver.id), silent.count());
    receiver.waited_for = false;
    receiver.whole = false;
    receiver.dropped = true;
    NormRemoveAckingNode(session_, receiver.id);
  }
}

// Receivers that acknowledged the end and have the stream from its first
// byte (norm_sink.h); a late joiner's first acknowledgement decides that.
std::size_t Receivers::count_acknowledged(bool start_held, std::uint64_t stream_bytes) {
  std::size_t count = 0;
  for (Receiver& receiver : list_) {
    if (!receiver.acknowledged && acked(receiver)) {
      receiver.acknowledged = true;
      if (!receiver.waited_for && !receiver.dropped) receiver.whole = start_held;
      if (receiver.whole) {
        spdlog::info("{}: receiver {} acknowledged the whole stream ({} bytes)", label_, node_name(receiver.id),
                     stream_bytes);
      } else {
        spdlog::info("{}: receiver {} acknowledged the end of the stream, but {}", label_, node_name(receiver.id),
                     not_whole(receiver));
      }
    }
    count += receiver.acknowledged && receiver.whole;
  }
  return count;
}

bool Receivers::whole_pending() const {
  return std::any_of(list_.begin(), list_.end(), [](const Receiver& r) { return r.whole && !r.acknowledged; });
}

bool Receivers::waited_for_pending() const {
  return std::any_of(list_.begin(), list_.end(), [](const Receiver& r) { return r.waited_for && !r.acknowledged; });
}

std::string Receivers::not_whole(const Receiver& receiver) const {
  if (receiver.dropped) return "it fell behind (not waited for after it was silent): it may lack bytes";
  return fmt::format("it joined {} bytes into the stream and this sender no longer held the stream's start when it "
                     "first acknowledged: it may lack bytes", receiver.joined_at);
}

void Receivers::name_missing(std::vector<std::string>& lines) const {
  for (const Receiver& receiver : list_) {
    if (receiver.acknowledged && receiver.whole) continue;
    if (receiver.dropped || (receiver.acknowledged && !receiver.whole))
      lines.push_back(fmt::format("{}: receiver {}: {}", label_, node_name(receiver.id), not_whole(receiver)));
    else if (receiver.joined_at > 0)
      lines.push_back(fmt::format("{}: receiver {} joined {} bytes into the stream and did not acknowledge its end",
                                  label_, node_name(receiver.id), receiver.joined_at));
    else
      lines.push_back(fmt::format("{}: receiver {} did not acknowledge the whole stream", label_,
                                  node_name(receiver.id)));
  }
}

}  // namespace netdisp::transports::norm
