#include "modes/framing.h"

#include <charconv>

#include "modes/common.h"
#include "net/error.h"

namespace netdisp::modes {
namespace {

bool given(const cxxopts::ParseResult& args, const std::string& name) {
  try {
    return args.count(name) > 0;
  } catch (const cxxopts::exceptions::exception&) {  // not registered by this mode
    return false;
  }
}

}  // namespace

void add_send_framing_options(cxxopts::Options& options, SendInput input) {
  options.add_options()
      ("lines", "send whole lines: every datagram ends on a line end and holds at most N lines (--lines: as "
                "many as fit; --lines=1: one line per datagram, for syslog and NMEA receivers); a longer line "
                "is split (counted; default: off)",
       cxxopts::value<std::string>()->implicit_value("0"), "N");
  if (input == SendInput::kRead)
    options.add_options()
        ("flush-after,flush_after", "fill every datagram from the input; send a shorter one only at end of "
         "input or after the input was idle for MS milliseconds (default 5)", cxxopts::value<std::string>(), "MS");
  else
    options.add_options()
        ("flush-after,flush_after", "a stream listen address's bytes fill datagrams, sent shorter once the "
         "connection was idle for MS milliseconds (default 5); with --lines, an unterminated line is sent once "
         "no more data came for MS milliseconds (default 200: a datagram may cut a line)",
         cxxopts::value<std::string>(), "MS");
}

void add_receive_framing_options(cxxopts::Options& options, bool stream_inputs) {
  options.add_options()
      ("lines", "write whole lines only: a datagram that does not end in a newline ends its last line anyway "
                "(the newline added is counted), as rsyslog does")
      ("prefix", "with --lines, put before every line the receive time (RFC 3339, UTC, microseconds: "
                 "2026-12-02T05:01:02.123456Z) and/or the sender's address, space-separated: time, peer or "
                 "time,peer (default: nothing)", cxxopts::value<std::string>(), "WHAT");
  if (stream_inputs)
    options.add_options()
        ("max-line,max_line", "with --lines, a stream connection's line longer than this is written in pieces "
                              "(counted; default 64KiB)", cxxopts::value<std::string>(), "BYTES")
        ("line-timeout,line_timeout", "with --lines, a stream connection's unterminated line is written (a "
                                      "newline added) after MS milliseconds without more data (default 1000)",
         cxxopts::value<std::string>(), "MS");
}

void read_send_framing(const cxxopts::ParseResult& args, SendInput input, stage::Framing& framing) {
  if (args.count("lines")) {
    std::string text = single(args, "lines", "0");
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n > 1'000'000)
      throw net::UsageError("--lines=" + text + ": expected a number of lines per datagram (e.g. --lines=1)");
    framing.send_lines = n;
  }
  if (given(args, "flush-after"))
    framing.flush_after = std::chrono::milliseconds(static_cast<long>(number(args, "flush-after", 5, 0, 60000)));
  else if (input == SendInput::kDatagrams && framing.send_lines)
    framing.flush_after = stage::kDatagramLinesFlushAfter;
}

void read_receive_framing(const cxxopts::ParseResult& args, stage::Framing& framing) {
  framing.receive_lines = args.count("lines") > 0;
  bool needs_lines = false;
  if (args.count("prefix")) {
    framing.prefix = stage::parse_line_prefix(single(args, "prefix", ""));
    needs_lines = true;
  }
  if (given(args, "max-line")) {
    framing.max_line = bytes_option(args, "max-line", stage::kDefaultMaxLine, 1, 64 << 20);
    needs_lines = true;
  }
  if (given(args, "line-timeout")) {
    framing.line_timeout =
        std::chrono::milliseconds(static_cast<long>(number(args, "line-timeout", 1000, 1, 3'600'000)));
    needs_lines = true;
  }
  if (needs_lines && !framing.receive_lines)
    throw net::UsageError("--prefix, --max-line and --line-timeout work on lines: add --lines");
}

}  // namespace netdisp::modes
