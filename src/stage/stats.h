#pragma once
// StageStats: one stage's counters, by name, for every way they are shown:
// the text lines of the summary and SIGUSR1, --stats-format json and
// --metrics-addr. The names are a stable interface (README, "Monitoring"):
// a JSON key, and the Prometheus metric netdisp_<role>_<name>[_total].
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netdisp::stage {

// Every counter and gauge a stage can report. Append new ones; never rename.
enum class Stat : std::uint8_t {
  kDatagrams,             // received / read (sources), sent / written (sinks)
  kBytes,
  kKernelDrops,           // the kernel's receive-queue drops (SO_RXQ_OVFL, SO_MEMINFO)
  kRefused,               // datagrams from peers outside --allow
  kTruncated,             // datagrams longer than a receive slot, cut
  kDiscardedDatagrams,    // still queued at stop after --drain-timeout
  kDiscardedBytes,
  kSendErrors,            // datagrams a send failed for
  kUnreachable,           // ICMP port unreachable reports
  kIcmpErrors,            // other ICMP error reports
  kWriteErrors,
  kLostBytes,             // bytes lost to write errors
  kDetachedBytes,         // written to a file no longer at its path
  kDroppedDatagrams,      // dropped whole: the peer was too slow (a full buffer)
  kDroppedBytes,
  kAwayDatagrams,         // dropped while reconnecting
  kAwayBytes,
  kAtStopBytes,           // still waiting for the peer at stop
  kNotSentBytes,          // given up: at a stop, a timeout, a failure
  kReconnects,
  kPossiblyLostBytes,     // handed to the kernel, unacknowledged at a break
  kLongLines,             // --lines: lines sent or written in pieces
  kUnterminatedLines,     // --lines: newlines added
  kAccepted,              // stream connections accepted
  kRefusedClients,        // connections refused by --allow
  kOverLimitClients,      // connections closed at once: --max-clients
  kFailedClients,         // connections whose pipe could not start
  kClients,               // gauge: connected now
  kBufferedBytes,         // gauge: waiting in the stage's buffer now
  kNormReceivers,         // norm:// sender: receivers heard from
  kNormAcknowledged,      // norm:// sender: receivers that acknowledged the whole stream
  kNormSenders,           // norm:// receiver: senders heard
  kNormBreaks,            // norm:// receiver: gaps NORM could not repair in time
  kNormSkippedBytes,      // norm:// receiver: bytes skipped after those gaps
  kPublishErrors,         // JetStream: publications the stream did not acknowledge (an error, a timeout)
  kJsAcksPending,         // gauge: JetStream publications not acknowledged yet
  kRedelivered,           // JetStream: messages received again (not acknowledged in time, or left at a stop)
  kSlowConsumerDrops,     // nats://: messages the library dropped for a subscriber that fell behind
  kSrtPacketsSent,        // srt://: packets the library sent (retransmissions included)
  kSrtPacketsReceived,    // srt://: packets the library received
  kSrtRetransmitted,      // srt://: packets sent again (sender) or received again (receiver)
  kSrtLost,               // srt://: packets reported lost (and then repaired, or dropped)
  kSrtDroppedTooLate,     // srt://: packets given up as too late for the latency (live mode)
  kRttMs,                 // gauge: srt://: round-trip time, ms
  kBandwidthMbps,         // gauge: srt://: the library's estimate of the link's bandwidth, Mbit/s
  kSrtTailProbes,         // srt:// transtype=file: end-of-data probes sent (senders) or dropped (receivers)
  kSrtLostAtEndBytes,     // srt:// receivers: bytes held behind a gap never repaired when a connection ended
  kCount
};

struct StatInfo {
  std::string_view name;  // JSON key and metric name part
  std::string_view help;  // the metric's # HELP
  bool gauge;             // a value now, not a running total
};
const StatInfo& info(Stat stat);

struct StageStats {
  enum class Role : std::uint8_t { kSource, kSink, kListener };
  Role role = Role::kSource;
  std::string endpoint;  // with its scheme: "udp://0.0.0.0:9921", "file:///var/log/app.log", "stdout:"
  std::string peer;      // a stream connection's peer address ("127.0.0.1:40000"), else empty
  std::string input;     // a sink's: the endpoint its pipe reads (set by the pipe)
  std::string text;      // the human line of the summary
  std::vector<std::pair<Stat, std::uint64_t>> values;

  StageStats& set(Stat stat, std::uint64_t value);  // adds, or replaces the value set before
  std::uint64_t get(Stat stat) const;  // 0 when not set
};
using StatsRows = std::vector<StageStats>;

std::string_view role_name(StageStats::Role role);  // "source", "sink", "listener"

// "udp" + "0.0.0.0:9921" -> "udp://0.0.0.0:9921"; a path keeps its own slash:
// "unix" + "/run/x.sock" -> "unix:///run/x.sock".
std::string endpoint_name(std::string_view scheme, std::string_view address);

// The rows' texts, one per line (what the summary prints).
std::string text_of(const StatsRows& rows);

}  // namespace netdisp::stage
