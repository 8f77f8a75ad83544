#pragma once
// StdoutSink (--tee): copies payloads to stdout. Pipes on several threads
// share stdout, so each batch is written whole under one lock: batches never
// interleave. When stdout is closed (the reader of `| head` left) the copy
// stops and the pipe carries on with its other sinks.
#include "stage/io.h"
#include "stage/sink.h"

namespace netdisp::stage {

class StdoutSink final : public Sink {
 public:
  bool write(const Batch& batch) override;
  std::string stats() const override;

 private:
  Counter bytes_{0}, errors_{0};
  LogLimit log_;
};

}  // namespace netdisp::stage
