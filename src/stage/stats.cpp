#include "stage/stats.h"

#include <array>

namespace netdisp::stage {
namespace {

constexpr std::array<StatInfo, static_cast<std::size_t>(Stat::kCount)> kStats = {{
    {"datagrams", "datagrams received or read (sources), sent or written (sinks)", false},
    {"bytes", "bytes received or read (sources), sent or written (sinks)", false},
    {"kernel_drops", "drops the kernel counted on the receive queue (with GRO, a drop may be a coalesced message)",
     false},
    {"refused", "datagrams from peers outside --allow, dropped", false},
    {"truncated", "datagrams longer than a receive slot, cut", false},
    {"discarded_datagrams", "datagrams still queued at stop after --drain-timeout, discarded", false},
    {"discarded_bytes", "bytes still queued at stop after --drain-timeout, discarded", false},
    {"send_errors", "datagrams not sent because the send failed", false},
    {"unreachable", "ICMP port unreachable reports (nobody listening)", false},
    {"icmp_errors", "other ICMP error reports", false},
    {"write_errors", "failed writes", false},
    {"lost_bytes", "bytes lost to write errors", false},
    {"detached_bytes", "bytes written to a file no longer at its path (reopen failed)", false},
    {"dropped_datagrams", "datagrams dropped whole because the peer was too slow", false},
    {"dropped_bytes", "bytes dropped because the peer was too slow", false},
    {"away_datagrams", "datagrams dropped while reconnecting", false},
    {"away_bytes", "bytes dropped while reconnecting", false},
    {"at_stop_bytes", "bytes still waiting for the peer at stop", false},
    {"not_sent_bytes", "bytes given up: at a stop, a timeout or a failure", false},
    {"reconnects", "connections remade after a break", false},
    {"possibly_lost_bytes", "bytes handed to the kernel but not acknowledged at a break", false},
    {"long_lines", "--lines: lines longer than the limit, sent or written in pieces", false},
    {"unterminated_lines", "--lines: unterminated lines given a newline", false},
    {"accepted", "stream connections accepted", false},
    {"refused_clients", "stream connections refused by --allow", false},
    {"over_limit_clients", "stream connections closed at once: --max-clients reached", false},
    {"failed_clients", "stream connections whose pipe could not start", false},
    {"clients", "stream connections open now", true},
    {"buffered_bytes", "bytes waiting in the stage's buffer for a slow peer now", true},
    {"norm_receivers", "norm:// senders: NORM receivers heard from", false},
    {"norm_acknowledged", "norm:// senders: receivers that acknowledged the whole stream", false},
    {"norm_senders", "norm:// receivers: NORM senders heard", false},
    {"norm_breaks", "norm:// receivers: gaps in a stream that NORM could not repair in time", false},
    {"norm_skipped_bytes", "norm:// receivers: bytes skipped after such gaps (lost; a lower bound)", false},
    {"publish_errors", "JetStream publications that failed or were not acknowledged", false},
    {"js_acks_pending", "JetStream publications waiting for their acknowledgement now", true},
    {"redelivered", "JetStream messages received again (unacknowledged in time, or left unwritten at a stop)",
     false},
    {"slow_consumer_drops", "nats:// listeners: messages the NATS library dropped because the subscriber fell behind "
     "(its pending limit, --rcvbuf)", false},
    {"srt_packets_sent", "srt:// senders: packets sent, retransmissions included", false},
    {"srt_packets_received", "srt:// receivers: packets received", false},
    {"srt_retransmitted_packets", "srt://: packets sent again (senders) or received again (receivers)", false},
    {"srt_lost_packets", "srt://: packets reported lost, then repaired or dropped", false},
    {"srt_dropped_too_late_packets", "srt://: packets given up as too late for the latency (live mode)", false},
    {"rtt_ms", "srt://: the connection's round-trip time in milliseconds", true},
    {"bandwidth_mbps", "srt://: the library's estimate of the link's bandwidth in Mbit/s", true},
    {"srt_tail_probes", "srt:// transtype=file: end-of-data probes sent after the input ended while its tail was "
     "unacknowledged (senders), or received and dropped (receivers)", false},
    {"srt_lost_at_end_bytes", "srt:// receivers: bytes received behind a gap that was never repaired when a "
     "connection ended, never handed on (lost)", false},
}};

}  // namespace

const StatInfo& info(Stat stat) { return kStats[static_cast<std::size_t>(stat)]; }

StageStats& StageStats::set(Stat stat, std::uint64_t value) {
  for (auto& [which, old] : values)
    if (which == stat) {
      old = value;
      return *this;
    }
  values.emplace_back(stat, value);
  return *this;
}

std::uint64_t StageStats::get(Stat stat) const {
  for (const auto& [which, value] : values)
    if (which == stat) return value;
  return 0;
}

std::string_view role_name(StageStats::Role role) {
  switch (role) {
    case StageStats::Role::kSource: return "source";
    case StageStats::Role::kSink: return "sink";
    case StageStats::Role::kListener: return "listener";
  }
  return "stage";
}

std::string endpoint_name(std::string_view scheme, std::string_view address) {
  std::string name(scheme);
  name += "://";
  name += address;
  return name;
}

std::string text_of(const StatsRows& rows) {
  std::string text;
  for (const StageStats& row : rows) {
    if (!text.empty()) text += '\n';
    text += row.text;
  }
  return text;
}

}  // namespace netdisp::stage
