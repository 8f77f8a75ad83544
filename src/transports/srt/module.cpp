// srt:// — the module's entry (stage/transport.h). A stub until the transport lands.
#include "net/error.h"
#include "stage/transport.h"
#include "version.h"

namespace netdisp::transports::srt {
namespace {

void open_outputs(std::span<const stage::Endpoint> endpoints, const stage::OutputSettings&,
                  std::vector<std::unique_ptr<stage::Sink>>&) {
  throw net::UsageError(endpoints.front().to_string() + ": not implemented yet");
}

std::unique_ptr<stage::Source> open_source(const stage::Endpoint& endpoint, const stage::InputSettings&) {
  throw net::UsageError(endpoint.to_string() + ": not implemented yet");
}

constexpr stage::Transport kTransport{NETDISP_VERSION, nullptr, nullptr, open_source, open_outputs};

}  // namespace
}  // namespace netdisp::transports::srt

const netdisp::stage::Transport* netdisp_transport() { return &netdisp::transports::srt::kTransport; }
