#pragma once
// Source: where a pipe's data comes from. read() never blocks: it returns
// kWouldBlock and the pipe polls poll_fd() (with the stop fd) until readable.
#include <string>

#include "net/unique_fd.h"
#include "stage/batch.h"
#include "stage/stats.h"

namespace netdisp::stage {

enum class ReadStatus { kData, kWouldBlock, kEnd };

class Source {
 public:
  virtual ~Source() = default;
  // Fills `batch` with views into the source's own memory, valid until the next read().
  virtual ReadStatus read(Batch& batch) = 0;
  // What the pipe polls for readable: a net::Handle (an int on POSIX; the
  // platform's native socket type elsewhere, see net/platform.h).
  virtual net::Handle poll_fd() const = 0;
  // Appends this source's row of counters (role kSource), its text e.g.
  // "udp 0.0.0.0:9921: received 10 datagrams, ..."; safe from any thread.
  virtual void report(StatsRows& rows) const = 0;
  std::string stats() const {  // the row's text
    StatsRows rows;
    report(rows);
    return text_of(rows);
  }
  // What the logs call it: "udp 0.0.0.0:9921", "file app.log".
  virtual std::string name() const { return "source"; }

  // Stop handling. A source that others fill while we run (a socket's receive
  // queue) drains(): on a stop, the pipe keeps reading it into the sinks until
  // a read finds nothing waiting or the drain timeout passes, then calls
  // discard_queued(), which reads (without blocking) and counts as lost at
  // stop whatever is still queued. A source we fill ourselves (a file) stops
  // at once: the defaults.
  virtual bool drains() const { return false; }
  virtual void discard_queued() {}
};

}  // namespace netdisp::stage
