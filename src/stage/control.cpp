#include "stage/control.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

#include "net/error.h"

namespace netdisp::stage {

Control::Control() : stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!stop_fd_.valid()) net::throw_errno("eventfd for stop");
}

void Control::request_stop() {
  stop_.store(true, std::memory_order_relaxed);
  std::uint64_t one = 1;
  [[maybe_unused]] auto ignored = ::write(stop_fd_.get(), &one, sizeof one);
}

}  // namespace netdisp::stage
