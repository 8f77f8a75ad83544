#pragma once
// Receivers: the receivers a norm:// sender (NormSink) heard from, and what
// it knows of each, by the policy norm_sink.h describes: whether flow control
// waits for it, whether it is known to have the stream from its first byte
// (only then it counts for --expect), whether it acknowledged the end. It
// reads each one's acknowledgement from the library (NormGetAckingStatus of
// the session's current watermark) and logs what changes for whom.
// Called from the sink's thread only.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "transports/norm/norm_session.h"

namespace netdisp::transports::norm {

class Receivers {
 public:
  Receivers(NormSessionHandle session, std::string label) : session_(session), label_(std::move(label)) {}

  // NORM_ACKING_NODE_NEW for `id` with `written` stream bytes written so far
  // (0: it gets the stream from its first byte) and `oldest` the oldest byte
  // the sender holds; `lossless`: flow control applies. False for one heard
  // again (the library adds back one dropped from flow control).
  bool heard(NormNodeId id, std::uint64_t written, std::uint64_t oldest, bool lossless);

  std::size_t size() const { return list_.size(); }
  bool empty() const { return list_.empty(); }
  std::size_t waited_for() const;

  // Those not waited for that acknowledged the library's last watermark
  // (covering `acknowledged_bytes`) have caught up: waited for from now on,
  // and whole if `start_held` (the sender still holds the stream's start).
  void catch_up(bool start_held, std::uint64_t acknowledged_bytes);
  // Every receiver waited for acknowledged the library's last watermark.
  bool all_acknowledged() const;
  // Those waited for that did not, silent for `silent`, are waited for no
  // more and no longer count as whole.
  void drop_unacknowledged(std::chrono::seconds silent);

  // How many acknowledged the end and have the whole stream; a first
  // acknowledgement is logged, and decides for a late joiner (`start_held`).
  std::size_t count_acknowledged(bool start_held, std::uint64_t stream_bytes);
  // One with the whole stream has not acknowledged the end yet.
  bool whole_pending() const;
  // One waited for has not acknowledged the end yet.
  bool waited_for_pending() const;
  // A line per receiver that has not acknowledged the whole stream, saying why.
  void name_missing(std::vector<std::string>& lines) const;

 private:
  struct Receiver {
    NormNodeId id;
    std::uint64_t joined_at;    // stream bytes written when it was first heard
    bool waited_for;            // flow control waits for its acknowledgements
    bool whole;                 // known to have every byte from the stream's first (counts for --expect)
    bool dropped = false;       // was dropped from flow control: may lack bytes
    bool acknowledged = false;  // the end of the stream
  };
  bool acked(const Receiver& receiver) const;
  std::string not_whole(const Receiver& receiver) const;

  NormSessionHandle session_;
  std::string label_;
  std::vector<Receiver> list_;
};

}  // namespace netdisp::transports::norm
