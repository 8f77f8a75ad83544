#pragma once
// JetStream on nats:// (?stream=NAME): a NATS subject whose messages a
// stream on the servers keeps, so that nothing is lost between a sender and
// a receiver that come and go.
//
//   send:   nats://h:p/SUBJECT?stream=S        every datagram is published
//           with an acknowledgement (js_PublishAsync) and a Nats-Msg-Id;
//           without an ack (a node lost, a leader election) it is published
//           again for up to ?retry_for=SECONDS (the stream stores an id
//           once); the sink counts what is unacknowledged (js_acks_pending)
//           and what failed (publish_errors); at end of input it waits for
//           every ack.
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
  std::chrono::milliseconds retry_for{30000};  // send: how long an unacknowledged publication is sent again
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

// The sending side (jetstream_sink.cpp): a sink publishing each datagram to
// the stream with an acknowledgement and a message id, publishing it again
// (same id: stored once) while no ack comes, for up to options.retry_for.
// Waits when too many are unacknowledged when settings.wait_for_streams (the
// client), else counts what it gave up.
std::unique_ptr<stage::Sink> open_jetstream_sink(std::unique_ptr<Connection> connection,
                                                 const JetStreamOptions& options,
                                                 const stage::OutputSettings& settings);

// Shared by the two sides. A JetStream context of a connection, destroyed with jsCtx_Destroy.
struct ContextDeleter {
  void operator()(jsCtx* context) const { jsCtx_Destroy(context); }
};
using Context = std::unique_ptr<jsCtx, ContextDeleter>;
// Throws net::Error naming the endpoint.
Context make_context(Connection& connection, jsOptions* options);
// Checks that the stream exists, or creates it with create=1; throws
// net::Error otherwise. Returns the stream's duplicate window (0 if unknown).
std::chrono::milliseconds ensure_stream(jsCtx* context, const Target& target, const JetStreamOptions& options);
// The status text, with JetStream's error code when there is one.
std::string js_error(natsStatus status, jsErrCode code);

}  // namespace netdisp::transports::nats
