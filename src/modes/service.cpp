#include "modes/service.h"

#include "netdisp_systemd.h"

#if NETDISP_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace netdisp::modes {
namespace {

// A failed notification changes nothing for the data (systemd then times the
// start out, which is its own report), so its result is not checked.
void notify([[maybe_unused]] const char* state) {
#if NETDISP_SYSTEMD
  ::sd_notify(0, state);
#endif
}

}  // namespace

void notify_ready() { notify("READY=1"); }

void notify_stopping() { notify("STOPPING=1"); }

}  // namespace netdisp::modes
