#include "stage/stream_source.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/error.h"
#include "net/platform.h"

namespace netdisp::stage {
namespace {

constexpr std::size_t kReadBlock = 1 << 20;

// About 1 MiB per read, a whole number of datagrams, at most kMaxBatch of them.
std::size_t block_size_for(std::size_t datagram_size) {
  std::size_t datagrams = std::clamp<std::size_t>(kReadBlock / datagram_size, 1, kMaxBatch);
  return datagrams * datagram_size;
}

bool readable_now(int fd) {
  pollfd ready{fd, POLLIN, 0};
  return ::poll(&ready, 1, 0) > 0;
}

}  // namespace

StreamSource::StreamSource(net::UniqueFd fd, std::string name, std::size_t datagram_size,
                           std::chrono::milliseconds flush_after)
    : fd_(std::move(fd)),
      name_(std::move(name)),
      endpoint_(name_),
      datagram_size_(datagram_size),
      flush_after_(flush_after),
      block_size_(block_size_for(datagram_size)),
      arena_(block_size_),
      wake_(fd_.get()) {
  struct stat info{};
  if (::fstat(fd_.get(), &info) != 0) net::throw_errno("stat " + name_);
  if (S_ISDIR(info.st_mode)) throw net::Error("open " + name_ + ": Is a directory");
  always_ready_ = S_ISREG(info.st_mode) || S_ISBLK(info.st_mode) || !wake_.input_pollable();
  out_.reserve(block_size_ / datagram_size_ + 1);
}

// Reads into the arena until it is full, the input has nothing more waiting
// (kIdle) or it ended (kEnd). Pipes, fifos, terminals and sockets are read
// only when poll() says so, so a stop request is noticed while a writer is quiet.
StreamSource::Fill StreamSource::fill() {
  while (filled_ < block_size_) {
    if (!always_ready_ && !readable_now(fd_.get())) return Fill::kIdle;
    ssize_t n = net::read_handle(fd_.get(), arena_.data() + filled_, block_size_ - filled_);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Fill::kIdle;
      // A peer that reset its connection ended its stream; anything else is
      // an input we cannot go on reading.
      if (errno != ECONNRESET) net::throw_errno("read " + name_);
      spdlog::warn("{}: connection reset by the peer; taking it as the end of input", name_);
      n = 0;
    }
    if (n == 0) {
      end_seen_ = true;
      return Fill::kEnd;
    }
    filled_ += static_cast<std::size_t>(n);
    last_data_ = WakeTimer::Clock::now();
    // A regular file read short only at its end: ask again (0 says so).
  }
  return Fill::kReady;
}

ReadStatus StreamSource::read(Batch& batch) {
  // What the last batch handed out is done with: keep only the partial datagram.
  if (consumed_ > 0) {
    std::memmove(arena_.data(), arena_.data() + consumed_, filled_ - consumed_);
    filled_ -= consumed_;
    consumed_ = 0;
  }
  if (end_seen_) {
    if (filled_ > 0) return emit(batch, true);
    reached_end_ = true;
    return ReadStatus::kEnd;
  }
  Fill fill_result = fill();
  if (fill_result == Fill::kEnd) {
    if (filled_ > 0) return emit(batch, true);
    reached_end_ = true;
    return ReadStatus::kEnd;
  }
  if (filled_ >= datagram_size_) return emit(batch, false);
  if (filled_ == 0) {
    wake_.rearm();
    return ReadStatus::kWouldBlock;
  }
  // Only a partial datagram, and nothing more waiting: send it once the input has been idle long enough.
  auto due = last_data_ + flush_after_;
  if (WakeTimer::Clock::now() >= due) {
    add(idle_flushes_, 1);
    return emit(batch, true);
  }
  wake_.arm(due);
  wake_.rearm();
  return ReadStatus::kWouldBlock;
}

// Every whole datagram in the arena, and the partial one after them when `with_tail`.
ReadStatus StreamSource::emit(Batch& batch, bool with_tail) {
  wake_.disarm();
  std::size_t whole = filled_ / datagram_size_ * datagram_size_;
  std::size_t length = with_tail ? filled_ : whole;
  out_.clear();
  for (std::size_t offset = 0; offset < length; offset += datagram_size_)
    out_.push_back({arena_.data() + offset, std::min(datagram_size_, length - offset)});
  consumed_ = length;
  add(datagrams_, out_.size());
  add(bytes_, length);
  batch = Batch{out_, length};
  if (peer_) batch.peers = std::span<const net::Address>(&*peer_, 1);
  return ReadStatus::kData;
}

void StreamSource::report(StatsRows& rows) const {
  StageStats& row = rows.emplace_back();
  row.endpoint = endpoint_;
  row.peer = peer_name_;
  row.set(Stat::kDatagrams, get(datagrams_)).set(Stat::kBytes, get(bytes_));
  std::string idle = get(idle_flushes_) ? fmt::format(" ({} sent short after --flush-after idle)", get(idle_flushes_)) : "";
  row.text = fmt::format("{}: read {} bytes into {} datagrams{}{}", name_, get(bytes_), get(datagrams_), idle,
                     reached_end_ ? " (end of input)" : "");
}

}  // namespace netdisp::stage
