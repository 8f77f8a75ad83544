#pragma once
// StreamBuffer: what a byte-stream peer (a TCP client, stdout) could not take
// yet. Writes never block: the fd takes what it can, the rest of a partly
// written datagram is always kept (the stream must stay whole), further whole
// datagrams are kept while the buffer holds less than its limit, and the
// others are dropped whole and reported to the caller, who counts them.
// Not thread-safe: one owner, or a lock held around every call.
#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <vector>

#include "stage/batch.h"
#include "stage/io.h"

namespace netdisp::stage {

// How a stream fd is written without blocking it for anyone else.
struct StreamFd {
  enum class Kind {
    kWrite,  // writev(): an fd whose own open file description is non-blocking, or a regular file
    kSend,   // sendmsg(MSG_DONTWAIT | MSG_NOSIGNAL): a socket, whatever its flags
  };
  int fd = -1;
  Kind kind = Kind::kWrite;
};

struct StreamResult {
  std::size_t written = 0;            // bytes the fd took during this call
  std::size_t dropped_datagrams = 0;  // whole datagrams of the batch not kept: the buffer was full
  std::size_t dropped_bytes = 0;
  std::size_t failed_bytes = 0;  // bytes of the batch neither written, kept nor dropped, because of `error`
  int error = 0;                 // 0: all written; EAGAIN: the fd is full (the rest is kept); else what failed
  bool failed() const { return error != 0 && error != EAGAIN; }
};

class StreamBuffer {
 public:
  explicit StreamBuffer(std::size_t limit) : limit_(limit) {}

  // Writes what waits, then the batch (in that order: the stream stays in
  // order); keeps or drops what the fd did not take, as described above. On
  // an error other than EAGAIN the rest of the batch is not kept
  // (failed_bytes) and what waits stays for the caller to discard(); with
  // `keep_on_error` (a sink that reconnects and resumes) the rest is kept or
  // dropped as on EAGAIN.
  StreamResult write(const StreamFd& fd, const Batch& batch, bool keep_on_error = false);
  // The peer is away (reconnecting): keeps the batch as write() would keep
  // what the fd did not take, writing nothing.
  StreamResult hold(const Batch& batch);
  // Writes what waits; error EAGAIN when some is left.
  StreamResult flush(const StreamFd& fd);
  // Forgets what waits and returns how many bytes that was.
  std::size_t discard();

  bool empty() const { return head_ == data_.size(); }
  std::size_t size() const { return data_.size() - head_; }
  std::size_t limit() const { return limit_; }
  // size() as of the last call, for gauges: safe from any thread.
  std::size_t waiting() const { return waiting_.load(std::memory_order_relaxed); }

 private:
  void keep(const Batch& batch, std::size_t written, StreamResult& result);
  void publish() { waiting_.store(size(), std::memory_order_relaxed); }

  std::size_t limit_;
  std::vector<char> data_;  // waiting bytes are data_[head_, size()); the capacity is kept for reuse
  std::size_t head_ = 0;
  std::atomic<std::size_t> waiting_{0};
};

// write_all() in the fd's own way (stage/io.h): never blocks on a socket.
WriteResult write_to(const StreamFd& fd, std::span<const iovec> parts);

}  // namespace netdisp::stage
