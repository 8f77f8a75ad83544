#pragma once
// Batch: what flows through a pipe. A batch is a run of datagrams, each an
// iovec pointing into the source's arena; sinks read it and never keep it.
// The views stay valid until the source's next read().
#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <span>

#include "net/address.h"

namespace netdisp::stage {

// sendmmsg/recvmmsg and writev take at most this many entries per call (UIO_MAXIOV).
inline constexpr std::size_t kMaxBatch = 1024;

struct Batch {
  std::span<const iovec> datagrams;
  std::size_t bytes = 0;
  // The senders: one per datagram, parallel to `datagrams` (UdpSource, when
  // asked with keep_peers), or one for all (a stream connection's peer), or
  // none. peer_of() reads it either way.
  std::span<const net::Address> peers{};
  const net::Address* peer_of(std::size_t i) const {
    if (peers.size() == 1) return &peers[0];
    return i < peers.size() ? &peers[i] : nullptr;
  }
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
