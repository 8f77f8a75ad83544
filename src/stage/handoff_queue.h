#pragma once
// HandoffQueue: datagrams from a library's own thread (libsrt's receiver,
// libnats' delivery thread) to a pipe's thread, without a lock. One producer
// thread pushes copies into a ring of bytes; the pipe's source reads them as
// one Batch of views, valid until its next read, and polls fd() while the
// ring is empty. The producer writes the eventfd only when the consumer said
// it is about to sleep, so a busy stream costs no system call per datagram.
// A full ring refuses the datagram: the producer counts it as dropped (the
// library keeps its own backpressure: SRT's receive buffer, NATS' pending
// limits), and nothing is lost silently.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "net/platform.h"
#include "stage/batch.h"
#include "stage/source.h"

namespace netdisp::stage {

class HandoffQueue {
 public:
  // `capacity`: bytes in the ring; a datagram takes its size plus 4.
  explicit HandoffQueue(std::size_t capacity);

  // Producer (one thread at a time). False when the datagram does not fit now.
  bool push(const void* data, std::size_t size);
  // Producer: no more datagrams; the consumer reads kEnd after the rest.
  void close();

  // Consumer: up to kMaxBatch datagrams; kWouldBlock while empty (poll fd()),
  // kEnd once closed and empty. The previous batch's memory is reused now.
  ReadStatus read(Batch& batch);
  net::Handle fd() const { return wake_.handle(); }
  std::size_t capacity() const { return capacity_; }

 private:
  bool consumer_may_sleep();
  void wake_consumer();

  // Not zeroed: a page costs memory only once a record reaches it, so an idle
  // 8 MiB queue stays out of the process's private memory (a vector's zeroing
  // dirtied all of it: an idle srt:// listener had 9.3 MB Private_Dirty).
  std::size_t capacity_;
  std::unique_ptr<std::byte[]> ring_;
  net::WakeFd wake_;                   // an eventfd, or a pipe (net/platform.h)
  alignas(64) std::atomic<std::uint64_t> tail_{0};  // producer's position (bytes ever written)
  alignas(64) std::atomic<std::uint64_t> head_{0};  // consumer's position (bytes ever released)
  std::atomic<bool> waiting_{false};   // the consumer found the ring empty and polls fd()
  std::atomic<bool> closed_{false};
  std::uint64_t next_head_ = 0;        // consumer: the end of the batch it handed out
  std::vector<iovec> views_;
};

}  // namespace netdisp::stage
