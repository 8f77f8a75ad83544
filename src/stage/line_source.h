#pragma once
// LineSource (--lines[=N] on client and proxy): takes the bytes of another
// source as one stream (a file's, or the payloads of the datagrams a proxy
// receives, concatenated) and sends them again as datagrams that end on a
// line boundary ('\n') and hold at most max_lines whole lines (0: as many as
// fit in datagram_size). --lines=1 is one line per datagram, what syslog
// receivers and NMEA consumers expect.
//   - A line longer than datagram_size is sent in pieces of datagram_size
//     bytes, its last piece ending the line: counted, warned once.
//   - An unterminated last line is sent as it is at end of input, or once
//     the input has been idle for flush_after (counted).
// The bytes are copied once into the source's own buffer: a line may span
// two reads of the inner source.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/address.h"
#include "stage/io.h"
#include "stage/source.h"
#include "stage/wake_timer.h"

namespace netdisp::stage {

class LineSource final : public Source {
 public:
  // `limit_option` names datagram_size in the warning and stats ("--datagram-size", "--max-line").
  LineSource(std::unique_ptr<Source> inner, std::size_t datagram_size, std::size_t max_lines,
             std::chrono::milliseconds flush_after, std::string limit_option = "--datagram-size");

  ReadStatus read(Batch& batch) override;
  int poll_fd() const override { return wake_.handle(); }
  // The inner source's line, then "; --lines: D datagrams of whole lines, S lines longer than
  // --datagram-size sent in pieces, U unterminated lines sent".
  void report(StatsRows& rows) const override;
  std::string name() const override { return inner_->name(); }
  bool drains() const override { return inner_->drains(); }
  void discard_queued() override;

 private:
  enum class Pull { kData, kIdle, kEnd, kFull };
  Pull pull();
  void cut(bool with_tail);
  std::size_t line_end(std::size_t from, std::size_t window) const;

  std::unique_ptr<Source> inner_;
  std::size_t datagram_size_;
  std::size_t max_lines_;
  std::string limit_option_;
  std::chrono::milliseconds flush_after_;
  Arena arena_;
  std::size_t filled_ = 0;    // bytes in the arena, from its start
  std::size_t consumed_ = 0;  // of those, handed out by the last read()
  Batch inner_batch_;         // what the inner source gave and is not copied yet
  std::size_t inner_index_ = 0, inner_offset_ = 0;
  bool inner_ended_ = false;
  bool in_long_line_ = false;  // the last datagram was a piece of a line longer than datagram_size
  WakeTimer wake_;
  WakeTimer::Clock::time_point last_data_{};
  std::vector<iovec> out_;
  std::size_t out_bytes_ = 0;
  bool warned_long_ = false;
  std::optional<net::Address> peer_;  // the inner source's one sender (a stream connection's), passed on
  Counter datagrams_{0}, long_lines_{0}, unterminated_{0};
};

// A stream connection to a --lines receiver is a LineSource(max_line, all
// that fit, line_timeout) over its StreamSource (framing.h): whole lines in
// datagrams of at most max_line bytes; a longer line in pieces of max_line
// bytes (counted); an unterminated tail when the connection closes or after
// line_timeout without more data. The LineSink after it ends each such piece
// and tail with a newline (counted): the log holds whole lines only.
inline constexpr std::size_t kDefaultMaxLine = 64 * 1024;             // --max-line
inline constexpr std::chrono::milliseconds kDefaultLineTimeout{1000};  // --line-timeout
inline constexpr std::size_t kStreamLineChunk = 64 * 1024;            // what its reader reads at a time

}  // namespace netdisp::stage
