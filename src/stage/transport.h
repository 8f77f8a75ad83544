#pragma once
// Transport: the interface of a loadable transport module (netdisp-srt.so,
// netdisp-norm.so, netdisp-nats.so). Each module is built from
// src/transports/NAME against the same core library as the executable and
// exports one C function, netdisp_transport(), returning its Transport. The
// scheme table (schemes.cpp) keeps each scheme's row, parameters and help in
// the executable, and loads the module (stage/modules.cpp) the first time an
// endpoint of the scheme is parsed: the library and its threads, TLS stacks
// and memory exist only in processes that use the scheme.
//
// Objects cross the boundary as the C++ types of the stage layer (Source,
// Sink, Worker); the module and the executable come from one build (checked
// through `version`), so their layouts agree. Errors cross as exceptions
// (net::UsageError, net::Error), caught by name as any other.
#include <memory>
#include <span>
#include <vector>

#include "stage/schemes.h"

namespace netdisp::stage {

struct Transport {
  const char* version;  // NETDISP_VERSION of the module's build
  // Checks the endpoint's parameter values and address for this role; throws
  // net::UsageError naming the endpoint and what is wrong. May be null.
  void (*check)(const Endpoint& endpoint, Role role);
  // The input of a listen endpoint (open_input's contract). May be null when
  // open_source is given: the table then runs that source in one Pipe.
  std::unique_ptr<Worker> (*open_input)(const Endpoint&, const InputSettings&, const SinkMaker&);
  // One source reading a listen endpoint, without logging "listening on"
  // (a reverse-proxy subscriber's). May be null for schemes that cannot.
  std::unique_ptr<Source> (*open_source)(const Endpoint&, const InputSettings&);
  // Appends the sinks serving `endpoints` (all of this scheme).
  void (*open_outputs)(std::span<const Endpoint>, const OutputSettings&, std::vector<std::unique_ptr<Sink>>&);
};

}  // namespace netdisp::stage

// Every module defines it, with NETDISP_TRANSPORT_EXPORT in front.
#define NETDISP_TRANSPORT_EXPORT extern "C" __attribute__((visibility("default")))
NETDISP_TRANSPORT_EXPORT const netdisp::stage::Transport* netdisp_transport();
