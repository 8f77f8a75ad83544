#include "transports/nats/target.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "net/endpoint.h"
#include "net/error.h"

namespace netdisp::transports::nats {
namespace {

constexpr int kDefaultPort = 4222;

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

bool parse_switch(const std::string& text, bool& value) {
  if (text == "1" || text == "on" || text == "yes" || text == "true") return value = true, true;
  if (text == "0" || text == "off" || text == "no" || text == "false") return value = false, true;
  return false;
}

// "host", "host:port", "[v6]", "[v6]:port" -> "nats://host:port" (the
// library's form); empty when malformed.
std::string server_url(const std::string& text) {
  std::string host = text, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return {};
    host = text.substr(0, close + 1);
    std::string after = text.substr(close + 1);
    if (!after.empty() && after.front() != ':') return {};
    if (!after.empty()) port = after.substr(1);
    if (host.size() <= 2) return {};
  } else if (auto colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return {};
  if (host.front() != '[' && host.find_first_of("[]/@?#:") != std::string::npos) return {};
  for (char c : host)
    if (blank(c) || static_cast<unsigned char>(c) < 0x20) return {};
  int number = kDefaultPort;
  if (!port.empty() || text.back() == ':') {
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || end != port.data() + port.size() || number < 1 || number > 65535) return {};
  }
  return "nats://" + host + ":" + std::to_string(number);
}

// The parameters that are one text each, and where they go.
struct TextParam {
  const char* name;
  std::string Target::*field;
};
constexpr std::array kTextParams = {
    TextParam{"queue", &Target::queue}, TextParam{"user", &Target::user},   TextParam{"password", &Target::password},
    TextParam{"token", &Target::token}, TextParam{"creds", &Target::creds}, TextParam{"ca", &Target::ca},
    TextParam{"cert", &Target::cert},   TextParam{"key", &Target::key},     TextParam{"name", &Target::name},
};

}  // namespace

bool valid_subject(const std::string& subject, bool wildcards) {
  if (subject.empty()) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = subject.find('.', start);
    std::string token = subject.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (token.empty()) return false;
    for (char c : token)
      if (blank(c) || static_cast<unsigned char>(c) < 0x20) return false;
    bool last = dot == std::string::npos;
    if (token.find_first_of("*>") != std::string::npos) {
      if (!wildcards || token.size() != 1) return false;
      if (token == ">" && !last) return false;
    }
    if (last) return true;
    start = dot + 1;
  }
}

Target parse_target(const stage::Endpoint& endpoint, stage::Role role) {
  Target target;
  target.shown = endpoint.to_string();
  auto bad = [&](const std::string& why) { throw net::UsageError(target.shown + ": " + why); };
  const std::string& text = endpoint.target;
  auto slash = text.find('/');
  if (slash == std::string::npos || slash + 1 == text.size())
    bad("no subject: write nats://host:port/SUBJECT");
  target.subject = text.substr(slash + 1);
  bool listen = role == stage::Role::kListen;
  if (!valid_subject(target.subject, listen))
    bad("'" + target.subject + "' is not a NATS subject (tokens separated by '.', no spaces" +
        (listen ? ", '*' a whole token, '>' the last token)" : "; a destination takes no wildcards * or >)"));

  std::string servers = text.substr(0, slash);
  if (servers.empty()) bad("no server: write nats://host:port/SUBJECT");
  for (std::size_t start = 0; start <= servers.size();) {
    std::size_t comma = servers.find(',', start);
    std::string item = servers.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? servers.size() + 1 : comma + 1;
    if (item.empty()) bad("an empty server in the list (servers are separated by one ',')");
    if (auto at = item.rfind('@'); at != std::string::npos) {
      std::string userinfo = item.substr(0, at);
      item = item.substr(at + 1);
      auto colon = userinfo.find(':');
      if (target.user.empty() && target.token.empty()) {
        if (colon == std::string::npos) {
          target.token = net::percent_decode(userinfo);
        } else {
          target.user = net::percent_decode(userinfo.substr(0, colon));
          target.password = net::percent_decode(userinfo.substr(colon + 1));
        }
      }
    }
    std::string url = server_url(item);
    if (url.empty()) bad("'" + item + "' is not a server address (host:port, [v6]:port)");
    target.servers.push_back(url);
  }

  for (const auto& param : endpoint.params) {
    const std::string& name = param.first;  // not a structured binding: clang 14 cannot capture one
    const std::string& value = param.second;
    if (name == "tls") {
      if (!parse_switch(value, target.tls)) bad("tls=" + value + ": expected 1 or 0 (on, off)");
      continue;
    }
    auto row = std::find_if(kTextParams.begin(), kTextParams.end(), [&](const TextParam& r) { return name == r.name; });
    if (row == kTextParams.end()) continue;  // another part's (JetStream), or refused by the scheme table
    std::string& field = target.*(row->field);
    if (!field.empty()) bad(name + " is given more than once (or also in user:pass@)");
    if (value.empty()) bad(name + "= is empty");
    field = value;
  }
  if (!target.queue.empty() && (!valid_subject(target.queue, false) || target.queue.find('.') != std::string::npos))
    bad("queue=" + target.queue + ": a queue group name is one token (no '.', spaces, * or >)");
  if (!target.password.empty() && target.user.empty()) bad("password= without a user");
  if (!target.token.empty() && !target.user.empty()) bad("both a token and a user: give one of them");
  if (target.cert.empty() != target.key.empty()) bad("cert= and key= go together (the client's certificate)");
  for (const std::string* file : {&target.ca, &target.cert, &target.key, &target.creds})
    if (!file->empty() && ::access(file->c_str(), R_OK) != 0)
      bad("cannot read " + *file + ": " + net::errno_text(errno));
  if (!target.ca.empty() || !target.cert.empty()) target.tls = true;
  return target;
}

}  // namespace netdisp::transports::nats
