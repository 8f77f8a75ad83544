#pragma once
// StdoutSink (--tee): copies payloads to stdout. Pipes on several threads
// share stdout: one process-wide state (the fd, one pending buffer) under one
// lock, so batches never interleave mid-datagram. stdout's own open file
// description is never made non-blocking (the shell and terminal share it).
// When stdout is closed (the reader of `| head` left) the copy stops and the
// pipe carries on with its other sinks.
//
// Two policies:
// - live input (server, proxy, reverse-proxy): stdout never holds up the
//   socket or the other sinks. What a slow reader cannot take waits in the
//   shared buffer (kStdoutBuffer); when it is full, whole datagrams are
//   dropped for stdout alone, counted and warned about (rate-limited).
//   Waiting bytes are written on later batches and when the pipe is idle
//   (watch() asks for POLLOUT); at stop they get a short grace
//   (kStopGrace), then what is left is counted as dropped.
// - input that can wait (the client's file): waits for the reader like
//   tee(1) and drops nothing, but a stop request ends the wait at once; the
//   bytes not written then are counted as dropped at stop.
// Counters are per sink, and exact per sink: the shared buffer remembers which
// sink queued which bytes, so bytes one pipe queued and another pipe's call
// wrote (or dropped at stop) are counted by the sink that queued them. For
// each sink: written + dropped + dropped at stop + lost to errors = bytes given.
#include <chrono>
#include <cstddef>

#include "stage/control.h"
#include "stage/io.h"
#include "stage/sink.h"
#include "stage/stream_buffer.h"

namespace netdisp::stage {

inline constexpr std::size_t kStdoutBuffer = 1 << 20;
inline constexpr std::chrono::milliseconds kStopGrace{250};

class StdoutSink final : public Sink {
 public:
  // Live input: never waits for stdout, drops what does not fit.
  StdoutSink();
  // Input that can wait: waits for the reader until `control` asks to stop.
  explicit StdoutSink(const Control& control);
  ~StdoutSink() override;

  bool write(const Batch& batch) override;
  void flush() override;
  pollfd watch() const override;
  bool on_ready(short revents) override;
  void report(StatsRows& rows) const override;

  // A sink's counters. The shared stdout state adds to them, under its lock,
  // for the bytes this sink queued; stats() reads them from any thread.
  struct Counts {
    Counter written{0}, dropped_datagrams{0}, dropped_bytes{0}, at_stop{0}, errors{0}, error_bytes{0};
  };

 private:
  bool write_waiting(const Batch& batch);
  bool wait_writable(int fd) const;
  void tally(const StreamResult& result);
  bool report(const StreamResult& result);

  const Control* control_ = nullptr;  // set: wait for the reader
  StreamBuffer rest_;                 // waiting policy: the rest of the batch being written
  Counts counts_;
  LogLimit drop_log_, error_log_;
};

}  // namespace netdisp::stage
