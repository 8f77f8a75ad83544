#include "stage/line_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>


namespace netdisp::stage {
namespace {

// Room for many datagrams per batch, and always for two whole ones, so a
// full buffer always yields at least one datagram.
std::size_t buffer_size_for(std::size_t datagram_size) { return std::max<std::size_t>(1 << 20, 2 * datagram_size); }

}  // namespace

LineSource::LineSource(std::unique_ptr<Source> inner, std::size_t datagram_size, std::size_t max_lines,
                       std::chrono::milliseconds flush_after, std::string limit_option)
    : inner_(std::move(inner)),
      datagram_size_(datagram_size),
      max_lines_(max_lines),
      limit_option_(std::move(limit_option)),
      flush_after_(flush_after),
      arena_(buffer_size_for(datagram_size)),
      wake_(inner_->poll_fd()) {
  out_.reserve(kMaxBatch);
}

// Copies what the inner source gave into the arena; reads it again (once)
// when all of that is copied. kFull: the arena is full, the rest waits.
LineSource::Pull LineSource::pull() {
  if (inner_index_ >= inner_batch_.datagrams.size()) {
    if (inner_ended_) return Pull::kEnd;
    ReadStatus status = inner_->read(inner_batch_);
    if (status == ReadStatus::kEnd) {
      inner_ended_ = true;
      return Pull::kEnd;
    }
    if (status == ReadStatus::kWouldBlock) return Pull::kIdle;
    inner_index_ = inner_offset_ = 0;
    last_data_ = WakeTimer::Clock::now();
    if (inner_batch_.peers.size() == 1) peer_ = inner_batch_.peers[0];
  }
  const auto& parts = inner_batch_.datagrams;
  while (inner_index_ < parts.size()) {
    const iovec& part = parts[inner_index_];
    std::size_t take = std::min(part.iov_len - inner_offset_, arena_.size() - filled_);
    std::memcpy(arena_.data() + filled_, static_cast<const std::byte*>(part.iov_base) + inner_offset_, take);
    filled_ += take;
    inner_offset_ += take;
    if (inner_offset_ < part.iov_len) return Pull::kFull;
    ++inner_index_;
    inner_offset_ = 0;
  }
  return Pull::kData;
}

ReadStatus LineSource::read(Batch& batch) {
  if (consumed_ > 0) {  // the last batch is done with: keep only the unsent tail
    std::memmove(arena_.data(), arena_.data() + consumed_, filled_ - consumed_);
    filled_ -= consumed_;
    consumed_ = 0;
  }
  for (;;) {
    Pull pulled = pull();
    if (pulled == Pull::kEnd && filled_ == 0) return ReadStatus::kEnd;
    bool idle_long_enough = pulled == Pull::kIdle && WakeTimer::Clock::now() >= last_data_ + flush_after_;
    cut(pulled == Pull::kEnd || idle_long_enough);
    if (!out_.empty()) {
      wake_.disarm();
      add(datagrams_, out_.size());
      batch = Batch{out_, out_bytes_};
      if (peer_) batch.peers = std::span<const net::Address>(&*peer_, 1);
      return ReadStatus::kData;
    }
    // Only part of a line. Input came: more may be waiting, take it now.
    // Idle: wait for the rest, or for the idle deadline to send it as it is.
    if (pulled != Pull::kIdle) continue;
    if (filled_ > 0) wake_.arm(last_data_ + flush_after_);
    wake_.rearm();
    return ReadStatus::kWouldBlock;
  }
}

// Where the datagram starting at `from` ends: after the max_lines-th
// newline within `window` bytes, or after the last one; 0: no newline.
std::size_t LineSource::line_end(std::size_t from, std::size_t window) const {
  const auto* base = reinterpret_cast<const char*>(arena_.data());
  std::size_t end = 0, lines = 0;
  for (std::size_t at = from; at < from + window;) {
    const void* newline = std::memchr(base + at, '\n', from + window - at);
    if (!newline) break;
    end = static_cast<std::size_t>(static_cast<const char*>(newline) - base) + 1;
    at = end;
    if (++lines == max_lines_) break;
  }
  return end;
}

// Fills out_ with datagrams from the arena; an unterminated tail only when `with_tail`.
void LineSource::cut(bool with_tail) {
  out_.clear();
  out_bytes_ = 0;
  std::size_t at = 0;
  while (at < filled_ && out_.size() < kMaxBatch) {
    std::size_t window = std::min(datagram_size_, filled_ - at);
    std::size_t end = line_end(at, window);
    if (end != 0) {
      in_long_line_ = false;
    } else if (window == datagram_size_) {  // a line longer than a datagram: send a piece
      if (!in_long_line_) {
        add(long_lines_, 1);
        if (!warned_long_)
          spdlog::warn("{}: a line longer than {} {} is sent in pieces (counted; warned once)", inner_->name(),
                       limit_option_, datagram_size_);
        warned_long_ = true;
      }
      in_long_line_ = true;
      end = at + window;
    } else if (with_tail) {
      if (!in_long_line_) add(unterminated_, 1);
      end = filled_;
    } else {
      break;
    }
    out_.push_back({arena_.data() + at, end - at});
    out_bytes_ += end - at;
    at = end;
  }
  consumed_ = at;
}

void LineSource::discard_queued() { inner_->discard_queued(); }

void LineSource::report(StatsRows& rows) const {
  inner_->report(rows);
  StageStats& row = rows.back();
  // The pipe moves the datagrams of whole lines, not the reader's.
  row.set(Stat::kDatagrams, get(datagrams_)).set(Stat::kLongLines, get(long_lines_));
  row.set(Stat::kUnterminatedLines, get(unterminated_));
  row.text += fmt::format("; --lines: {} datagrams of whole lines, {} lines longer than {} sent in pieces, "
                          "{} unterminated lines sent",
                          get(datagrams_), get(long_lines_), limit_option_, get(unterminated_));
}

}  // namespace netdisp::stage
