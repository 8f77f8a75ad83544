#include "transports/nats/sink.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace netdisp::transports::nats {
namespace {

// The round trip at the end: long enough for a slow link to take what the
// library still buffers; short once a stop was requested.
constexpr std::int64_t kFinalFlushMs = 10000;
constexpr std::int64_t kStopFlushMs = 200;

}  // namespace

NatsSink::NatsSink(std::unique_ptr<Connection> connection, const stage::Control* control)
    : connection_(std::move(connection)), control_(control) {}

bool NatsSink::write(const stage::Batch& batch) {
  natsConnection* nc = connection_->get();
  const char* subject = connection_->target().subject.c_str();
  for (const iovec& datagram : batch.datagrams) {
    natsStatus status = natsConnection_Publish(nc, subject, datagram.iov_base, static_cast<int>(datagram.iov_len));
    if (status != NATS_OK) {
      failed(status, datagram.iov_len);
      continue;
    }
    stage::add(datagrams_, 1);
    stage::add(bytes_, datagram.iov_len);
    since_flush_ += datagram.iov_len;
  }
  // Keep within one round trip's worth of the server, while connected (while
  // reconnecting, the library buffers, and a round trip would only wait).
  if (since_flush_ >= kFlushEvery && natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED) {
    since_flush_ = 0;
    natsConnection_FlushTimeout(nc, kConnectTimeoutMs);
  }
  return true;
}

void NatsSink::failed(natsStatus status, std::size_t bytes) {
  natsConnStatus state = natsConnection_Status(connection_->get());
  bool away = state == NATS_CONN_STATUS_RECONNECTING || state == NATS_CONN_STATUS_DISCONNECTED;
  stage::add(away ? away_ : errors_, 1);
  stage::add(away ? away_bytes_ : error_bytes_, bytes);
  if (!log_.allow()) return;
  std::uint64_t held = log_.take_suppressed();
  spdlog::warn("{}: {} message of {} bytes not published: {}{}", connection_->target().shown,
               away ? "reconnecting, the buffer is full:" : "a", bytes, natsStatus_GetText(status),
               held ? fmt::format(" ({} more in the last 10 s)", held) : std::string());
}

// The server has everything published so far once a PING's PONG came back.
void NatsSink::flush() {
  natsConnection* nc = connection_->get();
  bool stopping = control_ && control_->stop_requested();
  natsStatus status = natsConnection_FlushTimeout(nc, stopping ? kStopFlushMs : kFinalFlushMs);
  if (status == NATS_OK) return;
  int buffered = std::max(natsConnection_Buffered(nc), 0);
  stage::add(unconfirmed_, 1);
  stage::add(not_sent_bytes_, static_cast<std::uint64_t>(buffered));
  spdlog::warn("{}: the server did not confirm the last messages: {}{}", connection_->target().shown,
               status_text(status), buffered ? fmt::format(" ({} bytes still buffered)", buffered) : std::string());
}

void NatsSink::report(stage::StatsRows& rows) const {
  const Target& target = connection_->target();
  stage::StageStats& row = rows.emplace_back();
  row.role = stage::StageStats::Role::kSink;
  row.endpoint = target.shown;
  row.set(stage::Stat::kDatagrams, stage::get(datagrams_)).set(stage::Stat::kBytes, stage::get(bytes_));
  row.set(stage::Stat::kSendErrors, stage::get(errors_)).set(stage::Stat::kReconnects, connection_->reconnects());
  row.set(stage::Stat::kAwayDatagrams, stage::get(away_)).set(stage::Stat::kAwayBytes, stage::get(away_bytes_));
  row.set(stage::Stat::kNotSentBytes, stage::get(not_sent_bytes_));
  row.text = fmt::format("  -> {}: published {} messages, {} bytes; {} publish errors; {} reconnects", target.shown,
                         stage::get(datagrams_), stage::get(bytes_), stage::get(errors_), connection_->reconnects());
  if (std::uint64_t away = stage::get(away_))
    row.text += fmt::format("; {} messages ({} bytes) dropped while reconnecting (buffer full)", away,
                            stage::get(away_bytes_));
  if (stage::get(unconfirmed_))
    row.text += fmt::format("; the last messages not confirmed by the server ({} bytes still buffered)",
                            stage::get(not_sent_bytes_));
}

std::vector<std::string> NatsSink::undelivered() const {
  std::vector<std::string> lines;
  const std::string& shown = connection_->target().shown;
  if (std::uint64_t errors = stage::get(errors_))
    lines.push_back(fmt::format("{}: {} messages ({} bytes) not published", shown, errors, stage::get(error_bytes_)));
  if (std::uint64_t away = stage::get(away_))
    lines.push_back(fmt::format("{}: {} messages ({} bytes) dropped while reconnecting", shown, away,
                                stage::get(away_bytes_)));
  if (stage::get(unconfirmed_))
    lines.push_back(fmt::format("{}: the server did not confirm the last messages", shown));
  return lines;
}

}  // namespace netdisp::transports::nats
