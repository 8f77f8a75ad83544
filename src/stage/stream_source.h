#pragma once
// StreamSource: a byte stream read from any fd (a regular file, a device, a
// fifo, stdin, or a connected TCP/Unix socket an acceptor hands over) and cut
// into datagrams of exactly datagram_size bytes. Short reads are joined: a
// datagram leaves shorter only at end of input, or once the input has been
// idle for flush_after (0: as soon as nothing more is waiting), so
// fixed-size records (1316-byte MPEG-TS) arrive aligned and `tail -F |`
// stays live. poll_fd() wakes the pipe for that idle deadline as well.
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "net/address.h"
#include "net/unique_fd.h"
#include "stage/io.h"
#include "stage/source.h"
#include "stage/wake_timer.h"

namespace netdisp::stage {

// --flush-after's default: a pause of 5 ms ends a datagram.
inline constexpr std::chrono::milliseconds kDefaultFlushAfter{5};
// Its default where --lines joins the payloads of datagrams (the proxy): the
// rest of a line a datagram cut comes with the next one, after the network's
// and the scheduler's delays. At 5 ms a loaded machine split a line between
// two 8 KiB datagrams sent 1.3 ms apart (e2e lines_proxy).
inline constexpr std::chrono::milliseconds kDatagramLinesFlushAfter{200};

class StreamSource final : public Source {
 public:
  // `name` is what logs and stats call the input ("file app.log", "tcp 1.2.3.4:5").
  // Throws net::Error when the fd is a directory or cannot be polled.
  StreamSource(net::UniqueFd fd, std::string name, std::size_t datagram_size, std::chrono::milliseconds flush_after);

  ReadStatus read(Batch& batch) override;
  int poll_fd() const override { return wake_.handle(); }
  // "NAME: read N bytes into D datagrams (F sent short after --flush-after idle)[ (end of input)]"
  void report(StatsRows& rows) const override;
  std::string name() const override { return name_; }

  bool reached_end() const { return reached_end_; }  // safe from any thread
  std::uint64_t bytes_read() const { return get(bytes_); }
  std::uint64_t datagrams() const { return get(datagrams_); }
  std::uint64_t idle_flushes() const { return get(idle_flushes_); }
  // A connection's sender: every batch then names it (Batch::peers holds this one address).
  void set_peer(const net::Address& peer) { peer_ = peer; }
  // What the stats rows call it: a connection's listen endpoint and its peer
  // ("tcp://0.0.0.0:9921", "127.0.0.1:40000"); the name by default.
  void set_endpoint(std::string endpoint, std::string peer) {
    endpoint_ = std::move(endpoint);
    peer_name_ = std::move(peer);
  }

 private:
  enum class Fill { kReady, kIdle, kEnd };
  Fill fill();
  ReadStatus emit(Batch& batch, bool with_tail);

  net::UniqueFd fd_;
  std::string name_;
  std::string endpoint_, peer_name_;
  std::size_t datagram_size_;
  std::chrono::milliseconds flush_after_;
  std::size_t block_size_;
  Arena arena_;
  std::size_t filled_ = 0;    // bytes in the arena, from its start
  std::size_t consumed_ = 0;  // of those, handed out by the last read()
  bool always_ready_ = false;  // regular files and block devices never block
  bool end_seen_ = false;      // read() returned 0; kEnd once the arena is empty
  std::atomic<bool> reached_end_{false};
  WakeTimer wake_;
  WakeTimer::Clock::time_point last_data_{};
  std::vector<iovec> out_;
  std::optional<net::Address> peer_;
  Counter datagrams_{0}, bytes_{0}, idle_flushes_{0};
};

}  // namespace netdisp::stage
