#pragma once
// Endpoint text: `[scheme://]rest[?name=value&...]`, the URI form that
// srt-live-transmit, ffmpeg and gstreamer users know. This file only cuts the
// text apart; which schemes exist and which parameters each accepts is the
// scheme table's business (stage/schemes.cpp).
//
// Rules:
//   - no "://": scheme "udp", had_scheme false (every address that worked
//     before schemes still does); the scheme is lowercased and must be
//     letters, digits, '+', '-', '.' starting with a letter (RFC 3986);
//   - the query starts at the first '?'; parameters are separated by '&',
//     each is name=value with a non-empty name (the value may be empty);
//     repeated names are kept, in order (source=A&source=B);
//   - percent-escapes (%3F, %26, %25...) are decoded in parameter names and
//     values; `rest` is left as written, since an IPv6 scope is written
//     with '%' ("[fe80::1%eth0]:5000"); parse_unix_endpoint_path decodes a
//     Unix path itself. A '%' not followed by two hex digits stays as is.
// Throws UsageError naming the text and what is wrong.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/address.h"

namespace netdisp::net {

struct EndpointText {
  std::string scheme;     // lowercased; "udp" when none was written
  bool had_scheme = false;
  std::string rest;       // between "://" (or the start) and '?': "h:p", "/path"
  std::vector<std::pair<std::string, std::string>> params;
};

EndpointText split_endpoint(std::string_view text);

// The address of a unix:// or unixgram:// endpoint from its `rest`:
//   unix:///run/x.sock -> rest "/run/x.sock": that file (absolute paths only)
//   unix://@name       -> rest "@name": the Linux abstract name "name"
// Anything else is a UsageError: "unix://host/x" names a host, which a Unix
// socket does not have, and "unix://x.sock" would read the same way, so
// relative paths are refused too ("write unix:///abs/path"). Percent-escapes
// in the path are decoded. `scheme` only names the scheme in messages.
Address parse_unix_endpoint_path(std::string_view rest, std::string_view scheme = "unix");

// %XX escapes decoded; a '%' without two hex digits after it is kept.
std::string percent_decode(std::string_view text);

// The endpoint text as messages and logs may show it: credentials written
// as user:pass@ (or token@) before a host are removed, and the values of
// secret parameters (token=, password=, passphrase=) become "***".
std::string redact_endpoint(std::string_view text);

}  // namespace netdisp::net
