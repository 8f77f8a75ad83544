#pragma once
// The framing options (stage/framing.h says what they do): each mode
// registers those it has and reads them into a stage::Framing.
//   client, proxy: --lines[=N], --flush-after
//   server: --lines, --prefix (--max-line, --line-timeout with stream inputs)
#include <cxxopts.hpp>

#include "stage/framing.h"

namespace netdisp::modes {

// Which input a sending mode cuts into datagrams, for --flush-after's default.
enum class SendInput { kRead, kDatagrams };  // client: a file or pipe; proxy: datagrams (and streams)

// --lines[=N] and --flush-after MS.
void add_send_framing_options(cxxopts::Options& options, SendInput input);
// --lines and --prefix; --max-line and --line-timeout when the mode has stream inputs.
void add_receive_framing_options(cxxopts::Options& options, bool stream_inputs);

// Read the options above into `framing` (those the mode registered); throw
// net::UsageError naming a bad one.
void read_send_framing(const cxxopts::ParseResult& args, SendInput input, stage::Framing& framing);
void read_receive_framing(const cxxopts::ParseResult& args, stage::Framing& framing);

}  // namespace netdisp::modes
