#include "stage/handoff_queue.h"

#include <cstring>

#include "net/error.h"

namespace netdisp::stage {
namespace {

constexpr std::size_t kHeader = sizeof(std::uint32_t);
constexpr std::uint32_t kWrap = 0xffffffff;  // the rest of the ring is unused: the next record is at offset 0

}  // namespace

HandoffQueue::HandoffQueue(std::size_t capacity)
    : capacity_(capacity), ring_(std::make_unique_for_overwrite<std::byte[]>(capacity)), views_(kMaxBatch) {}

bool HandoffQueue::push(const void* data, std::size_t size) {
  const std::size_t capacity = capacity_;
  const std::size_t need = kHeader + size;
  if (need > capacity / 2) return false;
  std::uint64_t tail = tail_.load(std::memory_order_relaxed);
  std::uint64_t head = head_.load(std::memory_order_acquire);
  std::size_t offset = tail % capacity;
  std::size_t to_end = capacity - offset;
  std::size_t skip = to_end < need ? to_end : 0;  // records never straddle the end of the ring
  if (capacity - (tail - head) < skip + need) return false;
  if (skip) {
    if (skip >= kHeader) std::memcpy(&ring_[offset], &kWrap, kHeader);
    tail += skip;
    offset = 0;
  }
  auto length = static_cast<std::uint32_t>(size);
  std::memcpy(&ring_[offset], &length, kHeader);
  std::memcpy(&ring_[offset + kHeader], data, size);
  tail_.store(tail + need, std::memory_order_seq_cst);
  if (waiting_.load(std::memory_order_seq_cst)) wake_consumer();
  return true;
}

void HandoffQueue::close() {
  closed_.store(true, std::memory_order_seq_cst);
  if (waiting_.load(std::memory_order_seq_cst)) wake_consumer();
}

void HandoffQueue::wake_consumer() {
  if (!waiting_.exchange(false)) return;  // another wake-up got there first
  wake_.notify();
}

// Empty: tell the producer we are going to poll, then look once more, so a
// push between our look and the flag is never missed (both sides are seq_cst).
bool HandoffQueue::consumer_may_sleep() {
  wake_.clear();
  waiting_.store(true, std::memory_order_seq_cst);
  if (tail_.load(std::memory_order_seq_cst) != next_head_ || closed_.load(std::memory_order_seq_cst)) {
    waiting_.store(false, std::memory_order_relaxed);
    return false;
  }
  return true;
}

ReadStatus HandoffQueue::read(Batch& batch) {
  head_.store(next_head_, std::memory_order_release);  // the previous batch is done with
  std::uint64_t tail = tail_.load(std::memory_order_acquire);
  if (tail == next_head_) {
    if (!closed_.load(std::memory_order_acquire) && consumer_may_sleep()) return ReadStatus::kWouldBlock;
    tail = tail_.load(std::memory_order_acquire);  // data came, or it was closed (after its last push)
    if (tail == next_head_) return ReadStatus::kEnd;
  }
  const std::size_t capacity = capacity_;
  std::size_t count = 0;
  std::size_t bytes = 0;
  std::uint64_t position = next_head_;
  while (position != tail && count < views_.size()) {
    std::size_t offset = position % capacity;
    std::uint32_t length = kWrap;
    if (capacity - offset >= kHeader) std::memcpy(&length, &ring_[offset], kHeader);
    if (length == kWrap) {  // skipped space before the end of the ring
      position += capacity - offset;
      continue;
    }
    views_[count++] = iovec{&ring_[offset + kHeader], length};
    bytes += length;
    position += kHeader + length;
  }
  next_head_ = position;
  if (count == 0) return read(batch);  // only skipped space before the end: look again from offset 0
  batch = Batch{std::span<const iovec>(views_.data(), count), bytes};
  return ReadStatus::kData;
}

}  // namespace netdisp::stage
