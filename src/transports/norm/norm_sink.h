#pragma once
// NormSink: a norm:// destination, a NORM sender. Every datagram becomes one
// message of the session's stream (norm_session.h), sent at the fixed rate=
// (or under NORM-CC with cc=on) and repaired on the receivers' NACKs.
//
// A client's input (OutputSettings::wait_for_streams) is never dropped: when
// the stream buffer is full, write() waits for room (polling the library's
// descriptor and the stop fd). Live input (a proxy) drops whole datagrams
// instead, counted as dropped_datagrams.
//
// With expect_receivers, the first write waits (up to the timeout) until
// that many receivers are heard from. At end of input (flush), the sender
// asks the receivers to acknowledge the whole stream (NORM's watermark):
// with expect_receivers, until that many did or the timeout passed
// (undelivered() then names who did not); without, for a bounded time during
// which it still repairs, and it says so.
//
// Late joiners: a receiver first heard after the stream began is repaired
// from the oldest byte the sender holds but not waited for (flow control
// does not stall the others for its catching up) until it acknowledges a
// watermark; from then on it is waited for like the rest. It counts for
// expect_receivers only if the sender still held the stream's first byte
// when it first acknowledged; one dropped from flow control (silent for
// kReceiverTimeout) never counts again: either may lack bytes.
// Called from the pipe's thread only; report() from any thread. This file
// pair writes the stream and keeps it within the window; the end of a
// transfer (the acknowledgement waits) is norm_sink_end.cpp; the receivers
// and what counts for --expect, norm_receivers.h.
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "stage/io.h"
#include "stage/sink.h"
#include "transports/norm/norm_receivers.h"
#include "transports/norm/norm_session.h"

namespace netdisp::transports::norm {

class NormSink final : public stage::Sink {
 public:
  // Throws net::Error when the library refuses the session.
  NormSink(const stage::Endpoint& endpoint, const Params& params, const stage::OutputSettings& settings);
  ~NormSink() override;

  bool write(const stage::Batch& batch) override;
  void flush() override;
  pollfd watch() const override { return pollfd{session_.fd(), POLLIN, 0}; }
  bool on_ready(short revents) override;
  void report(stage::StatsRows& rows) const override;
  std::vector<std::string> undelivered() const override;

 private:
  bool start_held() const;
  void note_blocks(std::uint64_t segments_before);
  std::uint64_t oldest_held_byte() const;
  void flush_stream(bool eos, NormFlushMode mode);
  void take_events();
  bool write_all(const char* data, std::size_t size);  // lossless: waits for room
  bool wait_for_window(std::size_t framed);            // lossless: acknowledged-window flow control
  void on_watermark(bool completed);
  void next_watermark();
  void await_receivers();
  bool wait_for_room();
  bool wait_for(std::chrono::steady_clock::time_point until, bool (NormSink::*done)());
  bool watermark_done();
  bool end_settled();
  bool expect_open() const;
  std::size_t count_acknowledged();
  void await_acknowledgements();
  void linger_for_repairs();

  std::string label_;  // "norm://239.1.2.3:5000"
  Session session_;
  NormObjectHandle stream_ = NORM_OBJECT_INVALID;
  bool lossless_;
  const stage::Control* control_;
  std::size_t expect_;
  std::chrono::milliseconds expect_timeout_;
  bool started_ = false;
  bool finished_ = false;
  bool watermark_done_ = false;
  bool flush_done_ = false;
  std::uint64_t stream_bytes_ = 0;  // framed bytes written into the stream
  // NORM segments the stream used at most (a flush sends a partial segment),
  // against those its buffer holds: while used + a block fits, the stream's
  // first byte is still there to repair.
  std::uint64_t segments_ = 0;
  std::uint64_t segment_fill_ = 0;
  std::uint64_t segment_size_;
  std::uint64_t block_size_;
  std::uint64_t held_segments_;
  // The stream byte at which each block the library holds began, by block
  // number modulo the blocks it holds (oldest_held_byte()).
  std::vector<std::uint64_t> block_starts_;
  // Lossless flow control, counted in segments, the unit the library's
  // buffer holds (a flush of a few bytes closes a whole one): the stream may
  // run at most window_ segments ahead of what every receiver heard from
  // acknowledged (watermarks one after the other, each for at least step_
  // more segments).
  std::uint64_t window_ = 0;
  std::uint64_t step_ = 0;
  std::uint64_t acked_ = 0;            // segments every receiver acknowledged
  std::uint64_t watermark_at_ = 0;     // segments the pending watermark covers
  std::uint64_t watermark_bytes_ = 0;  // and the stream bytes it covers (logs)
  bool watermark_pending_ = false;
  bool asking_ = false;  // the library asks for a flow-control watermark (not yet completed)
  std::chrono::steady_clock::time_point watermark_since_{};
  Receivers receivers_;
  std::vector<std::string> undelivered_;
  stage::Counter datagrams_{0}, bytes_{0}, dropped_datagrams_{0}, dropped_bytes_{0}, not_sent_bytes_{0};
  stage::Counter receivers_seen_{0}, acknowledged_{0}, send_errors_{0};
  stage::LogLimit drop_log_;
};

}  // namespace netdisp::transports::norm
