#include "stage/control.h"

namespace netdisp::stage {

Control::Control() = default;

void Control::request_stop() {
  stop_.store(true, std::memory_order_relaxed);
  wake_.notify();
}

}  // namespace netdisp::stage
