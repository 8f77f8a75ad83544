#pragma once
// Control: what the main thread tells every pipe thread. Stop is cooperative:
// the main thread calls request_stop(), which sets a flag (checked between
// batches) and makes a WakeFd readable (polled beside each socket), so busy
// and idle threads both notice. Nothing ever clears it, so it stays
// readable for every poller.
#include <atomic>

#include "net/platform.h"

namespace netdisp::stage {

class Control {
 public:
  Control();
  void request_stop();
  bool stop_requested() const { return stop_.load(std::memory_order_relaxed); }
  net::Handle stop_fd() const { return wake_.handle(); }

  // SIGHUP: file sinks reopen their file before their next write when this changes.
  void request_reopen() { reopen_generation_.fetch_add(1, std::memory_order_relaxed); }
  unsigned reopen_generation() const { return reopen_generation_.load(std::memory_order_relaxed); }

 private:
  net::WakeFd wake_;
  std::atomic<bool> stop_{false};
  std::atomic<unsigned> reopen_generation_{0};
};

}  // namespace netdisp::stage
