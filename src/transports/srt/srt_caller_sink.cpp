#include "transports/srt/srt_caller_sink.h"

#include <spdlog/spdlog.h>

#include "net/error.h"

namespace netdisp::transports::srt {

using stage::add;
using stage::get;
namespace {

constexpr auto kRetry = std::chrono::seconds(1);  // live input: a broken connection is made again this often

}  // namespace

SrtCallerSink::SrtCallerSink(const stage::Endpoint& endpoint, const Settings& settings,
                             const stage::OutputSettings& outputs)
    : settings_(settings), address_(endpoint.address), wait_(outputs.wait_for_streams), control_(*outputs.control) {
  link_.label = settings_.where;
  link_.file = settings_.file;
  link_.peer.address = address_;
  link_.peer.socket = start_connect(settings_, address_);
  if (!wait_) return;  // live input: write() finds the connection made (or not) later
  if (!wait_connected(link_.peer.socket, control_)) return;
  if (srt_getsockstate(link_.peer.socket) != SRTS_CONNECTED) {
    std::string why = reject_text(link_.peer.socket);
    srt_close(link_.peer.socket);
    link_.peer.socket = SRT_INVALID_SOCK;
    throw net::Error("connect " + settings_.where + ": " + why);
  }
  make_sends_wait(link_.peer.socket);  // the client's sends wait: lossless
  up_ = true;
  spdlog::info("srt connected to {}", settings_.where);
}

SrtCallerSink::~SrtCallerSink() {
  std::lock_guard lock(mutex_);
  if (link_.peer.socket != SRT_INVALID_SOCK) srt_close(link_.peer.socket);
}

bool SrtCallerSink::connected() {
  if (up_) return true;
  if (failed_) return false;
  auto now = std::chrono::steady_clock::now();
  if (link_.peer.socket == SRT_INVALID_SOCK) {
    if (now < retry_at_) return false;
    SRTSOCKET socket = start_connect(settings_, address_);
    std::lock_guard lock(mutex_);
    link_.peer.socket = socket;
    return false;
  }
  SRT_SOCKSTATUS state = srt_getsockstate(link_.peer.socket);
  if (state == SRTS_CONNECTED) {
    up_ = true;
    spdlog::info("srt connected to {}", settings_.where);
    return true;
  }
  if (state == SRTS_CONNECTING || state == SRTS_OPENED) return false;
  broke(reject_text(link_.peer.socket).c_str());
  return false;
}

// The connection failed or broke: live input tries again in a second.
void SrtCallerSink::broke(const char* why) {
  bool permanent = permanent_reject(link_.peer.socket);
  if (log_.allow())
    spdlog::warn("{}: {}{}", settings_.where, why, wait_ || permanent ? "" : "; connecting again every second");
  {
    std::lock_guard lock(mutex_);
    srt_close(link_.peer.socket);
    link_.peer.socket = SRT_INVALID_SOCK;
  }
  if (up_) add(reconnects_, 1);
  up_ = false;
  failed_ = wait_ || permanent;
  retry_at_ = std::chrono::steady_clock::now() + kRetry;
}

bool SrtCallerSink::write(const stage::Batch& batch) {
  if (failed_) return false;
  if (!connected()) {
    add(away_datagrams_, batch.datagrams.size());
    add(away_bytes_, batch.bytes);
    return !failed_;
  }
  for (const iovec& datagram : batch.datagrams) {
    switch (link_.send(datagram, settings_.message_size(), wait_, control_)) {
      case Link::Sent::kAll:
      case Link::Sent::kDropped: break;
      case Link::Sent::kStopped: return true;
      case Link::Sent::kBroken:
        broke(("connection broke: " + last_error()).c_str());
        return !failed_;
    }
  }
  link_.sent_at = std::chrono::steady_clock::now();
  return true;
}

bool SrtCallerSink::on_ready(short) {
  if (!wait_) connected();
  return !failed_;
}

// The client's end: wait until the receiver acknowledged every byte.
void SrtCallerSink::flush() {
  if (!wait_ || !up_) return;
  unacknowledged_ = wait_acknowledged(link_, settings_.file, control_);
}

void SrtCallerSink::report(stage::StatsRows& rows) const {
  std::lock_guard lock(mutex_);
  stage::StageStats& row = rows.emplace_back();
  row.role = stage::StageStats::Role::kSink;
  row.endpoint = settings_.where;
  row.text = "  -> " + settings_.where + ": " + link_.describe(row);
  row.set(stage::Stat::kAwayDatagrams, get(away_datagrams_)).set(stage::Stat::kAwayBytes, get(away_bytes_));
  row.set(stage::Stat::kReconnects, get(reconnects_));
  row.set(stage::Stat::kNotSentBytes, link_.not_sent + unacknowledged_);
  if (get(away_datagrams_))
    row.text += fmt::format("; {} messages ({} bytes) dropped while connecting", get(away_datagrams_),
                            get(away_bytes_));
}

std::vector<std::string> SrtCallerSink::undelivered() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> lines;
  if (link_.not_sent + unacknowledged_)
    lines.push_back(fmt::format("{}: {} bytes not delivered", settings_.where, link_.not_sent + unacknowledged_));
  if (failed_ && !up_ && link_.not_sent == 0) lines.push_back(settings_.where + ": the connection failed");
  return lines;
}

}  // namespace netdisp::transports::srt
