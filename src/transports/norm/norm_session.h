#pragma once
// What the norm:// sink and source share: the endpoint's parameters, and one
// NORM session with the instance (the library's thread and event queue) it
// runs in.
//
// Each Session owns its own instance, so its descriptor carries the events of
// that session only and the thread that polls it (a pipe's) is the only one
// reading them: no routing between threads. An instance is one library
// thread and a notification pipe; a process has as many as it has norm://
// endpoints open (a reverse-proxy: one per subscriber, as it has one socket
// per subscriber for a udp:// group).
//
// On the wire every datagram is one NORM stream message: a 4-byte big-endian
// length, then the payload. The length keeps datagram boundaries (the
// library's reads return bytes); the message mark (NormStreamMarkEom) lets a
// receiver resume at the next datagram after a break it could not repair.
#include <normApi.h>

#include <cstdint>
#include <string>

#include "stage/schemes.h"

namespace netdisp::transports::norm {

inline constexpr std::size_t kFrameHeader = 4;

struct Params {
  // Sender.
  double rate = 10e6;                  // bits/s; with cc, the upper bound
  bool cc = false;                     // NORM-CC congestion control
  std::uint32_t buffer = 16 << 20;     // sender: NormStartSender's buffer; receiver: per remote sender
  std::uint16_t segment = 1400;        // payload bytes per NORM_DATA packet
  std::uint16_t block = 64;            // source segments per FEC block
  // Parity segments the sender computes for every block it sends (for
  // repairs). 0: repairs resend the lost segments. libnorm 1.5.9's
  // Reed-Solomon encoder costs the sender's thread about a third of a core
  // at 400 Mbit/s with 16, loss or not: on the bench's 2-core lossy rig
  // (scripts/bench --sections lossy), 3 receivers at 0 % loss got 0.62 of
  // the paced rate with parity=16, 0.98 with 0; in runs taking turns at
  // 1 % / 5 % loss, 0.58 / 0.52 with 16, 0.87 / 0.70 with 4, 0.97 / 0.82
  // with 0. Parity pays off for large groups, where one parity packet
  // repairs a different loss at each receiver.
  std::uint16_t parity = 0;
  std::uint16_t autoparity = 0;        // parity segments sent proactively per block
  double grtt_max = 0.01;              // seconds: the longest group round trip the timers assume
  std::uint32_t id = 0;                // node id; 0: one unique in this process
};

// Reads and checks the endpoint's parameters for `role` (net::UsageError
// naming the endpoint and the parameter).
Params read_params(const stage::Endpoint& endpoint, stage::Role role);

// The address as NORM takes it: "239.1.2.3", "ff02::1" (no brackets, port
// or %scope).
std::string host_of(const net::Address& address);

// A node id no other session of this process has, random across processes.
NormNodeId next_node_id();

// "0x1a2b3c4d": how logs and messages name a node.
std::string node_name(NormNodeId id);

class Session {
 public:
  // Creates the instance (its thread starts with every signal blocked: the
  // Supervisor's signalfd takes them) and the session for `address`.
  // Throws net::Error naming `label` when the library refuses.
  Session(const net::Address& address, NormNodeId id, const std::string& label);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  NormSessionHandle handle() const { return session_; }
  int fd() const { return fd_; }
  NormNodeId id() const { return id_; }

  // Multicast settings from --multicast-if (else a link-local group's
  // %scope), --ttl, --multicast-loop.
  void apply_multicast(const net::MulticastOptions& options);

  // A receiver's socket buffer of `bytes` (call after NormStartReceiver:
  // the library applies its own setting only to an open socket, and then
  // plainly, capped at net.core.rmem_max). Returns the bytes granted, 0 when
  // the library's socket was not found.
  int grow_receive_buffer(int bytes);

 private:
  NormInstanceHandle instance_ = NORM_INSTANCE_INVALID;
  NormSessionHandle session_ = NORM_SESSION_INVALID;
  int fd_ = -1;
  std::uint16_t port_;
  std::uint32_t scope_;  // an IPv6 link-local address's interface index, or 0
  NormNodeId id_;
  std::string label_;
};

}  // namespace netdisp::transports::norm
