#pragma once
// The framing options (stage/framing.h says what they do): each mode
// registers those it has and reads them into a stage::Framing.
//   client: --lines[=N], --flush-after    proxy: --lines[=N]
//   server: --lines, --prefix (--max-line, --line-timeout with stream inputs)
#include <cxxopts.hpp>

#include "stage/framing.h"

namespace netdisp::modes {

// --lines[=N]; --flush-after MS too when the mode reads a stream (`flush_after`).
void add_send_framing_options(cxxopts::Options& options, bool flush_after);
// --lines and --prefix; --max-line and --line-timeout when the mode has stream inputs.
void add_receive_framing_options(cxxopts::Options& options, bool stream_inputs);

// Read the options above into `framing` (those the mode registered); throw
// net::UsageError naming a bad one.
void read_send_framing(const cxxopts::ParseResult& args, stage::Framing& framing);
void read_receive_framing(const cxxopts::ParseResult& args, stage::Framing& framing);

}  // namespace netdisp::modes
