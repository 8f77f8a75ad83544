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
// Counters are per sink: bytes one pipe queued and another wrote out count as
// written by the writer, so the stdout lines add up across pipes, and for each
// pipe: written + dropped + dropped at stop + lost to errors = bytes given.
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

  bool write(const Batch& batch) override;
  void flush() override;
  pollfd watch() const override;
  bool on_ready(short revents) override;
  std::string stats() const override;

 private:
  bool write_waiting(const Batch& batch);
  bool wait_writable(int fd) const;
  bool count(const StreamResult& result);

  const Control* control_ = nullptr;  // set: wait for the reader
  StreamBuffer rest_;                 // waiting policy: the rest of the batch being written
  Counter bytes_{0}, dropped_datagrams_{0}, dropped_bytes_{0}, stop_bytes_{0}, errors_{0}, error_bytes_{0};
  LogLimit drop_log_, error_log_;
};

}  // namespace netdisp::stage
