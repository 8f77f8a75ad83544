#include "stage/line_sink.h"

#include <fmt/format.h>

#include <cstring>
#include <ctime>

#include "net/error.h"

namespace netdisp::stage {
namespace {

// Past this much, a batch is written in more than one piece: a batch of
// one-byte lines with long prefixes would otherwise need ~80 times its size.
constexpr std::size_t kMaxBuffer = 8 << 20;

bool same(const net::Address& a, const net::Address& b) {
  return a.length() == b.length() && std::memcmp(a.get(), b.get(), a.length()) == 0;
}

// "2026-12-02T05:01:02.123456Z"
std::string receive_time() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::tm utc{};
  ::gmtime_r(&now.tv_sec, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, now.tv_nsec / 1000);
}

}  // namespace

LinePrefix parse_line_prefix(const std::string& text) {
  LinePrefix prefix;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (part == "time" && !prefix.time) {
      prefix.time = true;
    } else if (part == "peer" && !prefix.peer) {
      prefix.peer = true;
    } else {
      throw net::UsageError("--prefix " + text + ": expected time, peer or time,peer");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return prefix;
}

LineSink::LineSink(std::unique_ptr<Sink> inner, LinePrefix prefix, std::optional<net::Address> peer)
    : inner_(std::move(inner)), prefix_(prefix), fixed_peer_(std::move(peer)) {}

std::string_view LineSink::peer_text(const net::Address& peer) {
  for (const CachedPeer& cached : peers_)
    if (!cached.text.empty() && same(cached.address, peer)) return cached.text;
  CachedPeer& slot = peers_[next_peer_slot_++ % peers_.size()];
  slot.address = peer;
  slot.text = peer.to_string();
  return slot.text;
}

// Copies one datagram's lines into buffer_, each after `prefix`; false when
// buffer_ was full and had to be written out first (the caller goes on).
bool LineSink::append(const iovec& datagram, std::string_view prefix) {
  const auto* data = static_cast<const char*>(datagram.iov_base);
  std::size_t length = datagram.iov_len;
  if (length == 0) return true;
  std::size_t lines = 0;
  for (const char* at = data; (at = static_cast<const char*>(std::memchr(at, '\n', data + length - at))); ++at) ++lines;
  bool terminated = data[length - 1] == '\n';
  if (!terminated) ++lines;
  std::size_t need = length + lines * prefix.size() + (terminated ? 0 : 1);
  if (!parts_.empty() && buffer_.size() + need > kMaxBuffer && !write_out()) return false;
  if (prefix.empty()) {
    buffer_.insert(buffer_.end(), data, data + length);
  } else {
    for (std::size_t start = 0; start < length;) {
      const void* newline = std::memchr(data + start, '\n', length - start);
      std::size_t end = newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - data) + 1 : length;
      buffer_.insert(buffer_.end(), prefix.begin(), prefix.end());
      buffer_.insert(buffer_.end(), data + start, data + end);
      start = end;
    }
  }
  if (!terminated) {
    buffer_.push_back('\n');
    add(added_newlines_, 1);
  }
  ends_.push_back(buffer_.size());
  parts_.push_back({});  // pointed into buffer_ by write_out(), once buffer_ stops moving
  return true;
}

bool LineSink::write_out() {
  std::size_t start = 0;
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    parts_[i] = {buffer_.data() + start, ends_[i] - start};
    start = ends_[i];
  }
  bool ok = parts_.empty() || inner_->write(Batch{parts_, buffer_.size()});
  buffer_.clear();
  parts_.clear();
  ends_.clear();
  return ok;
}

bool LineSink::write(const Batch& batch) {
  std::string time = prefix_.time ? receive_time() : std::string();
  for (std::size_t i = 0; i < batch.datagrams.size(); ++i) {
    if (prefix_.any()) {
      prefix_text_.clear();
      if (prefix_.time) prefix_text_.append(time).push_back(' ');
      if (prefix_.peer) {
        if (const net::Address* peer = batch.peer_of(i)) {
          prefix_text_.append(peer_text(*peer));
        } else if (fixed_peer_) {
          prefix_text_.append(peer_text(*fixed_peer_));
        } else {
          prefix_text_.push_back('-');
        }
        prefix_text_.push_back(' ');
      }
    }
    if (!append(batch.datagrams[i], prefix_text_)) return false;
  }
  return write_out();
}

void LineSink::report(StatsRows& rows) const {
  inner_->report(rows);
  StageStats& row = rows.back();
  row.set(Stat::kUnterminatedLines, get(added_newlines_));
  row.text += fmt::format("; --lines: {} newlines added to unterminated datagrams", get(added_newlines_));
}

}  // namespace netdisp::stage
