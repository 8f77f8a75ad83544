#pragma once
// Framing: how an input's bytes are cut (--lines, --flush-after) and written
// (--lines, --prefix on a receiver), and the stages that do it, for whoever
// opens inputs (the scheme table) and for the client.
//   sending side (client, proxy): --lines[=N] puts a LineSource after the source.
//   receiving side (server): --lines puts a LineSink before the first sink;
//     a datagram input keeps its senders for --prefix peer; a stream
//     connection is cut into lines (stream_lines, --max-line, --line-timeout).
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/address.h"
#include "net/unique_fd.h"
#include "stage/line_sink.h"
#include "stage/line_source.h"
#include "stage/sink.h"
#include "stage/source.h"
#include "stage/stream_source.h"

namespace netdisp::stage {

class UdpSource;

struct Framing {
  // Sending side.
  std::optional<std::size_t> send_lines;  // --lines[=N]: at most N whole lines a datagram, 0: as many as fit
  std::chrono::milliseconds flush_after = kDefaultFlushAfter;  // --flush-after
  // Receiving side.
  bool receive_lines = false;  // --lines
  LinePrefix prefix;           // --prefix
  std::size_t max_line = kDefaultMaxLine;                        // --max-line (stream connections)
  std::chrono::milliseconds line_timeout = kDefaultLineTimeout;  // --line-timeout (stream connections)
};

// What a stream reader under `framing` flushes after: with --lines at once,
// since the LineSource after it waits for line ends (and for flush_after).
std::chrono::milliseconds reader_flush_after(const Framing& framing);

// `source` as is, or in a LineSource with datagrams of at most `datagram_size` (sending side).
std::unique_ptr<Source> frame_lines_out(std::unique_ptr<Source> source, const Framing& framing,
                                        std::size_t datagram_size);

// A datagram socket's source: keeps its senders for --prefix peer; lines for --lines (sending side).
std::unique_ptr<Source> frame_datagram_input(std::unique_ptr<UdpSource> source, const Framing& framing,
                                             std::size_t datagram_size);

// One accepted stream connection's source, named `name` in logs and
// `endpoint` (the listen address's, with its scheme) in stats, from `peer`:
// receiving --lines: cut into lines (stream_lines); sending --lines: whole
// lines in datagrams of at most datagram_size; else chunks of datagram_size.
std::unique_ptr<Source> frame_stream_input(net::UniqueFd connection, std::string name, const std::string& endpoint,
                                           const net::Address& peer, const Framing& framing,
                                           std::size_t datagram_size);

// `sinks` with the first (the log, not --tee's copy) in a LineSink with receiving --lines.
std::vector<std::unique_ptr<Sink>> frame_sinks(std::vector<std::unique_ptr<Sink>> sinks, const Framing& framing);

}  // namespace netdisp::stage
