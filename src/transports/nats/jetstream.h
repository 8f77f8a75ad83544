#pragma once
// JetStream on nats:// (?stream=NAME): a NATS subject whose messages a
// stream on the servers keeps, so that nothing is lost between a sender and
// a receiver that come and go.
//
//   send:   nats://h:p/SUBJECT?stream=S        every datagram is published
//           with an acknowledgement (js_PublishAsync); the sink counts what
//           is unacknowledged (js_acks_pending) and what failed
//           (publish_errors); at end of input it waits for every ack.
//   listen: nats://h:p/SUBJECT?stream=S&durable=D   a durable push consumer
//           with explicit acks: a message is acknowledged only after the
//           pipe wrote it (at the next read(), see JetStreamSource), so an
//           ndserver stopped and started again continues where it stopped,
//           nothing lost and nothing written twice. Without durable=, an
//           ephemeral consumer of the new messages.
//
// Nothing is created on the servers unless ?create=1: a missing stream (or
// durable consumer) is one error naming it. With create=1 a missing stream
// is made (file storage, the subject, ?replicas=N) and a missing durable
// consumer too (explicit acks, ?ack_wait=SECONDS before a redelivery).
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "stage/schemes.h"
#include "transports/nats/connection.h"

namespace netdisp::transports::nats {

struct JetStreamOptions {
  std::string stream;
  std::string durable;  // listen only; empty: an ephemeral consumer of new messages
  bool create = false;
  int replicas = 1;                          // create=1: the new stream's replicas (1-5)
  std::chrono::milliseconds ack_wait{30000};  // create=1: the new consumer's ack wait
};

// The JetStream parameters of a nats:// endpoint for `role`; nullopt when it
// has no ?stream=. Throws net::UsageError naming the endpoint and what is wrong.
std::optional<JetStreamOptions> parse_jetstream(const stage::Endpoint& endpoint, stage::Role role);

// The receiving side: a source of the stream's messages on the connection's
// subject (target().subject). Checks the stream and the consumer (creating
// them with create=1); throws net::Error naming what is missing or failed.
// Owns the connection: it closes after the last acks were flushed.
std::unique_ptr<stage::Source> open_jetstream_source(std::unique_ptr<Connection> connection,
                                                     const JetStreamOptions& options);

// The sending side: a sink publishing each datagram to the stream with an
// acknowledgement. Waits when too many are unacknowledged when
// settings.wait_for_streams (the client), else counts what it gave up.
std::unique_ptr<stage::Sink> open_jetstream_sink(std::unique_ptr<Connection> connection,
                                                 const JetStreamOptions& options,
                                                 const stage::OutputSettings& settings);

}  // namespace netdisp::transports::nats
