#include "net/endpoint.h"

#include <cctype>

#include "net/error.h"

namespace netdisp::net {
namespace {

[[noreturn]] void bad(std::string_view text, const std::string& why) {
  throw UsageError("endpoint '" + redact_endpoint(text) + "': " + why);
}

bool secret_param(std::string_view name) { return name == "token" || name == "password" || name == "passphrase"; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool valid_scheme(std::string_view scheme) {
  if (scheme.empty() || !std::isalpha(static_cast<unsigned char>(scheme.front()))) return false;
  for (char c : scheme)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  return true;
}

void split_query(std::string_view text, std::string_view query, EndpointText& out) {
  if (query.empty()) return;  // "h:p?" has no parameters
  for (bool more = true; more;) {
    auto amp = query.find('&');
    more = amp != std::string_view::npos;
    std::string_view item = query.substr(0, amp);
    if (more) query.remove_prefix(amp + 1);
    if (item.empty()) bad(text, "empty query parameter (two '&' in a row, or a trailing '&')");
    auto equals = item.find('=');
    if (equals == std::string_view::npos)
      bad(text, "query parameter '" + std::string(item) + "' has no value (expected name=value)");
    if (equals == 0) bad(text, "query parameter '" + std::string(item) + "' has no name (expected name=value)");
    out.params.emplace_back(percent_decode(item.substr(0, equals)), percent_decode(item.substr(equals + 1)));
  }
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    int high = -1, low = -1;
    if (text[i] == '%' && i + 2 < text.size()) {
      high = hex_value(text[i + 1]);
      low = hex_value(text[i + 2]);
    }
    if (high >= 0 && low >= 0) {
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

EndpointText split_endpoint(std::string_view text) {
  EndpointText out;
  std::string_view body = text;
  auto separator = text.find("://");
  if (separator == std::string_view::npos) {
    out.scheme = "udp";
  } else {
    std::string_view scheme = text.substr(0, separator);
    if (scheme.empty()) bad(text, "empty scheme before '://' (e.g. udp://, tcp://, unix://)");
    if (!valid_scheme(scheme))
      bad(text, "'" + std::string(scheme) + "' is not a scheme name (letters, digits, '+', '-', '.')");
    for (char c : scheme) out.scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    out.had_scheme = true;
    body = text.substr(separator + 3);
  }
  auto question = body.find('?');
  out.rest = std::string(body.substr(0, question));
  if (question != std::string_view::npos) split_query(text, body.substr(question + 1), out);
  return out;
}

std::string redact_endpoint(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  if (auto separator = text.find("://"); separator != std::string_view::npos) start = separator + 3;
  out = std::string(text.substr(0, start));
  std::string_view body = text.substr(start);
  std::size_t query = body.find('?');
  std::string_view address = body.substr(0, query);
  // Servers (host:port, possibly a comma-separated list) end at the first '/'.
  std::size_t slash = address.find('/');
  std::string_view servers = address.substr(0, slash);
  for (std::size_t from = 0; from <= servers.size();) {
    std::size_t comma = servers.find(',', from);
    std::string_view item = servers.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from);
    // "@name" is a unix:// abstract socket, not an empty user.
    if (auto at = item.rfind('@'); at != std::string_view::npos && at > 0) item.remove_prefix(at + 1);
    out += item;
    if (comma == std::string_view::npos) break;
    out += ',';
    from = comma + 1;
  }
  if (slash != std::string_view::npos) out += address.substr(slash);
  if (query == std::string_view::npos) return out;
  std::string_view params = body.substr(query + 1);
  out += '?';
  for (std::size_t from = 0; from <= params.size();) {
    std::size_t amp = params.find('&', from);
    std::string_view item = params.substr(from, amp == std::string_view::npos ? std::string_view::npos : amp - from);
    std::size_t equals = item.find('=');
    if (equals != std::string_view::npos && secret_param(percent_decode(item.substr(0, equals)))) {
      out += item.substr(0, equals + 1);
      out += "***";
    } else {
      out += item;
    }
    if (amp == std::string_view::npos) break;
    out += '&';
    from = amp + 1;
  }
  return out;
}

Address parse_unix_endpoint_path(std::string_view rest, std::string_view scheme) {
  std::string shown = std::string(scheme) + "://" + std::string(rest);
  if (rest.empty()) bad(shown, "no path (expected " + std::string(scheme) + ":///path/to.sock)");
  if (rest.front() != '/' && rest.front() != '@')
    bad(shown, std::string(scheme) + ":// takes no host and only absolute paths; write " + std::string(scheme) +
                   ":///path/to.sock (three slashes) or " + std::string(scheme) + "://@name for an abstract socket");
  return unix_address(percent_decode(rest));
}

}  // namespace netdisp::net
