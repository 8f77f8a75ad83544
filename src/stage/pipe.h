#pragma once
// Pipe: one source feeding its sinks, run on one thread. Every batch the
// source reads goes to every sink still alive, in order; nothing is copied.
#include <poll.h>

#include <memory>
#include <string>
#include <vector>

#include "stage/control.h"
#include "stage/io.h"
#include "stage/sink.h"
#include "stage/source.h"
#include "stage/worker.h"

namespace netdisp::stage {

// How long a stopping pipe keeps writing what its socket had queued (--drain-timeout).
inline constexpr double kDefaultDrainSeconds = 1.0;

class Pipe final : public Worker {
 public:
  Pipe(std::unique_ptr<Source> source, std::vector<std::unique_ptr<Sink>> sinks);

  // Limit the pipe to this many bytes per second (0: as fast as possible).
  // However low the rate, each datagram leaves when it is due.
  void set_rate(double bytes_per_second) { rate_ = bytes_per_second; }

  // On a stop, how long a source that drains() is still read into the sinks
  // (--drain-timeout); 0: not at all, what is queued is only counted.
  void set_drain_timeout(double seconds) { drain_seconds_ = seconds; }

  // Runs until the source ends, every sink is gone, or a stop is requested;
  // on a stop, drains the source (see Source::drains); then flushes the
  // sinks. Throws only what a source or sink cannot survive.
  void run(const Control& control) override;

  // The source's row, then the sinks' (their input set to the source's
  // endpoint); safe to call from any thread.
  void report(StatsRows& rows) const override;

  // The stream connection this pipe serves, named in its stats rows, when
  // the source does not name it (the reverse-proxy's group socket per client).
  void set_peer(std::string peer) { peer_ = std::move(peer); }

  // Every sink's undelivered() lines (call after run() returned).
  std::vector<std::string> undelivered() const;

  // Bytes handed to the sinks so far (under --rate, a stop may leave the
  // rest of a read unsent); safe to call from any thread.
  std::uint64_t delivered_bytes() const { return get(delivered_); }

 private:
  bool wait(const Control& control);  // false: stop requested or every sink gone
  bool poll_sinks(const std::vector<pollfd>& fds, std::size_t first);
  void write_to_sinks(const Batch& batch);
  void write_paced(const Control& control, const Batch& batch);
  void pace(const Control& control, std::size_t bytes);
  void drain();
  void log_batch(const Batch& batch);

  std::unique_ptr<Source> source_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::vector<bool> alive_;
  std::vector<pollfd> poll_fds_;
  std::size_t alive_count_ = 0;
  std::string peer_;
  double rate_ = 0;
  double drain_seconds_ = kDefaultDrainSeconds;
  double sent_ = 0;
  double started_ = 0;
  Counter delivered_{0};
  // -v: one debug line a second at most, summing the batches in between.
  LogLimit batch_log_{std::chrono::seconds(1)};
  std::uint64_t logged_batches_ = 0, logged_datagrams_ = 0, logged_bytes_ = 0;
};

}  // namespace netdisp::stage
