// NormSink, the end of a transfer (norm_sink.h): at end of input the
// stream's last watermark asks every receiver heard from to acknowledge the
// whole stream; with --expect N until N that have it from its first byte
// did, else for a bounded time during which the sender still repairs.
#include <spdlog/spdlog.h>

#include "transports/norm/norm_sink.h"

namespace netdisp::transports::norm {
namespace {

using Clock = std::chrono::steady_clock;

// Without --expect, how long the end of a transfer is still repaired.
constexpr auto kRepairLinger = std::chrono::seconds(5);

}  // namespace

// Receivers that acknowledged the end and have the stream from its first
// byte (norm_receivers.h), kept in the acknowledged counter.
std::size_t NormSink::count_acknowledged() {
  std::size_t count = receivers_.count_acknowledged(start_held(), stage::get(bytes_));
  if (count > stage::get(acknowledged_)) stage::add(acknowledged_, count - stage::get(acknowledged_));
  return count;
}

// --expect can still be met: a receiver with the whole stream has not
// acknowledged yet, or one heard from now could still get the whole stream.
bool NormSink::expect_open() const {
  return start_held() || receivers_.whole_pending();
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
  return !start_held() && !receivers_.waited_for_pending();
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
  receivers_.name_missing(undelivered_);
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
  while (wait_for(started + kRepairLinger, &NormSink::watermark_done) && !receivers_.empty() &&
         NormGetAckingStatus(session_.handle(), NORM_NODE_ANY) != NORM_ACK_SUCCESS) {
    // Completed without an acknowledgement from every receiver heard from:
    // libnorm gives up on one after its robust factor of requests, which at
    // grtt_max 0.01 can take under a second, while a late joiner may still
    // be catching up. Ask again while the linger lasts.
    watermark_done_ = false;
    NormResetWatermark(session_.handle());
  }
  bool all = count_acknowledged() == receivers_.size();
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

// What this destination did, and (undelivered) who lacks what.
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
