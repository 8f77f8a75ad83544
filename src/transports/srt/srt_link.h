#pragma once
// One connected SRT socket that an srt:// destination sends on (a caller
// sink's connection, or one caller of a listener sink), and the waits at its
// two ends: for the connection to be made, and after the input for the
// receiver to acknowledge everything (with file mode's end-of-data probes).
// Called from the pipe's thread only; describe() and look() under the lock
// the sink's report() takes.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "stage/control.h"
#include "stage/io.h"
#include "transports/srt/srt_common.h"

namespace netdisp::transports::srt {

// Every wait of a destination (a send, a connection, a caller, the linger)
// looks at the stop flag this often.
inline constexpr int kSendWaitMs = 100;

struct Link {
  Peer peer;
  std::string label;  // "srt://127.0.0.1:9000", "srt 0.0.0.0:9000 -> 127.0.0.1:40000"
  stage::Counter datagrams{0}, bytes{0}, dropped_datagrams{0}, dropped_bytes{0};
  std::uint64_t not_sent = 0;  // bytes given up (a stop, a break)
  bool file = false;           // transtype=file: a piece equal to the end-of-data probe is split
  stage::Counter probes{0};    // end-of-data probes sent (wait_acknowledged)
  // When the sink last handed it a batch: the linger at the end counts from it.
  std::chrono::steady_clock::time_point sent_at{};

  enum class Sent { kAll, kDropped, kStopped, kBroken };
  // Sends one datagram (in pieces of `message` bytes). `wait`: until SRT
  // takes it, or `control` asks to stop; else drops it when the buffer is full.
  Sent send(const iovec& datagram, int message, bool wait, const stage::Control& control);
  // "sent 10 messages (13160 bytes), 0 dropped; srt sent ..." into `row` too;
  // a broken socket's library counters as last seen (look()).
  std::string describe(stage::StageStats& row) const;
  // Keeps the library's counters (a broken socket has none); after each
  // batch sent and at each idle tick. The caller holds the lock report() takes.
  void look();

 private:
  stage::StageStats library_;  // the library's counters as last seen
  std::string library_text_;
};

// Makes sends on `socket` wait until SRT takes each message, in slices of
// kSendWaitMs (Link::send looks at the stop flag between them).
void make_sends_wait(SRTSOCKET socket);

// Waits until the socket connected or failed; false when a stop came first.
bool wait_connected(SRTSOCKET socket, const stage::Control& control);

// The end of input: waits until the receiver acknowledged everything sent
// on `link`, then lingers until it was handed on at the receiver's end
// (counted from link.sent_at).
// Returns the bytes not delivered: those not acknowledged when a stop, a
// break or 30 s without progress ended the wait, plus what the sender
// dropped as too late. `probe`: file mode's end-of-data probes.
std::size_t wait_acknowledged(Link& link, bool probe, const stage::Control& control);

}  // namespace netdisp::transports::srt
