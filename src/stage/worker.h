#pragma once
// Worker: what a mode runs on a thread of its own under the Supervisor: a
// Pipe (one source into its sinks), or an acceptor that starts one Pipe per
// connection. run() returns when its input ends or a stop is requested.
#include <string>
#include <vector>

#include "stage/control.h"
#include "stage/stats.h"

namespace netdisp::stage {

class Worker {
 public:
  virtual ~Worker() = default;
  // Throws only what the worker cannot survive (logged by the Supervisor).
  virtual void run(const Control& control) = 0;
  // Appends the counters of every stage it runs; safe to call from any
  // thread while run() goes on.
  virtual void report(StatsRows& rows) const = 0;
};

}  // namespace netdisp::stage
