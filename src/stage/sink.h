#pragma once
// Sink: where a pipe's data goes. Called only from the pipe's thread.
// Data-path failures are counted and logged by the sink itself; write()
// returns false only when the sink's peer is gone for good (a TCP client
// left, stdout was closed), and the pipe then stops feeding it.
#include <poll.h>

#include <string>
#include <vector>

#include "stage/batch.h"
#include "stage/stats.h"

namespace netdisp::stage {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual bool write(const Batch& batch) = 0;
  virtual void flush() {}
  // A sink with a peer of its own (a TCP client) asks to be polled for it;
  // fd -1 means nothing to watch.
  virtual pollfd watch() const { return pollfd{-1, 0, 0}; }
  // While the source is idle: the revents of watch(), or 0 as a tick about
  // once a second; false ends the sink.
  virtual bool on_ready(short /*revents*/) { return true; }
  // Appends this sink's rows of counters (role kSink; one per destination),
  // text like "  -> file app.log: wrote ..."; safe from any thread.
  virtual void report(StatsRows& rows) const = 0;
  std::string stats() const {  // the rows' texts, one per line
    StatsRows rows;
    report(rows);
    return text_of(rows);
  }
  // After the pipe ended: what this sink knows it did not deliver, one line
  // per destination ("udp 127.0.0.1:9: 3 port unreachable reports ..."), so
  // the client can exit 1 naming it. Empty: no loss known.
  virtual std::vector<std::string> undelivered() const { return {}; }
};

}  // namespace netdisp::stage
