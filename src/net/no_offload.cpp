// The receive and send offloads of net/platform.h for the systems that have
// none (platform_posix.cpp, platform_win32.cpp; Linux's are in
// platform_linux.cpp): no drop counter (never a made-up 0), no GRO, no GSO.
// The callers ask features() first; these only keep the link whole.
#include <cerrno>

#include "net/platform.h"

namespace netdisp::net {

void request_drop_reports(Handle) {}
int enable_gro(Handle) { return ENOPROTOOPT; }
ReceivedControl read_receive_control(const msghdr&) { return {}; }
void set_segment_control(msghdr&, void*, std::uint16_t) {}  // never called: features().gso is false
std::optional<std::uint32_t> kernel_drops(Handle) { return std::nullopt; }

}  // namespace netdisp::net
