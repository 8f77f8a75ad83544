#pragma once
// Batch: what flows through a pipe. A batch is a run of datagrams, each an
// iovec pointing into the source's arena; sinks read it and never keep it.
// The views stay valid until the source's next read().
#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <span>

namespace netdisp::stage {

// sendmmsg/recvmmsg and writev take at most this many entries per call (UIO_MAXIOV).
inline constexpr std::size_t kMaxBatch = 1024;

struct Batch {
  std::span<const iovec> datagrams;
  std::size_t bytes = 0;
};

// Memory a source receives into: allocated once, never zeroed, so pages are
// touched (and counted in RSS) only as traffic uses them.
class Arena {
 public:
  explicit Arena(std::size_t size) : data_(std::make_unique_for_overwrite<std::byte[]>(size)), size_(size) {}
  std::byte* data() const { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  std::unique_ptr<std::byte[]> data_;
  std::size_t size_;
};

}  // namespace netdisp::stage
