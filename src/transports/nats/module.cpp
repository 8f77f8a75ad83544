// nats:// — the module's entry (stage/transport.h): NATS subjects through
// libnats. A listen endpoint subscribes (NatsSource: each message one
// datagram), a destination publishes (NatsSink: each datagram one message);
// JetStream endpoints (?stream=) go to jetstream.cpp.
#include "net/error.h"
#include "stage/transport.h"
#include "transports/nats/jetstream.h"
#include "transports/nats/sink.h"
#include "transports/nats/source.h"
#include "version.h"

namespace netdisp::transports::nats {

namespace {

void check(const stage::Endpoint& endpoint, stage::Role role) {
  Target target = parse_target(endpoint, role);
  if (role == stage::Role::kSend && !target.queue.empty())
    throw net::UsageError(target.shown + ": queue= is for listen addresses");
  parse_jetstream(endpoint, role);
}

std::unique_ptr<stage::Source> open_source(const stage::Endpoint& endpoint, const stage::InputSettings& settings) {
  Target target = parse_target(endpoint, stage::Role::kListen);
  auto connection = std::make_unique<Connection>(target);
  if (auto jetstream = parse_jetstream(endpoint, stage::Role::kListen))
    return open_jetstream_source(std::move(connection), *jetstream);
  auto pending = static_cast<std::size_t>(std::max(settings.sockets.rcvbuf, 0));
  return std::make_unique<NatsSource>(std::move(connection), pending, core_subscribe(target));
}

void open_outputs(std::span<const stage::Endpoint> endpoints, const stage::OutputSettings& settings,
                  std::vector<std::unique_ptr<stage::Sink>>& sinks) {
  for (const stage::Endpoint& endpoint : endpoints) {
    Target target = parse_target(endpoint, stage::Role::kSend);
    auto connection = std::make_unique<Connection>(target);
    if (auto jetstream = parse_jetstream(endpoint, stage::Role::kSend))
      sinks.push_back(open_jetstream_sink(std::move(connection), *jetstream, settings));
    else
      sinks.push_back(std::make_unique<NatsSink>(std::move(connection), settings.control));
  }
}

constexpr stage::Transport kTransport{NETDISP_VERSION, check, nullptr, open_source, open_outputs};

}  // namespace
}  // namespace netdisp::transports::nats

const netdisp::stage::Transport* netdisp_transport() { return &netdisp::transports::nats::kTransport; }
