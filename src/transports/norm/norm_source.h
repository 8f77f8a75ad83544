#pragma once
// NormSource: a norm:// listen endpoint, a NORM receiver of every sender in
// the session. It reads each sender's stream into its arena and hands out
// the datagrams (norm_session.h: length-framed messages) as a Batch. Where
// the library could not repair a gap in time, the stream breaks: the source
// resumes at the next message start and counts the bytes it skipped.
// poll_fd() is the library's descriptor; read() takes its events.
#include <memory>
#include <string>
#include <vector>

#include "stage/batch.h"
#include "stage/io.h"
#include "stage/source.h"
#include "stage/wake_timer.h"
#include "transports/norm/norm_session.h"

namespace netdisp::transports::norm {

class NormSource final : public stage::Source {
 public:
  // Where a receiver starts in a stream it finds running: at its first byte
  // (a server or proxy listening: every byte the sender still holds is
  // repaired, and one whose first packets were lost does not start at a
  // later datagram), or at the next datagram from where it joined (a
  // reverse-proxy subscriber: a live channel from now on).
  enum class Join { kFromStart, kFromNow };

  // Throws net::Error when the library refuses the session (a port in use ...).
  NormSource(const stage::Endpoint& endpoint, const Params& params, const net::SocketOptions& sockets, Join join);
  ~NormSource() override;  // releases the streams it retained, before the session goes

  stage::ReadStatus read(stage::Batch& batch) override;
  int poll_fd() const override { return wake_.handle(); }
  void report(stage::StatsRows& rows) const override;
  std::string name() const override { return label_; }
  bool drains() const override { return true; }
  void discard_queued() override;

 private:
  struct Stream {
    NormObjectHandle handle;
    NormNodeId sender;
    bool readable = true;
    bool synced = false;                // at a message start
    bool closed = false;                // by its sender (RX_OBJECT_COMPLETED)
    bool delivered = false;             // a datagram of it was handed out
    bool joined = false;                // where this receiver started in it was logged
    stage::WakeTimer::Clock::time_point last_data{};  // when a read last gave bytes
    std::vector<char> partial;          // the start of a datagram not read whole yet
  };
  bool retry_reads(const Stream& stream, stage::WakeTimer::Clock::time_point now) const;
  std::size_t collect();  // fills views_ from every readable stream; their bytes
  void take_events();
  Stream* find(NormObjectHandle handle);
  void forget(NormObjectHandle handle);
  void fill(Stream& stream, std::size_t& used);
  void resync(Stream& stream, const char* why);
  void log_join(Stream& stream);

  std::string label_;
  Join join_;
  Session session_;
  stage::WakeTimer wake_;  // the library's descriptor, and the retry of reads (retry_reads)
  stage::Arena arena_;
  std::vector<Stream> streams_;
  std::vector<iovec> views_;
  stage::Counter datagrams_{0}, bytes_{0}, breaks_{0}, skipped_bytes_{0}, senders_{0};
  stage::Counter discarded_bytes_{0};
  stage::LogLimit break_log_;
};

}  // namespace netdisp::transports::norm
