// norm:// — the module's entry (stage/transport.h): NORM (RFC 5740) through
// the NRL library. A destination is a NormSink (a sender), a listen endpoint
// a NormSource (a receiver); each has a NORM instance of its own
// (norm_session.h).
#include <spdlog/spdlog.h>

#include "net/error.h"
#include "stage/framing.h"
#include "stage/pipe.h"
#include "stage/transport.h"
#include "transports/norm/norm_sink.h"
#include "transports/norm/norm_source.h"
#include "version.h"

namespace netdisp::transports::norm {
namespace {

void check(const stage::Endpoint& endpoint, stage::Role role) {
  read_params(endpoint, role);
  if (role == stage::Role::kSend && endpoint.address.is_unspecified())
    throw net::UsageError(endpoint.to_string() + ": a NORM destination is a group or a receiver's address, not " +
                          "the unspecified address");
}

void open_outputs(std::span<const stage::Endpoint> endpoints, const stage::OutputSettings& settings,
                  std::vector<std::unique_ptr<stage::Sink>>& sinks) {
  for (const stage::Endpoint& endpoint : endpoints)
    sinks.push_back(std::make_unique<NormSink>(endpoint, read_params(endpoint, stage::Role::kSend), settings));
}

// A reverse-proxy subscriber: the channel from where it joined.
std::unique_ptr<stage::Source> open_source(const stage::Endpoint& endpoint, const stage::InputSettings& settings) {
  return std::make_unique<NormSource>(endpoint, read_params(endpoint, stage::Role::kListen), settings.sockets,
                                      NormSource::Join::kFromNow);
}

// A listen endpoint (server, proxy): a stream from its first byte, in one
// Pipe, as the scheme table runs a module's source.
std::unique_ptr<stage::Worker> open_input(const stage::Endpoint& endpoint, const stage::InputSettings& settings,
                                          const stage::SinkMaker& make_sinks) {
  auto source = std::make_unique<NormSource>(endpoint, read_params(endpoint, stage::Role::kListen), settings.sockets,
                                             NormSource::Join::kFromStart);
  auto framed = stage::frame_lines_out(std::move(source), settings.framing, settings.datagram_size);
  spdlog::info("listening on {}", endpoint.to_string());
  if (!settings.label.empty()) spdlog::info("{} -> {}", endpoint.to_string(), settings.label);
  return std::make_unique<stage::Pipe>(std::move(framed), stage::frame_sinks(make_sinks(), settings.framing));
}

constexpr stage::Transport kTransport{NETDISP_VERSION, check, open_input, open_source, open_outputs};

}  // namespace
}  // namespace netdisp::transports::norm

const netdisp::stage::Transport* netdisp_transport() { return &netdisp::transports::norm::kTransport; }
