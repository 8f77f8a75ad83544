#pragma once
// What every mode shares: option groups, parsing with one-line usage errors,
// address lists, logging set-up.
#include <chrono>
#include <cxxopts.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/address.h"
#include "net/cidr.h"
#include "modes/monitor.h"
#include "modes/supervisor.h"
#include "net/udp_socket.h"
#include "stage/schemes.h"

namespace netdisp::stage {
class Control;
class Pipe;
class Sink;
}

namespace netdisp::modes {

// Receive buffer asked for by sockets that take a stream: large enough to
// ride out a burst while the thread writes the previous batch. The kernel
// charges each datagram's whole allocation (an 8192-byte datagram costs
// 16,640 bytes), so 64 MiB held only about 63 MiB of 8192-byte payload and lost
// data at the end of 256 MiB bursts at 8 Gbit/s. It is kernel memory used only
// while the reader is behind, capped for all sockets by net.ipv4.udp_mem.
inline constexpr int kDefaultRcvbuf = 256 << 20;
// UDP GSO/GRO defaults (docs/benchmarks.md): both on, as faster and lossless.
// GSO: a proxy of 512-byte datagrams at 1 Gbit/s to two receivers lost 59%
// without it (out of CPU), none with it; the client sends 8192-byte datagrams
// about 1.5x faster. GRO: a server takes GSO senders' streams as 64 KB
// messages, about 2x the goodput at 1472 and 8192 bytes. It stays on though
// the kernel then counts a coalesced message dropped whole as one drop
// (UdpSource::stats names that and its bound): issue 9 measured half the
// server's CPU and less loss in 3 of 4 overflowing cases (docs/benchmarks.md).
inline constexpr bool kDefaultGso = true;
inline constexpr bool kDefaultGro = true;

// Options every mode has: -h/--help, -v/--verbose, -q/--quiet, and the
// monitoring ones (modes/monitor.h).
cxxopts::Options make_options(const std::string& program, const std::string& help);

// What a mode's sockets do: each mode lists (and accepts) only the socket
// options that act on what it does, so an option it would ignore is an
// "unknown option" instead of a silent no-op.
struct SocketRoles {
  bool listens = false;  // --rcvbuf, --allow, --reuse-port, --gro
  bool sends = false;    // --gso, --sndbuf, --multicast-ttl, --multicast-loop
};
// The socket options of `roles`, plus --bind-device for every mode.
void add_socket_options(cxxopts::Options& options, SocketRoles roles);
// --multicast-if (joins and sends), and --multicast-ttl, --multicast-loop when the mode sends.
void add_multicast_options(cxxopts::Options& options, SocketRoles roles);
// Stream destinations (tcp://, unix://): --reconnect, --reconnect-timeout, and
// --stream-buffer where live input must never wait for them (the proxy).
void add_stream_options(cxxopts::Options& options, bool live_input);
// --reconnect-timeout in milliseconds; 0 with --reconnect off.
std::chrono::milliseconds reconnect_timeout(const cxxopts::ParseResult& result);

// Parses argv; a malformed command line throws net::UsageError with
// cxxopts' message. Prints the help and returns false for -h/--help. Also
// sets the log level from -v/-q.
bool parse(cxxopts::Options& options, int argc, char** argv, cxxopts::ParseResult& result);

// The option's value(s); throws UsageError "--name is required" when absent
// and "--name is given twice" for a single value given more than once.
std::string required(const cxxopts::ParseResult& result, const std::string& name);
std::string single(const cxxopts::ParseResult& result, const std::string& name, const std::string& fallback);

// A numeric option (registered as a string, so the error can name it): its
// value, or `fallback` when absent; UsageError unless it is in [min, max].
double number(const cxxopts::ParseResult& result, const std::string& name, double fallback, double min, double max);
// A size in bytes, with the suffixes of parse_bytes(); UsageError unless in [min, max].
std::uint64_t bytes_option(const cxxopts::ParseResult& result, const std::string& name, std::uint64_t fallback,
                           std::uint64_t min, std::uint64_t max);
std::vector<std::string> required_list(const cxxopts::ParseResult& result, const std::string& name);

// Parses every text; listening addresses must also be distinct.
std::vector<net::Address> parse_addresses(const std::vector<std::string>& texts, net::PortRule rule,
                                          const std::string& option);

net::SocketOptions socket_options(const cxxopts::ParseResult& result);
net::AccessList access_list(const cxxopts::ParseResult& result);
bool gso_enabled(const cxxopts::ParseResult& result);  // --gso

// "100M", "100Mbit", "100Mbit/s", "100Mbps" -> 100e6: bits per second with an
// optional k/K, M or G (x1000) prefix. A lowercase "m" (milli) and byte units
// are refused. Throws UsageError naming --rate.
double parse_rate(const std::string& text);

// "4096", "64k", "64KiB", "256M", "1G" -> bytes: k/K/KiB, M/MiB, G/GiB are
// powers of 1024 (as the help prints them); kB/KB, MB, GB are powers of 1000,
// as in dd(1). Throws UsageError naming `option`.
std::uint64_t parse_bytes(const std::string& text, const std::string& option);

using SinkMaker = stage::SinkMaker;

// The input of a listening mode for one endpoint (scheme table): a datagram
// socket's pipe, or a stream listener's acceptor with one pipe per
// connection. Every input feeds what `make_sinks` returns, and stdout too
// with --tee. A non-empty `label` is logged as "SCHEME BOUND -> label".
std::unique_ptr<stage::Worker> open_listener(const stage::Endpoint& endpoint, stage::InputSettings inputs,
                                             const SinkMaker& make_sinks, bool tee, const std::string& label = "");

// --rcvbuf and the other socket options, --allow, --max-clients (stream
// listeners); stream input becomes datagrams of at most `datagram_size`.
stage::InputSettings input_settings(const cxxopts::ParseResult& result, std::size_t datagram_size);

// Every worker's rows of counters, in order.
stage::StatsRows all_stats(const std::vector<std::unique_ptr<stage::Worker>>& workers);

// One thread per worker, under a Supervisor, until a signal; returns the exit code.
int run_workers(stage::Control& control, std::vector<std::unique_ptr<stage::Worker>>& workers, OnHangup on_hangup,
                const Monitoring& monitoring);

}  // namespace netdisp::modes

