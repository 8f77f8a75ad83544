#pragma once
// LineSink (--lines on the server): writes datagrams as whole lines, the
// convention of rsyslog's imudp: a datagram holds one or more whole lines,
// and one that does not end in '\n' ends its last line anyway (the newline
// added is counted). An empty datagram writes nothing. Each batch is written
// to the inner sink (a log file, stdout) in one call, so a file opened for
// appending never gets a line of another writer in the middle of one of ours.
//
// --prefix puts, space-separated before every line, the receive time as an
// RFC 3339 UTC timestamp with microseconds (2026-12-02T05:01:02.123456Z,
// taken once per batch) and/or the sender's address as Address::to_string
// prints it ("1.2.3.4:5", "[::1]:5", a unix path): "TIME PEER line\n".
// The peer comes from Batch::peers, or is the connection's peer given here
// (a stream connection); "-" when neither is known.
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/address.h"
#include "stage/io.h"
#include "stage/sink.h"

namespace netdisp::stage {

struct LinePrefix {
  bool time = false;
  bool peer = false;
  bool any() const { return time || peer; }
};

// "time", "peer", "time,peer" (or "peer,time"); throws net::UsageError naming --prefix otherwise.
LinePrefix parse_line_prefix(const std::string& text);

class LineSink final : public Sink {
 public:
  LineSink(std::unique_ptr<Sink> inner, LinePrefix prefix, std::optional<net::Address> peer = std::nullopt);

  bool write(const Batch& batch) override;
  void flush() override { inner_->flush(); }
  pollfd watch() const override { return inner_->watch(); }
  bool on_ready(short revents) override { return inner_->on_ready(revents); }
  std::vector<std::string> undelivered() const override { return inner_->undelivered(); }
  // The inner sink's line, then "; --lines: N newlines added to unterminated datagrams".
  void report(StatsRows& rows) const override;

 private:
  bool append(const iovec& datagram, std::string_view prefix);
  std::string_view peer_text(const net::Address& peer);
  bool write_out();

  std::unique_ptr<Sink> inner_;
  LinePrefix prefix_;
  std::optional<net::Address> fixed_peer_;
  std::vector<char> buffer_;   // the batch as written: prefixes, lines, added newlines
  std::vector<iovec> parts_;   // one per datagram, into buffer_
  std::vector<std::size_t> ends_;  // where each datagram's text ends in buffer_
  std::string prefix_text_;
  // Recently seen senders' texts, so a steady set of senders costs no allocation.
  struct CachedPeer {
    net::Address address;
    std::string text;
  };
  std::array<CachedPeer, 32> peers_{};
  std::size_t next_peer_slot_ = 0;
  Counter added_newlines_{0};
};

}  // namespace netdisp::stage
