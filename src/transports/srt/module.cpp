// srt:// — the module's entry (stage/transport.h): libsrt's live and file
// transfers as sources (srt_source.h) and destinations (srt_caller_sink.h,
// srt_listener_sink.h).
#include "net/error.h"
#include "stage/framing.h"
#include "stage/pipe.h"
#include "stage/transport.h"
#include "transports/srt/srt_caller_sink.h"
#include "transports/srt/srt_common.h"
#include "transports/srt/srt_listener_sink.h"
#include "transports/srt/srt_source.h"
#include "version.h"

namespace netdisp::transports::srt {
namespace {

void check(const stage::Endpoint& endpoint, stage::Role role) { settings_of(endpoint, role); }

void open_outputs(std::span<const stage::Endpoint> endpoints, const stage::OutputSettings& outputs,
                  std::vector<std::unique_ptr<stage::Sink>>& sinks) {
  if (!outputs.control) throw net::Error("srt://: no control given to the destinations");
  for (const stage::Endpoint& endpoint : endpoints) {
    Settings settings = settings_of(endpoint, stage::Role::kSend);
    if (settings.mode == Mode::kListener) {
      sinks.push_back(std::make_unique<SrtListenerSink>(endpoint, settings, outputs));
    } else {
      sinks.push_back(std::make_unique<SrtCallerSink>(endpoint, settings, outputs));
    }
  }
}

std::unique_ptr<stage::Source> open_source(const stage::Endpoint& endpoint, const stage::InputSettings& inputs) {
  return std::make_unique<SrtSource>(endpoint, settings_of(endpoint, stage::Role::kListen), inputs, false);
}

std::unique_ptr<stage::Worker> open_input(const stage::Endpoint& endpoint, const stage::InputSettings& inputs,
                                          const stage::SinkMaker& make_sinks) {
  auto srt = std::make_unique<SrtSource>(endpoint, settings_of(endpoint, stage::Role::kListen), inputs, true);
  auto source = stage::frame_lines_out(std::move(srt), inputs.framing, inputs.datagram_size);
  auto pipe = std::make_unique<stage::Pipe>(std::move(source), stage::frame_sinks(make_sinks(), inputs.framing));
  pipe->set_drain_timeout(inputs.sockets.drain_seconds);
  return pipe;
}

constexpr stage::Transport kTransport{NETDISP_VERSION, check, open_input, open_source, open_outputs};

}  // namespace
}  // namespace netdisp::transports::srt

const netdisp::stage::Transport* netdisp_transport() { return &netdisp::transports::srt::kTransport; }
